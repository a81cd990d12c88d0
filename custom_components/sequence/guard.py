"""The money guard: the one gate every rule run and every transfer passes.

It answers, for one entry: may this live action go out now, within the limits the user set? If
so it reserves the action's share of the limits in the ledger, under the entry's lock and saved
before the caller sends anything, so two concurrent calls, a retry or a restart can never
exceed a limit together. It also settles each action's outcome (a definite failure gives the
share back; an unknown outcome keeps it) and writes every outcome, refusals included, to the
audit trail.

What a limit is differs between rules (a minimum time between runs, runs per day) and transfer
routes (an amount per transfer, an amount per day); both are :class:`Limits` here, so there is
one lock, one ledger and one audit trail for both.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import hashlib
import json
from typing import NoReturn, Protocol
import uuid

from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .audit import AuditOutcome, AuditRecord, AuditTrail, MoneyAction
from .const import DOMAIN
from .errors import Executed, MoneyFailure
from .ledger import Attempt, AttemptStatus, Follow, MoneyLedger, Outcome

UNCERTAIN = frozenset({AttemptStatus.RESERVED, AttemptStatus.UNKNOWN})
"""Attempts Sequence may never have run: sent again, they may run now, so they must fit the
limits now (not counting themselves) and count from now on."""
KEY_REMEMBERED = timedelta(hours=23)
"""How long an earlier attempt's key makes a call a repeat. Sequence remembers a key for 24
hours; an hour less, so that a key it may have forgotten never goes out without a share (the
other way round, a key it still remembers costs a share that runs nothing: safe)."""
"""What Sequence accepts in the ``idempotency-key`` header (at most 36 characters)."""
_KEY_NAMESPACE = uuid.UUID("5b6f4a52-6d0e-4b2e-9f3c-2a9e7d1c8b40")
"""Namespace of the keys derived here (any fixed UUID: it only has to never change)."""


def derive_idempotency_key(*parts: str) -> str:
    """A stable key for one intent (36 characters): the same parts give the same key.

    Derived from the calling context and the subentry, an automation that retries within the
    same run (same context) cannot run a rule, or move money, twice.
    """
    return str(uuid.uuid5(_KEY_NAMESPACE, "\x1f".join(parts)))


def request_fingerprint(body: dict[str, object]) -> str:
    """A short hash of what a request asks, to catch one idempotency key reused for another."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a call may not go out: a translation key of the integration's exceptions."""

    key: str
    placeholders: dict[str, str] = field(default_factory=dict)


class Limits(Protocol):
    """A subentry's limits, checked against the ledger under the entry's lock."""

    def refusal(
        self,
        ledger: MoneyLedger,
        subentry_id: str,
        now: datetime,
        amount_cents: int | None,
        *,
        excluding: str | None = None,
    ) -> Refusal | None:
        """Why this live action would break a limit now, or None when it may go.

        ``excluding``: the key of an earlier attempt this action sends again (not counted).
        """
        ...


@dataclass(frozen=True, slots=True)
class RuleLimits:
    """A rule's limits: a minimum time between live runs and a number of live runs a day."""

    min_interval: timedelta
    max_runs_per_day: int

    def refusal(
        self,
        ledger: MoneyLedger,
        subentry_id: str,
        now: datetime,
        amount_cents: int | None,
        *,
        excluding: str | None = None,
    ) -> Refusal | None:
        """Too soon after the last live run, or the day's runs are used up."""
        last = ledger.last_live_at(subentry_id, excluding=excluding)
        if last is not None and now - last < self.min_interval:
            wait = self.min_interval - (now - last)
            return Refusal(
                "rule_too_soon",
                {
                    "minutes": str(int(self.min_interval.total_seconds() // 60)),
                    "wait": str(max(1, -(-int(wait.total_seconds()) // 60))),
                },
            )
        if ledger.runs_today(subentry_id, now, excluding=excluding) >= self.max_runs_per_day:
            return Refusal("rule_daily_limit", {"limit": str(self.max_runs_per_day)})
        return None


@dataclass(frozen=True, slots=True)
class RouteLimits:
    """A transfer route's limits: an amount per transfer and an amount per local day."""

    max_per_transfer_cents: int
    max_per_day_cents: int

    def refusal(
        self,
        ledger: MoneyLedger,
        subentry_id: str,
        now: datetime,
        amount_cents: int | None,
        *,
        excluding: str | None = None,
    ) -> Refusal | None:
        """Over the per-transfer maximum, or over what is left of the day's maximum."""
        amount = amount_cents or 0
        if amount > self.max_per_transfer_cents:
            return Refusal(
                "transfer_over_maximum", {"maximum": cents_text(self.max_per_transfer_cents)}
            )
        moved = ledger.moved_today_cents(subentry_id, now, excluding=excluding)
        if moved + amount > self.max_per_day_cents:
            left = max(0, self.max_per_day_cents - moved)
            return Refusal(
                "transfer_over_daily_maximum",
                {"maximum": cents_text(self.max_per_day_cents), "left": cents_text(left)},
            )
        return None


class NoLimits:
    """The limits of a simulation: none, since it moves nothing."""

    def refusal(
        self,
        ledger: MoneyLedger,
        subentry_id: str,
        now: datetime,
        amount_cents: int | None,
        *,
        excluding: str | None = None,
    ) -> Refusal | None:
        """Never a refusal."""
        return None


NO_LIMITS = NoLimits()


def cents_text(cents: int) -> str:
    """``5000`` -> ``"50.00"`` (exact: integer arithmetic only)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MoneyCall:
    """One call of a money action: what, on which subentry, by whom."""

    action: MoneyAction
    entry_id: str
    subentry_id: str
    """Empty for a call refused because it named no subentry of the entry."""
    title: str
    """The subentry's title, for the logbook ("Sequence rule Round-ups")."""
    idempotency_key: str
    """The key sent with the request; empty for a call refused before it had a valid one."""
    fingerprint: str
    simulated: bool
    context: Context
    amount_cents: int | None = None
    rule_id: str | None = None
    source_account_id: str | None = None
    destination_account_id: str | None = None
    sequence_remembers_key: bool = True
    """Whether Sequence documents remembering the idempotency key (the Platform API, 24 hours).
    The Remote API only accepts the header: a repeat of a request whose outcome is unknown
    may run again there, so it is a new call with a share of its own."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reservation:
    """A live call allowed to go out, with its share of the limits saved in the ledger."""

    call: MoneyCall
    repeat: Attempt | None = None
    """The earlier attempt with the same key and request, when this call repeats it: no new
    share was reserved, and Sequence answers it from its idempotency memory."""


class MoneyGuard:
    """The gate of one entry's money actions (see the module's docstring)."""

    def __init__(self, hass: HomeAssistant, ledger: MoneyLedger, audit: AuditTrail) -> None:
        """Guard with the entry's ledger and audit trail."""
        self._hass = hass
        self.ledger = ledger
        self.audit = audit
        self._lock = asyncio.Lock()

    async def async_check(self, call: MoneyCall, limits: Limits) -> Attempt | None:
        """Refuse the call if it may not go out now; reserve nothing.

        Returns the earlier attempt the call repeats (same idempotency key and request, its
        share still counted), or None for a new call. A repeat of an attempt Sequence accepted
        needs no limit: Sequence answers it without running it again. A repeat of an attempt
        whose outcome is unknown (``UNCERTAIN``) may run now, so it must fit the limits now,
        not counting itself. An attempt older than ``KEY_REMEMBERED`` is not repeated: Sequence
        may have forgotten its key and would run the call again, so it is a new call, with a
        share of its own; so is a repeat of an attempt whose outcome is unknown when Sequence
        does not promise to remember keys (``MoneyCall.sequence_remembers_key``).

        A call whose idempotency key the ledger knows with another request is refused, as
        Sequence would refuse it (``IDEMPOTENCY_KEY_MISMATCH``).

        Raises:
            ServiceValidationError: refused (also recorded in the audit trail).
        """
        now = dt_util.utcnow()
        earlier = self.ledger.find(call.subentry_id, call.idempotency_key)
        if earlier is not None and now - earlier.at >= KEY_REMEMBERED:
            earlier = None  # Sequence may have forgotten it: this call would run again
        if earlier is not None and earlier.fingerprint != call.fingerprint:
            await self.async_refuse(call, Refusal("idempotency_key_reused"))
        if earlier is not None and earlier.counts and earlier.status not in UNCERTAIN:
            return earlier
        remembered = call.sequence_remembers_key
        repeat = earlier if earlier is not None and earlier.counts and remembered else None
        if refusal := limits.refusal(
            self.ledger,
            call.subentry_id,
            now,
            call.amount_cents,
            excluding=None if repeat is None else repeat.key,
        ):
            await self.async_refuse(call, refusal)
        return repeat

    async def async_reserve(self, call: MoneyCall, limits: Limits) -> Reservation:
        """Check ``limits`` and reserve the call's share, under the lock; else refuse.

        A repeat (see :meth:`async_check`) needs no new share: Sequence will not run it twice.
        One of an attempt whose outcome is unknown counts from now on (it may run now).

        Raises:
            ServiceValidationError: refused (also recorded in the audit trail).
        """
        async with self._lock:
            if (earlier := await self.async_check(call, limits)) is not None:
                if earlier.status in UNCERTAIN:
                    await self.ledger.async_renew(call.subentry_id, earlier.key, dt_util.utcnow())
                return Reservation(call=call, repeat=earlier)
            await self.ledger.async_reserve(
                call.subentry_id,
                Attempt(
                    key=call.idempotency_key,
                    fingerprint=call.fingerprint,
                    at=dt_util.utcnow(),
                    amount_cents=call.amount_cents,
                ),
            )
        return Reservation(call=call)

    async def async_refuse(self, call: MoneyCall, refusal: Refusal) -> NoReturn:
        """Record a refusal and raise it as a translated ``ServiceValidationError``."""
        await async_refuse(self.audit, call, refusal)

    async def async_settle(  # noqa: PLR0913 - keyword-only
        self,
        reservation: Reservation,
        status: AttemptStatus,
        outcome: Outcome,
        *,
        reason: str | None = None,
        error: HomeAssistantError | None = None,
        follow: Follow | None = None,
    ) -> None:
        """Move the live attempt to ``status``, show ``outcome`` and audit it.

        ``follow``: Sequence is still at it; the follow is saved with the outcome, so that a
        restart resumes it.

        A repeat that failed before running never gives the earlier attempt's share back: the
        earlier request may have run (Sequence accepted it, or its outcome is unknown, and a
        refusal of the repeat, such as a 429, says nothing about it).
        """
        call = reservation.call
        kept = status
        if (earlier := reservation.repeat) is not None and status is AttemptStatus.RELEASED:
            kept = AttemptStatus.UNKNOWN if earlier.status in UNCERTAIN else earlier.status
        await self.ledger.async_set_status(
            call.subentry_id, call.idempotency_key, kept, outcome.reference
        )
        await self.ledger.async_record_outcome(call.subentry_id, outcome, follow=follow)
        await self.async_audit(
            call, AUDIT_OUTCOME[status], reason=reason, error=error, reference=outcome.reference
        )

    async def async_settle_failure(
        self, reservation: Reservation, failure: MoneyFailure, started: datetime
    ) -> HomeAssistantError:
        """Settle a live request that failed, as ``failure`` says it went; the error to raise.

        Refused or never sent: its share is given back (unless it repeats an earlier request,
        see :meth:`async_settle`). Unknown: kept. Still running under the same key (409): what
        the first request holds stays as it is, and a new share is kept as unknown.
        """
        call = reservation.call
        if failure.executed is Executed.RUNNING:
            if reservation.repeat is None:
                await self.ledger.async_set_status(
                    call.subentry_id, call.idempotency_key, AttemptStatus.UNKNOWN
                )
            await self.async_audit(call, AuditOutcome.UNKNOWN, error=failure.error)
            return failure.error
        await self.async_settle(
            reservation,
            AttemptStatus.RELEASED if failure.executed is Executed.NO else AttemptStatus.UNKNOWN,
            Outcome(at=started, result=failure.result, amount_cents=call.amount_cents),
            reason=failure.reason,
            error=failure.error,
        )
        return failure.error

    async def async_audit(
        self,
        call: MoneyCall,
        outcome: AuditOutcome,
        *,
        reason: str | None = None,
        error: HomeAssistantError | None = None,
        reference: str | None = None,
    ) -> None:
        """Write one outcome of ``call`` to the audit trail (store, event, logbook)."""
        await async_audit(
            self.audit, call, outcome, reason=reason, error=error, reference=reference
        )


async def async_refuse(trail: AuditTrail, call: MoneyCall, refusal: Refusal) -> NoReturn:
    """Record a refusal in ``trail`` and raise it as a translated ``ServiceValidationError``.

    Also for calls no guard can take, such as one naming an entry that is not loaded.
    """
    raise await async_refusal(trail, call, refusal)


async def async_refusal(
    trail: AuditTrail, call: MoneyCall, refusal: Refusal
) -> ServiceValidationError:
    """Record a refusal in ``trail``; the translated ``ServiceValidationError`` to raise."""
    error = ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=refusal.key,
        translation_placeholders=refusal.placeholders,
    )
    await async_audit(trail, call, AuditOutcome.REFUSED, reason=refusal.key, error=error)
    return error


async def async_audit(  # noqa: PLR0913 - keyword-only
    trail: AuditTrail,
    call: MoneyCall,
    outcome: AuditOutcome,
    *,
    reason: str | None = None,
    error: HomeAssistantError | None = None,
    reference: str | None = None,
) -> None:
    """Write one outcome of ``call`` to ``trail`` (store, event, logbook).

    ``reason`` defaults to the error's translation key.
    """
    if reason is None and error is not None:
        reason = error.translation_key
    is_rule = call.action is MoneyAction.TRIGGER_RULE
    record = AuditRecord(
        time=dt_util.utcnow(),
        action=call.action,
        config_entry_id=call.entry_id,
        subentry_id=call.subentry_id or None,
        outcome=outcome,
        reason=reason,
        simulated=call.simulated,
        amount=None if call.amount_cents is None else cents_text(call.amount_cents),
        rule_id=call.rule_id,
        source_account_id=call.source_account_id,
        destination_account_id=call.destination_account_id,
        execution_id=reference if is_rule else None,
        transfer_id=None if is_rule else reference,
        idempotency_key=call.idempotency_key or None,
        user_id=call.context.user_id,
        context_id=call.context.id,
    )
    await trail.async_record(
        record,
        name=f"Sequence {'rule' if is_rule else 'transfer route'} {call.title}",
        message=logbook_message(call, outcome, error),
        context=call.context,
    )


AUDIT_OUTCOME = {
    AttemptStatus.RESERVED: AuditOutcome.UNKNOWN,
    AttemptStatus.SENT: AuditOutcome.SENT,
    AttemptStatus.SUCCEEDED: AuditOutcome.SUCCEEDED,
    AttemptStatus.FAILED: AuditOutcome.FAILED,
    AttemptStatus.UNKNOWN: AuditOutcome.UNKNOWN,
    AttemptStatus.RELEASED: AuditOutcome.FAILED,
}
"""How a settled attempt reads in the audit trail (a released attempt failed before running)."""

RULE_MESSAGES = {
    AuditOutcome.REFUSED: "was refused",
    AuditOutcome.SIMULATED: "ran as a simulation; no money moved",
    AuditOutcome.SENT: "was triggered",
    AuditOutcome.SUCCEEDED: "ran",
    AuditOutcome.FAILED: "failed",
    AuditOutcome.UNKNOWN: "has an unknown result",
}
TRANSFER_MESSAGES = {
    AuditOutcome.REFUSED: "transfer of ${amount} was refused",
    AuditOutcome.SIMULATED: "simulated a transfer of ${amount}; no money moved",
    AuditOutcome.SENT: "sent a transfer of ${amount}",
    AuditOutcome.SUCCEEDED: "moved ${amount}",
    AuditOutcome.FAILED: "transfer of ${amount} failed",
    AuditOutcome.UNKNOWN: "transfer of ${amount} has an unknown result",
}


def logbook_message(
    call: MoneyCall, outcome: AuditOutcome, error: HomeAssistantError | None
) -> str:
    """What the logbook says after the subentry's name, with the reason when there is one."""
    if call.action is MoneyAction.TRIGGER_RULE:
        message = RULE_MESSAGES[outcome]
    else:
        message = TRANSFER_MESSAGES[outcome].format(amount=cents_text(call.amount_cents or 0))
    return message if error is None else f"{message}: {error}"
