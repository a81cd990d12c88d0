"""Tests for the binary sensors of the hub: API problem, transfers awaiting approval."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.sequence.const import CONF_ACTIVITY


@pytest.mark.usefixtures("init_integration")
async def test_api_problem_off_when_healthy(hass: HomeAssistant) -> None:
    state = hass.states.get("binary_sensor.sequence_api_problem")
    assert state.state == "off"
    assert state.attributes["error_kind"] is None
    assert state.attributes["device_class"] == "problem"


@pytest.mark.parametrize(
    ("entry", "translation_key"),
    [
        ("mock_config_entry", "api_problem_access_token"),
        ("platform_config_entry", "api_problem_api_key"),
    ],
)
@pytest.mark.usefixtures("mock_sequence_client", "mock_platform_client", "frozen_start")
async def test_error_kinds_are_translated_for_the_entrys_credential(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    request: pytest.FixtureRequest,
    entry: str,
    translation_key: str,
) -> None:
    """ "Access token refused" or "API key refused"; the attribute's values are the same."""
    config_entry: MockConfigEntry = request.getfixturevalue(entry)
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    registered = entity_registry.async_get("binary_sensor.sequence_api_problem")
    assert registered is not None
    assert registered.translation_key == translation_key


@pytest.mark.usefixtures("mock_platform_client", "frozen_start")
async def test_transfers_awaiting_approval_snapshot(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """With activity on; off, as no transfer of the fixtures waits for approval."""
    platform_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(platform_config_entry, options={CONF_ACTIVITY: True})
    await hass.config_entries.async_setup(platform_config_entry.entry_id)
    await hass.async_block_till_done()
    entity_id = "binary_sensor.sequence_transfers_awaiting_approval"
    assert entity_registry.async_get(entity_id) == snapshot(name="entry")
    assert hass.states.get(entity_id) == snapshot(name="state")
    assert hass.states.get(entity_id).state == "off"
