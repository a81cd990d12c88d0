"""Rules and transfer routes come and go while the entry stays loaded.

Adding, changing or removing a subentry updates its config entry without reloading it, and the
entry may not reload on updates: its options flow reloads it (``OptionsFlowWithReload``), which
forbids update listeners. So the entry follows Home Assistant's config-entry-changed signal
itself, while it is loaded:

* a new subentry: the platforms add its entities (and so its device) at once;
* a changed one: its device follows the new title, its entities show the new limits;
* a removed one: Home Assistant removes its device and entities; the money ledger forgets it,
  and its repairs (rule gone or disabled, secret refused) go.
"""

from collections.abc import Callable
from typing import Any

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
    ConfigSubentry,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect, async_dispatcher_send
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_SECRET, DOMAIN, SUBENTRY_ROUTE, SUBENTRY_RULE
from .coordinator import SequenceConfigEntry
from .rule_catalog import rule_issue_id
from .rules import rule_secret_issue_id

DEVICE_KINDS = {SUBENTRY_RULE: "rule", SUBENTRY_ROUTE: "route"}
"""The word in a subentry device's identifier (``<entry unique id>:rule:<subentry id>``)."""


def subentry_device_identifier(
    entry: SequenceConfigEntry, subentry: ConfigSubentry
) -> tuple[str, str]:
    """The device registry identifier of a rule's or transfer route's device."""
    kind = DEVICE_KINDS[subentry.subentry_type]
    return (DOMAIN, f"{entry.unique_id}:{kind}:{subentry.subentry_id}")


def subentry_added_signal(entry_id: str) -> str:
    """Sent with the new ``ConfigSubentry`` when the entry gets one."""
    return f"{DOMAIN}_subentry_added_{entry_id}"


def subentry_updated_signal(entry_id: str, subentry_id: str) -> str:
    """Sent when a subentry's title or data (its limits) changed."""
    return f"{DOMAIN}_subentry_updated_{entry_id}_{subentry_id}"


async def async_setup_subentries(hass: HomeAssistant, entry: SequenceConfigEntry) -> None:
    """Follow the entry's subentries until it unloads.

    The ledger first forgets subentries removed while the entry was not loaded.
    """
    ledger = entry.runtime_data.money.ledger
    for subentry_id in ledger.subentry_ids() - entry.subentries.keys():
        await async_forget_subentry(hass, entry, subentry_id)
    tracker = _SubentryTracker(hass, entry)
    entry.async_on_unload(
        async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, tracker.async_changed)
    )


async def async_forget_subentry(
    hass: HomeAssistant, entry: SequenceConfigEntry, subentry_id: str
) -> None:
    """A removed subentry: the ledger forgets it, and its repairs go with it."""
    await entry.runtime_data.money.ledger.async_forget(subentry_id)
    for issue_id in (
        rule_issue_id(entry.entry_id, subentry_id),
        rule_secret_issue_id(entry.entry_id, subentry_id),
    ):
        ir.async_delete_issue(hass, DOMAIN, issue_id)


class _SubentryTracker:
    """What the entry's subentries were at the last change, to tell what this one changed."""

    def __init__(self, hass: HomeAssistant, entry: SequenceConfigEntry) -> None:
        self._hass = hass
        self._entry = entry
        self._seen = {
            subentry_id: _snapshot(subentry) for subentry_id, subentry in entry.subentries.items()
        }

    @callback
    def async_changed(self, change: ConfigEntryChange, changed: ConfigEntry) -> None:
        """Compare the entry's subentries with the last ones seen and act on the difference."""
        entry = self._entry
        if change is not ConfigEntryChange.UPDATED or changed.entry_id != entry.entry_id:
            return
        for subentry_id in self._seen.keys() - entry.subentries.keys():
            del self._seen[subentry_id]
            entry.async_create_task(
                self._hass, async_forget_subentry(self._hass, entry, subentry_id)
            )
        for subentry_id, subentry in entry.subentries.items():
            before = self._seen.get(subentry_id)
            now = self._seen[subentry_id] = _snapshot(subentry)
            if before is None:
                self._async_added(subentry)
            elif before != now:
                if before[0] != subentry.title:
                    self._async_rename_device(subentry)
                if before[1].get(CONF_SECRET) != now[1].get(CONF_SECRET):  # the next run tells
                    ir.async_delete_issue(
                        self._hass, DOMAIN, rule_secret_issue_id(entry.entry_id, subentry_id)
                    )
                async_dispatcher_send(
                    self._hass, subentry_updated_signal(entry.entry_id, subentry_id)
                )

    @callback
    def _async_added(self, subentry: ConfigSubentry) -> None:
        entry = self._entry
        async_dispatcher_send(self._hass, subentry_added_signal(entry.entry_id), subentry)
        catalog = entry.runtime_data.rule_catalog
        if subentry.subentry_type == SUBENTRY_RULE and catalog is not None:
            # A new rule's "Enabled in Sequence" should not wait a day for the next listing.
            entry.async_create_task(self._hass, catalog.async_request_refresh())

    @callback
    def _async_rename_device(self, subentry: ConfigSubentry) -> None:
        registry = dr.async_get(self._hass)
        identifier = subentry_device_identifier(self._entry, subentry)
        device = registry.async_get_device_by_identifier(identifier, self._entry.entry_id)
        if device is not None:
            registry.async_update_device(device.id, name=subentry.title)


def _snapshot(subentry: ConfigSubentry) -> tuple[str, dict[str, Any]]:
    # Copies: Home Assistant updates a subentry in place.
    return subentry.title, dict(subentry.data)


@callback
def async_add_subentry_entities(
    hass: HomeAssistant,
    entry: SequenceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities_for: Callable[[ConfigSubentry], list[Entity]],
) -> None:
    """Add each subentry's entities now, and those of every subentry added later.

    ``entities_for`` returns a subentry's entities (none for a type the platform has none of).
    """
    added: set[str] = set()

    @callback
    def add(subentry: ConfigSubentry) -> None:
        if subentry.subentry_id in added:
            return
        added.add(subentry.subentry_id)
        if entities := entities_for(subentry):
            async_add_entities(entities, config_subentry_id=subentry.subentry_id)

    for subentry in entry.subentries.values():
        add(subentry)
    entry.async_on_unload(
        async_dispatcher_connect(hass, subentry_added_signal(entry.entry_id), add)
    )
