"""Every translation key the code uses exists (the test harness does not check this itself)."""

import json
from pathlib import Path
import re

from custom_components.sequence.api import AccountKind
from custom_components.sequence.binary_sensor import API_PROBLEM_DESCRIPTION
from custom_components.sequence.button import REFRESH_DESCRIPTION
from custom_components.sequence.errors import ERROR_KINDS, PERMISSION_NOT_GRANTED
from custom_components.sequence.sensor import (
    BALANCE_DESCRIPTIONS,
    DETAIL_DESCRIPTIONS,
    LAST_UPDATE_DESCRIPTION,
    LIABILITY_BALANCE_DESCRIPTION,
    MONTHLY_INCOMING_DESCRIPTION,
    MONTHLY_TRANSFERS_DESCRIPTION,
    PLATFORM_TOTAL_DESCRIPTIONS,
    TOTAL_DESCRIPTIONS,
)

INTEGRATION = Path(__file__).resolve().parent.parent / "custom_components" / "sequence"
STRINGS = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
ICONS = json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))
SOURCE = "\n".join(path.read_text(encoding="utf-8") for path in INTEGRATION.rglob("*.py"))


def test_entity_translation_keys_and_icons() -> None:
    used = {
        "sensor": {
            description.translation_key
            for description in (
                *BALANCE_DESCRIPTIONS.values(),
                LIABILITY_BALANCE_DESCRIPTION,
                *DETAIL_DESCRIPTIONS,
                *TOTAL_DESCRIPTIONS,
                *PLATFORM_TOTAL_DESCRIPTIONS,
                LAST_UPDATE_DESCRIPTION,
                MONTHLY_INCOMING_DESCRIPTION,
                MONTHLY_TRANSFERS_DESCRIPTION,
            )
        },
        "binary_sensor": {API_PROBLEM_DESCRIPTION.translation_key},
        "button": {REFRESH_DESCRIPTION.translation_key},
    }
    for platform, keys in used.items():
        assert keys == set(STRINGS["entity"][platform]), platform
        assert keys == set(ICONS["entity"][platform]), platform


def test_exception_and_error_keys() -> None:
    kinds = set(ERROR_KINDS)
    assert kinds | {PERMISSION_NOT_GRANTED} == set(STRINGS["exceptions"])
    assert kinds <= set(STRINGS["config"]["error"])
    assert (
        set(
            STRINGS["entity"]["binary_sensor"]["api_problem"]["state_attributes"]["error_kind"][
                "state"
            ]
        )
        == kinds
    )


def test_flow_errors_and_aborts_used_in_code_exist() -> None:
    errors = set(re.findall(r'CredentialError\("(\w+)"', SOURCE))
    assert {"no_accounts", "invalid_url", "missing_read_accounts"} <= errors
    assert errors <= set(STRINGS["config"]["error"])
    options_errors = set(re.findall(r'errors\[CONF_ACTIVITY\] = "(\w+)"', SOURCE))
    assert options_errors == set(STRINGS["options"]["error"]) == {"missing_read_transfers"}
    for reason in re.findall(r'reason="(\w+)"', SOURCE):
        assert reason in STRINGS["config"]["abort"], reason


def test_account_kind_selector_and_issue() -> None:
    assert set(STRINGS["selector"]["account_kinds"]["options"]) == {k.value for k in AccountKind}
    assert "unexpected_response" in STRINGS["issues"]
