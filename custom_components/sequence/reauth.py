"""When Sequence refuses an entry's credential: ask for a new one."""

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed

from .const import DOMAIN
from .texts import credential_kind, text_key


def reauth_required(hass: HomeAssistant, entry: ConfigEntry, key: str) -> ConfigEntryAuthFailed:
    """The error that starts reauthentication, its text naming the entry's credential."""
    return ConfigEntryAuthFailed(
        translation_domain=DOMAIN, translation_key=text_key(key, credential_kind(entry))
    )
