"""What a poll writes: only what changed, always from the poll's data; and the device sync."""

from collections import Counter
from collections.abc import Generator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sequence.api import (
    AccountsSnapshot,
    SequenceConnectionError,
    SequenceRateLimitError,
    SequenceResponseError,
    parse_accounts_payload,
)
from custom_components.sequence.const import (
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    PLATFORM_DEFAULT_SCAN_INTERVAL,
)
from custom_components.sequence.coordinator import (
    ISSUE_UNEXPECTED_RESPONSE,
    UNEXPECTED_RESPONSE_ISSUE_THRESHOLD,
)

from .conftest import load_payload

LAST_UPDATE = "sensor.sequence_last_successful_update"
GROCERIES = "sensor.sequence_groceries_balance"
VISA = "sensor.sequence_visa_9921_balance"
VISA_STATUS = "sensor.sequence_visa_9921_balance_status"
PODS_TOTAL = "sensor.sequence_pods_total"
API_PROBLEM = "binary_sensor.sequence_api_problem"
BUTTON = "button.sequence_refresh"


class Writes:
    """State machine writes per entity: new states and identical rewrites."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.changed: Counter[str] = Counter()
        self.reported: Counter[str] = Counter()
        hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed)
        hass.bus.async_listen(EVENT_STATE_REPORTED, self._reported, event_filter=self._all)

    @callback
    def _changed(self, event: Event[Any]) -> None:
        self.changed[event.data["entity_id"]] += 1

    @callback
    def _reported(self, event: Event[Any]) -> None:
        self.reported[event.data["entity_id"]] += 1

    @staticmethod
    @callback
    def _all(_data: Any) -> bool:
        return True

    def take(self) -> set[str]:
        """The entities written since the last call (either kind of write)."""
        written = set(self.changed) | set(self.reported)
        self.changed.clear()
        self.reported.clear()
        return written


@pytest.fixture
def writes(hass: HomeAssistant, init_integration: MockConfigEntry) -> Writes:
    return Writes(hass)


async def poll(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    interval: timedelta = DEFAULT_SCAN_INTERVAL,
) -> None:
    freezer.tick(interval)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def answer(client: MagicMock, payload: dict[str, Any]) -> None:
    client.async_get_accounts.side_effect = None
    client.async_get_accounts.return_value = parse_accounts_payload(payload)


def balance_entities(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    return {
        entity.entity_id
        for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if entity.unique_id.endswith("_balance")
    }


async def test_unchanged_poll_writes_nothing(
    hass: HomeAssistant, writes: Writes, freezer: FrozenDateTimeFactory
) -> None:
    await poll(hass, freezer)
    assert writes.take() == set()
    assert hass.states.get(LAST_UPDATE) is None  # disabled by default: it changes every poll


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_an_enabled_last_update_sensor_writes_each_good_poll(
    hass: HomeAssistant,
    writes: Writes,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    await poll(hass, freezer)
    assert writes.take() == {LAST_UPDATE}
    assert hass.states.get(LAST_UPDATE).state == "2026-11-21T12:10:00+00:00"

    mock_sequence_client.async_get_accounts.side_effect = SequenceConnectionError("down")
    await poll(hass, freezer)
    assert LAST_UPDATE not in writes.take()  # no new success
    assert hass.states.get(LAST_UPDATE).state == "2026-11-21T12:10:00+00:00"


async def test_only_the_changed_balance_and_its_total_are_written(
    hass: HomeAssistant,
    writes: Writes,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    payload = load_payload()
    payload["data"]["accounts"][0]["balance"]["amountInDollars"] = 400.01
    answer(mock_sequence_client, payload)
    await poll(hass, freezer)
    assert writes.changed == Counter({GROCERIES: 1, PODS_TOTAL: 1})
    assert writes.reported == Counter()
    assert hass.states.get(GROCERIES).state == "400.01"
    assert hass.states.get(PODS_TOTAL).state == "2250.61"


async def test_an_attribute_only_change_is_written(
    hass: HomeAssistant,
    writes: Writes,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    payload = load_payload()
    payload["data"]["accounts"][5]["balance"]["error"] = "Needs reauthentication"
    answer(mock_sequence_client, payload)
    await poll(hass, freezer)
    # The balance: same state (unknown), new balance_error. Its status: another reason.
    assert writes.take() == {VISA, VISA_STATUS}
    assert hass.states.get(VISA).attributes["balance_error"] == "Needs reauthentication"
    status = hass.states.get(VISA_STATUS)
    assert (status.state, status.attributes["reason"]) == ("other", "Needs reauthentication")


async def test_availability_changes_are_written_even_with_the_same_data(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    writes: Writes,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    balances = balance_entities(hass, init_integration)
    good = mock_sequence_client.async_get_accounts.return_value
    mock_sequence_client.async_get_accounts.side_effect = SequenceConnectionError("down")
    await poll(hass, freezer)
    written = writes.take()
    assert balances <= written
    assert API_PROBLEM in written
    assert BUTTON not in written  # always available, and polls do not change it
    assert hass.states.get(GROCERIES).state == STATE_UNAVAILABLE

    await poll(hass, freezer)  # failed again: nothing new to show
    assert writes.take() == set()

    mock_sequence_client.async_get_accounts.side_effect = None
    mock_sequence_client.async_get_accounts.return_value = good
    await poll(hass, freezer)  # the data is what it was before the failure
    written = writes.take()
    assert balances | {API_PROBLEM} <= written
    assert BUTTON not in written
    assert hass.states.get(GROCERIES).state == "412.06"


async def test_a_rename_writes_the_new_name(
    hass: HomeAssistant,
    writes: Writes,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    payload = load_payload()
    payload["data"]["accounts"][0]["name"] = "Food"
    answer(mock_sequence_client, payload)
    await poll(hass, freezer)
    assert writes.changed == Counter({GROCERIES: 1})
    assert writes.reported == Counter()
    assert hass.states.get(GROCERIES).attributes["friendly_name"] == "Food Balance"


@pytest.fixture
def registry_scans() -> Generator[MagicMock]:
    with patch(
        "custom_components.sequence.coordinator.dr.async_entries_for_config_entry",
        wraps=dr.async_entries_for_config_entry,
    ) as scans:
        yield scans


async def test_device_sync_scans_only_after_a_change(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    registry_scans: MagicMock,
    device_registry: dr.DeviceRegistry,
) -> None:
    # The setup's poll ran before the entities created their devices: the first poll checks.
    await poll(hass, freezer)
    assert registry_scans.call_count == 1
    await poll(hass, freezer)
    assert registry_scans.call_count == 1  # nothing changed: the registry already matches

    payload = load_payload()
    payload["data"]["accounts"][1]["name"] = "Housing"
    answer(mock_sequence_client, payload)
    await poll(hass, freezer)
    assert registry_scans.call_count == 2
    device = device_registry.async_get_device_by_identifier(
        ("sequence", "4410007:4410022"), init_integration.entry_id
    )
    assert device.name == "Housing"
    await poll(hass, freezer)
    assert registry_scans.call_count == 2


async def test_a_rename_with_a_new_balance_is_written_once_and_right(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    written: list[tuple[str, str]] = []

    @callback
    def record(event: Event[Any]) -> None:
        if event.data["entity_id"] == GROCERIES:
            state = event.data["new_state"]
            written.append((state.state, state.attributes["friendly_name"]))

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    writes = Writes(hass)
    payload = load_payload()
    payload["data"]["accounts"][0]["name"] = "Food"
    payload["data"]["accounts"][0]["balance"]["amountInDollars"] = 400.01
    answer(mock_sequence_client, payload)
    await poll(hass, freezer)
    # The renamed device makes Home Assistant rewrite the state first: with the new balance.
    assert written == [("400.01", "Food Balance")]
    assert writes.reported == Counter()  # and the poll does not write it again


async def test_error_kind_follows_the_failure_during_an_outage(
    hass: HomeAssistant,
    writes: Writes,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    mock_sequence_client.async_get_accounts.side_effect = SequenceConnectionError("down")
    await poll(hass, freezer)
    assert hass.states.get(API_PROBLEM).attributes["error_kind"] == "cannot_connect"
    writes.take()

    mock_sequence_client.async_get_accounts.side_effect = SequenceRateLimitError("slow")
    await poll(hass, freezer)
    assert hass.states.get(API_PROBLEM).attributes["error_kind"] == "rate_limited"
    assert writes.take() == {API_PROBLEM}  # the balances stay unavailable, unwritten


async def test_a_reload_clears_a_repair_issue_raised_before_it(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    good = mock_sequence_client.async_get_accounts.return_value
    mock_sequence_client.async_get_accounts.side_effect = SequenceResponseError("odd")
    for _ in range(UNEXPECTED_RESPONSE_ISSUE_THRESHOLD):
        await poll(hass, freezer)
    assert issue_registry.async_get_issue(DOMAIN, ISSUE_UNEXPECTED_RESPONSE) is not None

    answer(mock_sequence_client, load_payload())
    assert mock_sequence_client.async_get_accounts.return_value == good
    await hass.config_entries.async_reload(init_integration.entry_id)  # e.g. reauthentication
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, ISSUE_UNEXPECTED_RESPONSE) is None


async def test_a_platform_poll_writes_only_what_changed(
    hass: HomeAssistant,
    init_platform: MockConfigEntry,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    writes = Writes(hass)
    await poll(hass, freezer, PLATFORM_DEFAULT_SCAN_INTERVAL)
    assert writes.take() == set()

    accounts = dict(mock_platform_client.async_get_accounts.return_value.accounts)
    groceries = next(i for i, account in accounts.items() if account.name == "Groceries")
    accounts[groceries] = replace(accounts[groceries], balance=Decimal("500.00"))
    mock_platform_client.async_get_accounts.return_value = AccountsSnapshot(accounts=accounts)
    await poll(hass, freezer, PLATFORM_DEFAULT_SCAN_INTERVAL)
    # Not its savings target, nor its balance's time: the account changed, they did not.
    assert writes.take() == {
        GROCERIES,
        "sensor.sequence_groceries_savings_progress",
        PODS_TOTAL,
        "sensor.sequence_net_worth",
    }
    assert hass.states.get("sensor.sequence_net_worth").state == "4358.05"
