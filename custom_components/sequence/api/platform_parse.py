"""Strict parsing of Platform API v1 bodies into the shared models.

The input is what :func:`.transport.decode_json` returns. The envelope is checked exactly
(``{"data": ..., "requestId": str}``; lists ``{"items": [...], "pagination": {"page", "pageSize",
"hasNextPage"}}``); inside an object, a documented field that is absent counts as null (Sequence's
own examples leave some out), but a field of the wrong JSON type, a bad date or an absurd amount
raises :class:`~.errors.SequenceResponseError` naming the field's path, never its value.

Money arrives as integer cents and becomes ``Decimal`` dollars exactly (``41206`` ->
``Decimal("412.06")``); floats are never involved. Timestamps must be RFC 3339 with an offset
and become aware UTC datetimes.

``routingNumber`` and ``bankAccountNumber`` (the API sends both unmasked) are never read: they
are dropped with the rest of the decoded body and appear in no model, message or log.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
import math
import re
from typing import Final, NoReturn, cast

from .errors import SequenceResponseError
from .models import (
    Account,
    AccountKind,
    ExternalTransaction,
    LiabilityDetails,
    Rule,
    RuleExecution,
    RuleSchedule,
    RuleSummary,
    Transfer,
    TransferDirection,
    cents_to_dollars,
    readable_balance_error,
)
from .transport import MISSING, json_type, wire_key

PLATFORM_KINDS: Final = {
    "POD": AccountKind.POD,
    "INCOME_SOURCE": AccountKind.INCOME_SOURCE,
    "EXTERNAL_ACCOUNT": AccountKind.EXTERNAL,
}
"""The Platform API's account types; anything else is ``AccountKind.UNKNOWN``."""
DIRECTIONS: Final = {
    "MONEY_IN": TransferDirection.INCOMING,
    "MONEY_OUT": TransferDirection.OUTGOING,
    "INTERNAL": TransferDirection.INTERNAL,
}
TRANSFER_STATUSES: Final = (
    "PENDING_APPROVAL",
    "PROCESSING",
    "PENDING",
    "COMPLETE",
    "INCOMPLETE",
    "ERROR",
    "CANCELLED",
)
"""Every ``Transfer.status`` the API documents (``PENDING_APPROVAL``: waiting to be approved)."""
LIABILITY: Final = "LIABILITY"
SIMULATION: Final = "SIMULATION"
RULE_ENABLED: Final = "ENABLED"
SCHEDULED: Final = "SCHEDULED"

FIELD_PATHS: Final = (
    "id",
    "name",
    "type",
    "externalAccountType",
    "institutionName",
    "savingsTargetInCents",
    "balance",
    "balance.balanceInCents",
    "balance.availableBalanceInCents",
    "balance.balanceLastUpdatedAt",
    "balance.error",
)
"""The wire fields of an account detail counted in ``AccountsSnapshot.field_shapes``."""

type Shapes = dict[str, Counter[str]]
type ShapeSignature = tuple[str | None, ...]
"""The JSON types of one account's ``FIELD_PATHS`` (None where a path is not counted)."""
type JsonObject = dict[str, object]

_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)


def new_shapes() -> Shapes:
    """Empty counters for every path of ``FIELD_PATHS``."""
    return {path: Counter() for path in FIELD_PATHS}


def _fail(reason: str) -> NoReturn:
    msg = f"unexpected Platform API response: {reason}"
    raise SequenceResponseError(msg)


def _object(value: object, where: str) -> JsonObject:
    if not isinstance(value, dict):
        _fail(f"{where} is {json_type(value)}, not an object")
    return cast("JsonObject", value)


def unwrap(payload: object) -> object:
    """The ``data`` of a success envelope ``{"data": ..., "requestId": str}``."""
    envelope = _object(payload, "the response")
    if "data" not in envelope:
        _fail("data is missing")
    request_id = envelope.get("requestId", MISSING)
    if not isinstance(request_id, str):
        _fail(f"requestId is {json_type(request_id)}, not a string")
    return envelope["data"]


def parse_page(payload: object, page: int) -> tuple[list[object], bool]:
    """The raw items of list page ``page`` and whether another page follows."""
    data = _object(unwrap(payload), "data")
    items = data.get("items", MISSING)
    if not isinstance(items, list):
        _fail(f"data.items is {json_type(items)}, not an array")
    pagination = _object(data.get("pagination", MISSING), "data.pagination")
    number = _integer(pagination.get("page", MISSING), "data.pagination.page")
    if number != page:
        _fail(f"data.pagination.page is not the page asked for ({page})")
    if _integer(pagination.get("pageSize", MISSING), "data.pagination.pageSize") < 1:
        _fail("data.pagination.pageSize is not positive")
    has_next = pagination.get("hasNextPage", MISSING)
    if not isinstance(has_next, bool):
        _fail(f"data.pagination.hasNextPage is {json_type(has_next)}, not a boolean")
    return items, has_next


def parse_account_page(payload: object, page: int) -> tuple[list[Account], bool]:
    """One page of ``GET /accounts``: account summaries (no balances), deleted ones left out."""
    items, has_next = parse_page(payload, page)
    accounts = [parse_account(raw, f"data.items[{index}]") for index, raw in enumerate(items)]
    return [account for account in accounts if account is not None], has_next


def parse_account_detail(payload: object, shapes: Shapes | None = None) -> Account | None:
    """``GET /accounts/{id}``: the account with its balance, or None when it is deleted."""
    return parse_account(unwrap(payload), "data", shapes, detail=True)


class DetailBatch:
    """The account details of one poll, parsed with what the previous complete poll parsed.

    A detail whose ``data`` is the same as in that poll (by :func:`.transport.wire_key`: the
    same JSON, types included) keeps its previous model, so a poll where nothing changed makes
    no new ``Decimal`` or ``Account``.
    """

    __slots__ = ("known", "previous", "shapes")

    def __init__(self, previous: Mapping[bytes, tuple[Account | None, ShapeSignature]]) -> None:
        """Start a poll that may reuse ``previous``; its JSON types are counted in ``shapes``."""
        self.previous = previous
        self.known: dict[bytes, tuple[Account | None, ShapeSignature]] = {}
        self.shapes = new_shapes()

    def parse(self, payload: object) -> Account | None:
        """As :func:`parse_account_detail`, counting the detail's JSON types in ``shapes``."""
        data = unwrap(payload)
        key = wire_key(data)
        parsed = None if key is None else self.previous.get(key)
        if parsed is None:
            detail = _object(data, "data")
            parsed = parse_account(detail, "data", detail=True), _shape_signature(detail)
        if key is not None:
            self.known[key] = parsed
        for path, kind in zip(FIELD_PATHS, parsed[1], strict=True):
            if kind is not None:
                self.shapes[path][kind] += 1
        return parsed[0]


def parse_account(
    raw: object, where: str, shapes: Shapes | None = None, *, detail: bool = False
) -> Account | None:
    """One ``AccountSummary`` (or, with ``detail``, ``Account``); None for a deleted account.

    ``shapes`` (detail only) counts the JSON type of each of ``FIELD_PATHS``, for diagnostics.
    """
    account = _object(raw, where)
    if shapes is not None:
        for path, kind in zip(FIELD_PATHS, _shape_signature(account), strict=True):
            if kind is not None:
                shapes[path][kind] += 1
    account_id = _string(account.get("id", MISSING), f"{where}.id")
    type_name = _string(account.get("type", MISSING), f"{where}.type")
    name = _optional_string(account.get("name", MISSING), f"{where}.name")
    external_type = _optional_string(
        account.get("externalAccountType", MISSING), f"{where}.externalAccountType"
    )
    institution = _optional_string(
        account.get("institutionName", MISSING), f"{where}.institutionName"
    )
    can_be_source = _flag(account.get("canBeSource", MISSING), f"{where}.canBeSource")
    can_be_destination = _flag(
        account.get("canBeDestination", MISSING), f"{where}.canBeDestination"
    )
    if _optional_datetime(account.get("deletedAt", MISSING), f"{where}.deletedAt") is not None:
        return None
    is_liability = external_type == LIABILITY
    summary = Account(
        id=account_id,
        name=name or f"Account {account_id}",
        kind=PLATFORM_KINDS.get(type_name, AccountKind.UNKNOWN),
        type_name=type_name,
        balance=None,
        external_type=external_type,
        is_liability=is_liability,
        institution_name=institution,
        can_be_source=can_be_source,
        can_be_destination=can_be_destination,
    )
    if not detail:
        return summary
    return _with_balance(summary, account, where)


def _with_balance(summary: Account, account: JsonObject, where: str) -> Account:
    savings_target = _optional_cents(
        account.get("savingsTargetInCents", MISSING), f"{where}.savingsTargetInCents"
    )
    if "balance" not in account:
        _fail(f"{where}.balance is missing")
    raw_balance = account["balance"]
    if raw_balance is None:
        return replace(summary, savings_target=savings_target)
    where = f"{where}.balance"
    balance = _object(raw_balance, where)

    def cents(key: str) -> Decimal | None:
        return _optional_cents(balance.get(key, MISSING), f"{where}.{key}")

    def day(key: str) -> date | None:
        return _optional_date(balance.get(key, MISSING), f"{where}.{key}")

    liability = LiabilityDetails(
        last_statement_balance=cents("lastStatementBalanceInCents"),
        last_statement_date=day("lastStatementDate"),
        next_payment_minimum=cents("nextPaymentMinimumInCents"),
        next_payment_due_date=day("nextPaymentDueDate"),
        interest_rate_percentage=_optional_number(
            balance.get("interestRatePercentage", MISSING), f"{where}.interestRatePercentage"
        ),
        original_loan_amount=cents("originalLoanAmountInCents"),
    )
    return replace(
        summary,
        balance=cents("balanceInCents"),
        balance_error=readable_balance_error(
            _optional_string(balance.get("error", MISSING), f"{where}.error")
        ),
        available_balance=cents("availableBalanceInCents"),
        balance_updated_at=_optional_datetime(
            balance.get("balanceLastUpdatedAt", MISSING), f"{where}.balanceLastUpdatedAt"
        ),
        savings_target=savings_target,
        liability=liability if summary.is_liability else None,
    )


def _shape_signature(account: JsonObject) -> ShapeSignature:
    """``balance.*`` paths count only when the balance is an object."""
    balance = account.get("balance", MISSING)
    signature: list[str | None] = []
    for path in FIELD_PATHS:
        if path.startswith("balance."):
            if not isinstance(balance, dict):
                signature.append(None)
                continue
            value = balance.get(path.removeprefix("balance."), MISSING)
        else:
            value = account.get(path, MISSING)
        signature.append(json_type(value))
    return tuple(signature)


def parse_transfer_page(payload: object, page: int) -> tuple[list[Transfer], bool]:
    """One page of ``GET /transfers`` (or ``GET /accounts/{id}/transfers``)."""
    items, has_next = parse_page(payload, page)
    return [
        parse_transfer(raw, f"data.items[{index}]") for index, raw in enumerate(items)
    ], has_next


def parse_transfer_detail(payload: object) -> Transfer:
    """``GET /transfers/{id}`` or ``POST /transfers`` (201): the transfer."""
    return parse_transfer(unwrap(payload), "data")


def parse_transfer(raw: object, where: str) -> Transfer:
    """One ``Transfer``; only ids and names of its accounts are kept."""
    transfer = _object(raw, where)
    amount = _integer(transfer.get("amountInCents", MISSING), f"{where}.amountInCents")
    if amount < 0:
        _fail(f"{where}.amountInCents is negative")
    direction = _string(transfer.get("direction", MISSING), f"{where}.direction")
    source_id, source_name = _party(transfer.get("source", MISSING), f"{where}.source")
    target_id, target_name = _party(transfer.get("destination", MISSING), f"{where}.destination")
    mode = _optional_string(transfer.get("executionMode", MISSING), f"{where}.executionMode")

    def text(key: str) -> str | None:
        return _optional_string(transfer.get(key, MISSING), f"{where}.{key}")

    return Transfer(
        id=_string(transfer.get("id", MISSING), f"{where}.id"),
        status=_string(transfer.get("status", MISSING), f"{where}.status"),
        direction=DIRECTIONS.get(direction, TransferDirection.UNKNOWN),
        direction_name=direction,
        origin=_string(transfer.get("origin", MISSING), f"{where}.origin"),
        amount=_cents(amount, f"{where}.amountInCents"),
        created_at=_datetime(transfer.get("createdAt", MISSING), f"{where}.createdAt"),
        completed_at=_optional_datetime(
            transfer.get("completedAt", MISSING), f"{where}.completedAt"
        ),
        source_id=source_id,
        source_name=source_name,
        destination_id=target_id,
        destination_name=target_name,
        rule_id=text("ruleId"),
        rule_execution_id=text("ruleExecutionId"),
        error_code=text("errorCode"),
        simulated=mode == SIMULATION,
    )


def _party(value: object, where: str) -> tuple[str | None, str | None]:
    """Id and name of a ``TransferAccountRef`` (nothing else of it is kept)."""
    if value is None or value is MISSING:
        return None, None
    party = _object(value, where)
    return (
        _optional_string(party.get("id", MISSING), f"{where}.id"),
        _optional_string(party.get("name", MISSING), f"{where}.name"),
    )


def parse_external_transaction_page(
    payload: object, page: int
) -> tuple[list[ExternalTransaction], bool]:
    """One page of ``GET /external-transactions``."""
    items, has_next = parse_page(payload, page)
    return [
        parse_external_transaction(raw, f"data.items[{index}]") for index, raw in enumerate(items)
    ], has_next


def parse_external_transaction(raw: object, where: str) -> ExternalTransaction:
    """One ``ExternalTransaction`` of a linked account."""
    item = _object(raw, where)
    amount = _integer(item.get("amountInCents", MISSING), f"{where}.amountInCents")
    if amount < 0:
        _fail(f"{where}.amountInCents is negative")
    direction = _string(item.get("direction", MISSING), f"{where}.direction")
    description = item.get("description", MISSING)
    if description is None or description is MISSING:
        description = ""
    if not isinstance(description, str):
        _fail(f"{where}.description is {json_type(description)}, not a string")
    return ExternalTransaction(
        id=_string(item.get("id", MISSING), f"{where}.id"),
        account_id=_string(item.get("accountId", MISSING), f"{where}.accountId"),
        amount=_cents(amount, f"{where}.amountInCents"),
        direction=DIRECTIONS.get(direction, TransferDirection.UNKNOWN),
        status=_string(item.get("status", MISSING), f"{where}.status"),
        description=description.strip(),
        date=_datetime(item.get("transactionDate", MISSING), f"{where}.transactionDate"),
    )


def _flag(value: object, where: str) -> bool:
    """A boolean; null or missing is False (what Sequence does not allow is not allowed)."""
    if value is None or value is MISSING:
        return False
    if not isinstance(value, bool):
        _fail(f"{where} is {json_type(value)}, not a boolean")
    return value


def _string(value: object, where: str) -> str:
    """A required, non-blank string."""
    if value is MISSING:
        _fail(f"{where} is missing")
    if not isinstance(value, str):
        _fail(f"{where} is {json_type(value)}, not a string")
    if not value.strip():
        _fail(f"{where} is empty")
    return value


def _optional_string(value: object, where: str) -> str | None:
    """A string, or None for null, missing or blank."""
    if value is None or value is MISSING:
        return None
    if not isinstance(value, str):
        _fail(f"{where} is {json_type(value)}, not a string")
    return value if value.strip() else None


def _integer(value: object, where: str) -> int:
    if value is MISSING:
        _fail(f"{where} is missing")
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(f"{where} is {json_type(value)}, not an integer")
    return value


def _cents(value: int, where: str) -> Decimal:
    try:
        return cents_to_dollars(value)
    except ValueError:
        _fail(f"{where} is out of range")


def _optional_cents(value: object, where: str) -> Decimal | None:
    if value is None or value is MISSING:
        return None
    return _cents(_integer(value, where), where)


def _optional_number(value: object, where: str) -> Decimal | None:
    """A JSON number as an exact ``Decimal`` (a float through its shortest repr)."""
    if value is None or value is MISSING:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(f"{where} is {json_type(value)}, not a number")
    if isinstance(value, int):
        return Decimal(value)
    if not math.isfinite(value):
        _fail(f"{where} is not a finite number")
    return Decimal(repr(value))


def _optional_date(value: object, where: str) -> date | None:
    text = _optional_string(value, where)
    if text is None:
        return None
    if not _DATE.fullmatch(text):
        _fail(f"{where} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"{where} is not a valid date")


def _datetime(value: object, where: str) -> datetime:
    when = _optional_datetime(value, where)
    if when is None:
        _fail(f"{where} is {json_type(value)}, not a timestamp")
    return when


def _optional_datetime(value: object, where: str) -> datetime | None:
    text = _optional_string(value, where)
    if text is None:
        return None
    if not _DATETIME.fullmatch(text):
        _fail(f"{where} is not an RFC 3339 timestamp with an offset")
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError, OverflowError:
        _fail(f"{where} is not a valid timestamp")


def parse_rule_page(payload: object, page: int) -> tuple[list[RuleSummary], bool]:
    """One page of ``GET /rules``: rule summaries, deleted ones included (``deleted`` set)."""
    items, has_next = parse_page(payload, page)
    return [
        parse_rule_summary(raw, f"data.items[{index}]") for index, raw in enumerate(items)
    ], has_next


def parse_rule_summary(raw: object, where: str) -> RuleSummary:
    """One ``RuleSummary`` (also the summary part of a full ``Rule``)."""
    rule = _object(raw, where)
    rule_id = _string(rule.get("id", MISSING), f"{where}.id")
    status = _string(rule.get("status", MISSING), f"{where}.status")
    supported = rule.get("isSupported", True)
    if not isinstance(supported, bool):
        _fail(f"{where}.isSupported is {json_type(supported)}, not a boolean")
    deleted_at = _optional_datetime(rule.get("deletedAt", MISSING), f"{where}.deletedAt")
    return RuleSummary(
        id=rule_id,
        name=_optional_string(rule.get("name", MISSING), f"{where}.name") or f"Rule {rule_id}",
        enabled=status == RULE_ENABLED,
        supported=supported,
        deleted=deleted_at is not None,
    )


def parse_rule_detail(payload: object) -> Rule:
    """``GET /rules/{id}``: the rule with its trigger (a full rule is always supported)."""
    where = "data"
    rule = _object(unwrap(payload), where)
    trigger = _object(rule.get("trigger", MISSING), f"{where}.trigger")
    trigger_type = _string(trigger.get("type", MISSING), f"{where}.trigger.type")
    schedule = None
    if trigger_type == SCHEDULED:
        schedule = RuleSchedule(
            schedule_type=_string(
                trigger.get("scheduleType", MISSING), f"{where}.trigger.scheduleType"
            ),
            start=_datetime(trigger.get("startDate", MISSING), f"{where}.trigger.startDate"),
        )
    return Rule(
        summary=parse_rule_summary(rule, where), trigger_type=trigger_type, schedule=schedule
    )


def parse_execution_started(payload: object) -> str:
    """``POST /rules/{id}/trigger`` (202): the new execution's id."""
    data = _object(unwrap(payload), "data")
    return _string(data.get("executionId", MISSING), "data.executionId")


def parse_rule_execution(payload: object) -> RuleExecution:
    """``GET /rules/{ruleId}/executions/{id}``: status and transfer counts (no messages)."""
    where = "data"
    execution = _object(unwrap(payload), where)

    def count(key: str) -> int:
        value = execution.get(key, 0)
        number = _integer(value, f"{where}.{key}")
        if number < 0:
            _fail(f"{where}.{key} is negative")
        return number

    raw_ids = execution.get("transferIds", [])
    if not isinstance(raw_ids, list):
        _fail(f"{where}.transferIds is {json_type(raw_ids)}, not an array")
    mode = _optional_string(execution.get("executionMode", MISSING), f"{where}.executionMode")
    return RuleExecution(
        id=_string(execution.get("id", MISSING), f"{where}.id"),
        rule_id=_string(execution.get("ruleId", MISSING), f"{where}.ruleId"),
        status=_string(execution.get("status", MISSING), f"{where}.status"),
        simulated=mode == SIMULATION,
        created_at=_datetime(execution.get("createdAt", MISSING), f"{where}.createdAt"),
        transfers_completed=count("transfersCompleted"),
        transfers_failed=count("transfersFailed"),
        transfers_pending=count("transfersPending"),
        transfer_ids=tuple(
            _string(item, f"{where}.transferIds[{index}]") for index, item in enumerate(raw_ids)
        ),
    )
