"""What only the Platform API has, for one simulator: keys, rate limit, and its history.

Triggering a rule is simulated here: the execution and its transfers stay in progress for
``SETTLE_SECONDS``, then complete (or fail for want of funds); a live run moves the balances
in the shared bank at once, so both APIs see it.
"""

from collections.abc import Mapping
from dataclasses import replace

from .platform_records import (
    DEFAULT_API_KEY,
    IDEMPOTENCY_SECONDS,
    MINIMUM_TRANSFER_CENTS,
    RATE_LIMIT_PER_MINUTE,
    READ_PERMISSIONS,
    SETTLE_SECONDS,
    Permission,
    RateLimit,
    SimAction,
    SimExecution,
    SimRule,
    SimTransfer,
    new_id,
)
from .platform_seed import seed_history
from .state import AccountKind, Bank, SimAccount


class RuleNotTriggerableError(Exception):
    """The rule is disabled (``RULE_DEACTIVATED``) or not supported (``INVALID_RULE``)."""

    def __init__(self, code: str) -> None:
        """Keep the API's error code."""
        super().__init__(code)
        self.code = code


class IdempotencyMismatchError(Exception):
    """An ``idempotency-key`` came back with another request body."""


class PlatformState:
    """Keys, rate limit and the Platform API's history for one simulator."""

    def __init__(
        self,
        bank: Bank,
        *,
        api_keys: Mapping[str, frozenset[Permission]] | None = None,
        rate_limit: int = RATE_LIMIT_PER_MINUTE,
    ) -> None:
        """Seed the history from the bank's accounts; ``api_keys`` maps key -> permissions."""
        self.bank = bank
        self._initial_keys = dict(
            {DEFAULT_API_KEY: READ_PERMISSIONS} if api_keys is None else api_keys
        )
        if not self._initial_keys:
            msg = "the Platform API needs at least one API key"
            raise ValueError(msg)
        self.rate_limit = RateLimit(rate_limit)
        self.api_keys: dict[str, frozenset[Permission]] = {}
        self.transfers: dict[str, SimTransfer] = {}
        self.rules: dict[str, SimRule] = {}
        self.executions: dict[str, SimExecution] = {}
        self._idempotency: dict[tuple[str, str], tuple[str, str, float]] = {}
        self._serial = 0
        self.reset()

    def reset(self) -> None:
        """Initial keys, a fresh rate limit and the seeded history (dated from the bank's start)."""
        self.api_keys = dict(self._initial_keys)
        self.rate_limit.reset()
        rules, executions, transfers = seed_history(self.bank.origin)
        self.rules = {rule.id: rule for rule in rules}
        self.executions = {execution.id: execution for execution in executions}
        self.transfers = {transfer.id: transfer for transfer in transfers}
        self._idempotency.clear()
        self._serial = 0

    def next_id(self, kind: str) -> str:
        """A fresh UUID for an object created at run time."""
        self._serial += 1
        return new_id(f"live-{kind}", self._serial)

    def find_account(self, platform_id: str) -> tuple[SimAccount, float | None] | None:
        """The account with that Platform UUID and, for a removed one, when it was removed."""
        for account in self.bank.accounts():
            if account.platform_id == platform_id:
                return account, None
        for account, removed_at in self.bank.removed.values():
            if account.platform_id == platform_id:
                return account, removed_at
        return None

    def account_by_id(self, account_id: str) -> tuple[SimAccount, bool] | None:
        """The account with that Remote API id, and whether it is removed."""
        if account_id in self.bank.removed:
            return self.bank.removed[account_id][0], True
        try:
            return self.bank.get(account_id), False
        except LookupError:
            return None

    def add_transfer(self, transfer: SimTransfer) -> SimTransfer:
        """Record a transfer (the control API's way to make activity happen)."""
        self.transfers[transfer.id] = transfer
        return transfer

    def set_transfer_status(self, transfer_id: str, status: str, error_code: str | None) -> None:
        """Give a transfer a final status now (raises ``KeyError`` for an unknown id)."""
        transfer = self.transfers[transfer_id]
        self.transfers[transfer_id] = replace(
            transfer, status=status, settles_at=None, error_code=error_code
        )

    def set_rule_enabled(self, rule_id: str, *, enabled: bool) -> None:
        """Enable or disable a rule (raises ``KeyError`` for an unknown id)."""
        self.rules[rule_id] = replace(self.rules[rule_id], enabled=enabled)

    def trigger(
        self,
        rule: SimRule,
        *,
        execute_amount: int | None,
        simulation: bool,
        idempotency_key: str | None,
        fingerprint: str,
    ) -> SimExecution:
        """Run ``rule`` now, or return the execution an earlier request with the key started.

        Raises:
            RuleNotTriggerableError: the rule is disabled or unsupported.
            IdempotencyMismatchError: the key was used with another body in the last 24 hours.
        """
        now = self.bank.now()
        if idempotency_key is not None:
            remembered = self._idempotency.get((rule.id, idempotency_key))
            if remembered is not None and now - remembered[2] < IDEMPOTENCY_SECONDS:
                if remembered[0] != fingerprint:
                    raise IdempotencyMismatchError
                return self.executions[remembered[1]]
        if not rule.supported or not rule.enabled:
            code = "INVALID_RULE" if not rule.supported else "RULE_DEACTIVATED"
            raise RuleNotTriggerableError(code)
        execution = self._run(rule, execute_amount, simulation=simulation, now=now)
        if idempotency_key is not None:
            self._idempotency[rule.id, idempotency_key] = (fingerprint, execution.id, now)
        return execution

    def _run(
        self, rule: SimRule, execute_amount: int | None, *, simulation: bool, now: float
    ) -> SimExecution:
        execution_id = self.next_id("execution")
        mode = "SIMULATION" if simulation else "LIVE"
        transfer_ids = []
        for action in rule.actions:
            amount = self._amount(action, execute_amount)
            if amount < MINIMUM_TRANSFER_CENTS:
                continue
            transfer = self._transfer(action, amount, simulation=simulation, now=now)
            self.transfers[transfer.id] = replace(
                transfer, execution_mode=mode, rule_id=rule.id, rule_execution_id=execution_id
            )
            transfer_ids.append(transfer.id)
        execution = SimExecution(
            id=execution_id,
            rule_id=rule.id,
            execution_mode=mode,
            trigger_type="SEQUENCE_API",
            created_at=now,
            settles_at=now + SETTLE_SECONDS,
            amount_cents=execute_amount,
            transfer_ids=tuple(transfer_ids),
            transfers_attempted=len(rule.actions),
        )
        self.executions[execution.id] = execution
        return execution

    def _amount(self, action: SimAction, execute_amount: int | None) -> int:
        if action.kind == "FIXED":
            return action.amount_cents or 0
        if action.kind == "PERCENTAGE":
            base = execute_amount
            if base is None:
                base = self._balance(action.source) or 0
            return int(base * (action.percentage or 0) // 100)
        return self._balance(action.destination) or 0  # TOTAL_AMOUNT_DUE: what is owed

    def _balance(self, account_id: str) -> int | None:
        found = self.account_by_id(account_id)
        if found is None or found[1]:
            return None
        return self.bank.balance_cents(found[0])

    def _transfer(
        self, action: SimAction, amount: int, *, simulation: bool, now: float
    ) -> SimTransfer:
        destination = self.account_by_id(action.destination)
        internal = destination is not None and destination[0].kind is not (
            AccountKind.EXTERNAL_ACCOUNT
        )
        available = self._balance(action.source)
        funded = available is not None and available >= amount
        if funded and not simulation:
            self._move(action, amount)
        return SimTransfer(
            id=self.next_id("transfer"),
            amount_cents=amount,
            direction="INTERNAL" if internal else "MONEY_OUT",
            origin="RULE",
            source=action.source,
            destination=action.destination,
            created_at=now,
            status="PROCESSING",
            settles_at=now + SETTLE_SECONDS,
            settled_status="COMPLETE" if funded else "INCOMPLETE",
            error_code=None if funded else "INSUFFICIENT_FUNDS",
        )

    def _move(self, action: SimAction, amount: int) -> None:
        """Live money movement: the source pays, a Sequence destination receives."""
        source = self._balance(action.source)
        if source is not None:
            self.bank.set_balance(action.source, source - amount)
        destination = self._balance(action.destination)
        found = self.account_by_id(action.destination)
        if destination is not None and found is not None:
            owed = found[0].kind is AccountKind.EXTERNAL_ACCOUNT
            change = -amount if owed and found[0].liability is not None else amount
            self.bank.set_balance(action.destination, destination + change)

    def describe(self) -> dict[str, object]:
        """For the control API: permissions per key (never the keys), counts, rules."""
        now = self.bank.now()
        return {
            "api_keys": [
                {"permissions": sorted(permissions)} for permissions in self.api_keys.values()
            ],
            "rate_limit_per_minute": self.rate_limit.limit,
            "transfers": len(self.transfers),
            "transfers_in_progress": sum(
                transfer.status_at(now) in {"PROCESSING", "PENDING"}
                for transfer in self.transfers.values()
            ),
            "rules": [
                {"id": rule.id, "name": rule.name, "enabled": rule.enabled}
                for rule in self.rules.values()
            ],
            "executions": len(self.executions),
        }
