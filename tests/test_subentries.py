"""Rules and routes come, change and go while the entry stays loaded: no reload."""

from types import MappingProxyType
from unittest.mock import AsyncMock, MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntryChange,
    ConfigEntryState,
    ConfigSubentry,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sequence.const import (
    CONF_MAX_PER_DAY_CENTS,
    CONF_MAX_RUNS_PER_DAY,
    CONF_SECRET,
    DOMAIN,
    SUBENTRY_ROUTE,
    SUBENTRY_RULE,
)
from custom_components.sequence.ledger import Attempt, MoneyLedger
from custom_components.sequence.rule_catalog import rule_issue_id
from custom_components.sequence.rules import rule_secret_issue_id
from custom_components.sequence.subentries import subentry_added_signal

from .conftest import (
    ANCHOR_ID,
    PLATFORM_ANCHOR_ID,
    RULE_SUBENTRY_ID,
    RuleCatalog,
    api_key_entry_with,
    platform_rule_subentry,
    remote_rule_subentry,
    route_subentry,
    token_entry_with,
)

RULE_DEVICE = (DOMAIN, f"{ANCHOR_ID}:rule:{RULE_SUBENTRY_ID}")
LAST_RUN = "sensor.sequence_round_ups_last_run"


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def new_rule(**changes: str) -> ConfigSubentry:
    data = remote_rule_subentry()
    return ConfigSubentry(
        data=MappingProxyType(dict(data["data"])),
        subentry_type=data["subentry_type"],
        title=changes.get("title", data["title"]),
        unique_id=data["unique_id"],
        subentry_id=changes.get("subentry_id", data["subentry_id"]),
    )


def ledger_of(entry: MockConfigEntry) -> MoneyLedger:
    ledger: MoneyLedger = entry.runtime_data.money.ledger
    return ledger


def subentry_entities(entity_registry: er.EntityRegistry, entry: MockConfigEntry) -> set[str]:
    return {
        entity.entity_id
        for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
        if entity.config_subentry_id is not None
    }


async def test_a_new_rule_gets_its_device_and_entities_at_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    runtime = init_integration.runtime_data
    hass.config_entries.async_add_subentry(init_integration, new_rule())
    await hass.async_block_till_done()

    assert init_integration.runtime_data is runtime  # not reloaded
    device = device_registry.async_get_device_by_identifier(RULE_DEVICE, init_integration.entry_id)
    assert device is not None
    assert device.config_subentry_id == RULE_SUBENTRY_ID
    assert subentry_entities(entity_registry, init_integration) == {
        LAST_RUN,
        "sensor.sequence_round_ups_last_run_result",
        "sensor.sequence_round_ups_runs_today",
    }
    assert hass.states.get("sensor.sequence_round_ups_runs_today").state == "0"


async def test_a_removed_rule_loses_its_device_and_the_ledger_forgets_it(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    entry = await set_up(hass, token_entry_with(remote_rule_subentry()))
    runtime = entry.runtime_data
    ledger = ledger_of(entry)
    await ledger.async_reserve(
        RULE_SUBENTRY_ID, Attempt(key="k", fingerprint="f", at=dt_util.utcnow())
    )
    assert hass.states.get(LAST_RUN) is not None

    hass.config_entries.async_remove_subentry(entry, RULE_SUBENTRY_ID)
    await hass.async_block_till_done()

    assert entry.runtime_data is runtime
    assert device_registry.async_get_device_by_identifier(RULE_DEVICE, entry.entry_id) is None
    assert not subentry_entities(entity_registry, entry)
    assert hass.states.get(LAST_RUN) is None
    assert ledger.subentry_ids() == set()
    assert ledger.runs_today(RULE_SUBENTRY_ID) == 0


async def test_a_renamed_rule_renames_its_device(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = await set_up(hass, token_entry_with(remote_rule_subentry()))
    hass.config_entries.async_update_subentry(
        entry, entry.subentries[RULE_SUBENTRY_ID], title="Spare change"
    )
    await hass.async_block_till_done()

    device = device_registry.async_get_device_by_identifier(RULE_DEVICE, entry.entry_id)
    assert device is not None
    assert device.name == "Spare change"
    assert hass.states.get(LAST_RUN).attributes["friendly_name"] == "Spare change Last run"


async def test_a_renamed_rule_whose_device_is_gone_changes_nothing_else(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = await set_up(hass, token_entry_with(remote_rule_subentry()))
    device = device_registry.async_get_device_by_identifier(RULE_DEVICE, entry.entry_id)
    assert device is not None
    device_registry.async_remove_device(device.id)
    hass.config_entries.async_update_subentry(
        entry, entry.subentries[RULE_SUBENTRY_ID], title="Spare change"
    )
    await hass.async_block_till_done()
    assert device_registry.async_get_device_by_identifier(RULE_DEVICE, entry.entry_id) is None


async def test_new_limits_show_at_once(
    hass: HomeAssistant,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = await set_up(
        hass, api_key_entry_with(route_subentry(max_per_day_cents=20000, description="Savings"))
    )
    left_today = "sensor.sequence_paycheck_emergency_fund_left_today"
    assert hass.states.get(left_today).state == "200.00"
    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_MAX_PER_DAY_CENTS: 7500}
    )
    await hass.async_block_till_done()
    assert hass.states.get(left_today).state == "75.00"
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{PLATFORM_ANCHOR_ID}:route:{subentry.subentry_id}"), entry.entry_id
    )
    assert device is not None
    assert device.name == "Paycheck → Emergency Fund"


async def test_changes_of_other_entries_and_other_changes_are_not_this_entrys(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    other = MockConfigEntry(domain=DOMAIN, title="Other", unique_id="other")
    other.add_to_hass(hass)
    hass.config_entries.async_add_subentry(other, new_rule())
    # A change signal of another kind for this entry (Home Assistant sends ADDED / REMOVED for
    # the entry itself) is no subentry change either.
    object.__setattr__(
        init_integration, "subentries", MappingProxyType({RULE_SUBENTRY_ID: new_rule()})
    )
    async_dispatcher_send(
        hass, SIGNAL_CONFIG_ENTRY_CHANGED, ConfigEntryChange.ADDED, init_integration
    )
    await hass.async_block_till_done()
    assert device_registry.async_get_device_by_identifier(RULE_DEVICE, other.entry_id) is None
    assert (
        device_registry.async_get_device_by_identifier(RULE_DEVICE, init_integration.entry_id)
        is None
    )


async def test_a_subentry_is_added_once(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
) -> None:
    entry = await set_up(hass, token_entry_with(remote_rule_subentry()))
    before = subentry_entities(entity_registry, entry)
    async_dispatcher_send(
        hass, subentry_added_signal(entry.entry_id), entry.subentries[RULE_SUBENTRY_ID]
    )
    await hass.async_block_till_done()
    assert subentry_entities(entity_registry, entry) == before


async def test_setup_forgets_subentries_removed_while_the_entry_was_not_loaded(
    hass: HomeAssistant, mock_sequence_client: MagicMock, frozen_start: FrozenDateTimeFactory
) -> None:
    entry = await set_up(hass, token_entry_with(remote_rule_subentry()))
    await ledger_of(entry).async_reserve(
        RULE_SUBENTRY_ID, Attempt(key="k", fingerprint="f", at=dt_util.utcnow())
    )
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries.async_remove_subentry(entry, RULE_SUBENTRY_ID)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert ledger_of(entry).subentry_ids() == set()


async def test_an_unloaded_entry_no_longer_follows_its_subentries(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    hass.config_entries.async_add_subentry(init_integration, new_rule())
    await hass.async_block_till_done()
    assert (
        device_registry.async_get_device_by_identifier(RULE_DEVICE, init_integration.entry_id)
        is None
    )


async def test_a_new_rule_asks_the_rule_list_again(
    hass: HomeAssistant,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    rule_catalogs: list[RuleCatalog],
    rule_listing: AsyncMock,
) -> None:
    """Its "Enabled in Sequence" must not wait for the daily listing."""
    entry = await set_up(hass, api_key_entry_with())
    assert rule_catalogs
    route = route_subentry(max_per_day_cents=20000, description="Savings")
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType(dict(route["data"])),
            subentry_type=SUBENTRY_ROUTE,
            title=route["title"],
            unique_id=route["unique_id"],
        ),
    )
    await hass.async_block_till_done()
    assert rule_listing.await_count == 0  # a route is not a rule

    rule = platform_rule_subentry()
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType(dict(rule["data"])),
            subentry_type=SUBENTRY_RULE,
            title=rule["title"],
            unique_id=rule["unique_id"],
        ),
    )
    await hass.async_block_till_done()
    assert rule_listing.await_count == 1


def raise_rule_repairs(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    """The two repairs a rule can have (Sequence no longer runs it; its secret is refused)."""
    issues = {
        rule_issue_id(entry.entry_id, RULE_SUBENTRY_ID),
        rule_secret_issue_id(entry.entry_id, RULE_SUBENTRY_ID),
    }
    for issue_id in issues:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="rule_secret_refused",
        )
    return issues


def open_issues(hass: HomeAssistant) -> set[str]:
    return {issue_id for (domain, issue_id) in ir.async_get(hass).issues if domain == DOMAIN}


async def test_a_removed_rule_takes_its_repairs_with_it(
    hass: HomeAssistant, mock_sequence_client: MagicMock, frozen_start: FrozenDateTimeFactory
) -> None:
    entry = await set_up(hass, token_entry_with(remote_rule_subentry()))
    repairs = raise_rule_repairs(hass, entry)
    hass.config_entries.async_remove_subentry(entry, RULE_SUBENTRY_ID)
    await hass.async_block_till_done()
    assert not repairs & open_issues(hass)


async def test_a_rule_removed_while_unloaded_takes_its_repairs_at_setup(
    hass: HomeAssistant, mock_sequence_client: MagicMock, frozen_start: FrozenDateTimeFactory
) -> None:
    entry = await set_up(hass, token_entry_with(remote_rule_subentry()))
    await ledger_of(entry).async_reserve(
        RULE_SUBENTRY_ID, Attempt(key="k", fingerprint="f", at=dt_util.utcnow())
    )
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries.async_remove_subentry(entry, RULE_SUBENTRY_ID)
    repairs = raise_rule_repairs(hass, entry)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert not repairs & open_issues(hass)


async def test_a_new_secret_withdraws_the_refused_secret_repair(
    hass: HomeAssistant, mock_sequence_client: MagicMock, frozen_start: FrozenDateTimeFactory
) -> None:
    """The next run tells whether the new secret works; until then nothing says it does not."""
    entry = await set_up(hass, token_entry_with(remote_rule_subentry()))
    repairs = raise_rule_repairs(hass, entry)
    subentry = entry.subentries[RULE_SUBENTRY_ID]
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_MAX_RUNS_PER_DAY: 9}
    )
    await hass.async_block_till_done()
    assert open_issues(hass) == repairs  # new limits say nothing of the secret
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_SECRET: "a-new-secret-0000"}
    )
    await hass.async_block_till_done()
    assert open_issues(hass) == {rule_issue_id(entry.entry_id, RULE_SUBENTRY_ID)}
