"""Tests for the exception tree."""

import pytest

from custom_components.sequence.api.errors import (
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


@pytest.mark.parametrize(
    "error",
    [
        SequenceAuthError,
        SequenceConnectionError,
        SequenceNotFoundError,
        SequencePermissionError,
        SequenceRateLimitError,
        SequenceResponseError,
        SequenceServerError,
        SequenceOutcomeUnknownError,
        SequenceConflictError,
        SequenceRefusedError,
        SequenceRuleSecretError,
    ],
)
def test_every_error_is_a_sequence_error(error: type[Exception]) -> None:
    assert issubclass(error, SequenceError)


@pytest.mark.parametrize("retry_after", [None, 30.0])
def test_rate_limit_keeps_retry_after(retry_after: float | None) -> None:
    error = SequenceRateLimitError("slow down", retry_after=retry_after)
    assert error.retry_after == retry_after
    assert str(error) == "slow down"


def test_permission_error_is_not_an_auth_error() -> None:
    error = SequencePermissionError("missing", permission="READ_ACCOUNTS")
    assert error.permission == "READ_ACCOUNTS"
    assert not isinstance(error, SequenceAuthError)
    assert SequencePermissionError("missing").permission is None


def test_not_found_is_a_response_error() -> None:
    assert issubclass(SequenceNotFoundError, SequenceResponseError)


def test_an_outage_is_handled_like_a_lost_connection_never_like_an_unreadable_answer() -> None:
    assert issubclass(SequenceServerError, SequenceConnectionError)
    assert not issubclass(SequenceServerError, SequenceResponseError)
    assert SequenceServerError("down", retry_after=30.0).retry_after == 30.0
    assert SequenceServerError("down").retry_after is None


@pytest.mark.parametrize("error", [SequenceConflictError, SequenceRefusedError])
def test_refusals_keep_sequences_code(
    error: type[SequenceConflictError | SequenceRefusedError],
) -> None:
    assert error("refused", code="RULE_DEACTIVATED").code == "RULE_DEACTIVATED"
    assert error("refused").code is None


def test_money_errors_are_not_errors_a_poll_already_handles() -> None:
    """An unknown outcome is not a connection error (which may be retried), a refused rule
    secret is not the entry's credential (which would start a reauthentication)."""
    assert not issubclass(SequenceOutcomeUnknownError, SequenceConnectionError)
    assert not issubclass(SequenceRuleSecretError, SequenceAuthError)
    assert not issubclass(SequenceRefusedError, SequenceResponseError)
