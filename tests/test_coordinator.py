"""Tests for the coordinator: errors, recovery, reauth, dynamic and stale devices, events."""

from datetime import timedelta
from decimal import Decimal
import logging
from typing import Any
from unittest.mock import AsyncMock, MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sequence.api import (
    SequenceConnectionError,
    SequenceRateLimitError,
    SequenceResponseError,
    SequenceServerError,
    parse_accounts_payload,
)
from custom_components.sequence.const import (
    CONF_BALANCE_EVENTS,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    EVENT_BALANCE_DECREASED,
    EVENT_BALANCE_INCREASED,
)
from custom_components.sequence.coordinator import UNEXPECTED_RESPONSE_ISSUE_THRESHOLD

from .conftest import (
    ANCHOR_ID,
    RULE_SUBENTRY_ID,
    load_payload,
    remote_rule_subentry,
    token_entry_with,
)

GROCERIES = "sensor.sequence_groceries_balance"
PLATFORM_GROCERIES = GROCERIES  # the Platform fixture names it the same


async def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(DEFAULT_SCAN_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def answer(client: MagicMock, payload: dict[str, Any]) -> None:
    client.async_get_accounts.side_effect = None
    client.async_get_accounts.return_value = parse_accounts_payload(payload)


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "init_integration")
async def test_failure_unavailable_then_recovery(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert hass.states.get(GROCERIES).state == "412.06"
    good = mock_sequence_client.async_get_accounts.return_value

    mock_sequence_client.async_get_accounts.side_effect = SequenceConnectionError("down")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        await poll(hass, freezer)
        await poll(hass, freezer)
    assert hass.states.get(GROCERIES).state == STATE_UNAVAILABLE
    problem = hass.states.get("binary_sensor.sequence_api_problem")
    assert problem.state == "on"
    assert problem.attributes["error_kind"] == "cannot_connect"
    assert hass.states.get("sensor.sequence_last_successful_update").state != STATE_UNAVAILABLE
    unavailable_logs = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(unavailable_logs) == 1  # logged once, not on every failed poll

    mock_sequence_client.async_get_accounts.side_effect = None
    mock_sequence_client.async_get_accounts.return_value = good
    caplog.clear()
    with caplog.at_level(logging.INFO):
        await poll(hass, freezer)
    assert hass.states.get(GROCERIES).state == "412.06"
    assert hass.states.get("binary_sensor.sequence_api_problem").state == "off"
    assert "recovered" in caplog.text


@pytest.mark.usefixtures("init_integration")
async def test_rate_limit_waits_retry_after(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    good = mock_sequence_client.async_get_accounts.return_value
    mock_sequence_client.async_get_accounts.side_effect = SequenceRateLimitError(
        "slow", retry_after=1800
    )
    await poll(hass, freezer)
    calls = mock_sequence_client.async_get_accounts.await_count
    mock_sequence_client.async_get_accounts.side_effect = None
    mock_sequence_client.async_get_accounts.return_value = good

    await poll(hass, freezer)  # 10 minutes later: still inside Retry-After, no request
    assert mock_sequence_client.async_get_accounts.await_count == calls
    freezer.tick(timedelta(minutes=21))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert mock_sequence_client.async_get_accounts.await_count == calls + 1
    assert hass.states.get(GROCERIES).state == "412.06"


async def test_new_removed_and_renamed_accounts(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    unique_id = entity_registry.async_get(GROCERIES).unique_id
    payload = load_payload()
    accounts = payload["data"]["accounts"]
    accounts[0]["name"] = "Food & Groceries"  # renamed
    del accounts[1]  # Rent removed
    accounts.append(
        {"id": "4410099", "name": "Vacation", "type": "Pod", "balance": {"amountInDollars": 50}}
    )
    answer(mock_sequence_client, payload)
    await poll(hass, freezer)

    assert hass.states.get("sensor.sequence_vacation_balance").state == "50.00"
    assert hass.states.get("sensor.sequence_rent_balance") is None
    assert (
        device_registry.async_get_device_by_identifier(
            (DOMAIN, f"{ANCHOR_ID}:4410022"), init_integration.entry_id
        )
        is None
    )
    renamed = entity_registry.async_get(GROCERIES)
    assert renamed.unique_id == unique_id
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{ANCHOR_ID}:4410021"), init_integration.entry_id
    )
    assert device.name == "Food & Groceries"
    assert hass.states.get(GROCERIES).attributes["friendly_name"] == "Food & Groceries Balance"
    assert hass.states.get("sensor.sequence_pods_total").attributes["account_count"] == 3

    # Rent comes back: it gets its entity again.
    answer(mock_sequence_client, load_payload())
    await poll(hass, freezer)
    assert hass.states.get("sensor.sequence_rent_balance").state == "1850.50"


async def test_the_sweep_leaves_the_devices_of_subentries_alone(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A rule's (or route's) device is not an account's: no poll removes or renames it."""
    entry = token_entry_with(remote_rule_subentry())
    entry.add_to_hass(hass)
    identifier = (DOMAIN, f"{ANCHOR_ID}:rule:{RULE_SUBENTRY_ID}")
    device_registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        config_subentry_id=RULE_SUBENTRY_ID,
        identifiers={identifier},
        name="Round-ups",
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    payload = load_payload()
    payload["data"]["accounts"][0]["name"] = "Food & Groceries"  # makes the next poll sync
    answer(mock_sequence_client, payload)
    await poll(hass, frozen_start)

    device = device_registry.async_get_device_by_identifier(identifier, entry.entry_id)
    assert device is not None
    assert device.name == "Round-ups"
    groceries = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{ANCHOR_ID}:4410021"), entry.entry_id
    )
    assert groceries is not None
    assert groceries.name == "Food & Groceries"


async def test_failed_poll_removes_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
) -> None:
    before = len(dr.async_entries_for_config_entry(device_registry, init_integration.entry_id))
    mock_sequence_client.async_get_accounts.side_effect = SequenceResponseError("odd")
    await poll(hass, freezer)
    after = len(dr.async_entries_for_config_entry(device_registry, init_integration.entry_id))
    assert before == after == 8  # hub + seven accounts


async def test_unexpected_responses_raise_a_repair_issue_until_recovery(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    good = mock_sequence_client.async_get_accounts.return_value
    mock_sequence_client.async_get_accounts.side_effect = SequenceResponseError("odd")
    for _ in range(UNEXPECTED_RESPONSE_ISSUE_THRESHOLD - 1):
        await poll(hass, freezer)
    assert issue_registry.async_get_issue(DOMAIN, "unexpected_response") is None
    await poll(hass, freezer)
    issue = issue_registry.async_get_issue(DOMAIN, "unexpected_response")
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR

    mock_sequence_client.async_get_accounts.side_effect = None
    mock_sequence_client.async_get_accounts.return_value = good
    await poll(hass, freezer)
    assert issue_registry.async_get_issue(DOMAIN, "unexpected_response") is None


async def test_other_errors_do_not_count_towards_the_repair_issue(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    mock_sequence_client.async_get_accounts.side_effect = SequenceConnectionError("down")
    for _ in range(UNEXPECTED_RESPONSE_ISSUE_THRESHOLD + 1):
        await poll(hass, freezer)
    assert issue_registry.async_get_issue(DOMAIN, "unexpected_response") is None


@pytest.mark.usefixtures("init_integration")
async def test_an_outage_is_called_an_outage_and_never_an_api_change(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    mock_sequence_client.async_get_accounts.side_effect = SequenceServerError("HTTP 503")
    for _ in range(4 * UNEXPECTED_RESPONSE_ISSUE_THRESHOLD):
        await poll(hass, freezer)
    problem = hass.states.get("binary_sensor.sequence_api_problem")
    assert problem.state == "on"
    assert problem.attributes["error_kind"] == "unavailable"
    assert hass.states.get(GROCERIES).state == STATE_UNAVAILABLE
    assert issue_registry.async_get_issue(DOMAIN, "unexpected_response") is None


async def test_outages_between_unreadable_answers_neither_count_nor_reset(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Three unreadable 2xx answers since the last good poll raise the repair, outages or not."""
    client = mock_sequence_client.async_get_accounts
    for error in (SequenceResponseError("odd"), SequenceServerError("HTTP 500")) * 2:
        client.side_effect = error
        await poll(hass, freezer)
    assert issue_registry.async_get_issue(DOMAIN, "unexpected_response") is None
    problem = hass.states.get("binary_sensor.sequence_api_problem")
    assert problem.attributes["error_kind"] == "unavailable"
    client.side_effect = SequenceResponseError("odd")
    await poll(hass, freezer)
    assert issue_registry.async_get_issue(DOMAIN, "unexpected_response") is not None
    assert hass.states.get("binary_sensor.sequence_api_problem").attributes["error_kind"] == (
        "unexpected_response"
    )


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def next_poll_after(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, calls: AsyncMock, seconds: float
) -> None:
    """Assert that the next request comes ``seconds`` after the last (to within Home
    Assistant's sub-second spread), and let it happen."""
    count = calls.await_count
    await advance(hass, freezer, seconds - 2)
    assert calls.await_count == count, f"polled before {seconds} s"
    await advance(hass, freezer, 3)
    assert calls.await_count == count + 1, f"no poll {seconds} s later"


MINUTES = 60
HOURS = 60 * MINUTES


@pytest.mark.usefixtures("init_platform")
async def test_failed_polls_back_off_then_wait_the_interval_and_start_over_after_a_success(
    hass: HomeAssistant, mock_platform_client: MagicMock, freezer: FrozenDateTimeFactory
) -> None:
    """An API key polls every 6 hours; after a failure it tries again within minutes."""
    calls = mock_platform_client.async_get_accounts
    good = calls.return_value
    calls.side_effect = SequenceServerError("HTTP 503")
    for wait in (6 * HOURS, 1 * MINUTES, 2 * MINUTES, 5 * MINUTES, 15 * MINUTES, 30 * MINUTES):
        await next_poll_after(hass, freezer, calls, wait)
    await next_poll_after(hass, freezer, calls, 6 * HOURS)  # the steps are used up

    calls.side_effect = None
    calls.return_value = good
    await next_poll_after(hass, freezer, calls, 6 * HOURS)
    assert hass.states.get(PLATFORM_GROCERIES).state == "412.06"
    await next_poll_after(hass, freezer, calls, 6 * HOURS)  # back to the interval

    calls.side_effect = SequenceConnectionError("down")
    await next_poll_after(hass, freezer, calls, 6 * HOURS)
    await next_poll_after(hass, freezer, calls, 1 * MINUTES)  # the steps start over


@pytest.mark.usefixtures("init_platform")
async def test_an_api_key_entry_recovers_minutes_after_sequence_does(
    hass: HomeAssistant, mock_platform_client: MagicMock, freezer: FrozenDateTimeFactory
) -> None:
    """Sequence is down for 7 minutes around a poll: sensors are back 8 minutes after it."""
    calls = mock_platform_client.async_get_accounts
    good = calls.return_value
    calls.side_effect = SequenceServerError("HTTP 502")
    await next_poll_after(hass, freezer, calls, 6 * HOURS)
    await next_poll_after(hass, freezer, calls, 1 * MINUTES)
    await next_poll_after(hass, freezer, calls, 2 * MINUTES)
    assert hass.states.get(PLATFORM_GROCERIES).state == STATE_UNAVAILABLE
    calls.side_effect = None  # Sequence is back, 3 minutes into the outage
    calls.return_value = good
    await next_poll_after(hass, freezer, calls, 5 * MINUTES)
    assert hass.states.get(PLATFORM_GROCERIES).state == "412.06"
    assert hass.states.get("binary_sensor.sequence_api_problem").state == "off"


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [(None, 1 * MINUTES), (17, 1 * MINUTES), (200, 200), (30 * MINUTES, 30 * MINUTES)],
)
@pytest.mark.usefixtures("init_integration")
async def test_never_sooner_than_retry_after(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    retry_after: float | None,
    wait: float,
) -> None:
    """The first step (a minute) gives way to a longer Retry-After, even past the interval."""
    calls = mock_sequence_client.async_get_accounts
    calls.side_effect = SequenceRateLimitError("slow", retry_after=retry_after)
    await next_poll_after(hass, freezer, calls, DEFAULT_SCAN_INTERVAL.total_seconds())
    await next_poll_after(hass, freezer, calls, wait)


async def capture_events(hass: HomeAssistant) -> list[Event]:
    events: list[Event] = []

    @callback
    def record(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(EVENT_BALANCE_INCREASED, record)
    hass.bus.async_listen(EVENT_BALANCE_DECREASED, record)
    return events


async def test_balance_events(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_BALANCE_EVENTS: True})
    events = await capture_events(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert events == []  # never on the first poll

    await poll(hass, freezer)
    assert events == []  # nothing changed

    payload = load_payload()
    accounts = payload["data"]["accounts"]
    accounts[0]["balance"]["amountInDollars"] = 400.01  # Groceries down 12.05
    accounts[1]["balance"]["amountInDollars"] = 1850.6  # Rent up 0.10
    accounts[4]["balance"] = {"amountInDollars": None, "error": "Connection failed"}  # no event
    accounts[5]["balance"] = {"amountInDollars": 10.0, "error": None}  # had none: no event
    accounts[2]["name"] = "Rainy day"  # renamed, same balance: no event
    del accounts[3]  # gone: no event
    accounts.append({"id": "9", "name": "New", "type": "Pod", "balance": {"amountInDollars": 5}})
    answer(mock_sequence_client, payload)
    await poll(hass, freezer)

    by_account = {event.data["account_id"]: event for event in events}
    assert set(by_account) == {"4410021", "4410022"}
    down = by_account["4410021"]
    assert down.event_type == EVENT_BALANCE_DECREASED
    assert down.data == {
        "config_entry_id": mock_config_entry.entry_id,
        "account_id": "4410021",
        "account_type": "pod",
        "old_balance": "412.06",
        "new_balance": "400.01",
        "delta": "-12.05",
        "currency": "USD",
    }
    up = by_account["4410022"]
    assert up.event_type == EVENT_BALANCE_INCREASED
    assert Decimal(up.data["delta"]) == Decimal("0.10")


@pytest.mark.usefixtures("init_integration")
async def test_balance_events_off_by_default(
    hass: HomeAssistant, mock_sequence_client: MagicMock, freezer: FrozenDateTimeFactory
) -> None:
    events = await capture_events(hass)
    payload = load_payload()
    payload["data"]["accounts"][0]["balance"]["amountInDollars"] = 1.0
    answer(mock_sequence_client, payload)
    await poll(hass, freezer)
    assert hass.states.get(GROCERIES).state == "1.00"
    assert events == []


@pytest.mark.usefixtures("init_integration")
async def test_balance_missing_is_unknown_with_error(hass: HomeAssistant) -> None:
    state = hass.states.get("sensor.sequence_visa_9921_balance")
    assert state.state == STATE_UNKNOWN
    assert state.attributes["balance_error"] == "Connection failed"
