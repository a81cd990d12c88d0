"""Tests for the coordinator: errors, recovery, reauth, dynamic and stale devices, events."""

from datetime import timedelta
from decimal import Decimal
import logging
from typing import Any
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
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
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceRateLimitError,
    SequenceResponseError,
    parse_accounts_payload,
)
from custom_components.sequence.const import (
    CONF_BALANCE_EVENTS,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    EVENT_BALANCE_DECREASED,
    EVENT_BALANCE_INCREASED,
)
from custom_components.sequence.coordinator import (
    UNEXPECTED_RESPONSE_ISSUE_THRESHOLD,
    error_key,
)

from .conftest import ANCHOR_ID, load_payload

GROCERIES = "sensor.sequence_groceries_balance"


async def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(DEFAULT_SCAN_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def answer(client: MagicMock, payload: dict[str, Any]) -> None:
    client.async_get_accounts.side_effect = None
    client.async_get_accounts.return_value = parse_accounts_payload(payload)


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (SequenceAuthError("x"), "invalid_auth"),
        (SequenceRateLimitError("x"), "rate_limited"),
        (SequenceConnectionError("x"), "cannot_connect"),
        (SequenceResponseError("x"), "unexpected_response"),
        (SequenceError("x"), "unexpected_response"),
    ],
)
def test_error_key(error: SequenceError, key: str) -> None:
    assert error_key(error) == key


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
async def test_auth_failure_starts_reauth(
    hass: HomeAssistant, mock_sequence_client: MagicMock, freezer: FrozenDateTimeFactory
) -> None:
    mock_sequence_client.async_get_accounts.side_effect = SequenceAuthError("revoked")
    await poll(hass, freezer)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert hass.states.get(GROCERIES).state == STATE_UNAVAILABLE
    problem = hass.states.get("binary_sensor.sequence_api_problem")
    assert problem.attributes["error_kind"] == "invalid_auth"


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
