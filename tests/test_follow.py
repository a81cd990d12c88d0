"""Following: checks on a backoff, never sooner than Sequence asks, for at most a day."""

import asyncio
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sequence.api import (
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceServerError,
)
from custom_components.sequence.follow import (
    EARLY_NOT_FOUND,
    FOLLOW_FOR,
    Follower,
    Pending,
    after_failed_look,
    follow_delay,
)


class Followed:
    """What a follow looks at: answers as told (the last answer repeats)."""

    def __init__(self, *answers: Pending | None) -> None:
        self.answers = list(answers)
        self.checked_at: list[float] = []
        self.last_looks = 0
        self.start = dt_util.utcnow()
        self.release: asyncio.Event | None = None

    async def check(self, *, last: bool) -> Pending | None:
        self.checked_at.append((dt_util.utcnow() - self.start).total_seconds())
        self.last_looks += last
        if self.release is not None:
            await self.release.wait()
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def follower(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, frozen_start: FrozenDateTimeFactory
) -> Follower:
    mock_config_entry.add_to_hass(hass)
    return Follower(hass, mock_config_entry, "test follow")


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the clock a second at a time, so every timer fires when it is due."""
    for _ in range(int(seconds)):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


def test_the_steps() -> None:
    assert [follow_delay(step).total_seconds() for step in range(8)] == [
        2,
        5,
        15,
        30,
        60,
        300,
        300,
        300,
    ]


async def test_checks_back_off_until_done(
    hass: HomeAssistant, follower: Follower, frozen_start: FrozenDateTimeFactory
) -> None:
    followed = Followed(*[Pending()] * 6, None)
    follower.async_follow("exec-1", followed.start, followed.check)
    assert follower.is_following("exec-1")
    await advance(hass, frozen_start, 2 + 5 + 15 + 30 + 60 + 300 + 300 + 600)
    assert followed.checked_at == [2, 7, 22, 52, 112, 412, 712]
    assert not follower.is_following("exec-1")
    assert followed.last_looks == 0


async def test_never_sooner_than_sequence_asks(
    hass: HomeAssistant, follower: Follower, frozen_start: FrozenDateTimeFactory
) -> None:
    followed = Followed(Pending(at_least=90), None)
    follower.async_follow("t-1", followed.start, followed.check)
    await advance(hass, frozen_start, 200)
    assert followed.checked_at == [2, 92]


async def test_one_follow_per_reference(
    hass: HomeAssistant, follower: Follower, frozen_start: FrozenDateTimeFactory
) -> None:
    first, second = Followed(None), Followed(None)
    follower.async_follow("t-1", first.start, first.check)
    follower.async_follow("t-1", second.start, second.check)
    await advance(hass, frozen_start, 10)
    assert (len(first.checked_at), len(second.checked_at)) == (1, 0)


async def test_gives_up_after_a_day(
    hass: HomeAssistant, follower: Follower, frozen_start: FrozenDateTimeFactory
) -> None:
    """A follow resumed near its deadline looks once more, then gives up."""
    followed = Followed(Pending())
    started = dt_util.utcnow() - FOLLOW_FOR + timedelta(seconds=1)
    follower.async_follow("exec-1", started, followed.check)
    await advance(hass, frozen_start, 700)
    assert len(followed.checked_at) == 1
    assert followed.last_looks == 1
    assert not follower.is_following("exec-1")


async def test_stopping_while_looking(
    hass: HomeAssistant, follower: Follower, frozen_start: FrozenDateTimeFactory
) -> None:
    """A look under way when the follows stop ends quietly (unloading cancels it anyway)."""
    followed = Followed(Pending())
    followed.release = asyncio.Event()
    follower.async_follow("exec-1", followed.start, followed.check)
    frozen_start.tick(timedelta(seconds=2))
    async_fire_time_changed(hass)
    await asyncio.sleep(0)
    assert followed.checked_at == [2]
    follower.async_stop()
    followed.release.set()
    await advance(hass, frozen_start, 600)
    assert followed.checked_at == [2]
    assert not follower.is_following("exec-1")


async def test_stopping_cancels_every_follow(
    hass: HomeAssistant, follower: Follower, frozen_start: FrozenDateTimeFactory
) -> None:
    followed = Followed(Pending())
    follower.async_follow("exec-1", followed.start, followed.check)
    await advance(hass, frozen_start, 3)
    follower.async_stop()
    await advance(hass, frozen_start, 600)
    assert len(followed.checked_at) == 1
    assert not follower.is_following("exec-1")


@pytest.mark.parametrize(
    ("error", "age", "expected"),
    [
        (SequenceNotFoundError("x"), timedelta(0), Pending()),
        (SequenceNotFoundError("x"), EARLY_NOT_FOUND - timedelta(seconds=1), Pending()),
        (SequenceNotFoundError("x"), EARLY_NOT_FOUND, None),
        (SequenceAuthError("x"), timedelta(0), None),
        (SequencePermissionError("x"), timedelta(0), None),
        (SequenceRateLimitError("x", retry_after=30), timedelta(0), Pending(30)),
        (SequenceServerError("x", retry_after=120), timedelta(hours=2), Pending(120)),
        (SequenceConnectionError("x"), timedelta(hours=2), Pending()),
    ],
)
async def test_after_a_failed_look(
    frozen_start: FrozenDateTimeFactory,
    error: SequenceError,
    age: timedelta,
    expected: Pending | None,
) -> None:
    assert after_failed_look(error, dt_util.utcnow() - age) == expected
