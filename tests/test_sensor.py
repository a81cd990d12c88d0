"""Tests for the sensors: snapshots plus functional assertions."""

from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion


@pytest.fixture
async def sensor_only(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> MockConfigEntry:
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
