"""Tests for the sensors: snapshots plus functional assertions."""

from collections import Counter
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.sequence.api import Account, AccountKind, AccountsSnapshot
from custom_components.sequence.api.platform_parse import parse_account_detail
from custom_components.sequence.api.remote import parse_accounts_payload
from custom_components.sequence.const import CONF_ACTIVITY
from custom_components.sequence.sensor import balance_status

from .conftest import load_payload, load_platform_snapshot


@pytest.fixture
async def sensor_only(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    entity_registry_enabled_by_default: None,
) -> MockConfigEntry:
    """Every sensor of a Remote API entry, the ones disabled by default included."""
    with patch("custom_components.sequence.PLATFORMS", [Platform.SENSOR]):
        mock_config_entry.add_to_hass(hass)
        await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
    return mock_config_entry


async def test_snapshot(
    hass: HomeAssistant,
    sensor_only: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, sensor_only.entry_id)


@pytest.mark.usefixtures("sensor_only")
@pytest.mark.parametrize(
    ("entity_id", "state", "account_type"),
    [
        ("sensor.sequence_groceries_balance", "412.06", "Pod"),
        ("sensor.sequence_rent_balance", "1850.50", "Pod"),
        ("sensor.sequence_emergency_fund_balance", "0.10", "Pod"),
        ("sensor.sequence_paycheck_balance", "0.00", "Income Source"),
        ("sensor.sequence_everyday_checking_balance", "2203.17", "Account"),
        ("sensor.sequence_visa_9921_balance", "unknown", "Account"),
        ("sensor.sequence_brokerage_balance", "15000.00", "Investment"),
    ],
)
async def test_balance_sensors(
    hass: HomeAssistant, entity_id: str, state: str, account_type: str
) -> None:
    sensor = hass.states.get(entity_id)
    assert sensor is not None
    assert sensor.state == state
    assert sensor.attributes["unit_of_measurement"] == "USD"
    assert sensor.attributes["device_class"] == "monetary"
    assert sensor.attributes["state_class"] == "total"
    assert sensor.attributes["account_type"] == account_type


@pytest.mark.usefixtures("sensor_only")
@pytest.mark.parametrize(
    ("entity_id", "state", "count", "without_balance"),
    [
        ("sensor.sequence_pods_total", "2262.66", 3, 0),
        ("sensor.sequence_income_sources_total", "0.00", 1, 0),
        ("sensor.sequence_external_accounts_total", "2203.17", 2, 1),
    ],
)
async def test_totals(
    hass: HomeAssistant, entity_id: str, state: str, count: int, without_balance: int
) -> None:
    total = hass.states.get(entity_id)
    assert total.state == state
    assert total.attributes["account_count"] == count
    assert total.attributes["accounts_without_balance"] == without_balance


async def test_unique_ids_and_devices(
    hass: HomeAssistant, sensor_only: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    entry = entity_registry.async_get("sensor.sequence_groceries_balance")
    assert entry.unique_id == "4410007_4410021_balance"
    assert entry.translation_key == "pod_balance"
    brokerage = entity_registry.async_get("sensor.sequence_brokerage_balance")
    assert brokerage.translation_key == "unknown_balance"
    total = entity_registry.async_get("sensor.sequence_pods_total")
    assert total.unique_id == "4410007_pod_total"


@pytest.fixture
async def platform_sensor_only(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
) -> MockConfigEntry:
    """A Platform API entry with every sensor enabled (some are disabled by default)."""
    with patch("custom_components.sequence.PLATFORMS", [Platform.SENSOR]):
        platform_config_entry.add_to_hass(hass)
        await hass.config_entries.async_setup(platform_config_entry.entry_id)
        await hass.async_block_till_done()
        for entry in er.async_entries_for_config_entry(
            entity_registry, platform_config_entry.entry_id
        ):
            if entry.disabled_by is not None:
                entity_registry.async_update_entity(entry.entity_id, disabled_by=None)
        await hass.config_entries.async_reload(platform_config_entry.entry_id)
        await hass.async_block_till_done()
    return platform_config_entry


async def test_platform_snapshot(
    hass: HomeAssistant,
    platform_sensor_only: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, platform_sensor_only.entry_id)


@pytest.mark.usefixtures("platform_sensor_only")
@pytest.mark.parametrize(
    ("entity_id", "state"),
    [
        ("sensor.sequence_visa_9921_balance", "845.12"),  # "Amount owed": positive debt
        ("sensor.sequence_liabilities_total", "845.12"),
        # 412.06 + 2500.00 + 0.00 + 2203.17 - 845.12; the brokerage has no balance
        ("sensor.sequence_net_worth", "4270.11"),
        ("sensor.sequence_external_accounts_total", "2203.17"),  # assets only
        ("sensor.sequence_groceries_savings_progress", "41.2"),
        ("sensor.sequence_emergency_fund_savings_target", "10000.00"),
        ("sensor.sequence_everyday_checking_available_balance", "2100.00"),
        ("sensor.sequence_visa_9921_next_payment_minimum", "35.00"),
        ("sensor.sequence_visa_9921_next_payment_due_date", "2026-11-28"),
        ("sensor.sequence_groceries_balance_updated_at", "2026-11-21T06:00:00+00:00"),
        ("sensor.sequence_brokerage_balance", "unknown"),
    ],
)
async def test_platform_values(hass: HomeAssistant, entity_id: str, state: str) -> None:
    assert hass.states.get(entity_id).state == state


async def test_platform_names_devices_and_defaults(
    hass: HomeAssistant,
    init_platform: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    owed = hass.states.get("sensor.sequence_visa_9921_balance")
    assert owed.attributes["friendly_name"] == "Visa 9921 Amount owed"
    for disabled in (
        "sensor.sequence_everyday_checking_available_balance",
        "sensor.sequence_visa_9921_next_payment_minimum",
        "sensor.sequence_visa_9921_next_payment_due_date",
    ):
        assert (
            entity_registry.async_get(disabled).disabled_by is er.RegistryEntryDisabler.INTEGRATION
        )
    assert hass.states.get("sensor.sequence_paycheck_savings_target") is None  # no target set
    device_id = entity_registry.async_get(owed.entity_id).device_id
    assert device_id is not None
    visa = device_registry.async_get(device_id)
    assert visa is not None
    assert visa.manufacturer == "Example Card Co"
    assert visa.model == "External account (Liability)"


async def test_platform_detail_sensor_appears_when_data_does(
    hass: HomeAssistant,
    init_platform: MockConfigEntry,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    snapshot = load_platform_snapshot()
    paycheck_id = next(i for i, a in snapshot.accounts.items() if a.name == "Paycheck")
    accounts = dict(snapshot.accounts)
    accounts[paycheck_id] = replace(accounts[paycheck_id], savings_target=Decimal("500.00"))
    groceries_id = next(i for i, a in snapshot.accounts.items() if a.name == "Groceries")
    accounts[groceries_id] = replace(accounts[groceries_id], balance=None, balance_error="ERROR")
    mock_platform_client.async_get_accounts.return_value = AccountsSnapshot(accounts=accounts)
    freezer.tick(timedelta(hours=6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.sequence_paycheck_savings_target").state == "500.00"
    assert hass.states.get("sensor.sequence_paycheck_savings_progress").state == "0.0"
    assert hass.states.get("sensor.sequence_groceries_savings_progress").state == "unknown"


async def test_remote_entry_has_no_platform_totals(
    hass: HomeAssistant, sensor_only: MockConfigEntry
) -> None:
    assert hass.states.get("sensor.sequence_net_worth") is None
    assert hass.states.get("sensor.sequence_liabilities_total") is None


@pytest.mark.usefixtures("sensor_only")
@pytest.mark.parametrize(
    ("entity_id", "state", "reason"),
    [
        ("sensor.sequence_visa_9921_balance_status", "connection_failed", "Connection failed"),
        ("sensor.sequence_everyday_checking_balance_status", "ok", None),
        ("sensor.sequence_brokerage_balance_status", "ok", None),  # an unknown type has one too
    ],
)
async def test_balance_status(hass: HomeAssistant, entity_id: str, state: str, reason: str) -> None:
    status = hass.states.get(entity_id)
    assert (status.state, status.attributes["reason"]) == (state, reason)
    assert status.attributes["device_class"] == "enum"
    assert status.attributes["options"] == ["ok", "connection_failed", "no_balance", "other"]


async def test_balance_status_only_where_a_bank_connection_can_fail(
    hass: HomeAssistant, sensor_only: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Pods and Income Sources have no bank link: no status (setup stays small)."""
    statuses = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(entity_registry, sensor_only.entry_id)
        if entry.unique_id.endswith("_balance_status")
    }
    assert statuses == {
        "sensor.sequence_everyday_checking_balance_status",
        "sensor.sequence_visa_9921_balance_status",
        "sensor.sequence_brokerage_balance_status",
    }
    status = entity_registry.async_get("sensor.sequence_visa_9921_balance_status")
    assert status.entity_category is er.EntityCategory.DIAGNOSTIC


def test_the_same_reason_reads_the_same_from_either_api() -> None:
    """The Remote API's "Connection failed" and the Platform API's CONNECTION_FAILED."""
    remote = load_payload()["data"]["accounts"][5]
    assert remote["balance"] == {"amountInDollars": None, "error": "Connection failed"}
    from_remote = parse_accounts_payload({"data": {"accounts": [remote]}}).accounts[remote["id"]]
    detail = next(
        item
        for item in load_payload("platform_accounts.json")["accounts"]
        if item["name"] == "Brokerage"
    )
    detail["balance"]["error"] = "CONNECTION_FAILED"
    from_platform = parse_account_detail({"data": detail, "requestId": "r"})
    assert from_platform is not None
    assert from_remote.balance_error == from_platform.balance_error == "Connection failed"
    assert balance_status(from_remote) == balance_status(from_platform) == "connection_failed"


@pytest.mark.parametrize(
    ("balance", "error", "status"),
    [
        (Decimal("1.00"), None, "ok"),
        (None, None, "no_balance"),
        (None, "Connection failed", "connection_failed"),
        (Decimal("1.00"), "Connection failed", "connection_failed"),  # a stale balance
        (None, "Item login required", "other"),
    ],
)
def test_balance_status_values(balance: Decimal | None, error: str | None, status: str) -> None:
    account = Account(
        id="1",
        name="Visa",
        kind=AccountKind.EXTERNAL,
        type_name="Account",
        balance=balance,
        balance_error=error,
    )
    assert balance_status(account) == status


async def test_setup_makes_each_registry_entry_once(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
) -> None:
    """The display precision comes with the new registry entry, not as an update after it.

    Each update is an event, a task and a state calculation per sensor at setup.
    """
    actions: Counter[str] = Counter()

    @callback
    def count(event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        actions[event.data["action"]] += 1

    hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, count)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    # Seven balances, three balance statuses, three totals, three more on the hub.
    assert actions == {"create": 16}
    groceries = entity_registry.async_get("sensor.sequence_groceries_balance")
    assert groceries.options["sensor"] == {"suggested_display_precision": 2}
    last_update = entity_registry.async_get("sensor.sequence_last_successful_update")
    assert "sensor" not in last_update.options  # a timestamp has no display precision


async def test_last_update_is_disabled_by_default(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    entry = entity_registry.async_get("sensor.sequence_last_successful_update")
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION


ACTIVITY_SENSORS = (
    "sensor.sequence_incoming_this_month",
    "sensor.sequence_transfers_this_month",
    "sensor.sequence_rule_runs_this_month",
)


@pytest.mark.usefixtures("mock_platform_client", "frozen_start")
async def test_activity_sensors_snapshot(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The month's sensors on the hub; the fixtures' one rule run is this month's."""
    platform_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(platform_config_entry, options={CONF_ACTIVITY: True})
    await hass.config_entries.async_setup(platform_config_entry.entry_id)
    await hass.async_block_till_done()
    for entity_id in ACTIVITY_SENSORS:
        assert entity_registry.async_get(entity_id) == snapshot(name=f"{entity_id}-entry")
        assert hass.states.get(entity_id) == snapshot(name=f"{entity_id}-state")
    assert hass.states.get("sensor.sequence_rule_runs_this_month").state == "1"
