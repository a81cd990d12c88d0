"""Following what Sequence is still doing: a rule's execution, a transfer until it settles.

Each follow checks again after 2, 5, 15 and 30 seconds and a minute, then every 5 minutes, for
at most a day after the action was made, never sooner than a ``Retry-After`` asks. Waits are
``async_call_later`` timers (so a frozen clock drives them in tests) and each check runs as one
of the entry's background tasks: unloading the entry cancels the timers and the checks.
"""

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .api import (
    SequenceAuthError,
    SequenceError,
    SequenceNotFoundError,
    SequencePermissionError,
)
from .coordinator import SequenceConfigEntry
from .errors import required_wait

FOLLOW_STEPS = (
    timedelta(seconds=2),
    timedelta(seconds=5),
    timedelta(seconds=15),
    timedelta(seconds=30),
    timedelta(minutes=1),
)
FOLLOW_EVERY = timedelta(minutes=5)
"""After the steps: how often a follow checks."""
FOLLOW_FOR = timedelta(days=1)
"""How long after the action a follow gives up."""
EARLY_NOT_FOUND = timedelta(minutes=10)
"""Sequence may not find what it has just accepted: a 404 this soon is only a delay."""


@dataclass(frozen=True, slots=True)
class Pending:
    """Not done yet: check again (not sooner than ``at_least`` seconds, when given)."""

    at_least: float | None = None


class Check(Protocol):
    """One look at the followed thing: ``Pending`` to look again, None when it is done."""

    def __call__(self, *, last: bool) -> Awaitable[Pending | None]:
        """Look once.

        ``last``: a day has passed; the follow ends after this look whatever it answers, so a
        thing still pending must be given up.
        """
        ...


def after_failed_look(err: SequenceError, started_at: datetime) -> Pending | None:
    """After a look that failed with ``err``: look again (``Pending``), or None to give up.

    An early 404 is Sequence not knowing yet what it has just accepted; a later one, a refused
    credential or a missing permission will not go away by waiting. Anything else (an outage,
    a rate limit, a lost connection) is looked at again, not before a ``Retry-After``.
    """
    if isinstance(err, SequenceNotFoundError):
        return Pending() if dt_util.utcnow() - started_at < EARLY_NOT_FOUND else None
    if isinstance(err, SequenceAuthError | SequencePermissionError):
        return None
    return Pending(required_wait(err))


def follow_delay(step: int) -> timedelta:
    """How long to wait before the check after ``step`` checks already made."""
    return FOLLOW_STEPS[step] if step < len(FOLLOW_STEPS) else FOLLOW_EVERY


@dataclass(slots=True)
class _Follow:
    check: Check
    deadline: datetime
    step: int = 0
    timer: CALLBACK_TYPE | None = None


class Follower:
    """The follows of one entry's runner, each keyed by Sequence's id of what it follows."""

    def __init__(self, hass: HomeAssistant, entry: SequenceConfigEntry, name: str) -> None:
        """Follow as background tasks of ``entry``; ``name`` names the tasks."""
        self._hass = hass
        self._entry = entry
        self._name = name
        self._follows: dict[str, _Follow] = {}

    def is_following(self, reference: str) -> bool:
        """Whether ``reference`` is being followed now."""
        return reference in self._follows

    @callback
    def async_follow(self, reference: str, started_at: datetime, check: Check) -> None:
        """Start following ``reference`` (made at ``started_at``), unless it already is."""
        if reference in self._follows:
            return
        self._follows[reference] = follow = _Follow(check=check, deadline=started_at + FOLLOW_FOR)
        self._schedule(reference, follow, None)

    @callback
    def async_stop(self) -> None:
        """Stop every follow (the entry is unloading; a restart resumes them from the ledger)."""
        for follow in self._follows.values():
            if follow.timer is not None:
                follow.timer()
        self._follows.clear()

    def _schedule(self, reference: str, follow: _Follow, at_least: float | None) -> None:
        delay = max(follow_delay(follow.step).total_seconds(), at_least or 0)
        follow.timer = async_call_later(self._hass, delay, partial(self._due, reference))

    @callback
    def _due(self, reference: str, _now: datetime) -> None:
        follow = self._follows[reference]
        follow.timer = None
        self._entry.async_create_background_task(
            self._hass, self._async_step(reference, follow), f"{self._name} {reference}"
        )

    async def _async_step(self, reference: str, follow: _Follow) -> None:
        last = dt_util.utcnow() >= follow.deadline
        pending = await follow.check(last=last)
        if self._follows.get(reference) is not follow:
            return  # stopped while looking
        if pending is None or last:
            del self._follows[reference]
            return
        follow.step += 1
        self._schedule(reference, follow, pending.at_least)
