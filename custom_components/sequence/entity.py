"""Base entities: device info, unique ids and naming shared by every platform."""

import re

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import slugify

from .account_changes import AccountTopic, ChangesTopic
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


_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")


def name_slug(name: str) -> str:
    """``slugify(name)``, without its cost (a tenth) for plain names: letters, digits, spaces.

    Made for every account entity at setup; Home Assistant slugifies the suggestion again.
    """
    if _PLAIN_NAME.fullmatch(name):
        return name.lower().replace(" ", "_")
    return slugify(name)


_NOTHING_SHOWN = object()
_UNAVAILABLE = object()


class SequenceCoordinatorEntity[CoordinatorT: SequenceCoordinator | SequenceActivityCoordinator](
    CoordinatorEntity[CoordinatorT]
):
    """Base of every Sequence entity: an update writes its state only when what it shows changed.

    Entities hear only about what concerns them (see :mod:`.account_changes`), and even then a
    change of the account may leave what one of its entities shows as it was.
    """

    _attr_has_entity_name = True
    _shown: object = _NOTHING_SHOWN

    def _shown_key(self) -> object:
        """What the state shows: unavailable, or the values below.

        The name is Home Assistant's: a renamed device rewrites its entities' states by itself.
        """
        if not self.available:
            return _UNAVAILABLE
        return self._shown_values()

    def _shown_values(self) -> object:
        """The state and its attributes; subclasses may return something cheaper to compute."""
        return self.state, self.state_attributes, self.extra_state_attributes

    async def async_added_to_hass(self) -> None:
        """Remember what Home Assistant writes once the entity is added."""
        await super().async_added_to_hass()
        self._shown = self._shown_key()

    def _shows_the_same(self, shown: object, key: object) -> bool:
        """Whether a state with ``key`` shows what one with ``shown`` showed."""
        return shown == key

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state, unless it shows what it showed."""
        key = self._shown_key()
        same = self._shows_the_same(self._shown, key)
        self._shown = key
        if not same:
            self.async_write_ha_state()


class SequenceHubEntity[CoordinatorT: SequenceCoordinator | SequenceActivityCoordinator](
    SequenceCoordinatorEntity[CoordinatorT]
):
    """An entity of the entry's "Sequence" hub device (totals, health, activity)."""

    def __init__(
        self,
        coordinator: CoordinatorT,
        description: EntityDescription,
        context: ChangesTopic | None = None,
    ) -> None:
        """Attach the entity to the hub device; ``context`` narrows what it hears about."""
        super().__init__(coordinator, context)
        entry = coordinator.config_entry
        self.entity_description = description
        self._attr_unique_id = f"{entry.unique_id}_{description.key}"
        # The hub device itself is registered at setup (SequenceCoordinator.async_register_hub).
        self._attr_device_info = DeviceInfo(identifiers={hub_device_identifier(entry)})


SequenceEntity = SequenceHubEntity[SequenceCoordinator]
"""A hub entity that reads the accounts coordinator."""


class SequenceAccountEntity(SequenceCoordinatorEntity[SequenceCoordinator]):
    """An entity of one Sequence account's device; it hears only about that account.

    What it shows is read from the latest poll whenever the state is written, whoever writes it
    (a poll, or Home Assistant after a device rename).
    """

    def __init__(
        self,
        coordinator: SequenceCoordinator,
        description: EntityDescription,
        account: Account,
        platform: str,
    ) -> None:
        """Attach the entity to the account's device; ids come from Sequence's account id."""
        super().__init__(coordinator, AccountTopic(account.id))
        entry = coordinator.config_entry
        self.entity_description = description
        self.account_id = account.id
        self._added_as = account
        self._attr_unique_id = f"{entry.unique_id}_{account.id}_{description.key}"
        # Suggest sensor.sequence_<account>_<key>; the registry keeps it across renames.
        self.entity_id = (
            f"{platform}.{DOMAIN}_{name_slug(account.name) or account.id}_{description.key}"
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
        """Write the state if it changed, unless Home Assistant just did.

        The coordinator renames a renamed account's device just before telling the entities,
        and Home Assistant then rewrites every entity of that device from the latest data.
        """
        before, after = self.coordinator.data.changes.changed.get(self.account_id, (None, None))
        if (
            self.coordinator.last_update_success
            and before is not None
            and after is not None
            and before.name != after.name
        ):
            self._shown = self._shown_key()
            return
        super()._handle_coordinator_update()

    @property
    def account(self) -> Account:
        """The account in the latest poll; once gone (unavailable), as it was at the start."""
        return self.coordinator.data.accounts.get(self.account_id, self._added_as)

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
