"""Tests for the one mapping from client errors to Home Assistant's."""

from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest

from custom_components.sequence.api import (
    Permission,
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceResponseError,
    SequenceServerError,
)
from custom_components.sequence.const import CONF_API_TOKEN, DOMAIN, KIND_ACCESS_TOKEN, KIND_API_KEY
from custom_components.sequence.errors import (
    ERROR_KINDS,
    PERMISSION_NOT_GRANTED,
    action_error,
    error_kind,
    flow_error,
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
