"""Tests for the one mapping from client errors to Home Assistant's."""

from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest

from custom_components.sequence.api import (
    Permission,
    SequenceAuthError,
    SequenceConflictError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequenceOutcomeUnknownError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceRefusedError,
    SequenceResponseError,
    SequenceRuleSecretError,
    SequenceServerError,
)
from custom_components.sequence.audit import MoneyAction
from custom_components.sequence.const import CONF_API_TOKEN, DOMAIN, KIND_ACCESS_TOKEN, KIND_API_KEY
from custom_components.sequence.errors import (
    ERROR_KINDS,
    MONEY_ERRORS,
    PERMISSION_NOT_GRANTED,
    Executed,
    action_error,
    error_kind,
    flow_error,
    money_action_error,
    required_wait,
    update_error,
)
from custom_components.sequence.texts import text_key

KINDS = [
    (SequenceAuthError("x"), "invalid_auth"),
    (SequencePermissionError("x", permission=Permission.READ_ACCOUNTS), "missing_permission"),
    (SequenceRateLimitError("x", retry_after=30), "rate_limited"),
    (SequenceServerError("x"), "unavailable"),
    (SequenceConnectionError("x"), "cannot_connect"),
    (SequenceResponseError("x"), "unexpected_response"),
    (SequenceNotFoundError("x"), "unexpected_response"),
    (SequenceError("x"), "unexpected_response"),
]


@pytest.mark.parametrize(("error", "kind"), KINDS)
def test_error_kind(error: SequenceError, kind: str) -> None:
    assert error_kind(error) == kind
    assert kind in ERROR_KINDS


def test_an_outage_is_not_a_lost_connection_to_the_user() -> None:
    """The server error is a connection error to the code, but its own kind to the user."""
    assert isinstance(SequenceServerError("x"), SequenceConnectionError)
    assert error_kind(SequenceServerError("x")) != error_kind(SequenceConnectionError("x"))


@pytest.mark.parametrize(
    ("error", "wait"),
    [
        (SequenceRateLimitError("x", retry_after=30), 30),
        (SequenceRateLimitError("x"), None),
        (SequenceServerError("x", retry_after=120), 120),
        (SequenceServerError("x"), None),
        (SequenceConnectionError("x"), None),
        (SequenceResponseError("x"), None),
    ],
)
def test_required_wait(error: SequenceError, wait: float | None) -> None:
    assert required_wait(error) == wait


@pytest.mark.parametrize("permission_needs_reauth", [True, False])
@pytest.mark.parametrize("credential", [KIND_ACCESS_TOKEN, KIND_API_KEY])
def test_a_refused_credential_always_reauthenticates(
    permission_needs_reauth: bool, credential: str
) -> None:
    raised = update_error(
        SequenceAuthError("x"),
        credential=credential,
        retry_after=60,
        permission_needs_reauth=permission_needs_reauth,
    )
    assert isinstance(raised, ConfigEntryAuthFailed)
    assert (raised.translation_domain, raised.translation_key) == (
        DOMAIN,
        f"invalid_auth_{credential}",
    )


def test_a_missing_permission_reauthenticates_where_nothing_else_helps() -> None:
    error = SequencePermissionError("x", permission=Permission.READ_ACCOUNTS)
    raised = update_error(
        error, credential=KIND_API_KEY, retry_after=60, permission_needs_reauth=True
    )
    assert isinstance(raised, ConfigEntryAuthFailed)
    assert raised.translation_key == "missing_permission"
    assert raised.translation_placeholders == {"permission": "READ_ACCOUNTS"}


def test_a_missing_permission_elsewhere_fails_the_poll_naming_it() -> None:
    error = SequencePermissionError("x", permission=Permission.READ_TRANSFERS)
    raised = update_error(
        error, credential=KIND_API_KEY, retry_after=60, permission_needs_reauth=False
    )
    assert type(raised) is UpdateFailed
    assert raised.translation_key == PERMISSION_NOT_GRANTED
    assert raised.translation_placeholders == {"permission": "READ_TRANSFERS"}
    assert raised.retry_after == 60


@pytest.mark.parametrize(
    ("error", "kind"),
    [case for case in KINDS if case[1] not in {"invalid_auth", "missing_permission"}],
)
def test_other_failures_fail_the_poll_with_the_wait_given(error: SequenceError, kind: str) -> None:
    raised = update_error(
        error, credential=KIND_API_KEY, retry_after=300, permission_needs_reauth=True
    )
    assert type(raised) is UpdateFailed
    assert (raised.translation_domain, raised.translation_key) == (DOMAIN, kind)
    assert raised.retry_after == 300


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (SequenceAuthError("x"), ("invalid_auth_api_key", CONF_API_TOKEN)),
        (SequencePermissionError("x"), ("missing_permission", CONF_API_TOKEN)),
        (SequenceRateLimitError("x"), ("rate_limited", "base")),
        (SequenceServerError("x"), ("unavailable", "base")),
        (SequenceConnectionError("x"), ("cannot_connect", "base")),
        (SequenceResponseError("x"), ("unexpected_response", "base")),
    ],
)
def test_flow_error(error: SequenceError, expected: tuple[str, str]) -> None:
    assert flow_error(error, KIND_API_KEY) == expected


@pytest.mark.parametrize(
    ("error", "kind"), [case for case in KINDS if case[1] != "missing_permission"]
)
def test_action_error_is_translated(error: SequenceError, kind: str) -> None:
    raised = action_error(error, KIND_ACCESS_TOKEN)
    assert type(raised) is HomeAssistantError
    assert (raised.translation_domain, raised.translation_key) == (
        DOMAIN,
        text_key(kind, KIND_ACCESS_TOKEN),
    )


@pytest.mark.parametrize(
    ("permission", "shown"), [(Permission.TRIGGER_RULES, "TRIGGER_RULES"), (None, "required")]
)
def test_a_missing_permission_on_an_action_never_reauthenticates(
    permission: Permission | None, shown: str
) -> None:
    raised = action_error(SequencePermissionError("x", permission=permission), KIND_API_KEY)
    assert type(raised) is HomeAssistantError
    assert not isinstance(raised, ConfigEntryAuthFailed)
    assert raised.translation_key == PERMISSION_NOT_GRANTED
    assert raised.translation_placeholders == {"permission": shown}


def test_action_error_without_a_client_error() -> None:
    assert action_error(None, KIND_API_KEY).translation_key == "unexpected_response"


# --- Money actions ------------------------------------------------------------------------------

RULE = MoneyAction.TRIGGER_RULE
TRANSFER = MoneyAction.TRANSFER
MONEY_CASES = [
    # (error, action, key, executed, result, placeholders, raised as a ServiceValidationError)
    (SequenceConflictError("x"), RULE, "rule_in_progress", Executed.RUNNING, "in_progress",
     {"idempotency_key": "k-1"}, False),
    (SequenceConflictError("x"), TRANSFER, "transfer_in_progress", Executed.RUNNING,
     "in_progress", {"idempotency_key": "k-1"}, False),
    (SequenceRuleSecretError("x"), RULE, "rule_secret_refused", Executed.NO, "rejected", None,
     False),
    (SequencePermissionError("x", permission=Permission.TRIGGER_RULES), RULE,
     "rule_permission_missing", Executed.NO, "rejected", {"permission": "TRIGGER_RULES"}, False),
    (SequencePermissionError("x"), TRANSFER, "transfer_permission_missing", Executed.NO,
     "rejected", {"permission": "MANUAL_TRANSFER"}, False),
    (SequenceRateLimitError("x", retry_after=12.2), RULE, "money_rate_limited", Executed.NO,
     "rate_limited", {"seconds": "13"}, False),
    (SequenceRateLimitError("x", retry_after=0), RULE, "money_rate_limited", Executed.NO,
     "rate_limited", {"seconds": "1"}, False),
    (SequenceRateLimitError("x"), TRANSFER, "money_rate_limited_later", Executed.NO,
     "rate_limited", None, False),
    (SequenceRefusedError("x", code="RULE_DEACTIVATED"), RULE, "rule_disabled", Executed.NO,
     "rejected", None, False),
    (SequenceRefusedError("x", code="INVALID_RULE"), RULE, "rule_gone", Executed.NO, "rejected",
     None, False),
    (SequenceRefusedError("x", code="RULE_NOT_FOUND"), RULE, "rule_gone", Executed.NO,
     "rejected", None, False),
    (SequenceNotFoundError("x"), RULE, "rule_gone", Executed.NO, "rejected", None, False),
    (SequenceRefusedError("x", code="IDEMPOTENCY_KEY_MISMATCH"), TRANSFER,
     "idempotency_key_reused", Executed.NO, "rejected", None, True),
    (SequenceRefusedError("x", code="MAXIMUM_AMOUNT_EXCEEDED"), TRANSFER,
     "transfer_over_key_maximum", Executed.NO, "rejected", None, True),
    (SequenceRefusedError("x", code="INSUFFICIENT_FUNDS"), TRANSFER, "insufficient_funds",
     Executed.NO, "rejected", None, False),
    (SequenceRefusedError("x", code="INVALID_PARAMETERS"), TRANSFER, "money_refused_code",
     Executed.NO, "rejected", {"code": "INVALID_PARAMETERS"}, True),
    (SequenceRefusedError("x"), RULE, "money_refused", Executed.NO, "rejected", None, False),
    (SequenceAuthError("x"), RULE, "invalid_auth_api_key", Executed.NO, "rejected", None, False),
    (SequenceConnectionError("x"), TRANSFER, "money_not_sent", Executed.NO, "failed", None,
     False),
    (SequenceOutcomeUnknownError("x"), RULE, "rule_result_unknown", Executed.MAYBE, "unknown",
     {"idempotency_key": "k-1"}, False),
    (SequenceOutcomeUnknownError("x"), TRANSFER, "transfer_result_unknown", Executed.MAYBE,
     "unknown", {"idempotency_key": "k-1"}, False),
    (SequenceServerError("HTTP 502"), TRANSFER, "transfer_result_unknown", Executed.MAYBE,
     "unknown", {"idempotency_key": "k-1"}, False),
    (SequenceResponseError("x"), RULE, "rule_result_unknown", Executed.MAYBE, "unknown",
     {"idempotency_key": "k-1"}, False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("error", "action", "key", "executed", "result", "placeholders", "caller"), MONEY_CASES
)
def test_money_action_errors(
    error: SequenceError,
    action: MoneyAction,
    key: str,
    executed: Executed,
    result: str,
    placeholders: dict[str, str] | None,
    caller: bool,
) -> None:
    failure = money_action_error(
        error, action=action, credential=KIND_API_KEY, idempotency_key="k-1"
    )
    assert (failure.reason, failure.executed, failure.result) == (key, executed, result)
    assert failure.error.translation_domain == DOMAIN
    assert (failure.error.translation_placeholders or {}) == (placeholders or {})
    assert isinstance(failure.error, ServiceValidationError) is caller
    assert not isinstance(failure.error, ConfigEntryAuthFailed)  # never a reauthentication
    assert key in {*MONEY_ERRORS, "idempotency_key_reused", "invalid_auth_api_key"}


def test_an_unknown_rule_result_with_an_access_token_promises_no_safe_repeat() -> None:
    """The Remote API only accepts an idempotency key; it does not say it remembers it."""
    failure = money_action_error(
        SequenceOutcomeUnknownError("x"),
        action=RULE,
        credential=KIND_ACCESS_TOKEN,
        idempotency_key="k-1",
    )
    assert (failure.reason, failure.executed, failure.result) == (
        "rule_result_unknown_remote",
        Executed.MAYBE,
        "unknown",
    )
    assert failure.error.translation_placeholders == {"idempotency_key": "k-1"}


def test_only_a_definite_answer_releases_a_share() -> None:
    """A 5xx to a money request is not an outage to retry: it may have run."""
    server = money_action_error(
        SequenceServerError("x"), action=RULE, credential=KIND_API_KEY, idempotency_key="k"
    )
    assert server.executed is Executed.MAYBE


@pytest.mark.parametrize(
    "error", [SequenceOutcomeUnknownError("x"), SequenceServerError("x"), SequenceError("x")]
)
def test_an_unanswered_simulation_moved_nothing(error: SequenceError) -> None:
    failure = money_action_error(
        error, action=TRANSFER, credential=KIND_API_KEY, idempotency_key="k", simulation=True
    )
    assert (failure.reason, failure.executed, failure.result) == (
        "simulation_unanswered",
        Executed.NO,
        "failed",
    )


def test_a_simulation_refused_by_sequence_reads_as_a_refusal() -> None:
    failure = money_action_error(
        SequencePermissionError("x"),
        action=TRANSFER,
        credential=KIND_API_KEY,
        idempotency_key="k",
        simulation=True,
    )
    assert failure.reason == "transfer_permission_missing"
