"""Tests for the wait after failed polls (the schedule itself; the coordinators' use of it is in
test_coordinator.py and test_activity.py)."""

from datetime import timedelta

import pytest

from custom_components.sequence.backoff import RETRY_STEPS, FailureBackoff

MINUTE = 60.0


def test_the_steps_are_one_two_five_fifteen_thirty_minutes() -> None:
    assert [step.total_seconds() / MINUTE for step in RETRY_STEPS] == [1, 2, 5, 15, 30]


def test_steps_then_the_interval_and_back_to_the_start_after_a_success() -> None:
    backoff = FailureBackoff(timedelta(hours=6))
    waits = [backoff.failed() / MINUTE for _ in range(7)]
    assert waits == [1, 2, 5, 15, 30, 360, 360]
    assert backoff.failures == 7
    backoff.succeeded()
    assert backoff.failures == 0
    assert backoff.failed() == MINUTE


@pytest.mark.parametrize(
    ("interval", "waits"),
    [
        (timedelta(minutes=10), [1, 2, 5, 10, 10, 10]),
        (timedelta(hours=1), [1, 2, 5, 15, 30, 60]),
        (timedelta(minutes=5), [1, 2, 5, 5, 5, 5]),
    ],
)
def test_never_longer_than_the_interval(interval: timedelta, waits: list[float]) -> None:
    backoff = FailureBackoff(interval)
    assert [backoff.failed() / MINUTE for _ in waits] == waits


@pytest.mark.parametrize(
    ("required", "wait"),
    [(None, MINUTE), (0.0, MINUTE), (17.0, MINUTE), (90.0, 90.0), (8 * 3600.0, 8 * 3600.0)],
)
def test_never_sooner_than_sequence_asked(required: float | None, wait: float) -> None:
    """Retry-After wins over the step and even over the interval (6 hours here)."""
    assert FailureBackoff(timedelta(hours=6)).failed(required) == wait
