"""Constants for the Sequence integration."""

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "sequence"
LOGGER: Final = logging.getLogger(__package__)

# Config entry data
CONF_API_TOKEN: Final = "api_token"  # noqa: S105 - a key name, not a secret
CONF_BASE_URL: Final = "base_url"
SECTION_ADVANCED: Final = "advanced"

# Options
CONF_SCAN_INTERVAL_MINUTES: Final = "scan_interval_minutes"
CONF_ACCOUNT_KINDS: Final = "account_kinds"
CONF_EXCLUDED_ACCOUNTS: Final = "excluded_accounts"
CONF_BALANCE_EVENTS: Final = "balance_events"

DEFAULT_SCAN_INTERVAL: Final = timedelta(minutes=10)
MIN_SCAN_INTERVAL: Final = timedelta(minutes=5)
MAX_SCAN_INTERVAL: Final = timedelta(hours=24)

SEQUENCE_APP_URL: Final = "https://app.getsequence.io"
MANUFACTURER: Final = "Sequence"

EVENT_BALANCE_INCREASED: Final = "sequence_account_balance_increased"
EVENT_BALANCE_DECREASED: Final = "sequence_account_balance_decreased"
