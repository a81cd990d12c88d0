"""Moving money on a transfer route: simulation first, then live, through the money guard.

A call (``sequence.transfer``) goes, in this order: checks that need no request (amount,
description, key), the route's limits (checked, not yet reserved), the simulation (the same
request with ``simulation: true`` and a key of its own, derived from the call's), and only if
Sequence accepted it: the amount reserved under the entry's lock (the limits checked again) and
saved, the live request with the call's key, and its settlement. A refused simulation ends the
call with nothing sent live; ``simulate: true`` stops after the simulation.

A live transfer is followed (``GET /transfers/{id}``) until it settles or a day has passed:
each status change updates the route's sensors and fires ``sequence_transfer``; once complete
the accounts are polled, so balances follow. A transfer that ends without moving money gives
its amount back to the day's limit; one whose outcome is unknown keeps it.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
import re
from typing import Any, Final, Protocol

from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from .activity import transfer_event_data
from .api import SequenceError, Transfer
from .audit import AuditOutcome, MoneyAction
from .const import DOMAIN, EVENT_TRANSFER, MIN_TRANSFER_CENTS, SUBENTRY_ROUTE
from .coordinator import SequenceConfigEntry, SequenceCoordinator
from .follow import Pending, after_failed_look
from .guard import (
    AUDIT_OUTCOME,
    MoneyCall,
    MoneyGuard,
    Refusal,
    Reservation,
    cents_text,
    derive_idempotency_key,
    request_fingerprint,
)
from .ledger import Attempt, AttemptStatus, Follow, Outcome
from .money import (
    SIMULATION_PURPOSE,
    amount_cents,
    call_key,
    follow_context,
    valid_key,
)
from .money_runner import MoneyRunner
from .subentry_data import RouteSettings

SEQUENCE_STATUSES: Final = (
    "PENDING_APPROVAL",
    "PROCESSING",
    "PENDING",
    "COMPLETE",
    "INCOMPLETE",
    "ERROR",
    "CANCELLED",
)
COMPLETE: Final = "COMPLETE"
FAILED_STATUSES: Final = frozenset({"ERROR", "CANCELLED", "INCOMPLETE"})
"""Final statuses of a transfer that moved no money."""
TRANSFER_RESULTS: Final = (
    *(status.lower() for status in SEQUENCE_STATUSES),
    "simulated",
    "rejected",
    "rate_limited",
    "failed",
    "unknown",
)
"""Every ``result`` a route's sensors (``Outcome.result``) show: Sequence's statuses in lower
case, ``simulated``, a live request that was refused, rate limited or never sent, and
``unknown`` (no definite answer, or a status this version does not know)."""
DESCRIPTION: Final = re.compile(r"[A-Za-z0-9 ]{0,10}")
"""What Sequence accepts as a transfer's description (it goes on bank statements)."""


class TransferClient(Protocol):
    """What a transfer needs of the Platform API client."""

    async def async_create_transfer(  # noqa: PLR0913 - keyword-only, as the API has them
        self,
        *,
        source_id: str,
        destination_id: str,
        amount_cents: int,
        description: str | None,
        simulation: bool,
        idempotency_key: str,
    ) -> Transfer:
        """``POST /transfers``; the transfer Sequence created."""
        ...

    async def async_get_transfer(self, transfer_id: str) -> Transfer:
        """``GET /transfers/{id}``."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferRequest:
    """One call of ``sequence.transfer``, its data normalized by the action's schema."""

    settings: RouteSettings
    context: Context
    amount: Decimal
    description: str | None = None
    """As given; None: the route's default."""
    simulate: bool = False
    idempotency_key: str | None = None
    """As given; None: derived from the calling context."""


def transfer_result(status: str) -> str:
    """What the route's sensors show for a transfer in Sequence's ``status``."""
    return status.lower() if status in SEQUENCE_STATUSES else "unknown"


class TransferRunner(MoneyRunner[RouteSettings, TransferClient]):
    """Moves money on one entry's transfer routes and follows the transfers."""

    _action = MoneyAction.TRANSFER
    _following = "Sequence transfer"
    _settings_of = staticmethod(RouteSettings.from_subentry)

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SequenceConfigEntry,
        guard: MoneyGuard,
        client: TransferClient | None,
        accounts: SequenceCoordinator,
    ) -> None:
        """Transfer through ``guard`` with the Platform API ``client``.

        ``client`` is None for an access token, which cannot transfer; ``accounts`` is polled
        once a transfer completed.
        """
        super().__init__(hass, entry, guard, client)
        self._accounts = accounts
        self._statuses: dict[str, str] = {}
        """Transfer id -> the last status seen, for ``previous_status`` and status changes."""

    async def async_run(self, request: TransferRequest) -> dict[str, Any]:
        """Simulate the transfer and, unless only a simulation was asked, make it.

        Raises:
            ServiceValidationError: refused before any request (audited).
            HomeAssistantError: Sequence refused the simulation or the transfer, or the
                transfer's result is unknown (audited).
        """
        settings = request.settings
        key = call_key(
            request.idempotency_key,
            request.context,
            settings.subentry_id,
            simulate=request.simulate,
        )
        cents = amount_cents(request.amount)
        description = settings.description if request.description is None else request.description
        body: dict[str, object] = {
            "source": settings.source_id,
            "destination": settings.destination_id,
            "amount_cents": cents,
            "description": description or None,
            "simulation": request.simulate,
        }
        call = MoneyCall(
            action=MoneyAction.TRANSFER,
            entry_id=self._entry.entry_id,
            subentry_id=settings.subentry_id,
            title=settings.name,
            idempotency_key=key if valid_key(key) else "",
            fingerprint=request_fingerprint(body),
            simulated=request.simulate,
            context=request.context,
            amount_cents=cents,
            source_account_id=settings.source_id,
            destination_account_id=settings.destination_id,
        )
        if (client := self._client) is None:
            await self._guard.async_refuse(call, Refusal("not_a_route"))
        if cents is None:
            await self._guard.async_refuse(call, Refusal("invalid_amount"))
        if refusal := _refusal(cents, description, call.idempotency_key):
            await self._guard.async_refuse(call, refusal)
        repeat = await self._guard.async_check(call, settings.limits)
        if repeat is not None and repeat.status is AttemptStatus.SUCCEEDED:
            return await self._async_answer_repeat(settings, call, repeat)
        simulation_key = key if request.simulate else derive_simulation_key(key)
        simulation = await self._async_simulate(
            client,
            settings,
            replace(call, simulated=True, idempotency_key=simulation_key),
            cents,
            description,
        )
        if request.simulate:
            await self._guard.ledger.async_record_outcome(
                settings.subentry_id,
                Outcome(
                    at=dt_util.utcnow(),
                    result="simulated",
                    simulated=True,
                    reference=simulation.id,
                    amount_cents=cents,
                ),
            )
            return _response(settings, simulation, simulated=True)
        return await self._async_transfer(client, settings, call, cents, description)

    @callback
    def async_resume(self) -> None:
        """Follow again the transfers a restart (or reload) interrupted."""
        if (client := self._client) is None:
            return
        ledger = self._guard.ledger
        for subentry_id, follow in ledger.follows():
            subentry = self._entry.subentries.get(subentry_id)
            if subentry is None or subentry.subentry_type != SUBENTRY_ROUTE:
                continue
            last = ledger.last_outcome(subentry_id)
            if last is not None and last.reference == follow.reference:
                status = last.result.upper()
                if status in SEQUENCE_STATUSES:
                    self._statuses[follow.reference] = status
            self._follow(client, subentry_id, follow)

    async def _async_simulate(
        self,
        client: TransferClient,
        settings: RouteSettings,
        call: MoneyCall,
        cents: int,
        description: str,
    ) -> Transfer:
        """The simulation every transfer starts with; raises (audited) unless Sequence accepts.

        ``call`` is the simulation's (its own key). Nothing is reserved: a simulation moves
        nothing.
        """
        try:
            transfer = await client.async_create_transfer(
                source_id=settings.source_id,
                destination_id=settings.destination_id,
                amount_cents=cents,
                description=description or None,
                simulation=True,
                idempotency_key=call.idempotency_key,
            )
        except SequenceError as err:
            failure = self._failure(err, call, simulation=True)
            await self._guard.async_audit(call, AuditOutcome.FAILED, error=failure.error)
            raise failure.error from err
        if not transfer.simulated:
            # Sequence answered a simulation with a live transfer: money may be moving. It
            # counts against the route's limits, and the user is told to check.
            await self._guard.ledger.async_reserve(
                call.subentry_id,
                Attempt(
                    key=call.idempotency_key,
                    fingerprint=call.fingerprint,
                    at=dt_util.utcnow(),
                    amount_cents=cents,
                    status=AttemptStatus.UNKNOWN,
                    reference=transfer.id,
                ),
            )
            error = _error("transfer_result_unknown", idempotency_key=call.idempotency_key)
            await self._guard.async_audit(
                replace(call, simulated=False),
                AuditOutcome.UNKNOWN,
                error=error,
                reference=transfer.id,
            )
            raise error
        if transfer.status in FAILED_STATUSES:
            error = _ended_error(transfer, "transfer_simulation_failed")
            await self._guard.async_audit(
                call,
                AuditOutcome.FAILED,
                error=error,
                reference=transfer.id,
            )
            raise error
        await self._guard.async_audit(call, AuditOutcome.SIMULATED, reference=transfer.id)
        return transfer

    async def _async_transfer(
        self,
        client: TransferClient,
        settings: RouteSettings,
        call: MoneyCall,
        cents: int,
        description: str,
    ) -> dict[str, Any]:
        """The live transfer, its amount reserved first; then its settlement."""
        reservation = await self._guard.async_reserve(call, settings.limits)
        if (repeat := reservation.repeat) is not None and repeat.status is AttemptStatus.SUCCEEDED:
            return await self._async_answer_repeat(settings, call, repeat)
        started = dt_util.utcnow()
        try:
            transfer = await client.async_create_transfer(
                source_id=settings.source_id,
                destination_id=settings.destination_id,
                amount_cents=cents,
                description=description or None,
                simulation=False,
                idempotency_key=call.idempotency_key,
            )
        except SequenceError as err:
            raise await self._async_failed(reservation, err, started) from err
        self._fire_status(transfer, call.context)
        follow = Follow(
            reference=transfer.id,
            key=call.idempotency_key,
            started_at=started,
            context_id=call.context.id,
            user_id=call.context.user_id,
        )
        outcome = Outcome(
            at=started,
            result=transfer_result(transfer.status),
            reference=transfer.id,
            amount_cents=cents,
        )
        if (final := _final(transfer)) is not None:
            status, error = final
            await self._guard.async_settle(reservation, status, outcome, error=error)
            self._completed(transfer)
        else:
            await self._guard.async_settle(reservation, AttemptStatus.SENT, outcome, follow=follow)
            self._follow(client, settings.subentry_id, follow)
        return _response(settings, transfer, simulated=False)

    async def _async_answer_repeat(
        self, settings: RouteSettings, call: MoneyCall, repeat: Attempt
    ) -> dict[str, Any]:
        """A repeat of a transfer that completed: nothing is sent, Sequence's answer is known."""
        await self._guard.async_audit(call, AuditOutcome.SUCCEEDED, reference=repeat.reference)
        return {
            "transfer_id": repeat.reference,
            "status": COMPLETE,
            "amount": cents_text(repeat.amount_cents or 0),
            "simulated": False,
            "source_account_id": settings.source_id,
            "destination_account_id": settings.destination_id,
        }

    async def _async_failed(
        self, reservation: Reservation, err: SequenceError, started: datetime
    ) -> HomeAssistantError:
        """Settle a live request that failed; the error to raise."""
        failure = self._failure(err, reservation.call)
        return await self._guard.async_settle_failure(reservation, failure, started)

    # Following a live transfer.

    async def _async_check(
        self, client: TransferClient, subentry_id: str, follow: Follow, *, last: bool
    ) -> Pending | None:
        """One look at the transfer; None once it settled (or the route was removed).

        ``last``: a day has passed; not settled (or unreadable), it is given up.
        """
        if (settings := self._settings(subentry_id)) is None:
            return None
        try:
            transfer = await client.async_get_transfer(follow.reference)
        except SequenceError as err:
            pending = after_failed_look(err, follow.started_at)
        else:
            pending = await self._async_look(settings, follow, transfer)
            if pending is None:
                return None
        if pending is None or last:
            await self._async_lose(settings, follow)
            return None
        return pending

    async def _async_look(
        self, settings: RouteSettings, follow: Follow, transfer: Transfer
    ) -> Pending | None:
        """What the transfer's status means: a change told, a settlement recorded."""
        subentry_id = settings.subentry_id
        changed = self._fire_status(transfer, follow_context(follow))
        ledger = self._guard.ledger
        attempt = ledger.find(subentry_id, follow.key)
        outcome = Outcome(
            at=follow.started_at,
            result=transfer_result(transfer.status),
            reference=transfer.id,
            amount_cents=None if attempt is None else attempt.amount_cents,
        )
        if (final := _final(transfer)) is None:
            if changed:
                await ledger.async_record_follow(subentry_id, outcome, finished=False)
            return Pending()
        status, error = final
        await ledger.async_set_status(subentry_id, follow.key, status, transfer.id)
        await ledger.async_record_follow(subentry_id, outcome, finished=True)
        await self._guard.async_audit(
            self._follow_call(settings, follow, attempt),
            AUDIT_OUTCOME[status],
            error=error,
            reference=transfer.id,
        )
        self._completed(transfer)
        return None

    async def _async_lose(self, settings: RouteSettings, follow: Follow) -> None:
        """Stop following without a final status (a day passed, or it cannot be read)."""
        ledger = self._guard.ledger
        subentry_id = settings.subentry_id
        attempt = ledger.find(subentry_id, follow.key)
        await ledger.async_set_status(subentry_id, follow.key, AttemptStatus.UNKNOWN)
        await ledger.async_record_follow(
            subentry_id,
            Outcome(
                at=follow.started_at,
                result="unknown",
                reference=follow.reference,
                amount_cents=None if attempt is None else attempt.amount_cents,
            ),
            finished=True,
        )
        self._statuses.pop(follow.reference, None)
        error = _error("transfer_result_unknown", idempotency_key=follow.key)
        await self._guard.async_audit(
            self._follow_call(settings, follow, attempt),
            AuditOutcome.UNKNOWN,
            error=error,
            reference=follow.reference,
        )

    def _completed(self, transfer: Transfer) -> None:
        """A transfer that settled: forget its status; a complete one changed balances."""
        self._statuses.pop(transfer.id, None)
        if transfer.status == COMPLETE:
            self._entry.async_create_task(self._hass, self._accounts.async_request_refresh())

    def _fire_status(self, transfer: Transfer, context: Context) -> bool:
        """Fire ``sequence_transfer`` if the transfer is new or its status changed.

        Activity (when on) fires the same event for the transfers it polls: the two share
        what they have told, so no status change is told twice.
        """
        previous = self._statuses.get(transfer.id)
        activity = self._entry.runtime_data.activity
        if activity is not None:
            previous = activity.transfer_status(transfer.id) or previous
        if previous == transfer.status:
            return False
        self._statuses[transfer.id] = transfer.status
        if activity is not None:
            activity.note_transfer_status(transfer.id, transfer.status)
        self._hass.bus.async_fire(
            EVENT_TRANSFER,
            transfer_event_data(self._entry.entry_id, transfer, previous),
            context=context,
        )
        return True

    def _follow_call(
        self, settings: RouteSettings, follow: Follow, attempt: Attempt | None
    ) -> MoneyCall:
        """The call a follow belongs to, as the audit trail records it."""
        return self._followed_call(
            settings.subentry_id,
            settings.name,
            follow,
            attempt,
            source_account_id=settings.source_id,
            destination_account_id=settings.destination_id,
        )


def derive_simulation_key(key: str) -> str:
    """The idempotency key of a live transfer's simulation, derived from the live one's."""
    return derive_idempotency_key(key, SIMULATION_PURPOSE)


def _refusal(cents: int, description: str, key: str) -> Refusal | None:
    """Why the call cannot go out, whatever the limits say."""
    if cents < MIN_TRANSFER_CENTS:
        return Refusal("transfer_minimum", {"minimum": cents_text(MIN_TRANSFER_CENTS)})
    if not DESCRIPTION.fullmatch(description):
        return Refusal("invalid_description")
    if not key:
        return Refusal("invalid_idempotency_key")
    return None


def _final(transfer: Transfer) -> tuple[AttemptStatus, HomeAssistantError | None] | None:
    """A settled transfer: its attempt's status, and why it failed."""
    if transfer.status == COMPLETE:
        return AttemptStatus.SUCCEEDED, None
    if transfer.status in FAILED_STATUSES:
        return AttemptStatus.RELEASED, _ended_error(transfer, "transfer_failed")
    return None


def _ended_error(transfer: Transfer, key: str) -> HomeAssistantError:
    """Why a transfer (or its simulation) ended without moving money."""
    if transfer.error_code == "INSUFFICIENT_FUNDS":
        return _error("insufficient_funds")
    return _error(key, status=transfer.status)


def _error(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _response(settings: RouteSettings, transfer: Transfer, *, simulated: bool) -> dict[str, Any]:
    return {
        "transfer_id": transfer.id,
        "status": transfer.status,
        "amount": str(transfer.amount),
        "simulated": simulated,
        "source_account_id": settings.source_id,
        "destination_account_id": settings.destination_id,
    }
