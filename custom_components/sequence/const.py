"""Constants for the Sequence integration."""

from typing import Final

DOMAIN: Final = "sequence"
