"""Tests for setting up and unloading the integration."""

from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sequence.api import (
    SequenceAuthError,
    SequenceConnectionError,
    SequenceRateLimitError,
    SequenceResponseError,
    SequenceServerError,
)
from custom_components.sequence.audit import AuditOutcome, AuditRecord, MoneyAction
from custom_components.sequence.const import DOMAIN
from custom_components.sequence.errors import update_error
from custom_components.sequence.ledger import Attempt

from .conftest import BASE_URL, TOKEN


async def test_setup_and_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_sequence_client: MagicMock
) -> None:
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.coordinator.source.client is mock_sequence_client
    assert hass.states.get("sensor.sequence_groceries_balance") is not None

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get("sensor.sequence_groceries_balance").state == "unavailable"


async def test_setup_uses_the_stored_credential(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_client_class: MagicMock
) -> None:
    args, kwargs = mock_client_class.call_args
    assert args[1] == TOKEN
    assert kwargs == {"base_url": BASE_URL}


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (SequenceConnectionError("down"), ConfigEntryState.SETUP_RETRY),
        (SequenceRateLimitError("slow", retry_after=60), ConfigEntryState.SETUP_RETRY),
        (SequenceResponseError("odd"), ConfigEntryState.SETUP_RETRY),
        (SequenceServerError("HTTP 502"), ConfigEntryState.SETUP_RETRY),
        (SequenceAuthError("refused"), ConfigEntryState.SETUP_ERROR),
    ],
)
async def test_setup_failures(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    error: Exception,
    state: ConfigEntryState,
) -> None:
    mock_sequence_client.async_get_accounts.side_effect = error
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is state
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    reauth = [flow for flow in flows if flow["context"]["source"] == SOURCE_REAUTH]
    assert bool(reauth) is isinstance(error, SequenceAuthError)


async def test_an_outage_at_setup_is_the_entrys_status(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_sequence_client: MagicMock
) -> None:
    """Devices & services shows the translated reason while Home Assistant retries the setup."""
    mock_sequence_client.async_get_accounts.side_effect = SequenceServerError("HTTP 503")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert mock_config_entry.error_reason_translation_domain == DOMAIN
    assert mock_config_entry.error_reason_translation_key == "unavailable"


async def test_a_failed_first_poll_is_retried_by_home_assistants_setup_retry(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    """Before the entry is set up, Home Assistant ignores retry_after and retries the setup
    itself after 5, 10, 20, ... seconds (at most 10 minutes); the backoff starts once it is."""
    calls = mock_sequence_client.async_get_accounts
    good = calls.return_value
    calls.side_effect = SequenceServerError("HTTP 503")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    for wait in (5, 10):
        count = calls.await_count
        await advance(hass, frozen_start, wait - 1)
        assert calls.await_count == count
        await advance(hass, frozen_start, 2)
        assert calls.await_count == count + 1
        assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    calls.side_effect = None
    calls.return_value = good
    await advance(hass, frozen_start, 21)
    assert mock_config_entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("error", "retry_after"),
    [
        (SequenceServerError("HTTP 503"), None),
        (SequenceRateLimitError("slow", retry_after=90), 90),
    ],
)
async def test_a_failed_first_poll_gets_only_the_wait_sequence_asked_for(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    error: Exception,
    retry_after: float | None,
) -> None:
    """Not the retry steps: Home Assistant's setup retry backs off by itself (and since
    2026.11 waits at least the retry_after it is given)."""
    mock_sequence_client.async_get_accounts.side_effect = error
    mock_config_entry.add_to_hass(hass)
    with patch("custom_components.sequence.coordinator.update_error", wraps=update_error) as mapped:
        await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
    assert mapped.call_args.kwargs["retry_after"] == retry_after


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)  # setup retries run there


async def test_removing_the_entry_deletes_its_ledger_and_audit_trail(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    money = init_integration.runtime_data.money
    await money.ledger.async_reserve("sub", Attempt(key="k", fingerprint="f", at=dt_util.utcnow()))
    await money.audit.async_record(
        AuditRecord(
            time=dt_util.utcnow(),
            action=MoneyAction.TRIGGER_RULE,
            config_entry_id=init_integration.entry_id,
            subentry_id="sub",
            outcome=AuditOutcome.REFUSED,
        ),
        name="n",
        message="m",
    )
    keys = {
        f"{DOMAIN}.money.{init_integration.entry_id}",
        f"{DOMAIN}.audit.{init_integration.entry_id}",
    }
    assert keys <= set(hass_storage)
    await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert not keys & set(hass_storage)
