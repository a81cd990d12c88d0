"""Base entities: device info, unique ids and naming shared by every platform."""

from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import slugify

from .activity import SequenceActivityCoordinator
from .api import Account, AccountKind
from .const import DOMAIN, MANUFACTURER, SEQUENCE_APP_URL
from .coordinator import (
    SequenceCoordinator,
    account_device_identifier,
    hub_device_identifier,
)

MODEL_BY_KIND = {
    AccountKind.POD: "Pod",
    AccountKind.INCOME_SOURCE: "Income Source",
    AccountKind.EXTERNAL: "External account",
}


def device_model(account: Account) -> str:
    """The account's kind, and for linked accounts on the Platform API their type."""
    model = MODEL_BY_KIND.get(account.kind, account.type_name or "Unknown")
    if account.external_type:
        return f"{model} ({account.external_type.capitalize()})"
    return model


class SequenceHubEntity[CoordinatorT: SequenceCoordinator | SequenceActivityCoordinator](
    CoordinatorEntity[CoordinatorT]
):
    """An entity of the entry's "Sequence" hub device (totals, health, activity)."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: CoordinatorT, description: EntityDescription) -> None:
        """Attach the entity to the hub device."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.entity_description = description
        self._attr_unique_id = f"{entry.unique_id}_{description.key}"
        # The hub device itself is registered at setup (SequenceCoordinator.async_register_hub).
        self._attr_device_info = DeviceInfo(identifiers={hub_device_identifier(entry)})


SequenceEntity = SequenceHubEntity[SequenceCoordinator]
"""A hub entity that reads the accounts coordinator."""


class SequenceAccountEntity(CoordinatorEntity[SequenceCoordinator]):
    """An entity of one Sequence account's device."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: SequenceCoordinator,
        description: EntityDescription,
        account: Account,
        platform: str,
    ) -> None:
        """Attach the entity to the account's device; ids come from Sequence's account id."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.entity_description = description
        self.account_id = account.id
        self.account = account
        """The account as of the last poll that returned it."""
        self._attr_unique_id = f"{entry.unique_id}_{account.id}_{description.key}"
        # Suggest sensor.sequence_<account>_<key>; the registry keeps it across renames.
        self.entity_id = (
            f"{platform}.{DOMAIN}_{slugify(account.name) or account.id}_{description.key}"
        )
        self._attr_device_info = DeviceInfo(
            identifiers={account_device_identifier(entry, account.id)},
            name=account.name,
            manufacturer=account.institution_name or MANUFACTURER,
            model=device_model(account),
            entry_type=DeviceEntryType.SERVICE,
            configuration_url=SEQUENCE_APP_URL,
            via_device_id=dr.async_get_device_id_by_identifier(
                coordinator.hass, hub_device_identifier(entry), config_entry_id=entry.entry_id
            ),
        )

    @callback
    def _handle_coordinator_update(self) -> None:
        """Take the account's new data, if the poll returned it, then write the state."""
        self.account = self.coordinator.data.accounts.get(self.account_id, self.account)
        super()._handle_coordinator_update()

    @property
    def available(self) -> bool:
        """Unavailable when the poll failed or the account is no longer returned."""
        return super().available and self.account_id in self.coordinator.data.accounts
