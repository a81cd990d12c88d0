"""The request limiter and the per-key request budget, on virtual time."""

import asyncio

import pytest

from custom_components.sequence.api import SequenceRateLimitError
from custom_components.sequence.api.limiter import RequestBudget, RequestLimiter


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


# --- RequestBudget: the window, the in-flight cap and the Retry-After block of one key ---------


def test_budget_refuses_no_concurrency() -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        RequestBudget(max_concurrency=0)


async def test_a_block_refuses_at_once_and_ends_by_itself() -> None:
    clock = Clock()
    budget = RequestBudget(clock=clock, sleep=clock.sleep)
    budget.block(30)
    assert budget.blocked_for() == 30
    clock.now += 10
    with pytest.raises(SequenceRateLimitError, match="20 s left") as raised:
        async with budget.slot():
            pytest.fail("sent during a Retry-After")
    assert raised.value.retry_after == 20
    assert budget.limiter.in_window() == 0  # refused before counting
    clock.now += 20
    assert budget.blocked_for() == 0
    async with budget.slot():
        pass


def test_a_block_without_retry_after_lasts_a_minute_and_is_never_shortened() -> None:
    clock = Clock()
    budget = RequestBudget(clock=clock, sleep=clock.sleep)
    budget.block(None)
    assert budget.blocked_for() == 60
    budget.block(600)
    budget.block(5)
    assert budget.blocked_for() == 600
    assert repr(budget) == "RequestBudget(RequestLimiter(60/60s), blocked 600 s)"


async def test_a_block_that_starts_while_waiting_for_the_window_stops_the_waiter() -> None:
    clock = Clock()

    async def sleep_then_blocked(seconds: float) -> None:
        budget.block(120)  # a 429 arrives for another request meanwhile
        await clock.sleep(seconds)

    budget = RequestBudget(1, clock=clock, sleep=sleep_then_blocked)
    async with budget.slot():
        pass
    with pytest.raises(SequenceRateLimitError):
        async with budget.slot():
            pytest.fail("sent during a Retry-After")


async def test_in_flight_cap_and_idleness() -> None:
    clock = Clock()
    budget = RequestBudget(100, max_concurrency=2, clock=clock, sleep=clock.sleep)
    assert budget.is_idle()
    inside = 0
    most = 0
    release = asyncio.Event()

    async def request() -> None:
        nonlocal inside, most
        async with budget.slot():
            inside += 1
            most = max(most, inside)
            await release.wait()
            inside -= 1

    tasks = [asyncio.create_task(request()) for _ in range(5)]
    await asyncio.sleep(0)
    assert (inside, budget.is_idle()) == (2, False)
    release.set()
    await asyncio.gather(*tasks)
    assert most == 2
    assert not budget.is_idle()  # the starts are still in the window
    clock.now += 60
    assert budget.is_idle()
    budget.block(1)
    assert not budget.is_idle()
