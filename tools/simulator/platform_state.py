"""What only the Platform API has, for one simulator: keys, rate limit, its history, money.

Triggering a rule and creating a transfer are simulated here, on the bank's clock and per
``Timing``: a live run or transfer moves the balances in the shared bank at once (so both APIs
see it), unless the source lacks the money; its transfers are ``PROCESSING``, then ``PENDING``,
then ``COMPLETE`` (or ``INCOMPLETE`` for want of funds, ``ERROR`` for an account whose bank is
disconnected); an execution is ``IN_PROGRESS`` until they settled. A new transfer or execution
is not found by id for a moment (Sequence lags behind its own answers). A simulation moves
nothing. Idempotency keys follow :mod:`.idempotency`.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from . import money
from .idempotency import IdempotencyMemory
from .platform_records import (
    DEFAULT_API_KEY,
    DEV_PERMISSIONS,
    DEV_TRANSFER_PAIRS,
    FAILED_STATUSES,
    IN_PROGRESS_STATUSES,
    MINIMUM_TRANSFER_CENTS,
    RATE_LIMIT_PER_MINUTE,
    Permission,
    RateLimit,
    SimAction,
    SimExecution,
    SimExternalTransaction,
    SimRule,
    SimTransfer,
    Timing,
    TransferPair,
    new_id,
)
from .platform_seed import seed_external_transactions, seed_history
from .state import AccountKind, Bank, SimAccount


class RuleNotTriggerableError(Exception):
    """The rule is disabled (``RULE_DEACTIVATED``), or unsupported or deleted (``INVALID_RULE``)."""

    def __init__(self, code: str) -> None:
        """Keep the API's error code."""
        super().__init__(code)
        self.code = code


class TransferRefusedError(Exception):
    """``POST /transfers`` is refused: the HTTP status, Sequence's code and a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Keep what the answer says."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferRequest:
    """A ``CreateTransferRequest``, checked for shape (accounts by Platform UUID)."""

    source: str
    destination: str
    amount_cents: int
    description: str | None
    simulation: bool


class PlatformState:
    """Keys, rate limit and the Platform API's history for one simulator."""

    def __init__(
        self,
        bank: Bank,
        *,
        api_keys: Mapping[str, frozenset[Permission]] | None = None,
        transfer_pairs: Mapping[str, tuple[TransferPair, ...] | None] | None = None,
        rate_limit: int = RATE_LIMIT_PER_MINUTE,
    ) -> None:
        """Seed the history from the bank's accounts.

        ``api_keys`` maps key -> permissions (default: the development key), ``transfer_pairs``
        key -> its ``MANUAL_TRANSFER`` pairs (a key not in it, or None: any pair).
        """
        self.bank = bank
        if api_keys is None:
            api_keys = {DEFAULT_API_KEY: DEV_PERMISSIONS}
            transfer_pairs = {DEFAULT_API_KEY: DEV_TRANSFER_PAIRS, **(transfer_pairs or {})}
        self._initial_keys = dict(api_keys)
        self._initial_pairs = dict(transfer_pairs or {})
        if not self._initial_keys:
            msg = "the Platform API needs at least one API key"
            raise ValueError(msg)
        self.rate_limit = RateLimit(rate_limit)
        self.timing = Timing()
        self.idempotency = IdempotencyMemory(bank.now, self.timing)
        self.api_keys: dict[str, frozenset[Permission]] = {}
        self.transfer_pairs: dict[str, tuple[TransferPair, ...] | None] = {}
        self.transfers: dict[str, SimTransfer] = {}
        self.rules: dict[str, SimRule] = {}
        self.executions: dict[str, SimExecution] = {}
        self.external: dict[str, SimExternalTransaction] = {}
        self._serial = 0
        self.reset()

    def reset(self) -> None:
        """Initial keys and timing, a fresh rate limit and the seeded history."""
        self.api_keys = dict(self._initial_keys)
        self.transfer_pairs = dict(self._initial_pairs)
        self.rate_limit.reset()
        self.timing.restore_defaults()
        rules, executions, transfers = seed_history(self.bank.origin)
        self.rules = {rule.id: rule for rule in rules}
        self.executions = {execution.id: execution for execution in executions}
        self.transfers = {transfer.id: transfer for transfer in transfers}
        self.external = {
            item.id: item for item in seed_external_transactions(self.bank.origin, self.bank.seed)
        }
        self.idempotency.clear()
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

    def visible(self, item: SimTransfer | SimExecution) -> bool:
        """Whether ``GET`` by id finds it yet."""
        return item.visible_at is None or self.bank.now() >= item.visible_at

    # --- The control API's changes

    def add_transfer(self, transfer: SimTransfer) -> SimTransfer:
        """Record a transfer (the control API's way to make activity happen)."""
        self.transfers[transfer.id] = transfer
        return transfer

    def set_transfer_status(self, transfer_id: str, status: str, error_code: str | None) -> None:
        """Give a transfer a status now (raises ``KeyError`` for an unknown id).

        A live transfer that moved money and fails before it completed gives it back.
        """
        transfer = self.transfers[transfer_id]
        now = self.bank.now()
        moved = transfer.moved
        if moved and status in FAILED_STATUSES and transfer.status_at(now) != "COMPLETE":
            if transfer.source is not None and transfer.destination is not None:
                money.move(self.bank, transfer.destination, transfer.source, transfer.amount_cents)
            moved = False
        self.transfers[transfer_id] = replace(
            transfer,
            status=status,
            settles_at=None,
            pending_at=None,
            error_code=error_code,
            moved=moved,
        )

    def set_rule(
        self,
        rule_id: str,
        *,
        enabled: bool | None = None,
        supported: bool | None = None,
        deleted: bool | None = None,
    ) -> SimRule:
        """Enable, disable, (un)support or delete a rule (``KeyError`` for an unknown id)."""
        rule = self.rules[rule_id]
        if enabled is not None:
            rule = replace(rule, enabled=enabled)
        if supported is not None:
            rule = replace(rule, supported=supported)
        if deleted is not None:
            rule = replace(rule, deleted_at=self.bank.now() if deleted else None)
        self.rules[rule_id] = rule
        return rule

    def add_external(self, item: SimExternalTransaction) -> SimExternalTransaction:
        """Record a linked account's transaction."""
        self.external[item.id] = item
        return item

    # --- Rules

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
            RuleNotTriggerableError: the rule is disabled, unsupported or deleted.
            IdempotencyMismatchError: the key was used with another body in the last 24 hours.
            InFlightError: the first request with the key is still in flight.
        """
        scope = f"rules:{rule.id}"
        remembered = self.idempotency.recall(scope, idempotency_key, fingerprint)
        if remembered is not None:
            return self.executions[remembered]
        if not rule.supported or rule.deleted_at is not None or not rule.enabled:
            code = (
                "RULE_DEACTIVATED" if rule.supported and rule.deleted_at is None else "INVALID_RULE"
            )
            raise RuleNotTriggerableError(code)
        execution = self.run(
            rule.id,
            rule.actions,
            trigger_type="SEQUENCE_API",
            execute_amount=execute_amount,
            simulation=simulation,
        )
        self.idempotency.remember(scope, idempotency_key, fingerprint, execution.id)
        return execution

    def run(
        self,
        rule_id: str,
        actions: Iterable[SimAction],
        *,
        trigger_type: str,
        execute_amount: int | None = None,
        simulation: bool = False,
    ) -> SimExecution:
        """One execution of a rule's ``actions`` now: its transfers, and the money they move."""
        now = self.bank.now()
        execution_id = self.next_id("execution")
        mode = "SIMULATION" if simulation else "LIVE"
        transfer_ids = []
        actions = tuple(actions)
        for action in actions:
            amount = self._amount(action, execute_amount)
            if amount < MINIMUM_TRANSFER_CENTS:
                continue
            transfer = self._rule_transfer(action, amount, simulation=simulation, now=now)
            self.transfers[transfer.id] = replace(
                transfer, execution_mode=mode, rule_id=rule_id, rule_execution_id=execution_id
            )
            transfer_ids.append(transfer.id)
        execution = SimExecution(
            id=execution_id,
            rule_id=rule_id,
            execution_mode=mode,
            trigger_type=trigger_type,
            created_at=now,
            settles_at=now + self.timing.settle_seconds,
            amount_cents=execute_amount,
            transfer_ids=tuple(transfer_ids),
            transfers_attempted=len(actions),
            visible_at=now + self.timing.hidden_seconds,
        )
        self.executions[execution.id] = execution
        return execution

    def _amount(self, action: SimAction, execute_amount: int | None) -> int:
        if action.kind == "FIXED":
            return action.amount_cents or 0
        if action.kind == "PERCENTAGE":
            base = execute_amount
            if base is None:
                base = money.balance(self.bank, action.source) or 0
            return int(base * (action.percentage or 0) // 100)
        return money.balance(self.bank, action.destination) or 0  # TOTAL_AMOUNT_DUE: owed

    def _rule_transfer(
        self, action: SimAction, amount: int, *, simulation: bool, now: float
    ) -> SimTransfer:
        destination = self.account_by_id(action.destination)
        internal = destination is not None and destination[0].kind is not (
            AccountKind.EXTERNAL_ACCOUNT
        )
        funded = money.funded(self.bank, action.source, amount)
        if funded and not simulation:
            money.move(self.bank, action.source, action.destination, amount)
        return self._in_flight(
            SimTransfer(
                id=self.next_id("transfer"),
                amount_cents=amount,
                direction="INTERNAL" if internal else "MONEY_OUT",
                origin="RULE",
                source=action.source,
                destination=action.destination,
                created_at=now,
                status="PROCESSING",
                settled_status="COMPLETE" if funded else "INCOMPLETE",
                error_code=None if funded else "INSUFFICIENT_FUNDS",
                moved=funded and not simulation,
            )
        )

    def _in_flight(self, transfer: SimTransfer) -> SimTransfer:
        """``transfer`` (just created) on its way: processing, pending, settled, hidden a moment."""
        created = transfer.created_at
        return replace(
            transfer,
            pending_at=created + self.timing.processing_seconds,
            settles_at=created + self.timing.settle_seconds,
            visible_at=created + self.timing.hidden_seconds,
        )

    # --- Manual transfers

    def create_transfer(
        self,
        api_key: str,
        request: TransferRequest,
        *,
        idempotency_key: str | None,
        fingerprint: str,
    ) -> SimTransfer:
        """``POST /transfers``: check, then move the money now (unless a simulation).

        Raises:
            TransferRefusedError: an account that cannot send or receive, a pair the key does
                not allow (403 ``ACCESS_DENIED``), an amount over its maximum (400
                ``MAXIMUM_AMOUNT_EXCEEDED``).
            IdempotencyMismatchError, InFlightError: see :mod:`.idempotency`.
        """
        remembered = self.idempotency.recall("transfers", idempotency_key, fingerprint)
        if remembered is not None:
            return self.transfers[remembered]
        source = self._party(request.source, "sourceAccountId", money.can_be_source)
        destination = self._party(
            request.destination, "destinationAccountId", money.can_be_destination
        )
        if source.id == destination.id:
            raise TransferRefusedError(
                400, "INVALID_PARAMETERS", "the source and the destination must differ"
            )
        self._check_pair(api_key, request)
        transfer = self._manual_transfer(source, destination, request)
        self.transfers[transfer.id] = transfer
        self.idempotency.remember("transfers", idempotency_key, fingerprint, transfer.id)
        return transfer

    def _party(
        self, platform_id: str, field: str, allowed: Callable[[SimAccount], bool]
    ) -> SimAccount:
        found = self.find_account(platform_id)
        if found is None or found[1] is not None:
            raise TransferRefusedError(400, "INVALID_PARAMETERS", f"{field} is not an account")
        account = found[0]
        if not allowed(account):
            role = "send" if field.startswith("source") else "receive"
            raise TransferRefusedError(
                400, "INVALID_PARAMETERS", f"{field} is an account that cannot {role} transfers"
            )
        return account

    def _check_pair(self, api_key: str, request: TransferRequest) -> None:
        pairs = self.transfer_pairs.get(api_key)
        if pairs is None:
            return
        pair = next(
            (
                pair
                for pair in pairs
                if (pair.source, pair.target) == (request.source, request.destination)
            ),
            None,
        )
        if pair is None:
            raise TransferRefusedError(
                403,
                "ACCESS_DENIED",
                "API key does not have required permissions to access this resource",
            )
        if pair.max_amount_cents is not None and request.amount_cents > pair.max_amount_cents:
            raise TransferRefusedError(
                400,
                "MAXIMUM_AMOUNT_EXCEEDED",
                "The amount is above the maximum this API key allows for these accounts",
            )

    def _manual_transfer(
        self, source: SimAccount, destination: SimAccount, request: TransferRequest
    ) -> SimTransfer:
        now = self.bank.now()
        amount = request.amount_cents
        disconnected = source.error is not None or destination.error is not None
        funded = not disconnected and money.funded(self.bank, source.id, amount)
        outcome, error = "COMPLETE", None
        if disconnected:
            outcome, error = "ERROR", "DISCONNECTED_ACCOUNT"
        elif not funded:
            outcome, error = "INCOMPLETE", "INSUFFICIENT_FUNDS"
        pull = source.kind is AccountKind.EXTERNAL_ACCOUNT
        direction = "MONEY_IN" if pull else "INTERNAL"
        if destination.kind is AccountKind.EXTERNAL_ACCOUNT:
            direction = "MONEY_OUT"
        transfer = SimTransfer(
            id=self.next_id("transfer"),
            amount_cents=amount,
            direction=direction,
            origin="USER_PULL" if pull else "USER",
            source=source.id,
            destination=destination.id,
            created_at=now,
            status="PROCESSING",
            settled_status=outcome,
            error_code=error,
            execution_mode="SIMULATION" if request.simulation else "LIVE",
        )
        if request.simulation and outcome != "COMPLETE":
            # A dry run is checked at once: its answer already says it would fail.
            return replace(transfer, status=outcome, visible_at=now + self.timing.hidden_seconds)
        if not request.simulation and funded:
            money.move(self.bank, source.id, destination.id, amount)
            transfer = replace(transfer, moved=True)
        return self._in_flight(transfer)

    # --- For the control API

    def describe(self) -> dict[str, object]:
        """Permissions and pairs per key (never the keys), counts, rules, timing."""
        now = self.bank.now()
        return {
            "api_keys": [
                {
                    "permissions": sorted(permissions),
                    "transfer_pairs": None
                    if (pairs := self.transfer_pairs.get(key)) is None
                    else [pair.describe() for pair in pairs],
                }
                for key, permissions in self.api_keys.items()
            ],
            "rate_limit_per_minute": self.rate_limit.limit,
            "timing": {
                "in_flight_seconds": self.timing.in_flight_seconds,
                "hidden_seconds": self.timing.hidden_seconds,
                "processing_seconds": self.timing.processing_seconds,
                "settle_seconds": self.timing.settle_seconds,
            },
            "transfers": len(self.transfers),
            "transfers_in_progress": sum(
                transfer.status_at(now) in IN_PROGRESS_STATUSES
                for transfer in self.transfers.values()
            ),
            "transfers_awaiting_approval": sum(
                transfer.status_at(now) == "PENDING_APPROVAL"
                for transfer in self.transfers.values()
            ),
            "external_transactions": len(self.external),
            "rules": [
                {
                    "id": rule.id,
                    "name": rule.name,
                    "enabled": rule.enabled,
                    "supported": rule.supported,
                    "deleted": rule.deleted_at is not None,
                    "schedule_type": rule.schedule_type,
                }
                for rule in self.rules.values()
            ],
            "executions": len(self.executions),
        }
