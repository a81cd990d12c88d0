"""A button that asks Sequence for fresh balances now."""

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import SequenceConfigEntry
from .entity import SequenceEntity

PARALLEL_UPDATES = 0

REFRESH_DESCRIPTION = ButtonEntityDescription(key="refresh", translation_key="refresh")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SequenceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the refresh button to the hub device."""
    async_add_entities([SequenceRefreshButton(entry.runtime_data.coordinator, REFRESH_DESCRIPTION)])


class SequenceRefreshButton(SequenceEntity, ButtonEntity):
    """Refresh every Sequence entity of this entry now."""

    @property
    def available(self) -> bool:
        """Always pressable: a refresh is how a user checks whether Sequence is back."""
        return True

    def _shown_values(self) -> object:
        """Nothing a poll changes: the state is the time of the last press, written on press."""
        return None

    async def async_press(self) -> None:
        """Poll now, listing accounts afresh; tell the user (translated) when the poll fails."""
        await self.coordinator.async_refresh_now()
