"""A client-side request limiter: a sliding one-minute window over request start times.

The Platform API allows 100 requests per minute per key and answers 429 beyond that. The
limiter lets at most ``requests_per_minute`` requests start in any ``window`` seconds (60 by
default, a safe margin below Sequence's cap) and makes the next caller wait, in arrival order,
until the oldest start leaves the window. Its memory is one timestamp per allowed request.

A single wait is never longer than the window; the limiter paces a burst (200 account details
take a little over three minutes at 60/min) but never sits out a ``Retry-After``: the client
raises :class:`~.errors.SequenceRateLimitError` for that and the caller decides when to retry.

The clock and the sleep are injectable so that tests run on virtual time.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
import time

type Clock = Callable[[], float]
type Sleep = Callable[[float], Awaitable[None]]

DEFAULT_WINDOW = 60.0


class RequestLimiter:
    """At most ``requests_per_minute`` request starts in any sliding ``window`` seconds."""

    __slots__ = ("_clock", "_limit", "_lock", "_sleep", "_starts", "_window")

    def __init__(
        self,
        requests_per_minute: int,
        *,
        window: float = DEFAULT_WINDOW,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Allow ``requests_per_minute`` starts per ``window`` seconds on ``clock``.

        Raises:
            ValueError: the limit or the window is not positive.
        """
        if requests_per_minute < 1:
            msg = "requests_per_minute must be at least 1"
            raise ValueError(msg)
        if not window > 0:
            msg = "window must be a positive number of seconds"
            raise ValueError(msg)
        self._limit = requests_per_minute
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        """The limit and the window."""
        return f"{type(self).__name__}({self._limit}/{self._window:g}s)"

    @property
    def clock(self) -> Clock:
        """The clock the window is measured on (shared with the client's ``Retry-After``)."""
        return self._clock

    def _forget_old(self, now: float) -> None:
        while self._starts and self._starts[0] <= now - self._window:
            self._starts.popleft()

    def in_window(self) -> int:
        """How many requests started within the last window."""
        self._forget_old(self._clock())
        return len(self._starts)

    async def acquire(self) -> None:
        """Wait until a request may start, then count it as started.

        Waiters are served first come, first served (the lock is fair). Cancelling a waiter
        takes nothing from the budget.
        """
        async with self._lock:
            while True:
                now = self._clock()
                self._forget_old(now)
                if len(self._starts) < self._limit:
                    self._starts.append(now)
                    return
                await self._sleep(self._starts[0] + self._window - now)
