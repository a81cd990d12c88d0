"""When Sequence refuses a loaded entry's credential: let the entry show that it needs a new one."""

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant

from .const import DOMAIN


def reload_for_reauthentication(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Reload a loaded entry whose poll was just refused, once that poll is over.

    ``ConfigEntryAuthFailed`` from a poll of a loaded entry starts the reauthentication flow but
    leaves the entry loaded: Devices & services shows nothing wrong on it, and Home Assistant
    polls no more. Reloaded, its setup fails with the same translated error, and the entry reads
    "Failed to set up" with that text until a new credential is entered (which reloads it
    again). During setup, the failed setup itself says so, and nothing is reloaded.
    """
    if entry.state is ConfigEntryState.LOADED and not hass.is_stopping:
        hass.async_create_task(
            hass.config_entries.async_reload(entry.entry_id),
            f"{DOMAIN} reload for reauthentication",
            eager_start=False,  # not inside the poll that is failing
        )
