"""The Sequence integration: Sequence (getsequence.io) balances in Home Assistant."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api import SequenceRemoteClient
from .const import CONF_API_TOKEN, CONF_BASE_URL
from .coordinator import SequenceConfigEntry, SequenceCoordinator

PLATFORMS = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: SequenceConfigEntry) -> bool:
    """Set up Sequence from a config entry."""
    client = SequenceRemoteClient(
        async_get_clientsession(hass),
        entry.data[CONF_API_TOKEN],
        base_url=entry.data[CONF_BASE_URL],
    )
    coordinator = SequenceCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    coordinator.async_register_hub()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: SequenceConfigEntry) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
