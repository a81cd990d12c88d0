"""Every translation key the code uses exists (the test harness does not check this itself)."""

import json
from pathlib import Path
import re

import pytest

from custom_components.sequence.api import AccountKind
from custom_components.sequence.api.platform_parse import TRANSFER_STATUSES
from custom_components.sequence.binary_sensor import (
    API_PROBLEM_DESCRIPTIONS,
    AWAITING_APPROVAL_DESCRIPTION,
)
from custom_components.sequence.button import REFRESH_DESCRIPTION
from custom_components.sequence.calendar import PAYMENTS_DESCRIPTION
from custom_components.sequence.errors import (
    ERROR_KINDS,
    MONEY_ERRORS,
    OUTCOME_REASONS,
    PERMISSION_NOT_GRANTED,
)
from custom_components.sequence.event import TRANSFER_EVENT_DESCRIPTION
from custom_components.sequence.lookups import DIRECTIONS, LOOKUP_ERRORS
from custom_components.sequence.money_entities import ROUTE_SENSORS, RULE_ENABLED, RULE_SENSORS
from custom_components.sequence.rule_catalog import RULE_PROBLEMS, rule_problem
from custom_components.sequence.sensor import (
    ACTIVITY_DESCRIPTIONS,
    BALANCE_DESCRIPTIONS,
    BALANCE_STATUS_DESCRIPTION,
    DETAIL_DESCRIPTIONS,
    LAST_UPDATE_DESCRIPTION,
    LIABILITY_BALANCE_DESCRIPTION,
    PLATFORM_TOTAL_DESCRIPTIONS,
    TOTAL_DESCRIPTIONS,
)
from custom_components.sequence.subentry_flows import SUBENTRY_FLOWS
from custom_components.sequence.texts import CREDENTIAL_KINDS, CREDENTIAL_SPECIFIC, text_key

INTEGRATION = Path(__file__).resolve().parent.parent / "custom_components" / "sequence"
STRINGS = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
ICONS = json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))
SOURCE = "\n".join(path.read_text(encoding="utf-8") for path in INTEGRATION.rglob("*.py"))
SUBENTRY_SOURCE = (INTEGRATION / "subentry_flows.py").read_text(encoding="utf-8")
ENTRY_SOURCE = SOURCE.replace(SUBENTRY_SOURCE, "")
"""The entry's flows and everything else: the subentry flows have texts of their own."""


def test_entity_translation_keys_and_icons() -> None:
    used = {
        "sensor": {
            description.translation_key
            for description in (
                *BALANCE_DESCRIPTIONS.values(),
                LIABILITY_BALANCE_DESCRIPTION,
                BALANCE_STATUS_DESCRIPTION,
                *DETAIL_DESCRIPTIONS,
                *TOTAL_DESCRIPTIONS,
                *PLATFORM_TOTAL_DESCRIPTIONS,
                LAST_UPDATE_DESCRIPTION,
                *ACTIVITY_DESCRIPTIONS,
                *RULE_SENSORS,
                *ROUTE_SENSORS,
            )
        },
        "binary_sensor": {
            *(d.translation_key for d in API_PROBLEM_DESCRIPTIONS.values()),
            RULE_ENABLED.translation_key,
            AWAITING_APPROVAL_DESCRIPTION.translation_key,
        },
        "button": {REFRESH_DESCRIPTION.translation_key},
        "calendar": {PAYMENTS_DESCRIPTION.translation_key},
        "event": {TRANSFER_EVENT_DESCRIPTION.translation_key},
    }
    for platform, keys in used.items():
        assert keys == set(STRINGS["entity"][platform]), platform
        assert keys == set(ICONS["entity"][platform]), platform


def texts_of(keys: set[str]) -> set[str]:
    """The translation keys of ``keys``' texts, for both credential kinds."""
    return {text_key(key, kind) for key in keys for kind in CREDENTIAL_KINDS}


def test_exception_and_error_keys() -> None:
    """Every error kind has a toast, a form error and a state text, for each credential."""
    kinds = set(ERROR_KINDS)
    named = set(re.findall(r'Refusal\(\s*f?"(\w+)"', SOURCE))
    named |= {f"not_a_{noun}" for noun in ("rule", "route")}  # actions.py names them by noun
    money = {*MONEY_ERRORS, *OUTCOME_REASONS}
    assert texts_of(kinds) | {PERMISSION_NOT_GRANTED} | named | money | set(LOOKUP_ERRORS) == set(
        STRINGS["exceptions"]
    )
    assert texts_of(kinds) <= set(STRINGS["config"]["error"])
    for kind, description in API_PROBLEM_DESCRIPTIONS.items():
        assert description.translation_key == f"api_problem_{kind}"
        sensor = STRINGS["entity"]["binary_sensor"][description.translation_key]
        assert set(sensor["state_attributes"]["error_kind"]["state"]) == kinds


@pytest.mark.parametrize(
    "texts",
    [STRINGS["config"]["error"], STRINGS["exceptions"]],
    ids=["config.error", "exceptions"],
)
def test_texts_that_name_the_credential_come_in_pairs(texts: dict[str, object]) -> None:
    """``<key>_access_token`` with ``<key>_api_key``, never a plain ``<key>`` that fits neither."""
    assert not CREDENTIAL_SPECIFIC & set(texts)
    for name in texts:
        for kind in CREDENTIAL_KINDS:
            if (key := name.removesuffix(f"_{kind}")) != name:
                assert key in CREDENTIAL_SPECIFIC, name
                assert texts_of({key}) <= set(texts), name


def test_api_problem_texts_differ_only_where_they_name_the_credential() -> None:
    sensors = STRINGS["entity"]["binary_sensor"]
    token, key = (
        sensors[f"api_problem_{kind}"]["state_attributes"]["error_kind"]["state"]
        for kind in CREDENTIAL_KINDS
    )
    assert {name for name in token if token[name] != key[name]} == {"invalid_auth"}
    assert "token" in token["invalid_auth"].lower()
    assert "API key" in key["invalid_auth"]


def test_flow_errors_and_aborts_used_in_code_exist() -> None:
    literal = set(re.findall(r'CredentialError\(\s*"(\w+)"', ENTRY_SOURCE))
    assert {"url_scheme", "url_path", "url_extras", "invalid_url", "insecure_url"} <= literal
    assert {"missing_read_accounts", "unknown"} <= literal
    named = texts_of(set(re.findall(r'text_key\(\s*"(\w+)"', ENTRY_SOURCE)))
    assert {"wrong_kind_api_key", "other_beneficiary_access_token"} <= named
    assert literal | named <= set(STRINGS["config"]["error"])
    options_errors = set(re.findall(r'errors\[CONF_\w+\] = "(\w+)"', ENTRY_SOURCE))
    assert options_errors == set(STRINGS["options"]["error"])
    assert options_errors == {"missing_read_transfers", "scan_interval_out_of_range"}
    for reason in re.findall(r'reason="(\w+)"', ENTRY_SOURCE):
        assert reason in STRINGS["config"]["abort"], reason


def test_subentry_flows_have_their_texts() -> None:
    """Each subentry type's steps, its menu entries, and every abort its flows can end with.

    Form errors and placeholders are checked where each one is shown (tests/test_subentry_flows.py).
    """
    blocks = STRINGS["config_subentries"]
    assert set(blocks) == set(SUBENTRY_FLOWS) == {"rule", "transfer_route"}
    for block in blocks.values():
        assert block["entry_type"]
        assert set(block["initiate_flow"]) == {"user", "reconfigure"}
    assert set(blocks["rule"]["step"]) == {
        "access_token",
        "api_key",
        "confirm",
        "reconfigure_access_token",
        "reconfigure_api_key",
    }
    assert set(blocks["transfer_route"]["step"]) == {"user", "confirm", "reconfigure"}
    aborts = {reason for block in blocks.values() for reason in block["abort"]}
    assert set(re.findall(r'reason="(\w+)"', SUBENTRY_SOURCE)) == aborts


def texts_in(node: object) -> list[str]:
    if isinstance(node, dict):
        return [text for value in node.values() for text in texts_in(value)]
    return [node] if isinstance(node, str) else []


OTHER_CREDENTIAL = {"access_token": "API key", "api_key": "access token"}
"""What a text for one kind must not mention: the other one."""


@pytest.mark.parametrize("kind", CREDENTIAL_KINDS)
def test_a_kinds_texts_never_name_the_other_credential(kind: str) -> None:
    steps = STRINGS["config"]["step"]
    texts = [
        *texts_in(steps[f"reauth_{kind}"]),
        *texts_in(steps[f"reconfigure_{kind}"]),
        *texts_in(STRINGS["options"]["step"][kind]),
        *texts_in(STRINGS["entity"]["binary_sensor"][f"api_problem_{kind}"]),
        *texts_in({key: text for key, text in STRINGS["exceptions"].items() if kind in key}),
        *(
            text
            for key, text in STRINGS["config"]["error"].items()
            if key.endswith(kind) and not key.startswith("wrong_kind")  # names both, on purpose
        ),
    ]
    assert texts
    for text in texts:
        assert OTHER_CREDENTIAL[kind].lower() not in text.lower(), text


def test_a_step_per_credential_kind() -> None:
    """Reauthentication, reconfiguration and options name the entry's credential."""
    assert set(STRINGS["config"]["step"]) == {
        "user",
        *(f"{step}_{kind}" for step in ("reauth", "reconfigure") for kind in CREDENTIAL_KINDS),
    }
    assert set(STRINGS["options"]["step"]) == set(CREDENTIAL_KINDS)
    assert "activity" not in STRINGS["options"]["step"]["access_token"]["data"]


def test_repair_issues() -> None:
    """Every repair the code raises has a text, and every text a repair."""
    assert set(STRINGS["issues"]) == {
        "unexpected_response",
        "missing_read_transfers",
        "rule_secret_refused",
        *RULE_PROBLEMS,
    }
    assert {rule_problem(None)} < set(RULE_PROBLEMS)
    for key in ("rule_secret_refused", *RULE_PROBLEMS):
        texts = " ".join(STRINGS["issues"][key].values())
        assert {"{title}", "{entry_title}"} <= set(re.findall(r"\{\w+\}", texts)), key


def test_account_kind_selector_and_issue() -> None:
    assert set(STRINGS["selector"]["account_kinds"]["options"]) == {k.value for k in AccountKind}
    assert "unexpected_response" in STRINGS["issues"]


def test_every_rule_result_and_transfer_status_is_translated_and_has_an_icon() -> None:
    for description in (*RULE_SENSORS, *ROUTE_SENSORS):
        if description.options is None:
            continue
        key = description.translation_key
        assert set(STRINGS["entity"]["sensor"][key]["state"]) == set(description.options), key
        assert set(ICONS["entity"]["sensor"][key]["state"]) <= set(description.options), key


def test_every_balance_status_is_translated() -> None:
    states = STRINGS["entity"]["sensor"]["balance_status"]["state"]
    assert BALANCE_STATUS_DESCRIPTION.options is not None
    assert set(states) == set(BALANCE_STATUS_DESCRIPTION.options)


def test_every_transfer_event_type_and_filter_option_is_translated() -> None:
    event = STRINGS["entity"]["event"]["transfer"]["state_attributes"]["event_type"]["state"]
    assert set(event) == set(TRANSFER_EVENT_DESCRIPTION.event_types or ())
    assert set(STRINGS["selector"]["transfer_status"]["options"]) == set(TRANSFER_STATUSES)
    directions = set(STRINGS["selector"]["transfer_direction"]["options"])
    assert directions == {direction.value for direction in DIRECTIONS}
