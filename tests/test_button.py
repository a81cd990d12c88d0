"""Tests for the refresh button."""

from typing import Any
from unittest.mock import MagicMock

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID, EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sequence.api import (
    SequenceAuthError,
    SequenceConnectionError,
    SequencePermissionError,
    SequenceServerError,
)

BUTTON = "button.sequence_refresh"


async def press(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: BUTTON}, blocking=True
    )


@pytest.mark.usefixtures("init_integration")
async def test_refresh_polls_now(hass: HomeAssistant, mock_sequence_client: MagicMock) -> None:
    calls = mock_sequence_client.async_get_accounts.await_count
    await press(hass)
    assert mock_sequence_client.async_get_accounts.await_count == calls + 1


@pytest.mark.usefixtures("init_integration")
async def test_refresh_failure_is_translated(
    hass: HomeAssistant, mock_sequence_client: MagicMock
) -> None:
    mock_sequence_client.async_get_accounts.side_effect = SequenceConnectionError("down")
    with pytest.raises(HomeAssistantError) as raised:
        await press(hass)
    assert raised.value.translation_key == "cannot_connect"
    assert raised.value.translation_domain == "sequence"
    assert hass.states.get(BUTTON).state != "unavailable"


@pytest.mark.usefixtures("init_integration")
async def test_refresh_during_an_outage_says_so(
    hass: HomeAssistant, mock_sequence_client: MagicMock
) -> None:
    mock_sequence_client.async_get_accounts.side_effect = SequenceServerError("HTTP 503")
    with pytest.raises(HomeAssistantError) as raised:
        await press(hass)
    assert raised.value.translation_key == "unavailable"


@pytest.mark.usefixtures("init_platform")
async def test_refresh_without_read_accounts_names_the_permission(
    hass: HomeAssistant, mock_platform_client: MagicMock
) -> None:
    """The poll starts reauthentication; the user who pressed is told what to add."""
    mock_platform_client.async_list_accounts.side_effect = SequencePermissionError(
        "denied", permission="READ_ACCOUNTS"
    )
    with pytest.raises(HomeAssistantError) as raised:
        await press(hass)
    assert raised.value.translation_key == "permission_not_granted"
    assert raised.value.translation_placeholders == {"permission": "READ_ACCOUNTS"}


async def test_refresh_lists_platform_accounts_afresh(
    hass: HomeAssistant, init_platform: object, mock_platform_client: MagicMock
) -> None:
    listed = mock_platform_client.async_list_accounts.await_count
    await press(hass)
    assert mock_platform_client.async_list_accounts.await_count == listed + 1


@pytest.mark.parametrize(
    ("entry", "toast"),
    [
        ("mock_config_entry", "invalid_auth_access_token"),
        ("platform_config_entry", "invalid_auth_api_key"),
    ],
)
@pytest.mark.usefixtures("frozen_start")
async def test_refresh_refused_names_the_entrys_credential(
    hass: HomeAssistant,
    request: pytest.FixtureRequest,
    mock_sequence_client: MagicMock,
    mock_platform_client: MagicMock,
    entry: str,
    toast: str,
) -> None:
    config_entry: MockConfigEntry = request.getfixturevalue(entry)
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    for client in (mock_sequence_client, mock_platform_client):
        client.async_get_accounts.side_effect = SequenceAuthError("revoked")
    with pytest.raises(HomeAssistantError) as raised:
        await press(hass)
    assert raised.value.translation_key == toast


@pytest.mark.usefixtures("init_integration")
async def test_a_press_writes_the_button_once(hass: HomeAssistant) -> None:
    """Home Assistant writes the time of the press; the poll it starts writes nothing more."""
    writes: list[str] = []

    @callback
    def record(event: Event[Any]) -> None:
        if event.data["entity_id"] == BUTTON:
            writes.append(event.event_type)

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    hass.bus.async_listen(EVENT_STATE_REPORTED, record, event_filter=callback(lambda _data: True))
    await press(hass)
    await hass.async_block_till_done()
    assert writes == [EVENT_STATE_CHANGED]
