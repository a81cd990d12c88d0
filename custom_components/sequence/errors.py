"""One mapping from the clients' errors to Home Assistant's, for coordinators, flows and actions.

A client error's *kind* is also its translation key everywhere it is shown: ``exceptions``
(toasts, the entry's status while setup retries, the log), ``config.error`` (flow forms) and the
API-problem sensor's ``error_kind``; a kind whose text names the credential has one text per
credential kind (:mod:`.texts`), so every mapping here takes the credential it is about. What
differs between the callers is what happens next:

* a coordinator starts reauthentication for a refused credential (and, for the accounts, a key
  that lost ``READ_ACCOUNTS``, which nothing else can fix), and otherwise fails the poll with a
  ``retry_after`` chosen by the caller (see :mod:`.backoff`);
* a flow puts the kind on the form field it is about;
* something the user asked for (the Refresh button) gets a translated error and never starts
  reauthentication: a missing permission says which one to add;
* a money action (a rule run, a transfer) also learns what became of its request: certainly
  not executed (its share of the limits is given back), maybe executed (kept, and the user is
  told to check Sequence before trying again), or still running (kept).
"""

from dataclasses import dataclass
from enum import StrEnum
import math
from typing import Final

from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import UpdateFailed

from .api import (
    Permission,
    SequenceAuthError,
    SequenceConflictError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceRefusedError,
    SequenceRuleSecretError,
    SequenceServerError,
)
from .audit import MoneyAction
from .const import CONF_API_TOKEN, DOMAIN, KIND_ACCESS_TOKEN
from .texts import text_key

INVALID_AUTH = "invalid_auth"
MISSING_PERMISSION = "missing_permission"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"
CANNOT_CONNECT = "cannot_connect"
UNEXPECTED_RESPONSE = "unexpected_response"
ERROR_KINDS = (
    INVALID_AUTH,
    MISSING_PERMISSION,
    RATE_LIMITED,
    UNAVAILABLE,
    CANNOT_CONNECT,
    UNEXPECTED_RESPONSE,
)
"""Every kind :func:`error_kind` returns."""
PERMISSION_NOT_GRANTED = "permission_not_granted"
"""The exception for a missing permission where signing in again would not help."""

_CREDENTIAL_KINDS = frozenset({INVALID_AUTH, MISSING_PERMISSION})
"""Kinds a flow shows on the credential field rather than on the whole form."""


def error_kind(err: SequenceError) -> str:
    """The kind (and translation key) of a client error.

    An outage (:class:`SequenceServerError`) is checked before the connection errors it
    belongs to, so it is called an outage; ``unexpected_response`` is left for answers that
    cannot be read (and requests Sequence no longer accepts).
    """
    match err:
        case SequenceAuthError():
            return INVALID_AUTH
        case SequencePermissionError():
            return MISSING_PERMISSION
        case SequenceRateLimitError():
            return RATE_LIMITED
        case SequenceServerError():
            return UNAVAILABLE
        case SequenceConnectionError():
            return CANNOT_CONNECT
        case _:
            return UNEXPECTED_RESPONSE


def required_wait(err: SequenceError) -> float | None:
    """Seconds Sequence asked for before the next request (``Retry-After``), if it did.

    A 429's, including the remainder of a block the Platform client is still sitting out, and
    a 5xx's (a 503 may send one).
    """
    if isinstance(err, SequenceRateLimitError | SequenceServerError):
        return err.retry_after
    return None


def update_error(
    err: SequenceError,
    *,
    credential: str,
    retry_after: float | None,
    permission_needs_reauth: bool,
) -> ConfigEntryAuthFailed | UpdateFailed:
    """What a coordinator raises for a failed poll.

    ``permission_needs_reauth``: a missing permission makes this coordinator useless until the
    credential is replaced (the accounts need ``READ_ACCOUNTS``), so it starts reauthentication
    like a refused credential. Otherwise the poll fails and Home Assistant polls again after
    ``retry_after`` seconds (None: at its usual time).
    """
    kind = error_kind(err)
    if kind == INVALID_AUTH or (kind == MISSING_PERMISSION and permission_needs_reauth):
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key=text_key(kind, credential),
            translation_placeholders=_permission_placeholders(err)
            if isinstance(err, SequencePermissionError)
            else None,
        )
    if isinstance(err, SequencePermissionError):
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=PERMISSION_NOT_GRANTED,
            translation_placeholders=_permission_placeholders(err),
            retry_after=retry_after,
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=text_key(kind, credential),
        retry_after=retry_after,
    )


def flow_error(err: SequenceError, credential: str) -> tuple[str, str]:
    """The form error (a ``config.error`` key) and the field it belongs to."""
    kind = error_kind(err)
    return text_key(kind, credential), CONF_API_TOKEN if kind in _CREDENTIAL_KINDS else "base"


def action_error(err: SequenceError | None, credential: str) -> HomeAssistantError:
    """The translated error for something the user asked for; never a reauthentication.

    ``None`` (the request failed, but not with a client error) is an unexpected response.
    """
    if isinstance(err, SequencePermissionError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=PERMISSION_NOT_GRANTED,
            translation_placeholders=_permission_placeholders(err),
        )
    kind = UNEXPECTED_RESPONSE if err is None else error_kind(err)
    return HomeAssistantError(translation_domain=DOMAIN, translation_key=text_key(kind, credential))


def _permission_placeholders(err: SequencePermissionError) -> dict[str, str]:
    return {"permission": err.permission or "required"}


class Executed(StrEnum):
    """What a failed money request means for the money: did it run?"""

    NO = "no"
    """Certainly not: refused before running, or never sent. Its share is given back."""
    MAYBE = "maybe"
    """Sent, or maybe sent, without a definite answer: its share is kept."""
    RUNNING = "running"
    """A request with the same idempotency key is still running: its share is kept."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MoneyFailure:
    """A failed money request: what to tell the user and what became of the request."""

    error: HomeAssistantError
    executed: Executed
    result: str
    """What the subentry's sensors show: ``rejected``, ``rate_limited``, ``failed`` (never
    sent), ``unknown`` or ``in_progress``."""

    @property
    def reason(self) -> str:
        """The audit trail's reason: the error's translation key."""
        return str(self.error.translation_key)


RULE_GONE_CODES: Final = frozenset({"INVALID_RULE", "RULE_NOT_FOUND"})
"""Sequence's codes for a rule it no longer has, or that the API cannot trigger."""
REFUSAL_KEYS: Final = {
    "RULE_DEACTIVATED": "rule_disabled",
    "IDEMPOTENCY_KEY_MISMATCH": "idempotency_key_reused",
    "MAXIMUM_AMOUNT_EXCEEDED": "transfer_over_key_maximum",
    "INSUFFICIENT_FUNDS": "insufficient_funds",
    **dict.fromkeys(RULE_GONE_CODES, "rule_gone"),
}
"""Sequence's refusal codes that have a text of their own."""
CALLER_ERRORS: Final = frozenset(
    {"idempotency_key_reused", "transfer_over_key_maximum", "money_refused_code"}
)
"""Refusals of what the caller asked (a ``ServiceValidationError``), not of the situation."""
MONEY_ERRORS: Final = (
    "rule_result_unknown",
    "rule_result_unknown_remote",
    "transfer_result_unknown",
    "simulation_unanswered",
    "rule_in_progress",
    "transfer_in_progress",
    "rule_permission_missing",
    "transfer_permission_missing",
    "rule_secret_refused",
    "rule_disabled",
    "rule_gone",
    "transfer_over_key_maximum",
    "insufficient_funds",
    "money_refused",
    "money_refused_code",
    "money_rate_limited",
    "money_rate_limited_later",
    "money_not_sent",
)
"""Every exception key :func:`money_action_error` gives (besides the error kinds' texts)."""
OUTCOME_REASONS: Final = (
    "rule_partial",
    "rule_failed",
    "transfer_failed",
    "transfer_simulation_failed",
)
"""Exception keys of what Sequence reported about a run or a transfer: the audit's reasons and
the errors a refused simulation raises."""
_PERMISSION = {
    MoneyAction.TRIGGER_RULE: Permission.TRIGGER_RULES,
    MoneyAction.TRANSFER: Permission.MANUAL_TRANSFER,
}
_NAMES = {MoneyAction.TRIGGER_RULE: "rule", MoneyAction.TRANSFER: "transfer"}


def money_action_error(
    err: SequenceError,
    *,
    action: MoneyAction,
    credential: str,
    idempotency_key: str,
    simulation: bool = False,
) -> MoneyFailure:
    """What a rule trigger or transfer request that failed with ``err`` means.

    Never a reauthentication, whatever Sequence refused: a permission error names the
    permission. Only a definite refusal, or an error the clients raise before a request left
    (a refused connection, a rate limit), counts as not executed; anything else, including an
    answer that cannot be read, may have moved money. ``simulation``: the request was a
    simulation, which moves nothing whatever happened.
    """
    name = _NAMES[action]
    key = {"idempotency_key": idempotency_key}
    if isinstance(err, SequenceConflictError):
        return _failure(f"{name}_in_progress", Executed.RUNNING, "in_progress", key)
    if (refusal := _refusal(err, action, credential)) is not None:
        text, placeholders = refusal
        result = "rate_limited" if isinstance(err, SequenceRateLimitError) else "rejected"
        return _failure(text, Executed.NO, result, placeholders)
    if isinstance(err, SequenceConnectionError) and not isinstance(err, SequenceServerError):
        return _failure("money_not_sent", Executed.NO, "failed")
    if simulation:
        return _failure("simulation_unanswered", Executed.NO, "failed")
    if action is MoneyAction.TRIGGER_RULE and credential == KIND_ACCESS_TOKEN:
        return _failure("rule_result_unknown_remote", Executed.MAYBE, "unknown", key)
    return _failure(f"{name}_result_unknown", Executed.MAYBE, "unknown", key)


def _refusal(
    err: SequenceError, action: MoneyAction, credential: str
) -> tuple[str, dict[str, str]] | None:
    """The text (key and placeholders) of a definite refusal; None for anything else."""
    found: tuple[str, dict[str, str]]
    match err:
        case SequenceRuleSecretError():
            found = "rule_secret_refused", {}
        case SequencePermissionError():
            permission = err.permission or _PERMISSION[action]
            found = f"{_NAMES[action]}_permission_missing", {"permission": permission}
        case SequenceRateLimitError(retry_after=float() | int() as wait):
            found = "money_rate_limited", {"seconds": str(max(1, math.ceil(wait)))}
        case SequenceRateLimitError():
            found = "money_rate_limited_later", {}
        case SequenceRefusedError(code=str() as code) if code in REFUSAL_KEYS:
            found = REFUSAL_KEYS[code], {}
        case SequenceRefusedError(code=str() as code):
            found = "money_refused_code", {"code": code}
        case SequenceRefusedError():
            found = "money_refused", {}
        case SequenceNotFoundError():
            found = "rule_gone", {}
        case SequenceAuthError():
            found = text_key(INVALID_AUTH, credential), {}
        case _:
            return None
    return found


def _failure(
    key: str, executed: Executed, result: str, placeholders: dict[str, str] | None = None
) -> MoneyFailure:
    error_class = ServiceValidationError if key in CALLER_ERRORS else HomeAssistantError
    error = error_class(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )
    return MoneyFailure(error=error, executed=executed, result=result)
