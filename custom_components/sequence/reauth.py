"""When Sequence refuses an entry's credential: ask for a new one, and let the entry show it."""

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed

from .const import DOMAIN
from .texts import credential_kind, text_key


def reauth_required(hass: HomeAssistant, entry: ConfigEntry, key: str) -> ConfigEntryAuthFailed:
    """The error that starts reauthentication, its text naming the entry's credential.

    Raised by a poll of a loaded entry, it starts the reauthentication flow but leaves the entry
    loaded: Devices & services shows nothing wrong on it, and Home Assistant polls no more. So
    the entry is reloaded, once this poll is over: its setup fails with the same error, and the
    entry reads "Failed to set up" with this text until a new credential is entered (which
    reloads it again). During setup, the failed setup itself says so.
    """
    if entry.state is ConfigEntryState.LOADED and not hass.is_stopping:
        hass.async_create_task(
            hass.config_entries.async_reload(entry.entry_id),
            f"{DOMAIN} reload for reauthentication",
            eager_start=False,  # not inside the poll that is failing
        )
    return ConfigEntryAuthFailed(
        translation_domain=DOMAIN, translation_key=text_key(key, credential_kind(entry))
    )
