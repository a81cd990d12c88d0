"""One API key's request budget: a rate window, an in-flight cap and a ``Retry-After`` block.

The Platform API allows 100 requests per minute per key and answers 429 beyond that. Sequence
counts per key, so everything that uses a key (the entry's polls, every flow step that checks
the key) must share one :class:`RequestBudget`; a client is given the budget of its key.

* :class:`RequestLimiter`, a sliding window over request start times, lets at most
  ``requests_per_minute`` requests start in any ``window`` seconds (60 by default, a safe margin
  below Sequence's cap) and makes the next caller wait, in arrival order, until the oldest start
  leaves the window. Its memory is one timestamp per allowed request. A single wait is never
  longer than the window: it paces a burst (200 account details take a little over three
  minutes at 60/min) but never sits out a ``Retry-After``.
* At most ``max_concurrency`` requests are in flight.
* After a 429, nothing is sent until its ``Retry-After`` (a minute without one) has passed:
  :meth:`RequestBudget.slot` raises :class:`~.errors.SequenceRateLimitError` with the time left,
  and the caller decides when to come back.

The clock and the sleep are injectable so that tests run on virtual time.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
import math
import time
from typing import Final

from .errors import SequenceRateLimitError

type Clock = Callable[[], float]
type Sleep = Callable[[float], Awaitable[None]]

DEFAULT_WINDOW = 60.0
DEFAULT_RATE_LIMIT_PAUSE: Final = 60.0
"""Seconds to hold off after a 429 without ``Retry-After`` (the API's window is a minute)."""


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
        """The clock the window is measured on (also the budget's ``Retry-After`` block's)."""
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


class RequestBudget:
    """Everything one API key may send; share one between all clients of that key.

    At most ``requests_per_minute`` starts per ``window``, at most ``max_concurrency`` in
    flight, nothing while a ``Retry-After`` runs.
    """

    __slots__ = ("_blocked_until", "_in_flight", "_limiter", "_semaphore")

    def __init__(
        self,
        requests_per_minute: int = 60,
        *,
        max_concurrency: int = 4,
        window: float = DEFAULT_WINDOW,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Set the limits, on ``clock``.

        Raises:
            ValueError: a limit or the window is not positive.
        """
        if max_concurrency < 1:
            msg = "max_concurrency must be at least 1"
            raise ValueError(msg)
        self._limiter = RequestLimiter(requests_per_minute, window=window, clock=clock, sleep=sleep)
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._in_flight = 0
        self._blocked_until: float | None = None

    def __repr__(self) -> str:
        """The limits, never whose key it is."""
        return f"{type(self).__name__}({self._limiter!r}, blocked {self.blocked_for():.0f} s)"

    @property
    def limiter(self) -> RequestLimiter:
        """The rate window."""
        return self._limiter

    def blocked_for(self) -> float:
        """Seconds left of a ``Retry-After`` block; 0 when requests may go."""
        if self._blocked_until is None:
            return 0.0
        remaining = self._blocked_until - self._limiter.clock()
        if remaining <= 0:
            self._blocked_until = None
            return 0.0
        return remaining

    def block(self, retry_after: float | None) -> None:
        """Send nothing for ``retry_after`` seconds (a minute when None), after a 429.

        A block already running longer is kept.
        """
        pause = DEFAULT_RATE_LIMIT_PAUSE if retry_after is None else retry_after
        until = self._limiter.clock() + pause
        if self._blocked_until is None or until > self._blocked_until:
            self._blocked_until = until

    def is_idle(self) -> bool:
        """Nothing in flight, nothing in the window, no block: a fresh budget is the same."""
        return self._in_flight == 0 and self._limiter.in_window() == 0 and not self.blocked_for()

    def _raise_if_blocked(self) -> None:
        if remaining := self.blocked_for():
            msg = f"waiting out Sequence's rate limit ({math.ceil(remaining)} s left)"
            raise SequenceRateLimitError(msg, retry_after=remaining)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a place for one request, once the cap, the window and any block allow it.

        Raises:
            SequenceRateLimitError: a ``Retry-After`` is running, also one that began while
                this request waited for its turn; nothing was sent.
        """
        async with self._semaphore:
            self._raise_if_blocked()
            await self._limiter.acquire()
            self._raise_if_blocked()  # a 429 may have come in while this one waited
            self._in_flight += 1
            try:
                yield
            finally:
                self._in_flight -= 1
