"""The audit trail: store, event and logbook for every outcome; shared per entry; bounded."""

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_LOGBOOK_ENTRY
from homeassistant.core import Context, HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_test_home_assistant,
)

from custom_components.sequence.audit import (
    MAX_RECORDS,
    AuditOutcome,
    AuditRecord,
    MoneyAction,
    async_get_audit_trail,
    async_remove_audit_trail,
)
from custom_components.sequence.const import DOMAIN, EVENT_MONEY_ACTION

ENTRY = "01JSEQUENCETESTENTRY0000001"


def record(outcome: AuditOutcome = AuditOutcome.SUCCEEDED, **changes: Any) -> AuditRecord:
    values: dict[str, Any] = {
        "time": dt_util.utcnow(),
        "action": MoneyAction.TRIGGER_RULE,
        "config_entry_id": ENTRY,
        "subentry_id": "sub-1",
        "outcome": outcome,
        "rule_id": "rule-1",
        "idempotency_key": "key-1",
        "context_id": "ctx",
        **changes,
    }
    return AuditRecord(**values)


async def test_an_outcome_goes_to_the_store_the_bus_and_the_logbook(hass: HomeAssistant) -> None:
    events = async_capture_events(hass, EVENT_MONEY_ACTION)
    logbook = async_capture_events(hass, EVENT_LOGBOOK_ENTRY)
    context = Context(user_id="user-1")
    trail = await async_get_audit_trail(hass, ENTRY)
    entry = record(AuditOutcome.REFUSED, reason="rule_too_soon", user_id="user-1")
    await trail.async_record(
        entry,
        name="Sequence rule Round-ups",
        message="was refused",
        context=context,
    )
    await hass.async_block_till_done()
    assert [event.data for event in events] == [entry.as_dict()]
    assert events[0].context is context
    assert events[0].data["outcome"] == "refused"
    assert events[0].data["time"] == entry.time.isoformat()
    assert [event.data for event in logbook] == [
        {
            "name": "Sequence rule Round-ups",
            "message": "was refused",
            "domain": DOMAIN,
        }
    ]
    assert logbook[0].context is context
    assert trail.records() == [entry.as_dict()]
    assert trail.counts() == {"refused": 1}


async def test_records_since_a_time(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    trail = await async_get_audit_trail(hass, ENTRY)
    await trail.async_record(record(), name="n", message="m")
    freezer.tick(timedelta(hours=1))
    middle = dt_util.utcnow()
    await trail.async_record(record(AuditOutcome.FAILED), name="n", message="m")
    assert [item["outcome"] for item in trail.records(since=middle)] == ["failed"]
    assert len(trail.records()) == 2
    assert trail.counts() == {"succeeded": 1, "failed": 1}


def test_at_least_a_thousand_records_are_kept() -> None:
    assert MAX_RECORDS >= 1000


async def test_only_the_newest_records_are_kept(hass: HomeAssistant) -> None:
    trail = await async_get_audit_trail(hass, ENTRY)
    with patch("custom_components.sequence.audit.MAX_RECORDS", 5):
        for number in range(8):
            await trail.async_record(record(idempotency_key=f"k{number}"), name="n", message="m")
    assert [item["idempotency_key"] for item in trail.records()] == ["k3", "k4", "k5", "k6", "k7"]


async def test_one_trail_per_entry_shared_by_every_caller(hass: HomeAssistant) -> None:
    first = await async_get_audit_trail(hass, ENTRY)
    assert await async_get_audit_trail(hass, ENTRY) is first
    assert await async_get_audit_trail(hass, "another-entry") is not first


async def test_the_trail_survives_a_restart_and_removal_deletes_it(tmp_path: Any) -> None:
    config_dir = str(tmp_path)
    kept = record()
    async with async_test_home_assistant(config_dir=config_dir) as first:
        trail = await async_get_audit_trail(first, ENTRY)
        await trail.async_record(kept, name="n", message="m")
        await first.async_stop(force=True)
    async with async_test_home_assistant(config_dir=config_dir) as second:
        trail = await async_get_audit_trail(second, ENTRY)
        assert trail.records() == [kept.as_dict()]
        await async_remove_audit_trail(second, ENTRY)
        fresh = await async_get_audit_trail(second, ENTRY)
        assert fresh is not trail
        assert fresh.records() == []
        await second.async_stop(force=True)
