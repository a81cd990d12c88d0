"""Subentry flows: rules with either credential, transfer routes, their errors and confirmations."""

from dataclasses import replace
import json
import logging
from pathlib import Path
import re
from typing import Any
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sequence.api import (
    AccountsSnapshot,
    Permission,
    PermissionCheck,
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceRefusedError,
    SequenceResponseError,
    SequenceServerError,
)
from custom_components.sequence.api.models import RuleSummary
from custom_components.sequence.api.transport import IDEMPOTENCY_KEY
from custom_components.sequence.const import (
    CONF_CONFIRM,
    CONF_DESCRIPTION,
    CONF_DESTINATION,
    CONF_MAX_PER_DAY,
    CONF_MAX_PER_DAY_CENTS,
    CONF_MAX_PER_TRANSFER,
    CONF_MAX_PER_TRANSFER_CENTS,
    CONF_MAX_RUNS_PER_DAY,
    CONF_MIN_INTERVAL_MINUTES,
    CONF_NAME,
    CONF_RULE_ID,
    CONF_SECRET,
    CONF_SOURCE,
    CONF_TRIGGER_URL,
    DOMAIN,
    SUBENTRY_ROUTE,
    SUBENTRY_RULE,
)
from custom_components.sequence.subentry_flows import dollars_to_cents, runs_text, whole_number

from .conftest import (
    ANCHOR_ID,
    BASE_URL,
    EMERGENCY_FUND_ID,
    PAYCHECK_ID,
    PLATFORM_ANCHOR_ID,
    PLATFORM_RULE_ID,
    REMOTE_RULE_ID,
    ROUTE_SUBENTRY_ID,
    RULE_SECRET,
    RULE_SUBENTRY_ID,
    TRIGGER_URL,
    api_key_entry_with,
    load_platform_snapshot,
    platform_rule_subentry,
    remote_rule_subentry,
    route_subentry,
    token_entry_with,
)

STRINGS = json.loads(
    (
        Path(__file__).resolve().parent.parent / "custom_components" / "sequence" / "strings.json"
    ).read_text(encoding="utf-8")
)["config_subentries"]
GROCERIES_ID = "0b1e8c6a-1111-4c1b-9f7e-000000000001"
CHECKING_ID = "0b1e8c6a-1111-4c1b-9f7e-000000000004"
RULES = (
    RuleSummary(id=PLATFORM_RULE_ID, name="Payday split", enabled=True, supported=True),
    RuleSummary(id="rule-disabled", name="Old rule", enabled=False, supported=True),
    RuleSummary(id="rule-unsupported", name="Fancy rule", enabled=True, supported=False),
    RuleSummary(id="rule-deleted", name="Gone", enabled=True, supported=True, deleted=True),
    RuleSummary(id="rule-fees", name="annual fees", enabled=True, supported=True),
)


# --- Helpers ------------------------------------------------------------------------------------


def placeholders_in(text: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", text))


def check_texts(result: Any, subentry_type: str) -> None:
    """Whatever the flow shows has its text: step, fields, errors, placeholders, abort."""
    block = STRINGS[subentry_type]
    if result["type"] is FlowResultType.ABORT:
        if result["reason"] != "reconfigure_successful":  # Home Assistant's own text
            assert result["reason"] in block["abort"], result["reason"]
        return
    if result["type"] is FlowResultType.CREATE_ENTRY:
        return
    step = block["step"][result["step_id"]]
    fields = {str(marker) for marker in result["data_schema"].schema}
    assert fields <= set(step["data"]), result["step_id"]
    needed = placeholders_in(step.get("title", "")) | placeholders_in(step["description"])
    for error in result["errors"].values():
        assert error in block["error"], error
        needed |= placeholders_in(block["error"][error])
    assert needed <= set(result["description_placeholders"] or {}), result["step_id"]


async def start(
    hass: HomeAssistant, entry: MockConfigEntry, subentry_type: str = SUBENTRY_RULE
) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, subentry_type), context={"source": SOURCE_USER}
    )
    check_texts(result, subentry_type)
    return result


async def start_reconfigure(hass: HomeAssistant, entry: MockConfigEntry, subentry_id: str) -> Any:
    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id)
    check_texts(result, entry.subentries[subentry_id].subentry_type)
    return result


async def submit(
    hass: HomeAssistant,
    result: Any,
    user_input: dict[str, Any],
    subentry_type: str = SUBENTRY_RULE,
) -> Any:
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    check_texts(result, subentry_type)
    return result


def shown(result: Any) -> dict[str, Any]:
    """What each field shows: its suggested value, else its default."""
    values: dict[str, Any] = {}
    for marker in result["data_schema"].schema:
        value = (marker.description or {}).get("suggested_value")
        if value is None and callable(marker.default):
            value = marker.default()
        values[str(marker)] = value
    return values


def options(result: Any, field: str) -> list[tuple[str, str]]:
    for marker, selector in result["data_schema"].schema.items():
        if str(marker) == field:
            return [(option["value"], option["label"]) for option in selector.config["options"]]
    raise AssertionError(field)


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def remote_input(**changes: Any) -> dict[str, Any]:
    return {
        CONF_TRIGGER_URL: TRIGGER_URL,
        CONF_SECRET: RULE_SECRET,
        CONF_NAME: "Round-ups",
        CONF_MIN_INTERVAL_MINUTES: 10.0,
        CONF_MAX_RUNS_PER_DAY: 2.0,
        **changes,
    }


def rule_input(**changes: Any) -> dict[str, Any]:
    return {
        CONF_RULE_ID: PLATFORM_RULE_ID,
        CONF_MIN_INTERVAL_MINUTES: 5.0,
        CONF_MAX_RUNS_PER_DAY: 3.0,
        **changes,
    }


def route_input(**changes: Any) -> dict[str, Any]:
    return {
        CONF_SOURCE: PAYCHECK_ID,
        CONF_DESTINATION: EMERGENCY_FUND_ID,
        CONF_MAX_PER_TRANSFER: 50.0,
        CONF_MAX_PER_DAY: 200.0,
        CONF_DESCRIPTION: "Savings",
        **changes,
    }


@pytest.fixture
def rule_api(mock_platform_client: MagicMock) -> MagicMock:
    """The Platform client listing ``RULES``, whose dry run (a simulated trigger) is accepted."""
    mock_platform_client.async_list_rules.return_value = RULES
    mock_platform_client.async_trigger_rule.return_value = "exec-simulated-1"
    return mock_platform_client


def transfer_snapshot() -> AccountsSnapshot:
    """Paycheck, Checking and Groceries may send; Emergency Fund and Groceries may receive."""
    sources = {PAYCHECK_ID, CHECKING_ID, GROCERIES_ID}
    destinations = {EMERGENCY_FUND_ID, GROCERIES_ID}
    return AccountsSnapshot(
        accounts={
            account_id: replace(
                account,
                can_be_source=account_id in sources,
                can_be_destination=account_id in destinations,
            )
            for account_id, account in load_platform_snapshot().accounts.items()
        }
    )


@pytest.fixture
async def api_entry(
    hass: HomeAssistant, rule_api: MagicMock, frozen_start: FrozenDateTimeFactory
) -> MockConfigEntry:
    """A loaded API-key entry whose accounts Sequence allows some transfers between."""
    rule_api.async_get_accounts.return_value = transfer_snapshot()
    return await set_up(hass, api_key_entry_with())


# --- Which subentries an entry offers -----------------------------------------------------------


async def test_every_entry_offers_rules_and_routes(
    hass: HomeAssistant, init_integration: MockConfigEntry, api_entry: MockConfigEntry
) -> None:
    """An access token's entry offers routes too: their flow says why it cannot have one."""
    for entry in (init_integration, api_entry):
        assert entry.supported_subentry_types == {
            SUBENTRY_RULE: {"supports_reconfigure": True},
            SUBENTRY_ROUTE: {"supports_reconfigure": True},
        }


# --- Rules with an access token (Remote API) ----------------------------------------------------


async def test_a_remote_rule_is_added_once_confirmed(
    hass: HomeAssistant, init_integration: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    result = await start(hass, init_integration)
    assert result["step_id"] == "access_token"
    assert result["description_placeholders"] == {"api_host": BASE_URL}
    assert shown(result) == {
        CONF_TRIGGER_URL: None,
        CONF_SECRET: None,
        CONF_NAME: None,
        CONF_MIN_INTERVAL_MINUTES: 5,
        CONF_MAX_RUNS_PER_DAY: 3,
    }

    result = await submit(hass, result, remote_input(**{CONF_SECRET: f"  Bearer {RULE_SECRET} "}))
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {
        "name": "Round-ups",
        "runs": "2 times",
        "minutes": "10",
    }
    assert shown(result) == {CONF_CONFIRM: False}

    result = await submit(hass, result, {CONF_CONFIRM: False})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CONFIRM: "confirm_required"}

    result = await submit(hass, result, {CONF_CONFIRM: True})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Round-ups"
    assert result["unique_id"] == REMOTE_RULE_ID
    assert result["data"] == {
        CONF_RULE_ID: REMOTE_RULE_ID,
        CONF_TRIGGER_URL: TRIGGER_URL,
        CONF_SECRET: RULE_SECRET,
        CONF_MIN_INTERVAL_MINUTES: 10,
        CONF_MAX_RUNS_PER_DAY: 2,
    }
    subentry = next(iter(init_integration.subentries.values()))
    assert subentry.subentry_type == SUBENTRY_RULE
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{ANCHOR_ID}:rule:{subentry.subentry_id}"), init_integration.entry_id
    )
    assert device is not None
    assert device.name == "Round-ups"
    assert hass.states.get("sensor.sequence_round_ups_runs_today").state == "0"


async def test_a_route_short_of_a_dollar_today_is_still_allowed(
    hass: HomeAssistant, api_entry: MockConfigEntry, rule_api: MagicMock
) -> None:
    """Insufficient funds says the pair may move money; only the balance is short today."""
    rule_api.async_create_transfer.side_effect = SequenceRefusedError(
        "x", code="INSUFFICIENT_FUNDS"
    )
    result = await start(hass, api_entry, SUBENTRY_ROUTE)
    result = await submit(hass, result, route_input(), SUBENTRY_ROUTE)
    assert result["step_id"] == "confirm"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {CONF_TRIGGER_URL: TRIGGER_URL.replace("https", "http")},
            {CONF_TRIGGER_URL: "trigger_url_scheme"},
        ),
        (
            {CONF_TRIGGER_URL: "https://elsewhere.example/rules/ru_1/trigger"},
            {CONF_TRIGGER_URL: "trigger_url_host"},
        ),
        (
            {CONF_TRIGGER_URL: f"{BASE_URL}/remote-api/accounts"},
            {CONF_TRIGGER_URL: "trigger_url_path"},
        ),
        ({CONF_SECRET: "two words"}, {CONF_SECRET: "invalid_secret"}),
        ({CONF_SECRET: "Bearer "}, {CONF_SECRET: "invalid_secret"}),
        ({CONF_NAME: "   "}, {CONF_NAME: "name_required"}),
        (
            {CONF_MIN_INTERVAL_MINUTES: 0.0},
            {CONF_MIN_INTERVAL_MINUTES: "min_interval_out_of_range"},
        ),
        (
            {CONF_MIN_INTERVAL_MINUTES: 1441.0},
            {CONF_MIN_INTERVAL_MINUTES: "min_interval_out_of_range"},
        ),
        (
            {CONF_MIN_INTERVAL_MINUTES: 2.5},
            {CONF_MIN_INTERVAL_MINUTES: "min_interval_out_of_range"},
        ),
        ({CONF_MAX_RUNS_PER_DAY: 0.0}, {CONF_MAX_RUNS_PER_DAY: "max_runs_out_of_range"}),
        ({CONF_MAX_RUNS_PER_DAY: 1.5}, {CONF_MAX_RUNS_PER_DAY: "max_runs_out_of_range"}),
        (
            {CONF_TRIGGER_URL: "ftp://x", CONF_NAME: "", CONF_MAX_RUNS_PER_DAY: -1.0},
            {
                CONF_TRIGGER_URL: "trigger_url_scheme",
                CONF_NAME: "name_required",
                CONF_MAX_RUNS_PER_DAY: "max_runs_out_of_range",
            },
        ),
    ],
)
async def test_a_remote_rule_field_that_is_wrong_says_what(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    result = await submit(hass, await start(hass, init_integration), remote_input(**changes))
    assert result["step_id"] == "access_token"
    assert result["errors"] == errors
    # What was typed stays (a secret is shown once in Sequence), so only the error is fixed.
    assert shown(result) == remote_input(**changes)
    assert not init_integration.subentries


async def test_a_remote_rule_already_added_is_not_added_again(
    hass: HomeAssistant, mock_sequence_client: MagicMock, frozen_start: FrozenDateTimeFactory
) -> None:
    entry = await set_up(hass, token_entry_with(remote_rule_subentry()))
    other_shape = f"{BASE_URL}/rules/{REMOTE_RULE_ID}/trigger"
    result = await start(hass, entry)
    result = await submit(hass, result, remote_input(**{CONF_TRIGGER_URL: other_shape}))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(entry.subentries) == 1


async def test_a_rule_needs_a_loaded_entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    assert mock_config_entry.state is ConfigEntryState.NOT_LOADED
    result = await start(hass, mock_config_entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"


# --- Rules with an API key (Platform API) -------------------------------------------------------


async def test_a_platform_rule_is_picked_dry_run_and_added_once_confirmed(
    hass: HomeAssistant, api_entry: MockConfigEntry, rule_api: MagicMock
) -> None:
    listed_before = rule_api.async_list_rules.await_count  # the rule catalog's, at setup
    result = await start(hass, api_entry)
    assert rule_api.async_list_rules.await_count == listed_before + 1
    assert result["step_id"] == "api_key"
    assert result["errors"] == {}
    # Only enabled, supported, not deleted rules, by name.
    assert options(result, CONF_RULE_ID) == [
        ("rule-fees", "annual fees"),
        (PLATFORM_RULE_ID, "Payday split"),
    ]
    assert shown(result) == {
        CONF_RULE_ID: None,
        CONF_NAME: None,
        CONF_MIN_INTERVAL_MINUTES: 5,
        CONF_MAX_RUNS_PER_DAY: 3,
    }
    rule_api.async_trigger_rule.assert_not_awaited()

    result = await submit(hass, result, rule_input(**{CONF_NAME: "  "}))
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {
        "name": "Payday split",  # Sequence's name, as none was given
        "runs": "3 times",
        "minutes": "5",
    }
    rule_api.async_trigger_rule.assert_awaited_once()
    (rule_id,), kwargs = rule_api.async_trigger_rule.await_args
    assert rule_id == PLATFORM_RULE_ID
    assert kwargs["simulation"] is True
    assert IDEMPOTENCY_KEY.fullmatch(kwargs["idempotency_key"])
    assert kwargs.keys() == {"simulation", "idempotency_key"}

    result = await submit(hass, result, {CONF_CONFIRM: True})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Payday split"
    assert result["unique_id"] == PLATFORM_RULE_ID
    assert result["data"] == {
        CONF_RULE_ID: PLATFORM_RULE_ID,
        CONF_MIN_INTERVAL_MINUTES: 5,
        CONF_MAX_RUNS_PER_DAY: 3,
    }
    # The flow listed once; the catalog once more for the new rule.
    assert rule_api.async_list_rules.await_count == listed_before + 2
    assert hass.states.get("sensor.sequence_payday_split_last_run") is not None

    # Added rules are not offered again.
    result = await start(hass, api_entry)
    assert options(result, CONF_RULE_ID) == [("rule-fees", "annual fees")]


async def test_a_platform_rule_can_have_a_name_of_its_own(
    hass: HomeAssistant, api_entry: MockConfigEntry
) -> None:
    result = await start(hass, api_entry)
    result = await submit(
        hass, result, rule_input(**{CONF_NAME: " Payday ", CONF_MAX_RUNS_PER_DAY: 1.0})
    )
    assert result["description_placeholders"]["name"] == "Payday"
    assert result["description_placeholders"]["runs"] == "1 time"
    result = await submit(hass, result, {CONF_CONFIRM: True})
    assert result["title"] == "Payday"


async def test_without_read_rules_the_form_says_so_until_it_is_granted(
    hass: HomeAssistant, api_entry: MockConfigEntry, rule_api: MagicMock
) -> None:
    rule_api.async_list_rules.side_effect = SequencePermissionError(
        "denied", permission="READ_RULES"
    )
    result = await start(hass, api_entry)
    assert result["step_id"] == "api_key"
    assert result["errors"] == {"base": "missing_read_rules"}
    assert "READ_RULES" in STRINGS["rule"]["error"]["missing_read_rules"]
    assert not result["data_schema"].schema  # nothing to fill in: submitting lists again

    result = await submit(hass, result, {})
    assert result["errors"] == {"base": "missing_read_rules"}

    rule_api.async_list_rules.side_effect = None
    result = await submit(hass, result, {})
    assert result["errors"] == {}
    assert [value for value, _label in options(result, CONF_RULE_ID)] == [
        "rule-fees",
        PLATFORM_RULE_ID,
    ]


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (SequenceConnectionError("down"), "cannot_connect"),
        (SequenceServerError("HTTP 503"), "unavailable"),
        (SequenceRateLimitError("slow", retry_after=30), "rate_limited"),
        (SequenceAuthError("refused"), "invalid_auth_api_key"),
        (SequenceResponseError("odd"), "unexpected_response"),
    ],
)
async def test_rules_that_cannot_be_listed_say_why(
    hass: HomeAssistant,
    api_entry: MockConfigEntry,
    rule_api: MagicMock,
    error: SequenceError,
    key: str,
) -> None:
    rule_api.async_list_rules.side_effect = error
    result = await start(hass, api_entry)
    assert result["errors"] == {"base": key}
    # A refused key is the entry's: its re-authentication is what the text asks for.
    reauth = [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == "reauth"
    ]
    assert len(reauth) == (1 if isinstance(error, SequenceAuthError) else 0)


async def test_an_unexpected_listing_error_is_logged_and_shown(
    hass: HomeAssistant,
    api_entry: MockConfigEntry,
    rule_api: MagicMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rule_api.async_list_rules.side_effect = RuntimeError("bug")
    result = await start(hass, api_entry)
    assert result["errors"] == {"base": "unknown"}
    assert any(
        record.levelno == logging.ERROR
        and record.name.startswith("custom_components.sequence")
        and record.exc_info is not None
        for record in caplog.records
    )


async def test_no_rule_to_add(
    hass: HomeAssistant, rule_api: MagicMock, frozen_start: FrozenDateTimeFactory
) -> None:
    rule_api.async_list_rules.return_value = (RULES[0], RULES[1], RULES[3])
    entry = await set_up(hass, api_key_entry_with(platform_rule_subentry()))
    result = await start(hass, entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_rules"


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (SequencePermissionError("denied", permission="TRIGGER_RULES"), "missing_trigger_rules"),
        (SequenceConnectionError("down"), "cannot_connect"),
        (SequenceServerError("HTTP 500"), "unavailable"),
        (SequenceRateLimitError("slow"), "rate_limited"),
        (SequenceResponseError("unreadable"), "unexpected_response"),
        (SequenceRefusedError("x", code="RULE_DEACTIVATED"), "rule_disabled"),
        (SequenceRefusedError("x", code="INVALID_RULE"), "rule_gone"),
        (SequenceNotFoundError("x"), "rule_gone"),
        (SequenceRefusedError("x", code="INVALID_PARAMETERS"), "rule_refused"),
        (RuntimeError("bug"), "unknown"),
    ],
)
async def test_a_refused_dry_run_says_why_and_keeps_the_form(
    hass: HomeAssistant,
    api_entry: MockConfigEntry,
    rule_api: MagicMock,
    error: Exception,
    key: str,
) -> None:
    rule_api.async_trigger_rule.side_effect = error
    result = await start(hass, api_entry)
    result = await submit(hass, result, rule_input(**{CONF_MAX_RUNS_PER_DAY: 4.0}))
    assert result["step_id"] == "api_key"
    assert result["errors"] == {"base": key}
    assert shown(result)[CONF_MAX_RUNS_PER_DAY] == 4.0
    assert "TRIGGER_RULES" in STRINGS["rule"]["error"]["missing_trigger_rules"]

    rule_api.async_trigger_rule.side_effect = None
    result = await submit(hass, result, rule_input())
    assert result["step_id"] == "confirm"


async def test_wrong_limits_are_refused_before_any_dry_run(
    hass: HomeAssistant, api_entry: MockConfigEntry, rule_api: MagicMock
) -> None:
    result = await start(hass, api_entry)
    result = await submit(hass, result, rule_input(**{CONF_MIN_INTERVAL_MINUTES: 0.0}))
    assert result["errors"] == {CONF_MIN_INTERVAL_MINUTES: "min_interval_out_of_range"}
    rule_api.async_trigger_rule.assert_not_awaited()


# --- Reconfiguring a rule -----------------------------------------------------------------------


@pytest.fixture
async def remote_rule_entry(
    hass: HomeAssistant, mock_sequence_client: MagicMock, frozen_start: FrozenDateTimeFactory
) -> MockConfigEntry:
    return await set_up(hass, token_entry_with(remote_rule_subentry()))


async def test_a_remote_rules_secret_is_never_shown_and_kept_when_left_empty(
    hass: HomeAssistant, remote_rule_entry: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    result = await start_reconfigure(hass, remote_rule_entry, RULE_SUBENTRY_ID)
    assert result["step_id"] == "reconfigure_access_token"
    assert result["description_placeholders"] == {"name": "Round-ups"}
    assert shown(result) == {
        CONF_NAME: "Round-ups",
        CONF_SECRET: None,
        CONF_MIN_INTERVAL_MINUTES: 5,
        CONF_MAX_RUNS_PER_DAY: 3,
    }
    assert RULE_SECRET not in repr(result)

    result = await submit(
        hass,
        result,
        {CONF_NAME: "Spare change", CONF_MIN_INTERVAL_MINUTES: 5.0, CONF_MAX_RUNS_PER_DAY: 3.0},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    subentry = remote_rule_entry.subentries[RULE_SUBENTRY_ID]
    assert subentry.title == "Spare change"
    assert subentry.data == remote_rule_subentry()["data"]  # the secret kept, nothing else
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{ANCHOR_ID}:rule:{RULE_SUBENTRY_ID}"), remote_rule_entry.entry_id
    )
    assert device is not None
    assert device.name == "Spare change"


async def test_a_remote_rules_new_secret_and_limits_are_confirmed(
    hass: HomeAssistant, remote_rule_entry: MockConfigEntry
) -> None:
    result = await start_reconfigure(hass, remote_rule_entry, RULE_SUBENTRY_ID)
    result = await submit(
        hass,
        result,
        {
            CONF_NAME: "Round-ups",
            CONF_SECRET: "Bearer new-secret-0000",
            CONF_MIN_INTERVAL_MINUTES: 60.0,
            CONF_MAX_RUNS_PER_DAY: 1.0,
        },
    )
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {
        "name": "Round-ups",
        "runs": "1 time",
        "minutes": "60",
    }
    result = await submit(hass, result, {CONF_CONFIRM: False})
    assert result["errors"] == {CONF_CONFIRM: "confirm_required"}
    assert remote_rule_entry.subentries[RULE_SUBENTRY_ID].data[CONF_MAX_RUNS_PER_DAY] == 3

    result = await submit(hass, result, {CONF_CONFIRM: True})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert remote_rule_entry.subentries[RULE_SUBENTRY_ID].data == {
        **remote_rule_subentry()["data"],
        CONF_SECRET: "new-secret-0000",
        CONF_MIN_INTERVAL_MINUTES: 60,
        CONF_MAX_RUNS_PER_DAY: 1,
    }


async def test_a_rules_reconfigure_errors(
    hass: HomeAssistant, remote_rule_entry: MockConfigEntry
) -> None:
    result = await start_reconfigure(hass, remote_rule_entry, RULE_SUBENTRY_ID)
    typed = {
        CONF_NAME: " ",
        CONF_SECRET: "has spaces",
        CONF_MIN_INTERVAL_MINUTES: 5.0,
        CONF_MAX_RUNS_PER_DAY: 0.0,
    }
    result = await submit(hass, result, typed)
    assert result["errors"] == {
        CONF_NAME: "name_required",
        CONF_SECRET: "invalid_secret",
        CONF_MAX_RUNS_PER_DAY: "max_runs_out_of_range",
    }
    assert shown(result)[CONF_SECRET] is None  # not even what was just typed
    assert shown(result)[CONF_NAME] == " "
    assert remote_rule_entry.subentries[RULE_SUBENTRY_ID].data == remote_rule_subentry()["data"]


async def test_a_platform_rules_limits_are_reconfigured(
    hass: HomeAssistant, rule_api: MagicMock, frozen_start: FrozenDateTimeFactory
) -> None:
    entry = await set_up(hass, api_key_entry_with(platform_rule_subentry()))
    result = await start_reconfigure(hass, entry, RULE_SUBENTRY_ID)
    assert result["step_id"] == "reconfigure_api_key"
    assert CONF_SECRET not in shown(result)
    result = await submit(
        hass,
        result,
        {CONF_NAME: "Payday split", CONF_MIN_INTERVAL_MINUTES: 5.0, CONF_MAX_RUNS_PER_DAY: 5.0},
    )
    assert result["description_placeholders"]["runs"] == "5 times"
    result = await submit(hass, result, {CONF_CONFIRM: True})
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[RULE_SUBENTRY_ID].data == {
        CONF_RULE_ID: PLATFORM_RULE_ID,
        CONF_MIN_INTERVAL_MINUTES: 5,
        CONF_MAX_RUNS_PER_DAY: 5,
    }
    rule_api.async_trigger_rule.assert_not_awaited()


# --- Transfer routes ----------------------------------------------------------------------------


async def test_an_access_token_entry_says_transfers_need_an_api_key(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await start(hass, init_integration, SUBENTRY_ROUTE)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "transfers_need_api_key"
    assert "API key" in STRINGS["transfer_route"]["abort"]["transfers_need_api_key"]


async def test_a_route_needs_a_loaded_entry(
    hass: HomeAssistant, platform_config_entry: MockConfigEntry
) -> None:
    platform_config_entry.add_to_hass(hass)
    result = await start(hass, platform_config_entry, SUBENTRY_ROUTE)
    assert result["reason"] == "entry_not_loaded"


async def test_no_route_without_accounts_sequence_lets_money_move_between(
    hass: HomeAssistant, mock_platform_client: MagicMock, frozen_start: FrozenDateTimeFactory
) -> None:
    mock_platform_client.async_get_accounts.return_value = AccountsSnapshot(
        accounts={
            account_id: replace(account, can_be_source=False)
            for account_id, account in load_platform_snapshot().accounts.items()
        }
    )
    entry = await set_up(hass, api_key_entry_with())
    result = await start(hass, entry, SUBENTRY_ROUTE)
    assert result["reason"] == "no_transfer_accounts"


async def test_a_route_is_added_once_confirmed(
    hass: HomeAssistant, api_entry: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    result = await start(hass, api_entry, SUBENTRY_ROUTE)
    assert result["step_id"] == "user"
    assert result["description_placeholders"] == {"minimum": "1.00"}
    assert options(result, CONF_SOURCE) == [
        (CHECKING_ID, "Everyday Checking"),
        (GROCERIES_ID, "Groceries"),
        (PAYCHECK_ID, "Paycheck"),
    ]
    assert options(result, CONF_DESTINATION) == [
        (EMERGENCY_FUND_ID, "Emergency Fund"),
        (GROCERIES_ID, "Groceries"),
    ]

    result = await submit(
        hass,
        result,
        route_input(**{CONF_MAX_PER_TRANSFER: 19.99, CONF_DESCRIPTION: "  Rainy   day "}),
        SUBENTRY_ROUTE,
    )
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {
        "per_transfer": "19.99",
        "per_day": "200.00",
        "source": "Paycheck",
        "destination": "Emergency Fund",
    }
    result = await submit(hass, result, {CONF_CONFIRM: False}, SUBENTRY_ROUTE)
    assert result["errors"] == {CONF_CONFIRM: "confirm_required"}

    result = await submit(hass, result, {CONF_CONFIRM: True}, SUBENTRY_ROUTE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Paycheck → Emergency Fund"
    assert result["unique_id"] == f"{PAYCHECK_ID}:{EMERGENCY_FUND_ID}"
    assert result["data"] == {
        CONF_SOURCE: PAYCHECK_ID,
        CONF_DESTINATION: EMERGENCY_FUND_ID,
        CONF_MAX_PER_TRANSFER_CENTS: 1999,
        CONF_MAX_PER_DAY_CENTS: 20000,
        CONF_DESCRIPTION: "Rainy day",
    }
    subentry = next(iter(api_entry.subentries.values()))
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{PLATFORM_ANCHOR_ID}:route:{subentry.subentry_id}"), api_entry.entry_id
    )
    assert device is not None
    assert device.model_id == "transfer_route"
    left = hass.states.get("sensor.sequence_paycheck_emergency_fund_left_today")
    assert left is not None
    assert left.state == "200.00"


async def test_a_route_is_checked_with_a_one_dollar_simulation(
    hass: HomeAssistant, api_entry: MockConfigEntry, rule_api: MagicMock
) -> None:
    """Submitting asks Sequence (nothing moves) whether the key may move money on the pair."""
    result = await start(hass, api_entry, SUBENTRY_ROUTE)
    result = await submit(hass, result, route_input(), SUBENTRY_ROUTE)
    assert result["step_id"] == "confirm"
    rule_api.async_create_transfer.assert_awaited_once()
    kwargs = rule_api.async_create_transfer.await_args.kwargs
    assert kwargs | {"idempotency_key": "k"} == {
        "source_id": PAYCHECK_ID,
        "destination_id": EMERGENCY_FUND_ID,
        "amount_cents": 100,
        "description": None,
        "simulation": True,
        "idempotency_key": "k",
    }
    assert IDEMPOTENCY_KEY.fullmatch(kwargs["idempotency_key"])


@pytest.mark.parametrize(
    ("missing", "failure", "error"),
    [
        (frozenset({Permission.READ_TRANSFERS}), None, "missing_read_transfers"),
        (
            frozenset(),
            SequencePermissionError("no pair", permission=Permission.MANUAL_TRANSFER),
            "missing_manual_transfer",
        ),
        (frozenset(), SequenceConnectionError("down"), "cannot_connect"),
        (
            frozenset(),
            SequenceRefusedError("x", code="TRANSFER_SOURCE_NOT_FOUND"),
            "route_refused",
        ),
        (frozenset(), RuntimeError("boom"), "unknown"),
    ],
)
async def test_a_route_the_key_cannot_use_is_a_form_error(
    hass: HomeAssistant,
    api_entry: MockConfigEntry,
    rule_api: MagicMock,
    missing: frozenset[Permission],
    failure: Exception | None,
    error: str,
) -> None:
    rule_api.async_check_permissions.return_value = PermissionCheck(
        granted=frozenset(Permission) - missing, missing=missing
    )
    rule_api.async_create_transfer.side_effect = failure
    result = await start(hass, api_entry, SUBENTRY_ROUTE)
    result = await submit(hass, result, route_input(), SUBENTRY_ROUTE)
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": error}
    assert not api_entry.subentries


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {CONF_SOURCE: GROCERIES_ID, CONF_DESTINATION: GROCERIES_ID},
            {CONF_DESTINATION: "same_account"},
        ),
        ({CONF_MAX_PER_TRANSFER: 0.99}, {CONF_MAX_PER_TRANSFER: "amount_below_minimum"}),
        ({CONF_MAX_PER_TRANSFER: -5.0}, {CONF_MAX_PER_TRANSFER: "amount_below_minimum"}),
        ({CONF_MAX_PER_TRANSFER: 12.345}, {CONF_MAX_PER_TRANSFER: "amount_not_cents"}),
        ({CONF_MAX_PER_DAY: float("nan")}, {CONF_MAX_PER_DAY: "amount_not_cents"}),
        ({CONF_MAX_PER_DAY: float("inf")}, {CONF_MAX_PER_DAY: "amount_not_cents"}),
        ({CONF_MAX_PER_DAY: 1e20}, {CONF_MAX_PER_DAY: "amount_too_large"}),
        ({CONF_MAX_PER_DAY: 49.99}, {CONF_MAX_PER_DAY: "daily_below_per_transfer"}),
        ({CONF_DESCRIPTION: "Eleven char"}, {CONF_DESCRIPTION: "invalid_description"}),
        ({CONF_DESCRIPTION: "Rent!"}, {CONF_DESCRIPTION: "invalid_description"}),
        (
            {CONF_MAX_PER_TRANSFER: 0.5, CONF_MAX_PER_DAY: 0.25},
            {
                CONF_MAX_PER_TRANSFER: "amount_below_minimum",
                CONF_MAX_PER_DAY: "amount_below_minimum",
            },
        ),
    ],
)
async def test_a_route_field_that_is_wrong_says_what(
    hass: HomeAssistant,
    api_entry: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    result = await start(hass, api_entry, SUBENTRY_ROUTE)
    result = await submit(hass, result, route_input(**changes), SUBENTRY_ROUTE)
    assert result["step_id"] == "user"
    assert result["errors"] == errors
    assert not api_entry.subentries


async def test_a_route_already_added_is_not_added_again(
    hass: HomeAssistant, rule_api: MagicMock, frozen_start: FrozenDateTimeFactory
) -> None:
    rule_api.async_get_accounts.return_value = transfer_snapshot()
    entry = await set_up(
        hass, api_key_entry_with(route_subentry(max_per_day_cents=20000, description="Savings"))
    )
    result = await start(hass, entry, SUBENTRY_ROUTE)
    result = await submit(hass, result, route_input(), SUBENTRY_ROUTE)
    assert result["errors"] == {"base": "route_exists"}
    # The other way round is another route.
    result = await submit(
        hass,
        result,
        route_input(**{CONF_SOURCE: GROCERIES_ID, CONF_DESTINATION: EMERGENCY_FUND_ID}),
        SUBENTRY_ROUTE,
    )
    assert result["step_id"] == "confirm"


@pytest.fixture
async def route_entry(
    hass: HomeAssistant, rule_api: MagicMock, frozen_start: FrozenDateTimeFactory
) -> MockConfigEntry:
    rule_api.async_get_accounts.return_value = transfer_snapshot()
    return await set_up(
        hass, api_key_entry_with(route_subentry(max_per_day_cents=20000, description="Savings"))
    )


async def test_a_routes_description_changes_without_confirmation(
    hass: HomeAssistant, route_entry: MockConfigEntry
) -> None:
    result = await start_reconfigure(hass, route_entry, ROUTE_SUBENTRY_ID)
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {
        "name": "Paycheck → Emergency Fund",
        "minimum": "1.00",
    }
    assert shown(result) == {
        CONF_MAX_PER_TRANSFER: 50.0,
        CONF_MAX_PER_DAY: 200.0,
        CONF_DESCRIPTION: "Savings",
    }
    result = await submit(
        hass,
        result,
        {CONF_MAX_PER_TRANSFER: 50.0, CONF_MAX_PER_DAY: 200.0},
        SUBENTRY_ROUTE,
    )
    assert result["reason"] == "reconfigure_successful"
    assert route_entry.subentries[ROUTE_SUBENTRY_ID].data == {
        **route_subentry(max_per_day_cents=20000, description="Savings")["data"],
        CONF_DESCRIPTION: "",
    }


async def test_a_routes_new_limits_are_confirmed(
    hass: HomeAssistant, route_entry: MockConfigEntry
) -> None:
    result = await start_reconfigure(hass, route_entry, ROUTE_SUBENTRY_ID)
    result = await submit(
        hass,
        result,
        {CONF_MAX_PER_TRANSFER: 100.0, CONF_MAX_PER_DAY: 50.0, CONF_DESCRIPTION: "Savings"},
        SUBENTRY_ROUTE,
    )
    assert result["errors"] == {CONF_MAX_PER_DAY: "daily_below_per_transfer"}
    result = await submit(
        hass,
        result,
        {CONF_MAX_PER_TRANSFER: 100.0, CONF_MAX_PER_DAY: 250.5, CONF_DESCRIPTION: "Savings"},
        SUBENTRY_ROUTE,
    )
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {
        "per_transfer": "100.00",
        "per_day": "250.50",
        "source": "Paycheck",
        "destination": "Emergency Fund",
    }
    result = await submit(hass, result, {CONF_CONFIRM: True}, SUBENTRY_ROUTE)
    assert result["reason"] == "reconfigure_successful"
    data = route_entry.subentries[ROUTE_SUBENTRY_ID].data
    assert (data[CONF_MAX_PER_TRANSFER_CENTS], data[CONF_MAX_PER_DAY_CENTS]) == (10000, 25050)
    assert route_entry.subentries[ROUTE_SUBENTRY_ID].title == "Paycheck → Emergency Fund"
    left = hass.states.get("sensor.sequence_paycheck_emergency_fund_left_today")
    assert left is not None
    assert left.state == "250.50"


async def test_a_route_whose_account_is_gone_is_named_by_its_id(
    hass: HomeAssistant, rule_api: MagicMock, frozen_start: FrozenDateTimeFactory
) -> None:
    snapshot = transfer_snapshot()
    accounts = {key: value for key, value in snapshot.accounts.items() if key != PAYCHECK_ID}
    rule_api.async_get_accounts.return_value = AccountsSnapshot(accounts=accounts)
    entry = await set_up(
        hass, api_key_entry_with(route_subentry(max_per_day_cents=20000, description="Savings"))
    )
    result = await start_reconfigure(hass, entry, ROUTE_SUBENTRY_ID)
    result = await submit(
        hass,
        result,
        {CONF_MAX_PER_TRANSFER: 10.0, CONF_MAX_PER_DAY: 20.0},
        SUBENTRY_ROUTE,
    )
    assert result["description_placeholders"]["source"] == PAYCHECK_ID


async def test_a_routes_reconfigure_needs_a_loaded_entry(
    hass: HomeAssistant, route_entry: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_unload(route_entry.entry_id)
    result = await start_reconfigure(hass, route_entry, ROUTE_SUBENTRY_ID)
    assert result["reason"] == "entry_not_loaded"


# --- The pieces ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cents"),
    [(50.0, 5000), (19.99, 1999), (0.1 + 0.9, 100), ("1.00", 100), ("12.3", 1230), (1e6, 10**8)],
)
def test_dollars_are_read_exactly(value: float | str, cents: int) -> None:
    assert dollars_to_cents(value) == cents


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "amount_not_cents"),
        (1.1 + 2.2, "amount_not_cents"),  # 3.3000000000000003: not what anyone typed
        ("1.001", "amount_not_cents"),
        (0.99, "amount_below_minimum"),
        (0.999, "amount_below_minimum"),
        (-1e30, "amount_below_minimum"),
        (1e15, "amount_too_large"),
        (1e30, "amount_too_large"),
    ],
)
def test_anything_else_is_not_an_amount(value: float | str, reason: str) -> None:
    with pytest.raises(ValueError, match=rf"^{reason}$"):
        dollars_to_cents(value)


def test_whole_numbers_and_run_counts() -> None:
    assert whole_number(3.0, 1) == 3
    assert whole_number(3.0, 1, 2) is None
    assert whole_number(float("inf"), 1) is None
    assert [runs_text(n) for n in (1, 2)] == ["1 time", "2 times"]
