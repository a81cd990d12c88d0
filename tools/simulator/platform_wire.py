"""The Platform API's JSON shapes (``sequence-platform-v1.openapi.json``), built from the state.

camelCase keys, integer cents, RFC 3339 UTC timestamps with a ``Z``, UUID ids. Account details
carry fake but realistic ``routingNumber`` and ``bankAccountNumber`` values, because the real API
sends them unmasked and clients must prove they drop them.
"""

from datetime import UTC, datetime
import hashlib
import math
import re

from . import money
from .platform_records import (
    SimAction,
    SimExecution,
    SimExternalTransaction,
    SimRule,
    SimTransfer,
)
from .platform_state import PlatformState
from .state import AccountKind, Bank, ExternalType, SimAccount, platform_id_of

type Json = dict[str, object]

BENEFICIARY = "Alex Rivera"
DAY = 24 * 3600.0
BANK_REFRESH_HOUR = 6
"""External balances refresh once a day at 06:00 UTC (a connected bank's daily sync)."""
STATEMENT_DAYS_AGO = 20
PAYMENT_DUE_IN_DAYS = 7


def timestamp(seconds: float) -> str:
    """Clock seconds as RFC 3339 UTC with milliseconds and a ``Z``."""
    when = datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")
    return when.replace("+00:00", "Z")


def day(seconds: float) -> str:
    """The UTC date of clock seconds, ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(seconds, UTC).date().isoformat()


def secret_numbers(account: SimAccount) -> tuple[str, str]:
    """A deterministic fake routing number (9 digits) and account number (16 digits)."""
    digest = int.from_bytes(hashlib.blake2b(f"numbers:{account.id}".encode()).digest()[:12])
    return f"09{digest % 10**7:07d}", f"7731{digest // 10**7 % 10**12:012d}"


def error_code(text: str) -> str:
    """A provider's error text as an upper-snake code (``"Connection failed"`` -> ...)."""
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_") or "UNKNOWN_ERROR"


def account_summary(platform: PlatformState, account: SimAccount, removed_at: float | None) -> Json:
    """An ``AccountSummary``."""
    created = platform.bank.origin - 400 * DAY
    return {
        "id": account.platform_id,
        "name": account.name,
        "type": account.kind.value,
        "description": None,
        "externalAccountType": account.external_type.value if account.external_type else None,
        "beneficiaryName": BENEFICIARY,
        "institutionName": account.institution,
        "canBeSource": money.can_be_source(account),
        "canBeDestination": money.can_be_destination(account),
        "linkedAccount": None,
        "createdAt": timestamp(created),
        "updatedAt": timestamp(removed_at or created),
        "deletedAt": None if removed_at is None else timestamp(removed_at),
    }


def account_detail(platform: PlatformState, account: SimAccount, removed_at: float | None) -> Json:
    """An ``Account``: the summary, the unmasked numbers, the balance and the savings target."""
    routing, number = secret_numbers(account)
    return {
        **account_summary(platform, account, removed_at),
        "routingNumber": routing,
        "bankAccountNumber": number,
        "balance": None if removed_at is not None else balance(platform.bank, account),
        "savingsTargetInCents": account.savings_target_cents,
    }


def balance_updated_at(bank: Bank, account: SimAccount) -> float:
    """Pods move in real time (the last drift tick); external balances refresh daily."""
    now = bank.now()
    if account.kind is not AccountKind.EXTERNAL_ACCOUNT:
        return bank.origin + bank.elapsed_seconds() // 60 * 60
    refresh = BANK_REFRESH_HOUR * 3600
    last = math.floor((now - refresh) / DAY) * DAY + refresh
    return last - 3 * DAY if account.error is not None else last


def balance(bank: Bank, account: SimAccount) -> Json:
    """A ``Balance``: cents, availability, liability facts and how fresh it is."""
    cents = bank.balance_cents(account)
    liability = account.liability
    available: int | None = cents
    if account.external_type in {ExternalType.LIABILITY, ExternalType.INVESTMENT}:
        available = None
    elif cents is not None and account.external_type is ExternalType.DEPOSITORY:
        available = cents - min(cents, 1250)  # a card hold still pending
    return {
        "balanceInCents": cents,
        "availableBalanceInCents": available,
        "lastStatementBalanceInCents": liability.last_statement_cents if liability else None,
        "lastStatementDate": day(bank.origin - STATEMENT_DAYS_AGO * DAY) if liability else None,
        "nextPaymentMinimumInCents": liability.next_payment_minimum_cents if liability else None,
        "nextPaymentDueDate": day(bank.origin + PAYMENT_DUE_IN_DAYS * DAY) if liability else None,
        "balanceLastUpdatedAt": timestamp(balance_updated_at(bank, account)),
        "error": None if account.error is None else error_code(account.error),
        "interestRatePercentage": liability.interest_rate_percentage if liability else None,
        "originalLoanAmountInCents": None,
    }


def _reference(platform: PlatformState, account_id: str | None, party: str | None) -> Json | None:
    """A ``TransferAccountRef``; an outside party (no account) is an ``EXTERNAL_ENTITY``."""
    if account_id is None:
        if party is None:
            return None
        return {"id": None, "name": party, "type": "EXTERNAL_ENTITY", "isDeleted": None}
    found = platform.account_by_id(account_id)
    if found is None:
        return {
            "id": platform_id_of(account_id),
            "name": "Unknown",
            "type": "POD",
            "isDeleted": True,
        }
    account, removed = found
    return {
        "id": account.platform_id,
        "name": account.name,
        "type": account.kind.value,
        "isDeleted": removed,
    }


def transfer(platform: PlatformState, item: SimTransfer) -> Json:
    """A ``Transfer``, with its status as of now."""
    now = platform.bank.now()
    completed = item.completed_at(now)
    outside_is_source = item.direction == "MONEY_IN"
    return {
        "id": item.id,
        "amountInCents": item.amount_cents,
        "direction": item.direction,
        "origin": item.origin,
        "source": _reference(
            platform, item.source, item.external_party if outside_is_source else None
        ),
        "destination": _reference(
            platform, item.destination, None if outside_is_source else item.external_party
        ),
        "status": item.status_at(now),
        "executionMode": item.execution_mode,
        "ruleId": item.rule_id,
        "ruleExecutionId": item.rule_execution_id,
        "errorCode": item.error_at(now),
        "createdAt": timestamp(item.created_at),
        "completedAt": None if completed is None else timestamp(completed),
    }


def rule_summary(rule: SimRule) -> Json:
    """A ``RuleSummary``."""
    return {
        "id": rule.id,
        "name": rule.name,
        "description": rule.description,
        "status": "ENABLED" if rule.enabled else "DISABLED",
        "isSupported": rule.supported,
        "createdAt": timestamp(rule.created_at),
        "updatedAt": timestamp(rule.deleted_at or rule.created_at),
        "deletedAt": None if rule.deleted_at is None else timestamp(rule.deleted_at),
    }


def _node(platform: PlatformState, account_id: str) -> Json:
    found = platform.account_by_id(account_id)
    return {
        "id": platform_id_of(account_id),
        "type": found[0].kind.value if found else "POD",
        "name": found[0].name if found else None,
    }


def _action(platform: PlatformState, action: SimAction) -> Json:
    body: Json = {
        "type": action.kind,
        "source": _node(platform, action.source),
        "destination": _node(platform, action.destination),
        "groupIndex": 0,
        "upToEnabled": False,
        "isDirectDeposit": False,
        "limit": None,
        "achDescription": None,
    }
    if action.kind == "FIXED":
        body["amountInCents"] = action.amount_cents
    elif action.kind == "PERCENTAGE":
        body["percentageValue"] = action.percentage
        body["percentageTarget"] = "INCOMING_AMOUNT"
    return body


def rule(platform: PlatformState, item: SimRule) -> Json:
    """A full ``Rule``: trigger and one unconditional step with the rule's actions."""
    trigger: Json = {"type": item.trigger_type, "accountId": platform_id_of(item.trigger_account)}
    if item.trigger_type == "SCHEDULED":
        start = item.schedule_start if item.schedule_start is not None else item.created_at
        trigger |= {"scheduleType": item.schedule_type, "startDate": timestamp(start)}
    summary = rule_summary(item)
    del summary["isSupported"]
    return {
        **summary,
        "trigger": trigger,
        "steps": [{"conditions": None, "actions": [_action(platform, a) for a in item.actions]}],
    }


def execution_summary(platform: PlatformState, item: SimExecution) -> Json:
    """A ``RuleExecutionSummary``, with its status as of now."""
    transfers = [platform.transfers[transfer_id] for transfer_id in item.transfer_ids]
    return {
        "id": item.id,
        "ruleId": item.rule_id,
        "status": item.status_at(platform.bank.now(), transfers),
        "executionMode": item.execution_mode,
        "createdAt": timestamp(item.created_at),
    }


def execution(platform: PlatformState, item: SimExecution) -> Json:
    """A full ``RuleExecution``: trigger details and what its transfers came to."""
    now = platform.bank.now()
    statuses = [platform.transfers[transfer_id].status_at(now) for transfer_id in item.transfer_ids]
    summary = execution_summary(platform, item)
    details: Json = {"type": item.trigger_type, "amountInCents": item.amount_cents}
    if item.trigger_type == "SCHEDULED":
        details = {"type": "SCHEDULED", "scheduledTime": timestamp(item.created_at)}
    failed = sum(status in {"ERROR", "INCOMPLETE", "CANCELLED"} for status in statuses)
    return {
        **summary,
        "triggerDetails": details,
        "stepIndexMatched": 0,
        "conditionsNotMet": False,
        "transfersAttempted": item.transfers_attempted,
        "transfersCompleted": statuses.count("COMPLETE"),
        "transfersFailed": failed,
        "transfersPending": sum(status in {"PROCESSING", "PENDING"} for status in statuses),
        "transferIds": list(item.transfer_ids),
        "errorMessage": "Insufficient funds in source account."
        if summary["status"] == "FAILED"
        else None,
        "nextAttemptAt": None,
    }


def external_transaction(item: SimExternalTransaction) -> Json:
    """An ``ExternalTransaction``."""
    return {
        "id": item.id,
        "accountId": platform_id_of(item.account),
        "amountInCents": item.amount_cents,
        "direction": item.direction,
        "status": item.status,
        "description": item.description,
        "transactionDate": timestamp(item.date),
    }
