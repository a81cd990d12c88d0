"""The money ledger: every live money action of an entry, persisted before its request is sent.

Limits are counted from here: a rule's live runs today and the time of its last live run, a
route's amount moved today. Nothing is a separate counter that could drift: each figure is
derived from the attempts of the current local day. An attempt is saved (``reserved``) before
its request leaves, so a restart, a crash or a concurrent call can never see less than what may
have been sent; only a definite refusal (``released``) gives its share back.

The ledger also keeps each subentry's last outcome (live or simulated), which its sensors show,
and the Sequence ids still being followed, so that a restart resumes following them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NotRequired, TypedDict

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect, async_dispatcher_send
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN

STORAGE_VERSION = 1
KEEP = timedelta(days=2)
"""Attempts older than this are pruned: longer than a local day (the daily limits) plus the
longest minimum interval between runs a rule may have (a day), and than Sequence remembers an
idempotency key (24 hours)."""


class AttemptStatus(StrEnum):
    """Where a live attempt stands. Every status but ``released`` counts against the limits."""

    RESERVED = "reserved"
    """Saved; the request is being sent or its answer is awaited."""
    SENT = "sent"
    """Sequence accepted it; the result is being followed."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """Sequence accepted it, then it failed (a rule run still counts as a run)."""
    UNKNOWN = "unknown"
    """Sent, or maybe sent, without a definite answer: it counts until someone knows better."""
    RELEASED = "released"
    """Definitely not executed (refused before it ran, or a transfer that moved nothing)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One live money action, as the limits see it."""

    key: str
    """The idempotency key it was (or will be) sent with."""
    fingerprint: str
    """What was asked (a hash of the request), to refuse one key reused for another request."""
    at: datetime
    amount_cents: int | None = None
    status: AttemptStatus = AttemptStatus.RESERVED
    reference: str | None = None
    """Sequence's execution or transfer id, once known."""

    @property
    def counts(self) -> bool:
        """Whether it counts against the limits."""
        return self.status is not AttemptStatus.RELEASED


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What the subentry's sensors show of its latest action, live or simulated."""

    at: datetime
    result: str
    """The sensor's enum value: ``executed``, ``triggered``, ``simulated``, ``complete``, ..."""
    simulated: bool = False
    reference: str | None = None
    amount_cents: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Follow:
    """A Sequence execution or transfer still being followed (resumed after a restart)."""

    reference: str
    key: str
    started_at: datetime
    context_id: str | None = None
    """The context of the call that started it, so its end is logged as caused by that call."""
    user_id: str | None = None


@dataclass(slots=True)
class _Book:
    attempts: list[Attempt] = field(default_factory=list)
    last: Outcome | None = None
    follows: list[Follow] = field(default_factory=list)


class _StoredAttempt(TypedDict):
    key: str
    fingerprint: str
    at: str
    amount_cents: int | None
    status: str
    reference: str | None


class _StoredOutcome(TypedDict):
    at: str
    result: str
    simulated: bool
    reference: str | None
    amount_cents: int | None


class _StoredFollow(TypedDict):
    reference: str
    key: str
    started_at: str
    context_id: NotRequired[str | None]
    user_id: NotRequired[str | None]


class _StoredBook(TypedDict):
    attempts: list[_StoredAttempt]
    last: _StoredOutcome | None
    follows: list[_StoredFollow]


class _StoredLedger(TypedDict):
    subentries: dict[str, _StoredBook]


def ledger_signal(entry_id: str, subentry_id: str) -> str:
    """The dispatcher signal sent whenever a subentry's ledger changes."""
    return f"{DOMAIN}_ledger_{entry_id}_{subentry_id}"


def local_day_start(now: datetime | None = None) -> datetime:
    """The start of the local calendar day (Home Assistant's time zone) ``now`` falls on.

    ``now`` may be in any time zone: Home Assistant's ``start_of_local_day`` takes a
    datetime's own date, which for a UTC time is tomorrow's every evening west of Greenwich.
    """
    return dt_util.start_of_local_day(dt_util.as_local(now or dt_util.utcnow()))


class MoneyLedger:
    """One entry's live attempts, outcomes and follows, in one ``Store``."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Bind the ledger to its entry's store (nothing is read until ``async_load``)."""
        self._hass = hass
        self._entry_id = entry_id
        self._store: Store[_StoredLedger] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.money.{entry_id}", private=True, atomic_writes=True
        )
        self._books: dict[str, _Book] = {}

    async def async_load(self) -> None:
        """Read what was saved (nothing the first time)."""
        stored = await self._store.async_load()
        self._books = {
            subentry_id: _book_from_storage(book)
            for subentry_id, book in (stored or {"subentries": {}})["subentries"].items()
        }

    async def async_remove(self) -> None:
        """Delete the stored ledger (the entry itself is being removed)."""
        self._books.clear()
        await self._store.async_remove()

    # Reading: what the limits and the sensors need.

    def attempts_today(
        self, subentry_id: str, now: datetime | None = None, *, excluding: str | None = None
    ) -> list[Attempt]:
        """The subentry's counted attempts of the current local day, oldest first.

        ``excluding``: leave out the attempt sent with this key (a call that repeats it is
        checked against the others).
        """
        since = local_day_start(now)
        return [
            attempt
            for attempt in self._book(subentry_id).attempts
            if attempt.counts and attempt.at >= since and attempt.key != excluding
        ]

    def runs_today(
        self, subentry_id: str, now: datetime | None = None, *, excluding: str | None = None
    ) -> int:
        """Live runs that count today."""
        return len(self.attempts_today(subentry_id, now, excluding=excluding))

    def moved_today_cents(
        self, subentry_id: str, now: datetime | None = None, *, excluding: str | None = None
    ) -> int:
        """Cents moved (or reserved, or of unknown outcome) today."""
        return sum(
            attempt.amount_cents or 0
            for attempt in self.attempts_today(subentry_id, now, excluding=excluding)
        )

    def last_live_at(self, subentry_id: str, *, excluding: str | None = None) -> datetime | None:
        """When the newest counted attempt of the last two days was made."""
        return max(
            (
                attempt.at
                for attempt in self._book(subentry_id).attempts
                if attempt.counts and attempt.key != excluding
            ),
            default=None,
        )

    def find(self, subentry_id: str, key: str) -> Attempt | None:
        """The newest attempt sent with ``key``, if any is remembered."""
        return next((a for a in reversed(self._book(subentry_id).attempts) if a.key == key), None)

    def last_outcome(self, subentry_id: str) -> Outcome | None:
        """The latest outcome its sensors show."""
        return self._book(subentry_id).last

    def subentry_ids(self) -> set[str]:
        """The subentries the ledger holds anything about."""
        return set(self._books)

    def follows(self) -> list[tuple[str, Follow]]:
        """Every (subentry id, follow) still open, to resume after a restart."""
        return [
            (subentry_id, follow)
            for subentry_id, book in self._books.items()
            for follow in book.follows
        ]

    # Writing: each change is saved before the caller goes on.

    async def async_reserve(self, subentry_id: str, attempt: Attempt) -> None:
        """Record a live attempt before its request is sent, and save it."""
        book = self._book(subentry_id, create=True)
        book.attempts.append(attempt)
        self._prune(book, attempt.at)
        await self._async_save(subentry_id)

    async def async_renew(self, subentry_id: str, key: str, at: datetime) -> None:
        """Count the attempt sent with ``key`` from ``at`` on: it is being sent again.

        An attempt whose outcome is unknown may never have run; sent again, it may run now,
        so it counts now (its day, the minimum interval), and is ``reserved`` again.
        """
        self._update_newest(subentry_id, key, at=at, status=AttemptStatus.RESERVED)
        await self._async_save(subentry_id)

    async def async_set_status(
        self, subentry_id: str, key: str, status: AttemptStatus, reference: str | None = None
    ) -> None:
        """Move the attempt sent with ``key`` to ``status`` (and note Sequence's id)."""
        self._update_newest(subentry_id, key, status=status, reference=reference)
        await self._async_save(subentry_id)

    def _update_newest(
        self,
        subentry_id: str,
        key: str,
        *,
        status: AttemptStatus,
        at: datetime | None = None,
        reference: str | None = None,
    ) -> None:
        """Change the newest attempt sent with ``key`` (nothing when there is none)."""
        attempts = self._book(subentry_id, create=True).attempts
        for index in range(len(attempts) - 1, -1, -1):
            attempt = attempts[index]
            if attempt.key == key:
                attempts[index] = replace(
                    attempt,
                    status=status,
                    at=at or attempt.at,
                    reference=reference or attempt.reference,
                )
                return

    async def async_record_outcome(
        self, subentry_id: str, outcome: Outcome, *, follow: Follow | None = None
    ) -> None:
        """Set the subentry's latest outcome; open a follow, or close the one it ends."""
        book = self._book(subentry_id, create=True)
        book.last = outcome
        book.follows = [item for item in book.follows if item.reference != outcome.reference]
        if follow is not None:
            book.follows.append(follow)
        await self._async_save(subentry_id)

    async def async_record_follow(
        self, subentry_id: str, outcome: Outcome, *, finished: bool
    ) -> None:
        """What a follow learned about ``outcome.reference``; close the follow when finished.

        The sensors show it unless they already show a newer action (``outcome.at`` is when
        the followed action was made): a run that ends late does not hide the next one.
        """
        book = self._book(subentry_id, create=True)
        last = book.last
        if last is None or last.reference == outcome.reference or last.at <= outcome.at:
            book.last = outcome
        if finished:
            book.follows = [item for item in book.follows if item.reference != outcome.reference]
        await self._async_save(subentry_id)

    async def async_forget(self, subentry_id: str) -> None:
        """Drop everything about a removed subentry."""
        if self._books.pop(subentry_id, None) is not None:
            await self._async_save(subentry_id)

    @callback
    def async_subscribe(self, subentry_id: str, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after each change of the subentry's ledger."""
        return async_dispatcher_connect(
            self._hass, ledger_signal(self._entry_id, subentry_id), listener
        )

    def _book(self, subentry_id: str, *, create: bool = False) -> _Book:
        if create:
            return self._books.setdefault(subentry_id, _Book())
        return self._books.get(subentry_id) or _Book()

    @staticmethod
    def _prune(book: _Book, now: datetime) -> None:
        horizon = now - KEEP
        book.attempts = [attempt for attempt in book.attempts if attempt.at >= horizon]

    async def _async_save(self, subentry_id: str) -> None:
        await self._store.async_save(
            {
                "subentries": {
                    book_id: _book_to_storage(book) for book_id, book in self._books.items()
                }
            }
        )
        async_dispatcher_send(self._hass, ledger_signal(self._entry_id, subentry_id))


def _book_to_storage(book: _Book) -> _StoredBook:
    return {
        "attempts": [
            {
                "key": attempt.key,
                "fingerprint": attempt.fingerprint,
                "at": attempt.at.isoformat(),
                "amount_cents": attempt.amount_cents,
                "status": attempt.status.value,
                "reference": attempt.reference,
            }
            for attempt in book.attempts
        ],
        "last": None
        if book.last is None
        else {
            "at": book.last.at.isoformat(),
            "result": book.last.result,
            "simulated": book.last.simulated,
            "reference": book.last.reference,
            "amount_cents": book.last.amount_cents,
        },
        "follows": [
            {
                "reference": follow.reference,
                "key": follow.key,
                "started_at": follow.started_at.isoformat(),
                "context_id": follow.context_id,
                "user_id": follow.user_id,
            }
            for follow in book.follows
        ],
    }


def _book_from_storage(stored: _StoredBook) -> _Book:
    last = stored["last"]
    return _Book(
        attempts=[
            Attempt(
                key=item["key"],
                fingerprint=item["fingerprint"],
                at=datetime.fromisoformat(item["at"]),
                amount_cents=item["amount_cents"],
                status=AttemptStatus(item["status"]),
                reference=item["reference"],
            )
            for item in stored["attempts"]
        ],
        last=None
        if last is None
        else Outcome(
            at=datetime.fromisoformat(last["at"]),
            result=last["result"],
            simulated=last["simulated"],
            reference=last["reference"],
            amount_cents=last["amount_cents"],
        ),
        follows=[
            Follow(
                reference=item["reference"],
                key=item["key"],
                started_at=datetime.fromisoformat(item["started_at"]),
                context_id=item.get("context_id"),
                user_id=item.get("user_id"),
            )
            for item in stored["follows"]
        ],
    )
