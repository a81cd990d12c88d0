"""Frozen, typed models shared by every API generation.

The coordinator and the entities work on these, never on the wire format, so a second API
(the Platform API) only adds optional fields here.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
import re

CENT = Decimal("0.01")
MAX_ABS_CENTS = 10**17
"""Amounts in cents must stay below this magnitude ($10^15): anything larger is nonsense from
the wire, and still converts exactly within ``Decimal``'s default 28-digit precision."""


class AccountKind(StrEnum):
    """What a Sequence account is."""

    POD = "pod"
    INCOME_SOURCE = "income_source"
    EXTERNAL = "external"
    """An account at another institution linked to Sequence (checking, card, loan, ...)."""
    UNKNOWN = "unknown"
    """A type this version does not know; the raw type is kept in ``Account.type_name``."""


class Permission(StrEnum):
    """The scoped permissions of a Platform API key."""

    READ_ACCOUNTS = "READ_ACCOUNTS"
    READ_RULES = "READ_RULES"
    TRIGGER_RULES = "TRIGGER_RULES"
    READ_TRANSFERS = "READ_TRANSFERS"
    MANUAL_TRANSFER = "MANUAL_TRANSFER"
    READ_AUDIT_LOGS = "READ_AUDIT_LOGS"


class TransferDirection(StrEnum):
    """Which way money moved, seen from the Sequence beneficiary."""

    INCOMING = "incoming"
    """Into a Sequence account from outside (``MONEY_IN``: paycheck, pull from a bank, ...)."""
    OUTGOING = "outgoing"
    """Out of Sequence to the outside (``MONEY_OUT``: card payment, ATM, ...)."""
    INTERNAL = "internal"
    """Between two Sequence accounts (``INTERNAL``: Pod to Pod, Income Source to Pod)."""
    UNKNOWN = "unknown"
    """A direction this version does not know."""


_ERROR_CODE = re.compile(r"[A-Z0-9]+(?:_[A-Z0-9]+)*")


def readable_balance_error(raw: str | None) -> str | None:
    """Why Sequence has no balance, as text, whichever API said it; None for no reason.

    The Remote API sends text ("Connection failed"), the Platform API a code
    (``CONNECTION_FAILED``): a code reads as the text would (first letter upper case, the rest
    lower, spaces for underscores). Whitespace is collapsed; blank text is no reason.
    """
    text = " ".join((raw or "").split())
    if _ERROR_CODE.fullmatch(text):
        return text.replace("_", " ").capitalize()
    return text or None


def to_cents(amount: Decimal) -> Decimal:
    """Round a dollar amount to whole cents (banker's rounding, as the value is already exact)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def cents_to_dollars(cents: int) -> Decimal:
    """Integer cents as exact dollars with two places: ``41206`` -> ``Decimal("412.06")``.

    Raises:
        ValueError: ``abs(cents)`` is ``MAX_ABS_CENTS`` or more.
    """
    if abs(cents) >= MAX_ABS_CENTS:
        msg = "amount in cents is out of range"
        raise ValueError(msg)
    return (Decimal(cents) / 100).quantize(CENT)


@dataclass(frozen=True, slots=True, kw_only=True)
class LiabilityDetails:
    """Statement and payment facts of a debt account (Platform API only).

    Amounts are positive dollars owed or due, as Sequence reports them.
    """

    last_statement_balance: Decimal | None = None
    last_statement_date: date | None = None
    next_payment_minimum: Decimal | None = None
    next_payment_due_date: date | None = None
    interest_rate_percentage: Decimal | None = None
    """As Sequence sends it, e.g. ``Decimal("24.99")`` for 24.99 %."""
    original_loan_amount: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """One Sequence account, normalized.

    Sign convention: ``balance`` is the number Sequence reports, in dollars. For Pods, Income
    Sources and deposit or investment accounts that is the money held. For a liability
    (``is_liability``: a credit card, loan or mortgage, Platform API only) it is the **positive
    amount owed**, as the Platform API documents (``balanceInCents``: "a positive number
    represents debt"); the Remote API cannot tell debt from cash, so there every external
    account has ``is_liability`` False. Whoever adds balances up (a net worth) subtracts
    liabilities; this model does not flip signs.
    """

    id: str
    """Opaque: a number-like string on the Remote API, a UUID on the Platform API."""
    name: str
    kind: AccountKind
    type_name: str
    """The type exactly as Sequence sent it (e.g. ``"Income Source"``)."""
    balance: Decimal | None
    """Dollars rounded to cents, or None when Sequence has no balance for the account."""
    balance_error: str | None = None
    """Why the balance is missing or stale, as readable text from either API (not secret); see
    :func:`readable_balance_error`."""
    # Platform API only; the Remote API leaves these at their defaults.
    external_type: str | None = None
    """For external accounts: ``DEPOSITORY``, ``INVESTMENT`` or ``LIABILITY`` (as sent)."""
    is_liability: bool = False
    """The account is a debt (``LIABILITY``): its ``balance`` is the amount owed."""
    institution_name: str | None = None
    available_balance: Decimal | None = None
    balance_updated_at: datetime | None = None
    """When Sequence last refreshed the balance (aware, UTC)."""
    savings_target: Decimal | None = None
    """A Pod's savings goal in dollars; None when no target is set."""
    liability: LiabilityDetails | None = None
    """Statement and payment facts, for liabilities whose balance Sequence could read."""
    can_be_source: bool = False
    """Sequence allows transfers out of it (``canBeSource``)."""
    can_be_destination: bool = False
    """Sequence allows transfers into it (``canBeDestination``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountsSnapshot:
    """Everything one poll learned, keyed by account id."""

    accounts: Mapping[str, Account]
    field_shapes: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """For diagnostics: per wire field, how often each JSON type was seen (no values)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer:
    """One money movement seen through the Platform API (no account or routing numbers)."""

    id: str
    status: str
    """As Sequence sends it: ``PENDING``, ``COMPLETE``, ``INCOMPLETE``, ``ERROR``, ..."""
    direction: TransferDirection
    direction_name: str
    """The direction exactly as sent (``MONEY_IN``, ``MONEY_OUT``, ``INTERNAL``)."""
    origin: str
    """What started it, as sent: ``DIRECT_DEPOSIT``, ``RULE``, ``USER``, ``EXTERNAL_PULL``, ..."""
    amount: Decimal
    """Positive dollars, whatever the direction."""
    created_at: datetime
    completed_at: datetime | None = None
    source_id: str | None = None
    """None when the sender is outside Sequence (a paycheck) or has no Sequence record."""
    source_name: str | None = None
    destination_id: str | None = None
    destination_name: str | None = None
    rule_id: str | None = None
    rule_execution_id: str | None = None
    error_code: str | None = None
    """Why it failed (``INSUFFICIENT_FUNDS``, ...), for ``ERROR`` and ``INCOMPLETE``."""
    simulated: bool = False
    """A dry run (``executionMode: SIMULATION``): no money moved."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalTransaction:
    """One transaction of a linked (external) account (``GET /external-transactions``).

    Sequence only shows these: it did not make them, and names no counterparty. No account or
    routing number is kept.
    """

    id: str
    account_id: str
    """The linked account it belongs to."""
    amount: Decimal
    """Positive dollars, whatever the direction."""
    direction: TransferDirection
    """Seen from the linked account: ``INCOMING`` (``MONEY_IN``, money arrived in it) or
    ``OUTGOING`` (``MONEY_OUT``); ``UNKNOWN`` for a direction this version does not know."""
    status: str
    """As Sequence sends it: ``PENDING`` or ``COMPLETE``."""
    description: str
    """The bank's text, as sent (may be empty)."""
    date: datetime
    """``transactionDate`` (aware, UTC)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PermissionCheck:
    """What a Platform API key was found to be allowed to read."""

    granted: frozenset[Permission]
    missing: frozenset[Permission]
    """Sequence answered 403 ``ACCESS_DENIED`` for these."""
    unverified: frozenset[Permission] = frozenset()
    """Could not be tested (e.g. ``READ_TRANSFERS`` needs an account to ask about)."""


class ScheduleType(StrEnum):
    """How often a scheduled rule runs (``TriggerScheduled.scheduleType``)."""

    ONE_TIME = "ONE_TIME"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    BI_WEEKLY = "BI_WEEKLY"
    """On the 1st and the 15th of every month (semi-monthly), as Sequence defines it."""
    MONTHLY = "MONTHLY"
    EVERY_OTHER_WEEK = "EVERY_OTHER_WEEK"
    """Every other calendar week: the weeks with an even ISO week number."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSchedule:
    """A scheduled rule's trigger: its type as sent and its start (aware, UTC)."""

    schedule_type: str
    """One of :class:`ScheduleType`, or a type this version does not know (kept as sent)."""
    start: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSummary:
    """One rule as ``GET /rules`` lists it (Platform API)."""

    id: str
    name: str
    """Sequence's name, or ``"Rule <id>"`` when it has none."""
    enabled: bool
    """``status`` is ``ENABLED``: the rule runs on its trigger and may be triggered."""
    supported: bool
    """``isSupported``: the public API can describe (and trigger) the rule."""
    deleted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One rule in full (``GET /rules/{id}``): what the calendar needs of its trigger."""

    summary: RuleSummary
    trigger_type: str
    """``ON_FUNDS_TRANSFERRED``, ``SCHEDULED``, ``MANUAL``, or a type this version does not know."""
    schedule: RuleSchedule | None = None
    """For ``SCHEDULED`` triggers only."""


class RuleExecutionStatus(StrEnum):
    """Where a rule execution stands."""

    EXECUTED = "EXECUTED"
    PARTIAL = "PARTIAL"
    IN_PROGRESS = "IN_PROGRESS"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleExecution:
    """One execution of a rule (``GET /rules/{ruleId}/executions/{id}``)."""

    id: str
    rule_id: str
    status: str
    """One of :class:`RuleExecutionStatus`, or a status this version does not know."""
    simulated: bool
    created_at: datetime
    transfers_completed: int = 0
    transfers_failed: int = 0
    transfers_pending: int = 0
    transfer_ids: tuple[str, ...] = ()
