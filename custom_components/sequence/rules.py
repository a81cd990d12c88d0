"""Running a rule: one call through the money guard, for either API, and following its run.

A call (``sequence.trigger_rule``) goes, in this order: checks that need no request (the rule's
API allows an amount or a simulation, a valid amount and key), then for a live run the guard
(limits under the entry's lock, the run saved before the request), the request with its
idempotency key, and the settlement: accepted, definitely refused (its share given back), or
of unknown outcome (its share kept; never sent again by the integration). A simulation
(Platform API only) reserves nothing and is audited as one.

A Platform API run is followed (``GET /rules/{id}/executions/{executionId}``) until it is no
longer in progress; then the rule's sensors update and ``sequence_rule_executed`` fires. The
Remote API tells nothing more than "triggered".
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Protocol

from homeassistant.core import Context, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from .api import SequenceError, SequenceRuleSecretError
from .api.models import RuleExecution, RuleExecutionStatus
from .api.remote_rules import RemoteRuleTrigger
from .audit import AuditOutcome, MoneyAction
from .const import DOMAIN, EVENT_RULE_EXECUTED, SUBENTRY_RULE
from .follow import Pending, after_failed_look
from .guard import AUDIT_OUTCOME, NO_LIMITS, MoneyCall, Refusal, Reservation, request_fingerprint
from .ledger import Attempt, AttemptStatus, Follow, Outcome
from .money import amount_cents, call_key, follow_context, valid_key
from .money_runner import MoneyRunner
from .subentry_data import RuleSettings

RULE_RESULTS: Final = (
    "executed",
    "partial",
    "in_progress",
    "failed",
    "triggered",
    "rate_limited",
    "rejected",
    "simulated",
    "unknown",
)
"""Every ``result`` a rule's sensors (``Outcome.result``) and the action's response show."""
EXECUTION_RESULTS: Final[dict[str, str]] = {
    RuleExecutionStatus.EXECUTED: "executed",
    RuleExecutionStatus.PARTIAL: "partial",
    RuleExecutionStatus.FAILED: "failed",
}
_FINISHED: Final[dict[str, tuple[AttemptStatus, AuditOutcome, str | None]]] = {
    RuleExecutionStatus.EXECUTED: (AttemptStatus.SUCCEEDED, AuditOutcome.SUCCEEDED, None),
    RuleExecutionStatus.PARTIAL: (AttemptStatus.SUCCEEDED, AuditOutcome.FAILED, "rule_partial"),
    RuleExecutionStatus.FAILED: (AttemptStatus.FAILED, AuditOutcome.FAILED, "rule_failed"),
}
"""A finished live run: the attempt's status, how the audit reads it, and why."""


class RuleClient(Protocol):
    """What a rule run needs of the Platform API client."""

    async def async_trigger_rule(
        self,
        rule_id: str,
        *,
        idempotency_key: str,
        simulation: bool,
        execute_amount_cents: int | None = None,
    ) -> str:
        """Trigger the rule; Sequence's execution id."""
        ...

    async def async_get_rule_execution(self, rule_id: str, execution_id: str) -> RuleExecution:
        """One execution of the rule."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleRequest:
    """One call of ``sequence.trigger_rule``, its data normalized by the action's schema."""

    settings: RuleSettings
    context: Context
    amount: Decimal | None = None
    simulate: bool = False
    idempotency_key: str | None = None
    """As given; None: derived from the calling context."""


def rule_secret_issue_id(entry_id: str, subentry_id: str) -> str:
    """The repair issue raised while Sequence refuses a Remote API rule's secret."""
    return f"{entry_id}_rule_secret_{subentry_id}"


class RuleRunner(MoneyRunner[RuleSettings, RuleClient]):
    """Runs one entry's rules and follows their Platform API executions.

    Its client is the Platform API client; None for an access token (Remote API triggers).
    """

    _action = MoneyAction.TRIGGER_RULE
    _following = "Sequence rule execution"
    _settings_of = staticmethod(RuleSettings.from_subentry)

    async def async_run(self, request: RuleRequest) -> dict[str, Any]:
        """Run (or simulate) the rule once; the action's response.

        Raises:
            ServiceValidationError: refused before any request (audited).
            HomeAssistantError: Sequence refused it, or its result is unknown (audited).
        """
        settings = request.settings
        key = call_key(
            request.idempotency_key,
            request.context,
            settings.subentry_id,
            simulate=request.simulate,
        )
        cents = None if request.amount is None else amount_cents(request.amount)
        body: dict[str, object] = {"rule_id": settings.rule_id}
        if not settings.is_remote:
            body |= {"execute_amount_cents": cents, "simulation": request.simulate}
        call = MoneyCall(
            action=MoneyAction.TRIGGER_RULE,
            entry_id=self._entry.entry_id,
            subentry_id=settings.subentry_id,
            title=settings.name,
            idempotency_key=key if valid_key(key) else "",
            fingerprint=request_fingerprint(body),
            simulated=request.simulate,
            context=request.context,
            amount_cents=cents,
            rule_id=settings.rule_id,
            sequence_remembers_key=not settings.is_remote,
        )
        client = self._client
        if refusal := _refusal(request, call, remote=client is None):
            await self._guard.async_refuse(call, refusal)
        if client is None:
            return await self._async_run_remote(settings, call)
        if request.simulate:
            return await self._async_simulate(client, settings, call)
        return await self._async_run_platform(client, settings, call)

    @callback
    def async_resume(self) -> None:
        """Follow again the executions a restart (or reload) interrupted."""
        if (client := self._client) is None:
            return
        for subentry_id, follow in self._guard.ledger.follows():
            subentry = self._entry.subentries.get(subentry_id)
            if subentry is not None and subentry.subentry_type == SUBENTRY_RULE:
                self._follow(client, subentry_id, follow)

    async def _async_run_remote(self, settings: RuleSettings, call: MoneyCall) -> dict[str, Any]:
        """Trigger through the Remote API, with the rule's own secret: nothing to follow."""
        reservation = await self._guard.async_reserve(call, settings.limits)
        if (repeat := reservation.repeat) is not None:
            # Triggered before with this key; the Remote API may not recognise it again.
            return await self._async_answer_repeat(settings, call, repeat)
        started = dt_util.utcnow()
        trigger = RemoteRuleTrigger(
            async_get_clientsession(self._hass), settings.trigger_url or "", settings.secret or ""
        )
        try:
            await trigger.async_trigger(idempotency_key=call.idempotency_key)
        except SequenceError as err:
            raise await self._async_failed(reservation, err, started) from err
        ir.async_delete_issue(
            self._hass, DOMAIN, rule_secret_issue_id(call.entry_id, settings.subentry_id)
        )
        await self._guard.async_settle(
            reservation, AttemptStatus.SENT, Outcome(at=started, result="triggered")
        )
        return _response(settings, simulated=False, result="triggered", execution_id=None)

    async def _async_run_platform(
        self, client: RuleClient, settings: RuleSettings, call: MoneyCall
    ) -> dict[str, Any]:
        """Trigger through the Platform API, then follow the execution."""
        reservation = await self._guard.async_reserve(call, settings.limits)
        if (repeat := reservation.repeat) is not None and repeat.status is AttemptStatus.SUCCEEDED:
            return await self._async_answer_repeat(settings, call, repeat)
        started = dt_util.utcnow()
        try:
            execution_id = await client.async_trigger_rule(
                settings.rule_id,
                idempotency_key=call.idempotency_key,
                simulation=False,
                execute_amount_cents=call.amount_cents,
            )
        except SequenceError as err:
            raise await self._async_failed(reservation, err, started) from err
        follow = _new_follow(execution_id, call, started)
        await self._guard.async_settle(
            reservation,
            AttemptStatus.SENT,
            Outcome(
                at=started,
                result="in_progress",
                reference=execution_id,
                amount_cents=call.amount_cents,
            ),
            follow=follow,
        )
        self._follow(client, settings.subentry_id, follow)
        return _response(settings, simulated=False, result="in_progress", execution_id=execution_id)

    async def _async_simulate(
        self, client: RuleClient, settings: RuleSettings, call: MoneyCall
    ) -> dict[str, Any]:
        """Simulate the run (Platform API): nothing reserved, audited and shown as simulated."""
        await self._guard.async_check(call, NO_LIMITS)  # refuses a key used for another request
        started = dt_util.utcnow()
        try:
            execution_id = await client.async_trigger_rule(
                settings.rule_id,
                idempotency_key=call.idempotency_key,
                simulation=True,
                execute_amount_cents=call.amount_cents,
            )
        except SequenceError as err:
            failure = self._failure(err, call, simulation=True)
            await self._guard.async_audit(call, AuditOutcome.FAILED, error=failure.error)
            raise failure.error from err
        follow = _new_follow(execution_id, call, started)
        await self._guard.ledger.async_record_outcome(
            settings.subentry_id,
            Outcome(
                at=started,
                result="simulated",
                simulated=True,
                reference=execution_id,
                amount_cents=call.amount_cents,
            ),
            follow=follow,
        )
        await self._guard.async_audit(call, AuditOutcome.SIMULATED, reference=execution_id)
        self._follow(client, settings.subentry_id, follow)
        return _response(settings, simulated=True, result="simulated", execution_id=execution_id)

    async def _async_answer_repeat(
        self, settings: RuleSettings, call: MoneyCall, repeat: Attempt
    ) -> dict[str, Any]:
        """A repeat of a run Sequence accepted and finished: its answer is known, nothing is sent.

        A Remote API run is finished once triggered: that is all the Remote API tells.
        """
        last = self._guard.ledger.last_outcome(settings.subentry_id)
        if settings.is_remote:
            result = "triggered"
        elif last is not None and last.reference == repeat.reference:
            result = last.result
        else:
            result = "executed"
        await self._guard.async_audit(
            call, AUDIT_OUTCOME[repeat.status], reference=repeat.reference
        )
        return _response(settings, simulated=False, result=result, execution_id=repeat.reference)

    async def _async_failed(
        self, reservation: Reservation, err: SequenceError, started: datetime
    ) -> HomeAssistantError:
        """Settle a live request that failed; the error to raise."""
        call = reservation.call
        error = await self._guard.async_settle_failure(
            reservation, self._failure(err, call), started
        )
        if isinstance(err, SequenceRuleSecretError):
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                rule_secret_issue_id(call.entry_id, call.subentry_id),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="rule_secret_refused",
                translation_placeholders={"title": call.title, "entry_title": self._entry.title},
            )
        return error

    # Following a Platform API execution.

    async def _async_check(
        self, client: RuleClient, subentry_id: str, follow: Follow, *, last: bool
    ) -> Pending | None:
        """One look at the execution; None once it is done (or the rule was removed).

        ``last``: a day has passed; still in progress (or unreadable), it is given up.
        """
        if (settings := self._settings(subentry_id)) is None:
            return None
        try:
            execution = await client.async_get_rule_execution(settings.rule_id, follow.reference)
        except SequenceError as err:
            pending = after_failed_look(err, follow.started_at)
        else:
            if execution.status != RuleExecutionStatus.IN_PROGRESS:
                await self._async_finish(settings, follow, execution)
                return None
            pending = Pending()
        if pending is None or last:
            await self._async_lose(settings, follow)
            return None
        return pending

    async def _async_finish(
        self, settings: RuleSettings, follow: Follow, execution: RuleExecution
    ) -> None:
        ledger = self._guard.ledger
        subentry_id = settings.subentry_id
        if execution.simulated:
            outcome = Outcome(
                at=follow.started_at, result="simulated", simulated=True, reference=execution.id
            )
            await ledger.async_record_follow(subentry_id, outcome, finished=True)
        else:
            attempt = ledger.find(subentry_id, follow.key)
            status, audited, reason = _FINISHED.get(
                execution.status, (AttemptStatus.UNKNOWN, AuditOutcome.UNKNOWN, None)
            )
            await ledger.async_set_status(subentry_id, follow.key, status, execution.id)
            outcome = Outcome(
                at=follow.started_at,
                result=EXECUTION_RESULTS.get(execution.status, "unknown"),
                reference=execution.id,
                amount_cents=None if attempt is None else attempt.amount_cents,
            )
            await ledger.async_record_follow(subentry_id, outcome, finished=True)
            error = None
            if reason is not None:
                error = HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key=reason,
                    translation_placeholders={
                        "failed": str(execution.transfers_failed),
                        "completed": str(execution.transfers_completed),
                    },
                )
            await self._guard.async_audit(
                self._follow_call(settings, follow, attempt),
                audited,
                reason=reason,
                error=error,
                reference=execution.id,
            )
        self._hass.bus.async_fire(
            EVENT_RULE_EXECUTED,
            {
                "config_entry_id": self._entry.entry_id,
                "rule_id": settings.rule_id,
                "execution_id": execution.id,
                "status": execution.status,
                "simulated": execution.simulated,
                "transfers_completed": execution.transfers_completed,
                "transfers_failed": execution.transfers_failed,
            },
            context=follow_context(follow),
        )

    async def _async_lose(self, settings: RuleSettings, follow: Follow) -> None:
        """Stop following without an answer (a day passed, or it cannot be read)."""
        ledger = self._guard.ledger
        subentry_id = settings.subentry_id
        attempt = ledger.find(subentry_id, follow.key)
        if attempt is None or attempt.reference != follow.reference:  # a simulation's
            outcome = Outcome(
                at=follow.started_at, result="simulated", simulated=True, reference=follow.reference
            )
            await ledger.async_record_follow(subentry_id, outcome, finished=True)
            return
        await ledger.async_set_status(subentry_id, follow.key, AttemptStatus.UNKNOWN)
        outcome = Outcome(
            at=follow.started_at,
            result="unknown",
            reference=follow.reference,
            amount_cents=attempt.amount_cents,
        )
        await ledger.async_record_follow(subentry_id, outcome, finished=True)
        error = HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="rule_result_unknown",
            translation_placeholders={"idempotency_key": follow.key},
        )
        await self._guard.async_audit(
            self._follow_call(settings, follow, attempt),
            AuditOutcome.UNKNOWN,
            error=error,
            reference=follow.reference,
        )

    def _follow_call(
        self, settings: RuleSettings, follow: Follow, attempt: Attempt | None
    ) -> MoneyCall:
        """The call a follow belongs to, as the audit trail records it."""
        return self._followed_call(
            settings.subentry_id, settings.name, follow, attempt, rule_id=settings.rule_id
        )


def _refusal(request: RuleRequest, call: MoneyCall, *, remote: bool) -> Refusal | None:
    """Why the call cannot go out, whatever the limits say (``remote``: the entry's API)."""
    if request.settings.is_remote != remote:
        return Refusal("not_a_rule")
    if remote and request.amount is not None:
        return Refusal("rule_amount_remote")
    if remote and request.simulate:
        return Refusal("rule_simulate_remote")
    if request.amount is not None and call.amount_cents is None:
        return Refusal("invalid_amount")
    if not call.idempotency_key:
        return Refusal("invalid_idempotency_key")
    return None


def _new_follow(execution_id: str, call: MoneyCall, started: datetime) -> Follow:
    return Follow(
        reference=execution_id,
        key=call.idempotency_key,
        started_at=started,
        context_id=call.context.id,
        user_id=call.context.user_id,
    )


def _response(
    settings: RuleSettings, *, simulated: bool, result: str, execution_id: str | None
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "rule_id": settings.rule_id,
        "simulated": simulated,
        "result": result,
    }
    if not settings.is_remote:
        response["execution_id"] = execution_id
    return response
