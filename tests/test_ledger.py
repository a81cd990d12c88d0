"""The money ledger: what the limits count, derived from attempts, saved before requests."""

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_test_home_assistant

from custom_components.sequence.ledger import (
    Attempt,
    AttemptStatus,
    Follow,
    MoneyLedger,
    Outcome,
    ledger_signal,
)

ENTRY = "01JSEQUENCETESTENTRY0000001"
RULE = "subentry-rule"
ROUTE = "subentry-route"


@pytest.fixture
async def ledger(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> MoneyLedger:
    await hass.config.async_set_time_zone("America/New_York")
    freezer.move_to("2026-12-01T15:00:00+00:00")  # 10:00 in New York
    money = MoneyLedger(hass, ENTRY)
    await money.async_load()
    return money


def attempt(key: str, *, at: datetime | None = None, cents: int | None = None) -> Attempt:
    return Attempt(key=key, fingerprint=f"fp-{key}", at=at or dt_util.utcnow(), amount_cents=cents)


async def test_an_empty_ledger_counts_nothing(ledger: MoneyLedger) -> None:
    assert ledger.runs_today(RULE) == 0
    assert ledger.moved_today_cents(ROUTE) == 0
    assert ledger.last_live_at(RULE) is None
    assert ledger.find(RULE, "k") is None
    assert ledger.last_outcome(RULE) is None
    assert ledger.follows() == []


async def test_counts_are_derived_from_todays_counted_attempts(ledger: MoneyLedger) -> None:
    await ledger.async_reserve(ROUTE, attempt("a", cents=5000))
    await ledger.async_reserve(ROUTE, attempt("b", cents=2500))
    await ledger.async_reserve(ROUTE, attempt("c", cents=100))
    await ledger.async_set_status(ROUTE, "c", AttemptStatus.RELEASED)
    await ledger.async_set_status(ROUTE, "b", AttemptStatus.UNKNOWN)
    assert ledger.moved_today_cents(ROUTE) == 7500  # an unknown outcome still counts
    assert ledger.runs_today(ROUTE) == 2
    assert ledger.find(ROUTE, "c") == Attempt(
        key="c",
        fingerprint="fp-c",
        at=dt_util.utcnow(),
        amount_cents=100,
        status=AttemptStatus.RELEASED,
    )


async def test_the_local_day_decides_what_today_is(
    ledger: MoneyLedger, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to("2026-12-02T04:30:00+00:00")  # 23:30 on 1 December in New York
    await ledger.async_reserve(RULE, attempt("late"))
    assert ledger.runs_today(RULE) == 1
    freezer.move_to("2026-12-02T05:00:00+00:00")  # midnight in New York: a new day
    assert ledger.runs_today(RULE) == 0
    assert ledger.last_live_at(RULE) == datetime.fromisoformat("2026-12-02T04:30:00+00:00")


async def test_last_live_at_ignores_released_attempts(
    ledger: MoneyLedger, freezer: FrozenDateTimeFactory
) -> None:
    await ledger.async_reserve(RULE, attempt("first"))
    first_at = dt_util.utcnow()
    freezer.tick(timedelta(minutes=10))
    await ledger.async_reserve(RULE, attempt("second"))
    await ledger.async_set_status(RULE, "second", AttemptStatus.RELEASED, "exec-2")
    assert ledger.last_live_at(RULE) == first_at
    assert ledger.find(RULE, "second") is not None
    assert ledger.find(RULE, "second").reference == "exec-2"  # type: ignore[union-attr]


async def test_attempts_older_than_two_days_are_pruned(
    ledger: MoneyLedger, freezer: FrozenDateTimeFactory
) -> None:
    await ledger.async_reserve(RULE, attempt("old"))
    freezer.tick(timedelta(days=1, hours=23))
    await ledger.async_reserve(RULE, attempt("recent"))
    assert ledger.find(RULE, "old") is not None
    freezer.tick(timedelta(hours=2))
    await ledger.async_reserve(RULE, attempt("new"))
    assert ledger.find(RULE, "old") is None
    assert ledger.find(RULE, "recent") is not None


async def test_status_of_an_unknown_key_changes_nothing(ledger: MoneyLedger) -> None:
    await ledger.async_reserve(RULE, attempt("a"))
    await ledger.async_set_status(RULE, "nope", AttemptStatus.RELEASED)
    assert ledger.runs_today(RULE) == 1


async def test_outcomes_and_follows(ledger: MoneyLedger) -> None:
    now = dt_util.utcnow()
    follow = Follow(reference="exec-1", key="a", started_at=now)
    sent = Outcome(at=now, result="in_progress", reference="exec-1")
    await ledger.async_record_outcome(RULE, sent, follow=follow)
    assert ledger.last_outcome(RULE) == sent
    assert ledger.follows() == [(RULE, follow)]
    done = Outcome(at=now, result="executed", reference="exec-1")
    await ledger.async_record_outcome(RULE, done)
    assert ledger.last_outcome(RULE) == done
    assert ledger.follows() == []


async def test_a_follow_never_hides_a_newer_action(ledger: MoneyLedger) -> None:
    first_at = dt_util.utcnow()
    first = Follow(reference="exec-1", key="a", started_at=first_at)
    second = Follow(reference="exec-2", key="b", started_at=first_at + timedelta(minutes=6))
    await ledger.async_record_outcome(
        RULE, Outcome(at=first.started_at, result="in_progress", reference="exec-1"), follow=first
    )
    newer = Outcome(at=second.started_at, result="in_progress", reference="exec-2")
    await ledger.async_record_outcome(RULE, newer, follow=second)
    # The first run ends after the second started: its follow closes, the sensors keep the second.
    ended = Outcome(at=first.started_at, result="executed", reference="exec-1")
    await ledger.async_record_follow(RULE, ended, finished=True)
    assert ledger.last_outcome(RULE) == newer
    assert ledger.follows() == [(RULE, second)]
    # A status change of the newest one shows, and its follow stays open until it finishes.
    moving = Outcome(at=second.started_at, result="partial", reference="exec-2")
    await ledger.async_record_follow(RULE, moving, finished=False)
    assert ledger.last_outcome(RULE) == moving
    assert ledger.follows() == [(RULE, second)]


async def test_a_follow_shows_on_an_empty_book(ledger: MoneyLedger) -> None:
    outcome = Outcome(at=dt_util.utcnow(), result="complete", reference="t-1")
    await ledger.async_record_follow(ROUTE, outcome, finished=True)
    assert ledger.last_outcome(ROUTE) == outcome


async def test_follows_saved_before_they_knew_their_context_load(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    hass_storage[f"sequence.money.{ENTRY}"] = {
        "version": 1,
        "key": f"sequence.money.{ENTRY}",
        "data": {
            "subentries": {
                RULE: {
                    "attempts": [],
                    "last": None,
                    "follows": [
                        {"reference": "e", "key": "k", "started_at": "2026-12-01T15:00:00+00:00"}
                    ],
                }
            }
        },
    }
    money = MoneyLedger(hass, ENTRY)
    await money.async_load()
    [(subentry, follow)] = money.follows()
    assert (subentry, follow.context_id, follow.user_id) == (RULE, None, None)


async def test_forgetting_a_subentry(ledger: MoneyLedger) -> None:
    await ledger.async_reserve(RULE, attempt("a"))
    await ledger.async_reserve(ROUTE, attempt("b"))
    assert ledger.subentry_ids() == {RULE, ROUTE}
    await ledger.async_forget(RULE)
    assert ledger.subentry_ids() == {ROUTE}
    await ledger.async_forget(RULE)  # twice is fine
    assert ledger.runs_today(RULE) == 0


async def test_every_change_is_signalled(hass: HomeAssistant, ledger: MoneyLedger) -> None:
    calls: list[str] = []

    @callback
    def changed() -> None:  # a callback runs at once; a plain function would go to a thread
        calls.append("changed")

    unsubscribe = ledger.async_subscribe(RULE, changed)
    await ledger.async_reserve(RULE, attempt("a"))
    await ledger.async_set_status(RULE, "a", AttemptStatus.SENT)
    await ledger.async_reserve(ROUTE, attempt("b"))  # another subentry: not this listener
    unsubscribe()
    await ledger.async_set_status(RULE, "a", AttemptStatus.SUCCEEDED)
    assert calls == ["changed", "changed"]
    assert ledger_signal(ENTRY, RULE) != ledger_signal(ENTRY, ROUTE)


async def test_everything_survives_a_restart(tmp_path: Any) -> None:
    """A second Home Assistant on the same config dir reads exactly what the first saved."""
    config_dir = str(tmp_path)
    now = dt_util.utcnow()
    outcome = Outcome(at=now, result="unknown", simulated=False, amount_cents=5000)
    follow = Follow(reference="t-1", key="a", started_at=now, context_id="ctx", user_id="u")
    async with async_test_home_assistant(config_dir=config_dir) as first:
        money = MoneyLedger(first, ENTRY)
        await money.async_load()
        await money.async_reserve(ROUTE, attempt("a", at=now, cents=5000))
        await money.async_set_status(ROUTE, "a", AttemptStatus.UNKNOWN, "t-1")
        await money.async_record_outcome(ROUTE, outcome, follow=follow)
        await first.async_stop(force=True)
    async with async_test_home_assistant(config_dir=config_dir) as second:
        again = MoneyLedger(second, ENTRY)
        await again.async_load()
        assert again.find(ROUTE, "a") == Attempt(
            key="a",
            fingerprint="fp-a",
            at=now,
            amount_cents=5000,
            status=AttemptStatus.UNKNOWN,
            reference="t-1",
        )
        assert again.last_outcome(ROUTE) == outcome
        assert again.follows() == [(ROUTE, follow)]
        await again.async_remove()
        gone = MoneyLedger(second, ENTRY)
        await gone.async_load()
        assert gone.find(ROUTE, "a") is None
        await second.async_stop(force=True)


async def test_a_utc_evening_is_still_the_local_day(
    ledger: MoneyLedger, freezer: FrozenDateTimeFactory
) -> None:
    """At 20:00 in New York it is already tomorrow in UTC: the runs of today still count."""
    freezer.move_to("2026-12-01T23:30:00+00:00")  # 18:30 in New York
    await ledger.async_reserve(RULE, attempt("evening", cents=500))
    freezer.move_to("2026-12-02T01:00:00+00:00")  # 20:00 in New York, 2 December in UTC
    assert ledger.runs_today(RULE, dt_util.utcnow()) == 1
    assert ledger.runs_today(RULE, dt_util.now()) == 1
    assert ledger.moved_today_cents(RULE, dt_util.utcnow()) == 500
