"""The client-side request limiter, on virtual time."""

import asyncio

import pytest

from custom_components.sequence.api.limiter import RequestLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.mark.parametrize(("limit", "window"), [(0, 60.0), (1, 0.0), (1, float("nan"))])
def test_bad_settings(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        RequestLimiter(limit, window=window)


async def test_paces_a_burst_over_the_window() -> None:
    clock = Clock()
    limiter = RequestLimiter(3, window=60, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(7):
        await limiter.acquire()
        starts.append(clock.now - 100)
    assert starts == [0, 0, 0, 60, 60, 60, 120]
    assert limiter.in_window() == 1
    clock.now += 60
    assert limiter.in_window() == 0
    assert repr(limiter) == "RequestLimiter(3/60s)"
    assert limiter.clock is clock


async def test_waiters_are_served_in_order_and_never_exceed_the_cap() -> None:
    clock = Clock()
    limiter = RequestLimiter(2, window=10, clock=clock, sleep=clock.sleep)
    order: list[tuple[int, float]] = []

    async def request(number: int) -> None:
        await limiter.acquire()
        order.append((number, clock.now))

    await asyncio.gather(*(request(number) for number in range(6)))
    assert [number for number, _ in order] == list(range(6))
    for _, start in order:
        assert sum(start <= other < start + 10 for _, other in order) <= 2


async def test_a_cancelled_waiter_takes_no_budget() -> None:
    clock = Clock()
    gate = asyncio.Event()

    async def blocked_sleep(_seconds: float) -> None:
        await gate.wait()

    limiter = RequestLimiter(1, clock=clock, sleep=blocked_sleep)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limiter.in_window() == 1
