"""Tests for the config flow: user, reauth, reconfigure and options."""

from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import AsyncMock, MagicMock

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sequence.api import (
    AccountsSnapshot,
    Permission,
    PermissionCheck,
    SequenceAuthError,
    SequenceConnectionError,
    SequenceRateLimitError,
    SequenceResponseError,
    SequenceServerError,
    parse_accounts_payload,
)
from custom_components.sequence.const import (
    CONF_ACCOUNT_KINDS,
    CONF_ACTIVITY,
    CONF_API_TOKEN,
    CONF_BALANCE_EVENTS,
    CONF_BASE_URL,
    CONF_CREDENTIAL_KIND,
    CONF_EXCLUDED_ACCOUNTS,
    CONF_SCAN_INTERVAL_MINUTES,
    DOMAIN,
    KIND_ACCESS_TOKEN,
    KIND_API_KEY,
    SECTION_ADVANCED,
)

from .conftest import ANCHOR_ID, API_KEY, BASE_URL, PLATFORM_ANCHOR_ID, TOKEN, load_payload

SIMULATOR_URL = "http://127.0.0.1:8765"


@pytest.fixture(autouse=True)
async def finish_reloads(hass: HomeAssistant) -> AsyncIterator[None]:
    """Let the setups a flow started (a reauthentication's or reconfiguration's reload) finish.

    Otherwise Home Assistant stops while one still forwards the entry to its platforms, and the
    test fails now and then with whatever that setup left pending (a lingering timer).
    """
    yield
    await hass.async_block_till_done()


def user_input(token: str = TOKEN, base_url: str = BASE_URL) -> dict[str, Any]:
    return {CONF_API_TOKEN: token, SECTION_ADVANCED: {CONF_BASE_URL: base_url}}


def other_beneficiary() -> AccountsSnapshot:
    payload = load_payload()
    for number, account in enumerate(payload["data"]["accounts"]):
        account["id"] = f"other-{number}"
    return parse_accounts_payload(payload)


def suggested(result: dict[str, Any]) -> dict[str, Any]:
    """What a form shows in its fields: suggested values, or defaults; sections nested."""
    values: dict[str, Any] = {}
    for marker, value in result["data_schema"].schema.items():
        if isinstance(value, section):
            values[str(marker)] = suggested({"data_schema": value.schema})
            continue
        shown = (marker.description or {}).get("suggested_value")
        if shown is None and callable(marker.default):
            shown = marker.default()
        values[str(marker)] = shown
    return values


def advanced_is_open(result: dict[str, Any]) -> bool:
    advanced = next(
        value for value in result["data_schema"].schema.values() if isinstance(value, section)
    )
    return not advanced.options["collapsed"]


async def start_user_flow(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    assert not advanced_is_open(dict(result))
    return dict(result)


async def test_user_flow_creates_entry(
    hass: HomeAssistant, mock_sequence_client: MagicMock, mock_setup_entry: AsyncMock
) -> None:
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(token=f"  Bearer {TOKEN}\n")
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Sequence"
    assert result["data"] == {
        CONF_API_TOKEN: TOKEN,
        CONF_BASE_URL: BASE_URL,
        CONF_CREDENTIAL_KIND: KIND_ACCESS_TOKEN,
    }
    assert result["result"].unique_id == ANCHOR_ID
    assert len(mock_setup_entry.mock_calls) == 1
    mock_sequence_client.async_get_accounts.assert_awaited_once()


async def test_user_flow_accepts_loopback_http(
    hass: HomeAssistant, mock_sequence_client: MagicMock
) -> None:
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(base_url=f"{SIMULATOR_URL}/")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_BASE_URL] == SIMULATOR_URL


@pytest.mark.parametrize(
    ("error", "field", "key"),
    [
        (SequenceAuthError("refused"), CONF_API_TOKEN, "invalid_auth_access_token"),
        (SequenceConnectionError("down"), "base", "cannot_connect"),
        (SequenceRateLimitError("slow", retry_after=30), "base", "rate_limited"),
        (SequenceServerError("HTTP 503"), "base", "unavailable"),
        (SequenceResponseError("odd"), "base", "unexpected_response"),
        (RuntimeError("boom"), "base", "unknown"),
    ],
)
async def test_user_flow_errors_then_recovery(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    error: Exception,
    field: str,
    key: str,
) -> None:
    result = await start_user_flow(hass)
    good = mock_sequence_client.async_get_accounts.return_value
    mock_sequence_client.async_get_accounts.side_effect = error
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: key}
    assert suggested(result) == user_input()  # Sequence shows a credential only once
    assert not advanced_is_open(result)

    mock_sequence_client.async_get_accounts.side_effect = None
    mock_sequence_client.async_get_accounts.return_value = good
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("base_url", "key", "placeholders"),
    [
        ("http://api.getsequence.io", "insecure_url", {}),
        ("api.getsequence.io", "url_scheme", {"example_url": BASE_URL}),
        ("https://user:secret@api.getsequence.io", "url_extras", {}),
        (f"{BASE_URL}/platform/v1", "url_path", {"host_url": BASE_URL}),
        ("https://", "invalid_url", {"example_url": BASE_URL}),
    ],
)
async def test_user_flow_says_what_is_wrong_with_the_url(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    base_url: str,
    key: str,
    placeholders: dict[str, str],
) -> None:
    """The error sits on the Advanced section, which opens; the credential stays typed in."""
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(base_url=base_url)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {SECTION_ADVANCED: key}
    assert result["description_placeholders"] == placeholders
    assert advanced_is_open(result)
    assert suggested(result) == user_input(base_url=base_url)
    mock_sequence_client.async_get_accounts.assert_not_called()

    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_blank_token(hass: HomeAssistant, mock_sequence_client: MagicMock) -> None:
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(token="  Bearer  ")
    )
    assert result["errors"] == {CONF_API_TOKEN: "invalid_auth_access_token"}
    mock_sequence_client.async_get_accounts.assert_not_called()


async def test_user_flow_no_accounts(hass: HomeAssistant, mock_sequence_client: MagicMock) -> None:
    mock_sequence_client.async_get_accounts.return_value = AccountsSnapshot(accounts={})
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["errors"] == {"base": "no_accounts_access_token"}


async def test_duplicate_same_anchor_aborts(
    hass: HomeAssistant, mock_sequence_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(token="tok-another-token")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_duplicate_shared_accounts_abort(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Same beneficiary whose smallest account id changed since: the account sets overlap."""
    mock_config_entry.add_to_hass(hass)
    device_registry.async_get_or_create(
        config_entry_id=mock_config_entry.entry_id,
        identifiers={(DOMAIN, f"{ANCHOR_ID}:4410021")},
    )
    payload = load_payload()
    payload["data"]["accounts"] = [
        account for account in payload["data"]["accounts"] if account["id"] != ANCHOR_ID
    ]
    payload["data"]["accounts"].append(
        {"id": "1000001", "name": "New", "type": "Pod", "balance": None}
    )
    mock_sequence_client.async_get_accounts.return_value = parse_accounts_payload(payload)
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_second_beneficiary_is_a_new_entry(
    hass: HomeAssistant, mock_sequence_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    mock_sequence_client.async_get_accounts.return_value = other_beneficiary()
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "other-0"


async def test_reauth_same_beneficiary(
    hass: HomeAssistant, mock_sequence_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_access_token"

    mock_sequence_client.async_get_accounts.side_effect = SequenceAuthError("still refused")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: "tok-still-bad"}
    )
    assert result["errors"] == {CONF_API_TOKEN: "invalid_auth_access_token"}
    assert suggested(result) == {CONF_API_TOKEN: "tok-still-bad"}

    mock_sequence_client.async_get_accounts.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: "Bearer tok-new-1234"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data == {
        CONF_API_TOKEN: "tok-new-1234",
        CONF_BASE_URL: BASE_URL,
        CONF_CREDENTIAL_KIND: KIND_ACCESS_TOKEN,
    }


async def test_reauth_other_beneficiary_is_a_form_error(
    hass: HomeAssistant, mock_sequence_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """The form stays, says why, and takes the right token next."""
    mock_config_entry.add_to_hass(hass)
    good = mock_sequence_client.async_get_accounts.return_value
    mock_sequence_client.async_get_accounts.return_value = other_beneficiary()
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: "tok-someone-else"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_access_token"
    assert result["errors"] == {CONF_API_TOKEN: "other_beneficiary_access_token"}
    assert mock_config_entry.data[CONF_API_TOKEN] == TOKEN

    mock_sequence_client.async_get_accounts.return_value = good
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: "tok-new-1234"}
    )
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_API_TOKEN] == "tok-new-1234"


async def test_reauth_with_the_other_kind_is_a_form_error(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    mock_platform_client: MagicMock,
    mock_config_entry: MockConfigEntry,
) -> None:
    """An API key pasted for an access-token entry: said so, before asking Sequence."""
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: API_KEY}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_TOKEN: "wrong_kind_access_token"}
    assert suggested(result) == {CONF_API_TOKEN: API_KEY}
    mock_platform_client.async_check_permissions.assert_not_called()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["flow_id"] for flow in flows] == [result["flow_id"]]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: "tok-new-1234"}
    )
    assert result["reason"] == "reauth_successful"


async def test_reauth_of_an_api_key_entry(
    hass: HomeAssistant,
    mock_platform_client: MagicMock,
    platform_config_entry: MockConfigEntry,
) -> None:
    platform_config_entry.add_to_hass(hass)
    result = await platform_config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_api_key"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: TOKEN}
    )
    assert result["errors"] == {CONF_API_TOKEN: "wrong_kind_api_key"}

    mock_platform_client.async_list_accounts.side_effect = SequenceAuthError("refused")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: "sk_test_revoked"}
    )
    assert result["errors"] == {CONF_API_TOKEN: "invalid_auth_api_key"}

    mock_platform_client.async_list_accounts.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: API_KEY}
    )
    assert result["reason"] == "reauth_successful"


async def test_reauth_with_a_stored_url_no_longer_accepted(
    hass: HomeAssistant, mock_sequence_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """The form has no URL field: the URL's error goes to the form itself (fix: Reconfigure)."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, data={**mock_config_entry.data, CONF_BASE_URL: f"{BASE_URL}/v1"}
    )
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_TOKEN: "tok-new-1234"}
    )
    assert result["errors"] == {"base": "url_path"}
    assert result["description_placeholders"]["host_url"] == BASE_URL


async def test_reconfigure_base_url_keeps_token(
    hass: HomeAssistant, mock_sequence_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_access_token"
    assert suggested(result) == {CONF_API_TOKEN: None, SECTION_ADVANCED: {CONF_BASE_URL: BASE_URL}}
    assert not advanced_is_open(result)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {SECTION_ADVANCED: {CONF_BASE_URL: "http://example.com"}}
    )
    assert result["errors"] == {SECTION_ADVANCED: "insecure_url"}
    assert advanced_is_open(result)
    assert suggested(result)[SECTION_ADVANCED] == {CONF_BASE_URL: "http://example.com"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {SECTION_ADVANCED: {CONF_BASE_URL: SIMULATOR_URL}}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data == {
        CONF_API_TOKEN: TOKEN,
        CONF_BASE_URL: SIMULATOR_URL,
        CONF_CREDENTIAL_KIND: KIND_ACCESS_TOKEN,
    }


async def test_reconfigure_new_token_other_beneficiary_is_a_form_error(
    hass: HomeAssistant, mock_sequence_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    mock_sequence_client.async_get_accounts.return_value = other_beneficiary()
    result = await mock_config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(token="tok-someone-else")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_TOKEN: "other_beneficiary_access_token"}
    assert suggested(result) == user_input(token="tok-someone-else")


async def test_reconfigure_another_server_that_sees_other_accounts(
    hass: HomeAssistant, mock_sequence_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """No new token typed: the stored one sees other accounts there, said on the form."""
    mock_config_entry.add_to_hass(hass)
    mock_sequence_client.async_get_accounts.return_value = other_beneficiary()
    result = await mock_config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {SECTION_ADVANCED: {CONF_BASE_URL: SIMULATOR_URL}}
    )
    assert result["errors"] == {"base": "other_beneficiary_access_token"}
    assert mock_config_entry.data[CONF_BASE_URL] == BASE_URL


async def test_reconfigure_an_api_key_entry(
    hass: HomeAssistant, mock_platform_client: MagicMock, platform_config_entry: MockConfigEntry
) -> None:
    platform_config_entry.add_to_hass(hass)
    result = await platform_config_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_api_key"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(token=TOKEN)
    )
    assert result["errors"] == {CONF_API_TOKEN: "wrong_kind_api_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(token=f"Bearer {API_KEY}")
    )
    assert result["reason"] == "reconfigure_successful"


async def test_options_flow_with_loaded_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "access_token"
    assert result["description_placeholders"] == {"minimum": "5", "maximum": "1440"}
    schema_keys = {str(key) for key in result["data_schema"].schema}
    assert schema_keys == {
        CONF_SCAN_INTERVAL_MINUTES,
        CONF_ACCOUNT_KINDS,
        CONF_EXCLUDED_ACCOUNTS,
        CONF_BALANCE_EVENTS,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_SCAN_INTERVAL_MINUTES: 30.0,
            CONF_ACCOUNT_KINDS: ["pod"],
            CONF_EXCLUDED_ACCOUNTS: ["4410023"],
            CONF_BALANCE_EVENTS: True,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options == {
        CONF_SCAN_INTERVAL_MINUTES: 30,
        CONF_ACCOUNT_KINDS: ["pod"],
        CONF_EXCLUDED_ACCOUNTS: ["4410023"],
        CONF_BALANCE_EVENTS: True,
    }
    await hass.async_block_till_done()
    coordinator = init_integration.runtime_data.coordinator
    assert coordinator.update_interval.total_seconds() == 30 * 60
    assert set(coordinator.data.accounts) == {"4410021", "4410022"}


async def test_options_flow_without_loaded_entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """An entry that is not loaded has no account list: only the other options are offered."""
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    schema_keys = {str(key) for key in result["data_schema"].schema}
    assert CONF_EXCLUDED_ACCOUNTS not in schema_keys
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_SCAN_INTERVAL_MINUTES: 5, CONF_ACCOUNT_KINDS: ["pod"], CONF_BALANCE_EVENTS: False},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_with_an_api_key(
    hass: HomeAssistant, mock_platform_client: MagicMock, mock_setup_entry: AsyncMock
) -> None:
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(token=API_KEY)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Sequence (API key)"
    assert result["data"] == {
        CONF_API_TOKEN: API_KEY,
        CONF_BASE_URL: BASE_URL,
        CONF_CREDENTIAL_KIND: KIND_API_KEY,
    }
    assert result["result"].unique_id == PLATFORM_ANCHOR_ID


async def test_user_flow_api_key_without_read_accounts(
    hass: HomeAssistant, mock_platform_client: MagicMock
) -> None:
    mock_platform_client.async_check_permissions.return_value = PermissionCheck(
        granted=frozenset(), missing=frozenset({Permission.READ_ACCOUNTS})
    )
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(token=API_KEY)
    )
    assert result["errors"] == {CONF_API_TOKEN: "missing_read_accounts"}


async def test_options_flow_for_an_api_key(
    hass: HomeAssistant, init_platform: MockConfigEntry, mock_platform_client: MagicMock
) -> None:
    result = await hass.config_entries.options.async_init(init_platform.entry_id)
    schema = result["data_schema"].schema
    assert CONF_ACTIVITY in {str(key) for key in schema}
    interval = next(key for key in schema if str(key) == CONF_SCAN_INTERVAL_MINUTES)
    assert interval.default() == 360  # six hours, as Sequence asks
    assert result["step_id"] == "api_key"
    assert result["description_placeholders"] == {"minimum": "60", "maximum": "1440"}

    mock_platform_client.async_check_permissions.return_value = PermissionCheck(
        granted=frozenset({Permission.READ_ACCOUNTS}),
        missing=frozenset({Permission.READ_TRANSFERS}),
    )
    choice = {
        CONF_SCAN_INTERVAL_MINUTES: 720,
        CONF_ACCOUNT_KINDS: ["pod", "external"],
        CONF_BALANCE_EVENTS: False,
        CONF_ACTIVITY: True,
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], choice)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_ACTIVITY: "missing_read_transfers"}

    mock_platform_client.async_check_permissions.return_value = PermissionCheck(
        granted=frozenset({Permission.READ_ACCOUNTS, Permission.READ_TRANSFERS}),
        missing=frozenset(),
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], choice)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_platform.runtime_data.activity is not None
    # The options leave Income Sources out, so Paycheck's deposits do not count.
    assert hass.states.get("sensor.sequence_incoming_this_month").state == "0.00"


@pytest.mark.parametrize(
    ("entry", "minutes", "limits"),
    [
        ("mock_config_entry", 4, {"minimum": "5", "maximum": "1440"}),
        ("mock_config_entry", 1441, {"minimum": "5", "maximum": "1440"}),
        ("platform_config_entry", 30, {"minimum": "60", "maximum": "1440"}),
    ],
)
async def test_options_polling_interval_outside_this_entrys_limits(
    hass: HomeAssistant,
    request: pytest.FixtureRequest,
    entry: str,
    minutes: float,
    limits: dict[str, str],
) -> None:
    """Our own error, naming this entry's limits, not Home Assistant's "Value is too small"."""
    config_entry: MockConfigEntry = request.getfixturevalue(entry)
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    choice = {CONF_SCAN_INTERVAL_MINUTES: minutes, CONF_ACCOUNT_KINDS: ["pod"]}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**choice, CONF_BALANCE_EVENTS: False}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SCAN_INTERVAL_MINUTES: "scan_interval_out_of_range"}
    assert result["description_placeholders"] == limits
    assert config_entry.options == {}
