"""Tests for activity: transfers polled hourly, events, the month's summary, permission repair."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import AsyncMock, MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sequence.activity import missing_permission_issue_id
from custom_components.sequence.api import (
    SequenceAuthError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceServerError,
    Transfer,
    TransferDirection,
)
from custom_components.sequence.const import (
    ACTIVITY_INTERVAL,
    CONF_ACCOUNT_KINDS,
    CONF_ACTIVITY,
    CONF_EXCLUDED_ACCOUNTS,
    DOMAIN,
    EVENT_TRANSFER,
)

from .conftest import load_transfers
from .test_state_writes import Writes

INCOMING = "sensor.sequence_incoming_this_month"
COUNT = "sensor.sequence_transfers_this_month"


@pytest.fixture
async def activity_entry(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> MockConfigEntry:
    platform_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(platform_config_entry, options={CONF_ACTIVITY: True})
    await hass.config_entries.async_setup(platform_config_entry.entry_id)
    await hass.async_block_till_done()
    return platform_config_entry


def capture(hass: HomeAssistant) -> list[Event]:
    events: list[Event] = []

    @callback
    def record(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(EVENT_TRANSFER, record)
    return events


async def next_poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(ACTIVITY_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("activity_entry")
async def test_month_summary_uses_the_local_month(hass: HomeAssistant) -> None:
    """Home Assistant's test time zone is US/Pacific: Nov 1, 06:00 UTC is still October there."""
    incoming = hass.states.get(INCOMING)
    assert incoming.state == "3000.00"  # Nov 15; the failed transfer and October's are left out
    assert incoming.attributes["unit_of_measurement"] == "USD"
    assert incoming.attributes["last_reset"] == "2026-11-01T00:00:00-07:00"
    assert hass.states.get(COUNT).state == "2"  # the Nov 15 deposit and the pending rule transfer


async def test_events_for_new_and_changed_transfers_only(
    hass: HomeAssistant,
    activity_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = capture(hass)
    await next_poll(hass, freezer)
    assert events == []  # nothing new since the first poll, which fires nothing

    transfers = list(load_transfers())
    transfers[0] = replace(transfers[0], status="COMPLETE")  # the pending one settled
    new = replace(transfers[2], id="7a000000-0000-4000-8000-000000000006")
    mock_platform_client.async_get_transfers.return_value = (new, *transfers)
    await next_poll(hass, freezer)

    by_id: dict[str, dict[str, Any]] = {event.data["transfer_id"]: event.data for event in events}
    assert set(by_id) == {transfers[0].id, new.id}
    assert by_id[transfers[0].id] == {
        "config_entry_id": activity_entry.entry_id,
        "transfer_id": transfers[0].id,
        "direction": "internal",
        "amount": "250.00",
        "currency": "USD",
        "status": "COMPLETE",
        "previous_status": "PENDING",
        "origin": "RULE",
        "rule_id": "551ff9b6-ddf1-4110-b611-1b11044b72d4",
        "created_at": "2026-11-20T09:00:00+00:00",
    }
    assert by_id[new.id]["previous_status"] is None
    assert hass.states.get(COUNT).state == "3"


async def test_window_reaches_back_to_pending_transfers(
    hass: HomeAssistant,
    activity_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    old_pending = Transfer(
        **{
            **{field: getattr(load_transfers()[4], field) for field in Transfer.__slots__},
            "id": "7a000000-0000-4000-8000-0000000000aa",
            "status": "PENDING",
            "completed_at": None,
        }
    )
    mock_platform_client.async_get_transfers.return_value = (*load_transfers(), old_pending)
    await next_poll(hass, freezer)
    await next_poll(hass, freezer)
    since = mock_platform_client.async_get_transfers.call_args.kwargs["since"]
    assert since == old_pending.created_at


async def test_missing_read_transfers_raises_a_repair_issue(
    hass: HomeAssistant,
    activity_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    issue_id = missing_permission_issue_id(activity_entry)
    mock_platform_client.async_get_transfers.side_effect = SequencePermissionError(
        "denied", permission="READ_TRANSFERS"
    )
    await next_poll(hass, freezer)
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {
        "title": "Sequence (API key)",
        "permission": "READ_TRANSFERS",
    }
    assert hass.states.get(INCOMING).state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.sequence_groceries_balance").state == "412.06"

    mock_platform_client.async_get_transfers.side_effect = None
    await next_poll(hass, freezer)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get(INCOMING).state == "3000.00"


async def test_activity_auth_failure_starts_reauth(
    hass: HomeAssistant,
    activity_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The key was revoked: its hourly poll notices first, and the entry shows it at once."""
    for method in ("async_get_transfers", "async_list_accounts", "async_get_accounts"):
        getattr(mock_platform_client, method).side_effect = SequenceAuthError("revoked")
    await next_poll(hass, freezer)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert activity_entry.state is ConfigEntryState.SETUP_ERROR
    assert activity_entry.error_reason_translation_key == "invalid_auth_api_key"


async def test_activity_rate_limited(
    hass: HomeAssistant,
    activity_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    mock_platform_client.async_get_transfers.side_effect = SequenceRateLimitError(
        "slow", retry_after=7200
    )
    await next_poll(hass, freezer)
    calls = mock_platform_client.async_get_transfers.await_count
    mock_platform_client.async_get_transfers.side_effect = None
    await next_poll(hass, freezer)  # an hour later: Retry-After (2 h) still running
    assert mock_platform_client.async_get_transfers.await_count == calls
    await next_poll(hass, freezer)
    assert mock_platform_client.async_get_transfers.await_count == calls + 1


async def test_first_poll_failure_keeps_balances(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    mock_platform_client.async_get_transfers.side_effect = SequencePermissionError("denied")
    platform_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(platform_config_entry, options={CONF_ACTIVITY: True})
    await hass.config_entries.async_setup(platform_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.sequence_groceries_balance").state == "412.06"
    assert hass.states.get(INCOMING).state == STATE_UNAVAILABLE
    issue_id = missing_permission_issue_id(platform_config_entry)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None

    # Switching activity off clears the issue on reload.
    hass.config_entries.async_update_entry(platform_config_entry, options={CONF_ACTIVITY: False})
    await hass.config_entries.async_reload(platform_config_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get(INCOMING).state == STATE_UNAVAILABLE  # no longer provided


async def next_poll_after(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, calls: AsyncMock, seconds: float
) -> None:
    """Assert that the next transfers request comes ``seconds`` after the last."""
    count = calls.await_count
    freezer.tick(timedelta(seconds=seconds - 2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert calls.await_count == count, f"polled before {seconds} s"
    freezer.tick(timedelta(seconds=3))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert calls.await_count == count + 1, f"no poll {seconds} s later"


async def test_failed_activity_polls_back_off_up_to_the_hour(
    hass: HomeAssistant,
    activity_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    calls = mock_platform_client.async_get_transfers
    good = calls.return_value
    calls.side_effect = SequenceServerError("HTTP 500")
    for minutes in (60, 1, 2, 5, 15, 30, 60, 60):
        await next_poll_after(hass, freezer, calls, minutes * 60)
    calls.side_effect = None
    calls.return_value = good
    await next_poll_after(hass, freezer, calls, 60 * 60)
    assert hass.states.get(INCOMING).state == "3000.00"
    calls.side_effect = SequenceServerError("HTTP 500")
    await next_poll_after(hass, freezer, calls, 60 * 60)
    await next_poll_after(hass, freezer, calls, 60)  # a success started the steps over


async def test_activity_failing_at_setup_retries_a_minute_later(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    """Activity's first poll is a plain refresh, so its retry_after holds from the start."""
    calls = mock_platform_client.async_get_transfers
    good = calls.return_value
    calls.side_effect = SequenceServerError("HTTP 502")
    platform_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(platform_config_entry, options={CONF_ACTIVITY: True})
    await hass.config_entries.async_setup(platform_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(INCOMING).state == STATE_UNAVAILABLE
    calls.side_effect = None
    calls.return_value = good
    await next_poll_after(hass, frozen_start, calls, 60)
    assert hass.states.get(INCOMING).state == "3000.00"


PAYCHECK = "0b1e8c6a-1111-4c1b-9f7e-000000000003"


@pytest.mark.parametrize(
    "options",
    [
        {CONF_EXCLUDED_ACCOUNTS: [PAYCHECK]},
        {CONF_ACCOUNT_KINDS: ["pod", "external", "unknown"]},
    ],
    ids=["excluded-account", "excluded-kind"],
)
async def test_what_the_options_leave_out_is_left_out_of_activity(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    options: dict[str, Any],
) -> None:
    """Paycheck is left out: its deposits neither count nor fire; a transfer out of it into
    Groceries (included) still does. Sequence's answer is filtered too, not only the request."""
    platform_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        platform_config_entry, options={CONF_ACTIVITY: True, **options}
    )
    await hass.config_entries.async_setup(platform_config_entry.entry_id)
    await hass.async_block_till_done()
    asked = mock_platform_client.async_get_transfers.call_args.kwargs["account_ids"]
    assert PAYCHECK not in asked
    assert len(asked) == 5
    assert hass.states.get(INCOMING).state == "0.00"
    assert hass.states.get(COUNT).state == "1"  # the pending rule transfer into Groceries

    events = capture(hass)
    transfers = list(load_transfers())
    transfers[0] = replace(transfers[0], status="COMPLETE")  # Paycheck -> Groceries settles
    deposit = replace(transfers[2], id="7a000000-0000-4000-8000-000000000007")  # into Paycheck
    mock_platform_client.async_get_transfers.return_value = (deposit, *transfers)
    await next_poll(hass, frozen_start)
    assert [event.data["transfer_id"] for event in events] == [transfers[0].id]
    assert hass.states.get(INCOMING).state == "0.00"


# --- Rule runs this month, across a month boundary in several time zones ------------------------

RULE_RUNS = "sensor.sequence_rule_runs_this_month"


def transfer_at(
    transfer_id: str,
    when: datetime,
    *,
    execution: str | None = None,
    rule: str | None = None,
    status: str = "COMPLETE",
    amount: str = "10.00",
) -> Transfer:
    """A deposit into Paycheck, or with a rule, a transfer between two Sequence accounts."""
    return Transfer(
        id=transfer_id,
        status=status,
        direction=TransferDirection.INTERNAL if rule else TransferDirection.INCOMING,
        direction_name="as sent",
        origin="RULE" if rule else "DIRECT_DEPOSIT",
        amount=Decimal(amount),
        created_at=when.astimezone(UTC),
        destination_id=PAYCHECK,
        destination_name="Paycheck",
        rule_id=rule,
        rule_execution_id=execution,
    )


@pytest.mark.parametrize("time_zone", ["US/Pacific", "Asia/Tokyo", "Europe/London"])
async def test_the_monthly_sensors_start_again_at_local_midnight_on_the_1st(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    time_zone: str,
) -> None:
    await hass.config.async_set_time_zone(time_zone)
    zone = dt_util.get_default_time_zone()
    late_november = datetime(2026, 11, 30, 23, 30, tzinfo=zone)
    history = [
        transfer_at("in-nov", datetime(2026, 11, 30, 23, 0, tzinfo=zone), amount="100.00"),
        # One rule run that made two transfers, and another run: two runs.
        transfer_at("run-1a", datetime(2026, 11, 30, 22, 0, tzinfo=zone), rule="r", execution="e1"),
        transfer_at("run-1b", datetime(2026, 11, 30, 22, 1, tzinfo=zone), rule="r", execution="e1"),
        transfer_at("run-2", datetime(2026, 11, 2, 1, 0, tzinfo=zone), rule="r", execution="e2"),
        # A run whose transfer failed moved nothing: left out, like the other monthly sensors.
        transfer_at(
            "run-3", datetime(2026, 11, 3, tzinfo=zone), rule="r", execution="e3", status="ERROR"
        ),
        transfer_at(
            "october", datetime(2026, 10, 31, 23, 59, tzinfo=zone), rule="r", execution="e0"
        ),
        # Just after midnight on Dec 1, local time: December's.
        transfer_at("in-dec", datetime(2026, 12, 1, 0, 10, tzinfo=zone), amount="50.00"),
        transfer_at("run-dec", datetime(2026, 12, 1, 0, 20, tzinfo=zone), rule="r"),
    ]

    async def transfers(*, since: datetime, account_ids: Any) -> tuple[Transfer, ...]:
        now = dt_util.utcnow()
        return tuple(
            sorted(
                (t for t in history if since <= t.created_at <= now),
                key=lambda t: t.created_at,
                reverse=True,
            )
        )

    mock_platform_client.async_get_transfers.side_effect = transfers
    freezer.move_to(late_november)
    platform_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(platform_config_entry, options={CONF_ACTIVITY: True})
    await hass.config_entries.async_setup(platform_config_entry.entry_id)
    await hass.async_block_till_done()
    november_start = datetime(2026, 11, 1, tzinfo=zone).isoformat()
    assert hass.states.get(INCOMING).state == "100.00"
    assert hass.states.get(COUNT).state == "4"  # in-nov, run-1a, run-1b, run-2
    assert hass.states.get(RULE_RUNS).state == "2"
    for entity_id in (INCOMING, COUNT, RULE_RUNS):
        assert hass.states.get(entity_id).attributes["last_reset"] == november_start
    asked = mock_platform_client.async_get_transfers.call_args.kwargs["since"]
    assert asked.isoformat() == november_start

    await next_poll(hass, freezer)  # an hour later: 00:30 on Dec 1, local time
    december_start = datetime(2026, 12, 1, tzinfo=zone).isoformat()
    assert hass.states.get(INCOMING).state == "50.00"
    assert hass.states.get(COUNT).state == "2"
    assert hass.states.get(RULE_RUNS).state == "1"  # a transfer without an execution id is one
    for entity_id in (INCOMING, COUNT, RULE_RUNS):
        assert hass.states.get(entity_id).attributes["last_reset"] == december_start
    assert hass.states.get(RULE_RUNS).attributes["state_class"] == "total"


# --- Transfers awaiting approval ---------------------------------------------------------------

APPROVAL = "binary_sensor.sequence_transfers_awaiting_approval"


async def test_on_while_transfers_await_approval(
    hass: HomeAssistant,
    activity_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    state = hass.states.get(APPROVAL)
    assert state.state == STATE_OFF
    assert state.attributes["count"] == 0
    assert state.attributes["device_class"] == "problem"
    transfers = list(load_transfers())
    transfers[0] = replace(transfers[0], status="PENDING_APPROVAL")
    # One from last month, still waiting: the window reaches back to it.
    waiting = replace(
        transfers[4],
        id="7a000000-0000-4000-8000-0000000000bb",
        status="PENDING_APPROVAL",
        completed_at=None,
    )
    mock_platform_client.async_get_transfers.return_value = (*transfers, waiting)
    await next_poll(hass, freezer)
    state = hass.states.get(APPROVAL)
    assert state.state == STATE_ON
    assert state.attributes["count"] == 2
    transfers[0] = replace(transfers[0], status="PROCESSING")  # approved
    mock_platform_client.async_get_transfers.return_value = tuple(transfers)
    await next_poll(hass, freezer)
    state = hass.states.get(APPROVAL)
    assert state.state == STATE_OFF
    assert state.attributes["count"] == 0


async def test_activity_entities_only_with_activity(
    hass: HomeAssistant, init_platform: MockConfigEntry, init_integration: MockConfigEntry
) -> None:
    for entity_id in (APPROVAL, RULE_RUNS, "event.sequence_transfer"):
        assert hass.states.get(entity_id) is None


async def test_an_hourly_poll_that_changed_nothing_writes_nothing(
    hass: HomeAssistant,
    activity_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    writes = Writes(hass)
    await next_poll(hass, freezer)
    assert writes.take() == set()
    transfers = list(load_transfers())
    transfers[0] = replace(transfers[0], status="PENDING_APPROVAL")
    mock_platform_client.async_get_transfers.return_value = tuple(transfers)
    await next_poll(hass, freezer)
    # The status changed: the approvals sensor and the event entity; the month's sums did not.
    assert writes.take() == {APPROVAL, "event.sequence_transfer"}
