"""Base entities: device info, unique ids and naming shared by every platform."""

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import slugify

from .activity import SequenceActivityCoordinator
from .api import Account, AccountKind
from .const import DOMAIN, MANUFACTURER, SEQUENCE_APP_URL, SUBENTRY_ROUTE, SUBENTRY_RULE
from .coordinator import (
    SequenceConfigEntry,
    SequenceCoordinator,
    account_device_identifier,
    hub_device_identifier,
)
from .subentries import subentry_device_identifier, subentry_updated_signal

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


_NOTHING_WRITTEN = object()


class SequenceCoordinatorEntity[CoordinatorT: SequenceCoordinator | SequenceActivityCoordinator](
    CoordinatorEntity[CoordinatorT]
):
    """Base of every Sequence entity: a poll writes its state only when what it shows changed.

    Without this, every poll rewrote every entity's state (a ``state_reported`` event each), so a
    poll where nothing changed cost one write per account.
    """

    _attr_has_entity_name = True
    _written_key: object = _NOTHING_WRITTEN

    def _state_key(self) -> object:
        """Everything the written state depends on; while it is equal, a poll writes nothing.

        By default the state and attributes Home Assistant would write, which is right for any
        entity; classes with an instance per account return something cheaper to compare.
        """
        return self._async_calculate_state()

    @callback
    def _async_write_ha_state(self) -> None:
        """Write, and remember what was written, whoever asked (a poll, a rename, an add)."""
        key = self._state_key()
        super()._async_write_ha_state()
        self._written_key = key

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state, unless it is the one last written."""
        if self._state_key() != self._written_key:
            super()._handle_coordinator_update()


class SequenceHubEntity[CoordinatorT: SequenceCoordinator | SequenceActivityCoordinator](
    SequenceCoordinatorEntity[CoordinatorT]
):
    """An entity of the entry's "Sequence" hub device (totals, health, activity)."""

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


class SequenceAccountEntity(SequenceCoordinatorEntity[SequenceCoordinator]):
    """An entity of one Sequence account's device; what it shows derives from the account."""

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
    def _async_write_ha_state(self) -> None:
        """Write from the latest data, also when Home Assistant writes by itself.

        A renamed device makes Home Assistant rewrite the state (for the new name) before the
        poll's update reaches this entity; it must show the new balance, not the previous one.
        """
        self._take_account()
        super()._async_write_ha_state()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Take the account's new data, if the poll returned it, then write the state."""
        self._take_account()
        super()._handle_coordinator_update()

    def _take_account(self) -> None:
        self.account = self.coordinator.data.accounts.get(self.account_id, self.account)

    def _state_key(self) -> object:
        """Availability and the account (a frozen model): cheap to compare, once per account.

        Balances are exact cents, so equal amounts also have equal text.
        """
        return self.available, self.account

    @property
    def available(self) -> bool:
        """Unavailable when the poll failed or the account is no longer returned."""
        return super().available and self.account_id in self.coordinator.data.accounts


SUBENTRY_MODELS = {SUBENTRY_RULE: "Rule", SUBENTRY_ROUTE: "Transfer route"}


def subentry_entity_unique_id(entry: ConfigEntry, subentry_id: str, key: str) -> str:
    """The unique id of a rule's or transfer route's entity (stable: the subentry id is)."""
    return f"{entry.unique_id}_{subentry_id}_{key}"


class SequenceSubentryEntity(Entity):
    """An entity of a rule's or transfer route's device (linked to the hub).

    What it shows comes from the money ledger and the subentry's settings, never from a
    client: it writes its state when the ledger or the subentry changes.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        entry: SequenceConfigEntry,
        subentry: ConfigSubentry,
        description: EntityDescription,
        platform: str,
    ) -> None:
        """Attach the entity to the subentry's device, named after the subentry."""
        self.entity_description = description
        self.subentry = subentry
        """Home Assistant updates a subentry in place: this is always its current settings."""
        self.ledger = entry.runtime_data.money.ledger
        self._entry_id = entry.entry_id
        self._attr_unique_id = subentry_entity_unique_id(
            entry, subentry.subentry_id, description.key
        )
        # Suggest sensor.sequence_<rule or route>_<key>, as for accounts.
        self.entity_id = (
            f"{platform}.{DOMAIN}_{slugify(subentry.title) or subentry.subentry_id}"
            f"_{description.key}"
        )
        self._attr_device_info = DeviceInfo(
            identifiers={subentry_device_identifier(entry, subentry)},
            name=subentry.title,
            manufacturer=MANUFACTURER,
            model=SUBENTRY_MODELS[subentry.subentry_type],
            model_id=subentry.subentry_type,
            entry_type=DeviceEntryType.SERVICE,
            configuration_url=SEQUENCE_APP_URL,
            via_device_id=dr.async_get_device_id_by_identifier(
                entry.runtime_data.coordinator.hass,
                hub_device_identifier(entry),
                config_entry_id=entry.entry_id,
            ),
        )

    async def async_added_to_hass(self) -> None:
        """Write the state whenever the ledger or the subentry's settings change."""
        await super().async_added_to_hass()
        subentry_id = self.subentry.subentry_id
        self.async_on_remove(self.ledger.async_subscribe(subentry_id, self.async_write_ha_state))
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                subentry_updated_signal(self._entry_id, subentry_id),
                self.async_write_ha_state,
            )
        )
