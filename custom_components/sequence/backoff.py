"""When to poll again after a failed poll: soon at first, then less often, never past the interval.

Home Assistant polls again after a coordinator's ``update_interval``, or after the
``retry_after`` of the ``UpdateFailed`` the poll raised. Without this, one failed poll of an API
key would leave its sensors unavailable for the whole six-hour interval after Sequence is back.
"""

from datetime import timedelta
from typing import Final

RETRY_STEPS: Final = (
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=30),
)
"""The waits after the 1st, 2nd, ... consecutive failed poll; after these, the interval."""


class FailureBackoff:
    """Counts consecutive failed polls and says how long to wait before the next one.

    The wait is the next of :data:`RETRY_STEPS`, then the interval; never longer than the
    interval, and never shorter than what Sequence asked for (``Retry-After``), which wins even
    over the interval. A success starts the steps again.
    """

    __slots__ = ("_failures", "_interval")

    def __init__(self, interval: timedelta) -> None:
        """Back off towards ``interval``, the coordinator's usual wait between polls."""
        self._interval = interval
        self._failures = 0

    @property
    def failures(self) -> int:
        """Failed polls since the last success."""
        return self._failures

    def failed(self, required_wait: float | None = None) -> float:
        """Count a failed poll; return the seconds until the next attempt.

        ``required_wait``: the seconds Sequence asked for (``Retry-After``), if any.
        """
        step = RETRY_STEPS[self._failures] if self._failures < len(RETRY_STEPS) else None
        self._failures += 1
        wait = self._interval if step is None else min(step, self._interval)
        return max(wait.total_seconds(), required_wait or 0.0)

    def succeeded(self) -> None:
        """A poll worked: the next failure waits the first step again."""
        self._failures = 0
