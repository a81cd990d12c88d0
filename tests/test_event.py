"""The transfer event entity: the entry's latest ``sequence_transfer``, typed by its direction."""

from collections.abc import Generator
from dataclasses import replace
from datetime import timedelta
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.sequence.const import ACTIVITY_INTERVAL, CONF_ACTIVITY, EVENT_TRANSFER

from .conftest import MoneySetup, call_action, load_transfers

TRANSFER = "event.sequence_transfer"


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


async def test_the_latest_transfer_is_the_state(
    hass: HomeAssistant,
    activity_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    state = hass.states.get(TRANSFER)
    assert state.state == STATE_UNKNOWN  # the first poll fires nothing, so nothing to show
    assert state.attributes["event_types"] == ["incoming", "outgoing", "internal", "unknown"]
    transfers = list(load_transfers())
    transfers[0] = replace(transfers[0], status="COMPLETE")
    mock_platform_client.async_get_transfers.return_value = tuple(transfers)
    frozen_start.tick(ACTIVITY_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    state = hass.states.get(TRANSFER)
    assert state.state == "2026-11-21T13:00:00.000+00:00"
    assert state.attributes["event_type"] == "internal"
    assert {key: state.attributes[key] for key in state.attributes if key != "event_types"} == {
        "event_type": "internal",
        "transfer_id": transfers[0].id,
        "amount": "250.00",
        "currency": "USD",
        "status": "COMPLETE",
        "previous_status": "PENDING",
        "origin": "RULE",
        "rule_id": "551ff9b6-ddf1-4110-b611-1b11044b72d4",
        "created_at": "2026-11-20T09:00:00+00:00",
        "friendly_name": "Sequence Transfer",
    }


async def test_only_the_entrys_own_transfers(
    hass: HomeAssistant, activity_entry: MockConfigEntry, frozen_start: FrozenDateTimeFactory
) -> None:
    hass.bus.async_fire(
        EVENT_TRANSFER, {"config_entry_id": "another-entry", "direction": "incoming"}
    )
    await hass.async_block_till_done()
    assert hass.states.get(TRANSFER).state == STATE_UNKNOWN
    frozen_start.tick(timedelta(seconds=1))
    hass.bus.async_fire(
        EVENT_TRANSFER,
        {
            "config_entry_id": activity_entry.entry_id,
            "transfer_id": "t-1",
            "direction": "outgoing",
            "amount": "12.00",
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get(TRANSFER)
    assert state.attributes["event_type"] == "outgoing"
    assert state.attributes["transfer_id"] == "t-1"
    assert "config_entry_id" not in state.attributes
    assert "direction" not in state.attributes


async def test_a_followed_transfer_shows_too(
    hass: HomeAssistant,
    platform_money_entry: MockConfigEntry,
    money_client: MagicMock,
    platform_money: MoneySetup,
) -> None:
    """``sequence.transfer`` fires ``sequence_transfer`` for the transfer it made: mirrored."""
    hass.config_entries.async_update_entry(platform_money_entry, options={CONF_ACTIVITY: True})
    await hass.async_block_till_done()
    await hass.config_entries.async_reload(platform_money_entry.entry_id)
    await hass.async_block_till_done()
    assert platform_money.route_device is not None
    await call_action(hass, "transfer", {"route": platform_money.route_device, "amount": 10})
    await hass.async_block_till_done()
    state = hass.states.get(TRANSFER)
    assert state.attributes["event_type"] == "internal"
    assert state.attributes["status"] == "PROCESSING"
    assert state.attributes["amount"] == "10.00"


async def test_no_event_entity_without_activity(
    hass: HomeAssistant, init_platform: MockConfigEntry
) -> None:
    assert hass.states.get(TRANSFER) is None


@pytest.fixture
def event_only() -> Generator[None]:
    with patch("custom_components.sequence.PLATFORMS", [Platform.EVENT]):
        yield


@pytest.mark.usefixtures("event_only")
async def test_snapshot(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    activity_entry: MockConfigEntry,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, activity_entry.entry_id)
