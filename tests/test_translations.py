"""Every translation key the code uses exists (the test harness does not check this itself)."""

import json
from pathlib import Path
import re

from custom_components.sequence.api import AccountKind
from custom_components.sequence.binary_sensor import API_PROBLEM_DESCRIPTION
from custom_components.sequence.button import REFRESH_DESCRIPTION
from custom_components.sequence.sensor import (
    BALANCE_DESCRIPTIONS,
    LAST_UPDATE_DESCRIPTION,
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
                *TOTAL_DESCRIPTIONS,
                LAST_UPDATE_DESCRIPTION,
            )
        },
        "binary_sensor": {API_PROBLEM_DESCRIPTION.translation_key},
        "button": {REFRESH_DESCRIPTION.translation_key},
    }
    for platform, keys in used.items():
        assert keys == set(STRINGS["entity"][platform]), platform
        assert keys == set(ICONS["entity"][platform]), platform


def test_exception_and_error_keys() -> None:
    kinds = {"invalid_auth", "rate_limited", "cannot_connect", "unexpected_response"}
    assert kinds == set(STRINGS["exceptions"])
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
    errors = set(re.findall(r'"base": "(\w+)"|ValueError\("(\w+)"\)', SOURCE))
    for found in errors:
        key = next(part for part in found if part)
        assert key in STRINGS["config"]["error"], key
    for reason in re.findall(r'reason="(\w+)"', SOURCE):
        assert reason in STRINGS["config"]["abort"], reason


def test_account_kind_selector_and_issue() -> None:
    assert set(STRINGS["selector"]["account_kinds"]["options"]) == {k.value for k in AccountKind}
    assert "unexpected_response" in STRINGS["issues"]
