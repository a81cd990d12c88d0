"""Tests for a refused credential: reauthentication, and an entry whose status says so."""

from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sequence.api import SequenceAuthError, SequencePermissionError
from custom_components.sequence.const import CONF_API_TOKEN, DEFAULT_SCAN_INTERVAL, DOMAIN
from custom_components.sequence.reauth import reload_for_reauthentication

GROCERIES = "sensor.sequence_groceries_balance"


async def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(DEFAULT_SCAN_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def reauth_flows(hass: HomeAssistant) -> list[str]:
    return [
        flow["step_id"]
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
    ]


async def test_a_refused_poll_leaves_the_entry_failed_with_the_reason(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Loaded with a reauth flow, Devices & services would show nothing: the entry reloads."""
    good = mock_sequence_client.async_get_accounts.return_value
    mock_sequence_client.async_get_accounts.side_effect = SequenceAuthError("revoked")
    await poll(hass, freezer)

    entry = init_integration
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert (entry.error_reason_translation_domain, entry.error_reason_translation_key) == (
        DOMAIN,
        "invalid_auth_access_token",
    )
    assert reauth_flows(hass) == ["reauth_access_token"]
    reauth_issue = f"config_entry_reauth_{DOMAIN}_{entry.entry_id}"
    assert issue_registry.async_get_issue("homeassistant", reauth_issue) is not None
    assert hass.states.get(GROCERIES).state == STATE_UNAVAILABLE
    calls = mock_sequence_client.async_get_accounts.await_count
    assert calls == 3  # setup, the refused poll, the reload's setup

    for _ in range(3):  # nothing is polled while the credential is refused
        await poll(hass, freezer)
    assert mock_sequence_client.async_get_accounts.await_count == calls

    mock_sequence_client.async_get_accounts.side_effect = None
    mock_sequence_client.async_get_accounts.return_value = good
    flow_id = hass.config_entries.flow.async_progress_by_handler(DOMAIN)[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_API_TOKEN: "tok-new-1234"}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reauth_successful"
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(GROCERIES).state == "412.06"
    assert reauth_flows(hass) == []
    assert issue_registry.async_get_issue("homeassistant", reauth_issue) is None


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (SequenceAuthError("revoked"), "invalid_auth_api_key"),
        (SequencePermissionError("denied", permission="READ_ACCOUNTS"), "missing_permission"),
    ],
)
async def test_an_api_key_refused_by_a_poll(
    hass: HomeAssistant,
    init_platform: MockConfigEntry,
    mock_platform_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    error: Exception,
    reason: str,
) -> None:
    mock_platform_client.async_get_accounts.side_effect = error
    mock_platform_client.async_list_accounts.side_effect = error
    freezer.tick(init_platform.runtime_data.coordinator.update_interval)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert init_platform.state is ConfigEntryState.SETUP_ERROR
    assert init_platform.error_reason_translation_key == reason
    assert reauth_flows(hass) == ["reauth_api_key"]


async def test_refused_at_setup_is_not_reloaded(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_sequence_client: MagicMock
) -> None:
    """The failed setup already says so; no reload, so no loop."""
    mock_sequence_client.async_get_accounts.side_effect = SequenceAuthError("revoked")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert mock_config_entry.error_reason_translation_key == "invalid_auth_access_token"
    assert mock_sequence_client.async_get_accounts.await_count == 1
    assert reauth_flows(hass) == ["reauth_access_token"]


async def test_no_reload_while_home_assistant_stops(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    hass.set_state(CoreState.stopping)
    try:
        reload_for_reauthentication(hass, init_integration)
        await hass.async_block_till_done()
    finally:
        hass.set_state(CoreState.running)
    assert init_integration.state is ConfigEntryState.LOADED
