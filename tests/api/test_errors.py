"""Tests for the exception tree."""

import pytest

from custom_components.sequence.api.errors import (
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceRateLimitError,
    SequenceResponseError,
)


@pytest.mark.parametrize(
    "error",
    [SequenceAuthError, SequenceConnectionError, SequenceRateLimitError, SequenceResponseError],
)
def test_every_error_is_a_sequence_error(error: type[Exception]) -> None:
    assert issubclass(error, SequenceError)


@pytest.mark.parametrize("retry_after", [None, 30.0])
def test_rate_limit_keeps_retry_after(retry_after: float | None) -> None:
    error = SequenceRateLimitError("slow down", retry_after=retry_after)
    assert error.retry_after == retry_after
    assert str(error) == "slow down"
