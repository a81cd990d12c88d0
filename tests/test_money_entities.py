"""Entities of rule and transfer-route devices: the ledger's figures, the day's, the rule list."""

from collections.abc import Callable
from datetime import timedelta
from unittest.mock import AsyncMock, MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from syrupy.assertion import SnapshotAssertion

from custom_components.sequence.api import Permission, SequencePermissionError
from custom_components.sequence.api.models import RuleSummary
from custom_components.sequence.const import DOMAIN
from custom_components.sequence.ledger import Attempt, AttemptStatus, MoneyLedger, Outcome
from custom_components.sequence.money_entities import RULE_RESULTS, TRANSFER_STATUSES

from .conftest import (
    PLATFORM_ANCHOR_ID,
    PLATFORM_RULE_ID,
    ROUTE_SUBENTRY_ID,
    RULE_SUBENTRY_ID,
    RuleCatalog,
    api_key_entry_with,
    platform_rule_subentry,
    remote_rule_subentry,
    route_subentry,
    rule_summary,
    token_entry_with,
)

LAST_RUN = "sensor.sequence_payday_split_last_run"
LAST_RESULT = "sensor.sequence_payday_split_last_run_result"
RUNS_TODAY = "sensor.sequence_payday_split_runs_today"
ENABLED = "binary_sensor.sequence_payday_split_enabled_in_sequence"
ROUTE = "sensor.sequence_paycheck_emergency_fund"
MOVED_TODAY = f"{ROUTE}_moved_today"
LEFT_TODAY = f"{ROUTE}_left_today"
LAST_STATUS = f"{ROUTE}_last_transfer_status"
LAST_TRANSFER = f"{ROUTE}_last_transfer"


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def money_entry(
    hass: HomeAssistant,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    rule_catalogs: list[RuleCatalog],
) -> MockConfigEntry:
    """An API-key entry with a rule and a route, its rule catalog listed once."""
    entry = api_key_entry_with(
        platform_rule_subentry(), route_subentry(max_per_day_cents=20000, description="Savings")
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await rule_catalogs[0].async_refresh()
    await hass.async_block_till_done()
    return entry


def ledger_of(entry: MockConfigEntry) -> MoneyLedger:
    ledger: MoneyLedger = entry.runtime_data.money.ledger
    return ledger


def attempt(key: str, cents: int | None = None) -> Attempt:
    return Attempt(key=key, fingerprint=f"fp-{key}", at=dt_util.utcnow(), amount_cents=cents)


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


async def test_snapshot(
    hass: HomeAssistant,
    money_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    ledger = ledger_of(money_entry)
    await ledger.async_reserve(RULE_SUBENTRY_ID, attempt("r1"))
    await ledger.async_record_outcome(
        RULE_SUBENTRY_ID, Outcome(at=dt_util.utcnow(), result="executed", reference="exec-1")
    )
    await ledger.async_reserve(ROUTE_SUBENTRY_ID, attempt("t1", 2500))
    await ledger.async_record_outcome(
        ROUTE_SUBENTRY_ID,
        Outcome(at=dt_util.utcnow(), result="pending", reference="tr-1", amount_cents=2500),
    )
    await hass.async_block_till_done()

    for subentry_id in (RULE_SUBENTRY_ID, ROUTE_SUBENTRY_ID):
        devices = [
            device
            for device in dr.async_entries_for_config_entry(device_registry, money_entry.entry_id)
            if device.config_subentry_id == subentry_id
        ]
        assert devices == snapshot(name=f"{subentry_id}-devices")
        entities = sorted(
            (
                entity
                for entity in er.async_entries_for_config_entry(
                    entity_registry, money_entry.entry_id
                )
                if entity.config_subentry_id == subentry_id
            ),
            key=lambda entity: entity.entity_id,
        )
        assert entities
        for entity in entities:
            assert entity == snapshot(name=f"{entity.entity_id}-entry")
            assert hass.states.get(entity.entity_id) == snapshot(name=f"{entity.entity_id}-state")


async def test_devices_belong_to_their_subentry_and_link_to_the_hub(
    hass: HomeAssistant, money_entry: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    hub = device_registry.async_get_device_by_identifier(
        (DOMAIN, PLATFORM_ANCHOR_ID), money_entry.entry_id
    )
    assert hub is not None
    for subentry_id, kind, model_id, name in (
        (RULE_SUBENTRY_ID, "rule", "rule", "Payday split"),
        (ROUTE_SUBENTRY_ID, "route", "transfer_route", "Paycheck → Emergency Fund"),
    ):
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, f"{PLATFORM_ANCHOR_ID}:{kind}:{subentry_id}"), money_entry.entry_id
        )
        assert device is not None
        assert device.config_subentry_id == subentry_id
        assert device.model_id == model_id
        assert device.name == name
        assert device.via_device_id == hub.id


async def test_rule_sensors_follow_the_ledger(
    hass: HomeAssistant, money_entry: MockConfigEntry
) -> None:
    assert state(hass, LAST_RUN) == STATE_UNKNOWN
    assert state(hass, LAST_RESULT) == STATE_UNKNOWN
    assert state(hass, RUNS_TODAY) == "0"

    ledger = ledger_of(money_entry)
    await ledger.async_reserve(RULE_SUBENTRY_ID, attempt("a"))
    await ledger.async_reserve(RULE_SUBENTRY_ID, attempt("b"))
    ran_at = dt_util.utcnow()
    await ledger.async_record_outcome(RULE_SUBENTRY_ID, Outcome(at=ran_at, result="executed"))
    await hass.async_block_till_done()
    assert state(hass, RUNS_TODAY) == "2"
    assert state(hass, LAST_RESULT) == "executed"
    assert state(hass, LAST_RUN) == ran_at.isoformat()

    await ledger.async_set_status(RULE_SUBENTRY_ID, "b", AttemptStatus.RELEASED)
    await hass.async_block_till_done()
    assert state(hass, RUNS_TODAY) == "1"


@pytest.mark.parametrize(
    ("result", "shown"),
    [
        ("triggered", "triggered"),
        ("EXECUTED", "executed"),
        ("rate_limited", "rate_limited"),
        ("simulated", "simulated"),
        ("unknown", "outcome_unknown"),
        ("SOMETHING_NEW", "outcome_unknown"),
    ],
)
async def test_a_result_this_version_does_not_know_is_unknown(
    hass: HomeAssistant, money_entry: MockConfigEntry, result: str, shown: str
) -> None:
    outcome = Outcome(at=dt_util.utcnow(), result=result)
    await ledger_of(money_entry).async_record_outcome(RULE_SUBENTRY_ID, outcome)
    await hass.async_block_till_done()
    assert state(hass, LAST_RESULT) == shown


async def test_route_sensors_follow_the_ledger(
    hass: HomeAssistant, money_entry: MockConfigEntry
) -> None:
    assert state(hass, MOVED_TODAY) == "0.00"
    assert state(hass, LEFT_TODAY) == "200.00"
    assert state(hass, LAST_STATUS) == STATE_UNKNOWN
    assert state(hass, LAST_TRANSFER) == STATE_UNKNOWN

    ledger = ledger_of(money_entry)
    await ledger.async_reserve(ROUTE_SUBENTRY_ID, attempt("a", 5000))
    await ledger.async_reserve(ROUTE_SUBENTRY_ID, attempt("b", 1234))
    sent_at = dt_util.utcnow()
    await ledger.async_record_outcome(
        ROUTE_SUBENTRY_ID, Outcome(at=sent_at, result="COMPLETE", amount_cents=1234)
    )
    await hass.async_block_till_done()
    assert state(hass, MOVED_TODAY) == "62.34"
    assert state(hass, LEFT_TODAY) == "137.66"
    assert state(hass, LAST_STATUS) == "complete"
    assert state(hass, LAST_TRANSFER) == sent_at.isoformat()

    moved = hass.states.get(MOVED_TODAY)
    assert moved is not None
    assert moved.attributes["unit_of_measurement"] == "USD"
    assert moved.attributes["device_class"] == "monetary"
    assert moved.attributes["state_class"] == "total"
    assert moved.attributes["last_reset"] == dt_util.start_of_local_day().isoformat()
    left = hass.states.get(LEFT_TODAY)
    assert left is not None
    assert "state_class" not in left.attributes
    assert "last_reset" not in left.attributes


async def test_left_today_is_never_negative(
    hass: HomeAssistant, money_entry: MockConfigEntry
) -> None:
    """After the daily maximum was lowered, what counts today may exceed it: nothing is left."""
    ledger = ledger_of(money_entry)
    for key in ("a", "b", "c", "d", "e"):
        await ledger.async_reserve(ROUTE_SUBENTRY_ID, attempt(key, 5000))
    await hass.async_block_till_done()
    assert state(hass, MOVED_TODAY) == "250.00"
    assert state(hass, LEFT_TODAY) == "0.00"


@pytest.mark.parametrize("status", TRANSFER_STATUSES[:-1])
async def test_every_transfer_status_is_shown(
    hass: HomeAssistant, money_entry: MockConfigEntry, status: str
) -> None:
    outcome = Outcome(at=dt_util.utcnow(), result=status.upper())
    await ledger_of(money_entry).async_record_outcome(ROUTE_SUBENTRY_ID, outcome)
    await hass.async_block_till_done()
    assert state(hass, LAST_STATUS) == status


@pytest.mark.parametrize(
    ("zone", "evening", "midnight", "next_midnight"),
    [
        # New York leaves daylight saving time on 1 November 2026: that day has 25 hours.
        (
            "America/New_York",
            "2026-11-01T03:30:00+00:00",  # 23:30 on 31 October, EDT
            "2026-11-01T04:00:00+00:00",
            "2026-11-02T05:00:00+00:00",  # midnight EST, 25 hours later
        ),
        # Santiago enters it on 6 September 2026 at midnight, which does not exist: 23 hours.
        (
            "America/Santiago",
            "2026-09-06T03:30:00+00:00",
            "2026-09-06T04:00:00+00:00",
            "2026-09-07T03:00:00+00:00",
        ),
    ],
)
async def test_today_starts_again_at_each_local_midnight(
    hass: HomeAssistant,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    rule_catalogs: list[RuleCatalog],
    zone: str,
    evening: str,
    midnight: str,
    next_midnight: str,
) -> None:
    """Runs and amounts of the day drop at the local midnight, however long the day was."""
    await hass.config.async_set_time_zone(zone)
    freezer.move_to(evening)
    entry = await set_up(
        hass,
        api_key_entry_with(
            platform_rule_subentry(), route_subentry(max_per_day_cents=20000, description="Savings")
        ),
    )
    ledger = ledger_of(entry)
    await ledger.async_reserve(RULE_SUBENTRY_ID, attempt("evening"))
    await ledger.async_reserve(ROUTE_SUBENTRY_ID, attempt("evening", 5000))
    await hass.async_block_till_done()
    assert (state(hass, RUNS_TODAY), state(hass, MOVED_TODAY)) == ("1", "50.00")

    async def at(when: str) -> None:
        freezer.move_to(when)
        async_fire_time_changed(hass, dt_util.parse_datetime(when))
        await hass.async_block_till_done()

    await at(midnight)
    assert (state(hass, RUNS_TODAY), state(hass, MOVED_TODAY)) == ("0", "0.00")
    assert state(hass, LEFT_TODAY) == "200.00"
    moved = hass.states.get(MOVED_TODAY)
    assert moved is not None
    last_reset = dt_util.parse_datetime(moved.attributes["last_reset"])
    assert last_reset == dt_util.parse_datetime(midnight)

    # A run late in the day counts until the next local midnight, not 24 hours after the last.
    end = dt_util.parse_datetime(next_midnight)
    assert end is not None
    await at((end - timedelta(hours=1)).isoformat())
    await ledger.async_reserve(RULE_SUBENTRY_ID, attempt("late"))
    await hass.async_block_till_done()
    await at((end - timedelta(seconds=1)).isoformat())
    assert state(hass, RUNS_TODAY) == "1"
    await at(next_midnight)
    assert state(hass, RUNS_TODAY) == "0"


async def test_enabled_in_sequence_follows_the_rule_list(
    hass: HomeAssistant,
    money_entry: MockConfigEntry,
    rule_catalogs: list[RuleCatalog],
    rule_listing: AsyncMock,
) -> None:
    assert state(hass, ENABLED) == STATE_ON

    async def listed(answer: dict[str, RuleSummary] | Exception) -> str:
        if isinstance(answer, Exception):
            rule_listing.side_effect = answer
        else:
            rule_listing.side_effect = None
            rule_listing.return_value = answer
        await rule_catalogs[0].async_refresh()
        await hass.async_block_till_done()
        return state(hass, ENABLED)

    assert await listed({PLATFORM_RULE_ID: rule_summary(enabled=False)}) == STATE_OFF
    assert await listed({PLATFORM_RULE_ID: rule_summary(deleted=True)}) == STATE_OFF
    assert await listed({}) == STATE_OFF
    assert await listed(UpdateFailed("listing failed")) == STATE_UNAVAILABLE
    assert await listed({PLATFORM_RULE_ID: rule_summary()}) == STATE_ON


async def test_enabled_in_sequence_waits_for_the_first_listing(
    hass: HomeAssistant,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    rule_catalogs: list[RuleCatalog],
) -> None:
    await set_up(hass, api_key_entry_with(platform_rule_subentry()))
    assert state(hass, ENABLED) == STATE_UNAVAILABLE


def subentry_platforms(entity_registry: er.EntityRegistry, entry: MockConfigEntry) -> set[str]:
    return {
        entity.domain
        for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
        if entity.config_subentry_id is not None
    }


async def test_no_enabled_in_sequence_without_the_rule_list(
    hass: HomeAssistant,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
) -> None:
    """A key without READ_RULES has no rule catalog: the rule has its sensors only."""
    mock_platform_client.async_list_rules.side_effect = SequencePermissionError(
        "no READ_RULES", permission=Permission.READ_RULES
    )
    entry = await set_up(hass, api_key_entry_with(platform_rule_subentry()))
    assert subentry_platforms(entity_registry, entry) == {"sensor"}


@pytest.mark.parametrize(
    ("subentry", "entry_with"),
    [
        (remote_rule_subentry, token_entry_with),  # the Remote API lists no rules
        (route_subentry, api_key_entry_with),
    ],
    ids=["access-token-rule", "route"],
)
@pytest.mark.usefixtures("rule_catalogs")
async def test_enabled_in_sequence_only_for_listed_rules(
    hass: HomeAssistant,
    mock_platform_client: MagicMock,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    subentry: Callable[[], ConfigSubentryDataWithId],
    entry_with: Callable[..., MockConfigEntry],
) -> None:
    entry = await set_up(hass, entry_with(subentry()))
    assert subentry_platforms(entity_registry, entry) == {"sensor"}


async def test_the_result_sensors_exist(hass: HomeAssistant, money_entry: MockConfigEntry) -> None:
    """A rule's last result and a route's last status, with the outcomes both share."""
    assert state(hass, LAST_RESULT)
    assert state(hass, LAST_STATUS)
    for options in (RULE_RESULTS, TRANSFER_STATUSES):
        assert {"simulated", "rejected", "rate_limited", "failed", "outcome_unknown"} <= set(
            options
        )
        assert "unknown" not in options  # Home Assistant's own "no value"


async def test_removed_entities_stop_their_midnight_timer(
    hass: HomeAssistant, money_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    assert await hass.config_entries.async_unload(money_entry.entry_id)
    await hass.async_block_till_done()
    tomorrow = dt_util.start_of_local_day(dt_util.now().date() + timedelta(days=1))
    freezer.move_to(tomorrow)
    async_fire_time_changed(hass, tomorrow)
    await hass.async_block_till_done()
    assert state(hass, RUNS_TODAY) == STATE_UNAVAILABLE


@pytest.mark.parametrize("result", ["rejected", "rate_limited", "failed"])
async def test_a_refused_transfer_reads_as_refused_not_unknown(
    hass: HomeAssistant, money_entry: MockConfigEntry, result: str
) -> None:
    """A live request Sequence refused (or that never left) moved nothing: it says so."""
    ledger = money_entry.runtime_data.money.ledger
    await ledger.async_record_outcome(
        ROUTE_SUBENTRY_ID, Outcome(at=dt_util.utcnow(), result=result, amount_cents=2000)
    )
    await hass.async_block_till_done()
    assert state(hass, LAST_STATUS) == result
