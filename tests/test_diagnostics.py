"""Tests for diagnostics: useful, and free of secrets and personal data."""

import json
import logging
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.sequence.audit import AuditOutcome, AuditRecord, MoneyAction
from custom_components.sequence.const import CONF_EXCLUDED_ACCOUNTS

from .conftest import (
    API_KEY,
    REMOTE_RULE_ID,
    RULE_SECRET,
    RULE_SUBENTRY_ID,
    TOKEN,
    TRIGGER_URL,
    load_payload,
    load_snapshot,
    platform_rule_subentry,
    remote_rule_subentry,
    route_subentry,
    token_entry_with,
)


async def test_diagnostics_snapshot(
    frozen_start: FrozenDateTimeFactory,  # first: Home Assistant's auth tokens are issued after it
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diagnostics == snapshot
    assert diagnostics["accounts"]["per_kind"] == {
        "pod": 3,
        "income_source": 1,
        "external": 2,
        "unknown": 1,
    }
    assert diagnostics["accounts"]["with_balance_error"] == 1
    assert diagnostics["coordinator"]["last_error_kind"] is None


async def test_diagnostics_and_logs_hold_no_secret_or_personal_data(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every id, name, balance and the token from the fixture stay out of both."""
    caplog.set_level(logging.DEBUG)
    mock_sequence_client.async_get_accounts.return_value = load_snapshot("accounts_secrets.json")
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_EXCLUDED_ACCOUNTS: ["ID-SECRET-0003"]}
    )
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    diagnostics = json.dumps(
        await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)
    )
    forbidden = [TOKEN]
    for account in load_payload("accounts_secrets.json")["data"]["accounts"]:
        forbidden += [account["id"], account["name"]]
        if account["balance"]["amountInDollars"] is not None:
            forbidden.append(f"{account['balance']['amountInDollars']:.2f}")
    logs = "\n".join(record.getMessage() for record in caplog.records)
    assert logs  # debug logging was on, so this is a real check
    for secret in forbidden:
        assert secret not in diagnostics, secret
        assert secret not in logs, secret
    assert '"excluded_accounts": 1' in diagnostics


async def test_platform_diagnostics_hold_no_account_numbers(
    frozen_start: FrozenDateTimeFactory,
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    platform_config_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    snapshot: SnapshotAssertion,
) -> None:
    platform_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(platform_config_entry, options={"activity": True})
    await hass.config_entries.async_setup(platform_config_entry.entry_id)
    await hass.async_block_till_done()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, platform_config_entry)
    assert diagnostics == snapshot
    assert diagnostics["entry"]["credential_kind"] == "api_key"
    assert diagnostics["accounts"]["liabilities"] == 1
    assert diagnostics["activity"] == {"last_update_success": True, "transfers_this_month": 2}
    text = json.dumps(diagnostics)
    for detail in load_payload("platform_accounts.json")["accounts"]:
        for secret in (
            detail["id"],
            detail["name"],
            detail["routingNumber"],
            detail["bankAccountNumber"],
        ):
            assert secret not in text
    assert API_KEY not in text


async def test_rules_and_routes_are_counted_never_shown(
    frozen_start: FrozenDateTimeFactory,
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_sequence_client: MagicMock,
) -> None:
    """A rule's data holds its secret and trigger URL: diagnostics count subentries only."""
    entry = token_entry_with(
        remote_rule_subentry(),
        platform_rule_subentry(subentry_id="01JSEQUENCERULESUBENTRY002"),
        route_subentry(max_per_day_cents=20000, description="Savings"),
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    audit = entry.runtime_data.money.audit
    for outcome in (AuditOutcome.REFUSED, AuditOutcome.REFUSED, AuditOutcome.SUCCEEDED):
        await audit.async_record(
            AuditRecord(
                time=dt_util.utcnow(),
                action=MoneyAction.TRIGGER_RULE,
                config_entry_id=entry.entry_id,
                subentry_id=RULE_SUBENTRY_ID,
                outcome=outcome,
                rule_id=REMOTE_RULE_ID,
            ),
            name="Sequence rule Round-ups",
            message="ran",
        )

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["subentries"] == {"rule": 2, "transfer_route": 1}
    assert diagnostics["money_actions"] == {"refused": 2, "succeeded": 1}
    text = json.dumps(diagnostics)
    for secret in (RULE_SECRET, TRIGGER_URL, REMOTE_RULE_ID, "Round-ups", "rule-secret"):
        assert secret not in text, secret
