"""Tests for the API-problem binary sensor."""

from homeassistant.core import HomeAssistant
import pytest


@pytest.mark.usefixtures("init_integration")
async def test_api_problem_off_when_healthy(hass: HomeAssistant) -> None:
    state = hass.states.get("binary_sensor.sequence_api_problem")
    assert state.state == "off"
    assert state.attributes["error_kind"] is None
    assert state.attributes["device_class"] == "problem"
