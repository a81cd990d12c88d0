"""The transfer event entity: the latest ``sequence_transfer`` of the entry, for dashboards.

It mirrors the bus event (activity's new and changed transfers, and the transfers a
``sequence.transfer`` call follows), so it needs no request and says nothing the event does not:
the event type is the direction, the attributes the rest of the event's data.
"""

from typing import Any, Final

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import TransferDirection
from .const import EVENT_TRANSFER
from .coordinator import SequenceConfigEntry, hub_device_identifier

PARALLEL_UPDATES = 0

TRANSFER_EVENT_DESCRIPTION: Final = EventEntityDescription(
    key="transfer",
    translation_key="transfer",
    event_types=[direction.value for direction in TransferDirection],
)
NOT_MIRRORED: Final = frozenset({"config_entry_id", "direction"})
"""Event data the entity does not repeat: its entry is the entity's, the direction its type."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SequenceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the transfer event entity to the hub device while activity is on."""
    if entry.runtime_data.activity is not None:
        async_add_entities([SequenceTransferEvent(entry)])


class SequenceTransferEvent(EventEntity):
    """The entry's latest ``sequence_transfer`` event; its type is the transfer's direction."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description = TRANSFER_EVENT_DESCRIPTION

    def __init__(self, entry: SequenceConfigEntry) -> None:
        """Attach the entity to the entry's hub device."""
        self._entry_id = entry.entry_id
        self._attr_unique_id = f"{entry.unique_id}_{TRANSFER_EVENT_DESCRIPTION.key}"
        self._attr_device_info = DeviceInfo(identifiers={hub_device_identifier(entry)})

    async def async_added_to_hass(self) -> None:
        """Listen to the entry's transfer events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.hass.bus.async_listen(
                EVENT_TRANSFER, self._async_mirror, event_filter=self._is_this_entrys
            )
        )

    @callback
    def _is_this_entrys(self, event_data: dict[str, Any]) -> bool:
        return bool(event_data.get("config_entry_id") == self._entry_id)

    @callback
    def _async_mirror(self, event: Event[dict[str, Any]]) -> None:
        data = event.data
        self._trigger_event(
            data["direction"],
            {key: value for key, value in data.items() if key not in NOT_MIRRORED},
        )
        self.async_write_ha_state()
