"""The Platform API's records: permissions, keys, the rate limit, transfers, rules, executions.

Money is integer cents and times are clock seconds (the bank's clock: wall-clock epoch seconds
unless a test injected another). The wire format lives in ``platform_api``.
"""

from collections.abc import Iterable
from dataclasses import dataclass, fields
from enum import StrEnum
import math
import uuid

from .state import platform_id_of

DEFAULT_API_KEY = "sk_test_dev_key"
"""The development key: underscores, so it never looks like a real ``sk_`` key to scanners."""
RATE_LIMIT_PER_MINUTE = 100
RATE_WINDOW_SECONDS = 60.0
IDEMPOTENCY_SECONDS = 24 * 3600
MINIMUM_TRANSFER_CENTS = 100
ID_NAMESPACE = uuid.UUID("0b7e4f1c-2a43-4c8e-9d61-5f3a8c2e7d90")
IN_PROGRESS_STATUSES = frozenset({"PROCESSING", "PENDING"})
FAILED_STATUSES = frozenset({"ERROR", "INCOMPLETE", "CANCELLED"})


@dataclass(slots=True)
class Timing:
    """How money requests unfold on the clock (the control API changes these)."""

    in_flight_seconds: float = 1.0
    """A repeat of a money request (same idempotency key and body) this soon is 409."""
    hidden_seconds: float = 1.0
    """A new transfer or execution is 404 this long to ``GET`` by id (Sequence lags)."""
    processing_seconds: float = 2.0
    """A new transfer is ``PROCESSING`` this long, then ``PENDING`` ..."""
    settle_seconds: float = 5.0
    """... until this long after it was created: then its final status. An execution is
    ``IN_PROGRESS`` until its transfers settled."""

    def restore_defaults(self) -> None:
        """Every setting back to its default (the same object: others hold it)."""
        for setting in fields(self):
            setattr(self, setting.name, setting.default)


class Permission(StrEnum):
    """A Platform API key's permissions."""

    READ_ACCOUNTS = "READ_ACCOUNTS"
    READ_RULES = "READ_RULES"
    TRIGGER_RULES = "TRIGGER_RULES"
    READ_TRANSFERS = "READ_TRANSFERS"
    MANUAL_TRANSFER = "MANUAL_TRANSFER"
    READ_AUDIT_LOGS = "READ_AUDIT_LOGS"


READ_PERMISSIONS = frozenset(
    {Permission.READ_ACCOUNTS, Permission.READ_RULES, Permission.READ_TRANSFERS}
)
"""Every read this simulator serves."""
DEV_PERMISSIONS = READ_PERMISSIONS | {Permission.TRIGGER_RULES, Permission.MANUAL_TRANSFER}
"""What the development key (and any key given without permissions) may do."""


def platform_uuid(account: str) -> str:
    """An account's Platform UUID, from either API's id."""
    try:
        return str(uuid.UUID(account))
    except ValueError:
        return platform_id_of(account)


@dataclass(frozen=True, slots=True)
class TransferPair:
    """One ``MANUAL_TRANSFER`` entry of a key: money may go from ``source`` to ``target``."""

    source: str
    """The source account's Platform UUID."""
    target: str
    max_amount_cents: int | None = None
    """Transfers above this are refused (``MAXIMUM_AMOUNT_EXCEEDED``); None: no cap."""

    @classmethod
    def of(cls, source: str, target: str, max_amount_cents: int | None = None) -> TransferPair:
        """A pair between accounts given by Remote API id or Platform UUID."""
        return cls(platform_uuid(source), platform_uuid(target), max_amount_cents)

    def describe(self) -> dict[str, object]:
        """For the control API."""
        return {
            "source": self.source,
            "target": self.target,
            "max_amount_cents": self.max_amount_cents,
        }


DEV_TRANSFER_PAIRS = (
    TransferPair.of("4410023", "4410024", 50000),  # Emergency Fund -> Vacation, up to $500
    TransferPair.of("4410021", "4410024"),  # Groceries -> Vacation
    TransferPair.of("acc-3c19", "4410023", 100000),  # Everyday Checking -> Emergency Fund
    TransferPair.of("4410024", "acc-3c19"),  # Vacation -> Everyday Checking
)
"""The development key's ``MANUAL_TRANSFER`` pairs: the demo's route is the first."""


def new_id(kind: str, number: int) -> str:
    """A deterministic UUID for the ``number``-th object of ``kind``."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}:{number}"))


type KeySpec = tuple[str, frozenset[Permission], tuple[TransferPair, ...] | None]
"""A key, its permissions and its ``MANUAL_TRANSFER`` pairs (None: any pair)."""


def parse_api_key(spec: str) -> KeySpec:
    """``"KEY"`` (the development key's permissions and pairs) or ``"KEY:PERM,PERM"``.

    ``"KEY:"`` has no permission. ``MANUAL_TRANSFER`` alone allows any pair;
    ``MANUAL_TRANSFER=SOURCE>TARGET[@MAX_CENTS][+SOURCE>TARGET...]`` only those (accounts by
    either API's id), e.g. ``sk_test_mover:READ_ACCOUNTS,MANUAL_TRANSFER=4410023>4410024@50000``.

    Raises:
        ValueError: a blank key, whitespace in it, an unknown permission or a bad pair (the
            message never repeats the key).
    """
    key, colon, names = spec.partition(":")
    if not key or any(character.isspace() for character in key):
        msg = "an API key must be non-empty and without whitespace"
        raise ValueError(msg)
    if not colon:
        return key, DEV_PERMISSIONS, DEV_TRANSFER_PAIRS
    permissions = set()
    pairs: tuple[TransferPair, ...] | None = None
    for part in filter(None, (part.strip() for part in names.split(","))):
        name, equals, listed = part.partition("=")
        try:
            permission = Permission(name.strip().upper())
        except ValueError:
            msg = f"unknown permission {name!r}; choose from: {', '.join(Permission)}"
            raise ValueError(msg) from None
        permissions.add(permission)
        if equals:
            if permission is not Permission.MANUAL_TRANSFER:
                msg = f"only MANUAL_TRANSFER takes pairs, not {permission}"
                raise ValueError(msg)
            pairs = tuple(_pair(item) for item in listed.split("+"))
    return key, frozenset(permissions), pairs


def _pair(text: str) -> TransferPair:
    """``SOURCE>TARGET`` or ``SOURCE>TARGET@MAX_CENTS``."""
    route, at, cap = text.strip().partition("@")
    source, arrow, target = route.partition(">")
    if not arrow or not source.strip() or not target.strip():
        msg = f"a MANUAL_TRANSFER pair is SOURCE>TARGET[@MAX_CENTS], not {text!r}"
        raise ValueError(msg)
    if at and not (cap.isascii() and cap.isdigit() and int(cap) >= MINIMUM_TRANSFER_CENTS):
        msg = f"a pair's maximum is whole cents, at least {MINIMUM_TRANSFER_CENTS}: {text!r}"
        raise ValueError(msg)
    return TransferPair.of(source.strip(), target.strip(), int(cap) if at else None)


class RateLimit:
    """Fixed one-minute windows per key, as the API describes its 100 requests/minute."""

    def __init__(self, limit: int = RATE_LIMIT_PER_MINUTE) -> None:
        """Allow ``limit`` requests per key and window."""
        if limit < 1:
            msg = "the rate limit must be at least 1 request per minute"
            raise ValueError(msg)
        self.limit = limit
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, now: float) -> int | None:
        """Count one request; the ``Retry-After`` seconds when it is over the limit."""
        started, count = self._windows.get(key, (now, 0))
        if now - started >= RATE_WINDOW_SECONDS:
            started, count = now, 0
        if count >= self.limit:
            return max(1, math.ceil(started + RATE_WINDOW_SECONDS - now))
        self._windows[key] = (started, count + 1)
        return None

    def reset(self) -> None:
        """Forget every window."""
        self._windows.clear()


@dataclass(frozen=True, slots=True, kw_only=True)
class SimTransfer:
    """One money movement; accounts by Remote API id, an outside party by name only."""

    id: str
    amount_cents: int
    direction: str
    origin: str
    source: str | None
    destination: str | None
    created_at: float
    status: str = "COMPLETE"
    settles_at: float | None = None
    """When set, ``status`` holds until then and ``settled_status`` after."""
    pending_at: float | None = None
    """When set (before ``settles_at``), ``status`` holds until then and ``PENDING`` after."""
    settled_status: str = "COMPLETE"
    error_code: str | None = None
    external_party: str | None = None
    """Name of an ``EXTERNAL_ENTITY`` on the side whose account is None (e.g. an ATM)."""
    execution_mode: str = "LIVE"
    rule_id: str | None = None
    rule_execution_id: str | None = None
    visible_at: float | None = None
    """Before this, ``GET /transfers/{id}`` does not find it (Sequence lags after creation)."""
    moved: bool = False
    """Live money moved when it was created: a failure before it completed gives it back."""

    def status_at(self, now: float) -> str:
        """The status at clock time ``now``."""
        if self.settles_at is not None and now >= self.settles_at:
            return self.settled_status
        if self.pending_at is not None and now >= self.pending_at:
            return "PENDING"
        return self.status

    def completed_at(self, now: float) -> float | None:
        """When it reached ``COMPLETE``, if it has."""
        if self.status_at(now) != "COMPLETE":
            return None
        return self.settles_at if self.settles_at is not None else self.created_at

    def error_at(self, now: float) -> str | None:
        """The error code, once the status is a failure."""
        return self.error_code if self.status_at(now) in {"ERROR", "INCOMPLETE"} else None


@dataclass(frozen=True, slots=True, kw_only=True)
class SimAction:
    """One transfer a rule makes: a fixed amount, a percentage, or a liability's amount due."""

    kind: str
    """``FIXED``, ``PERCENTAGE`` (of the incoming amount) or ``TOTAL_AMOUNT_DUE``."""
    source: str
    destination: str
    amount_cents: int | None = None
    percentage: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SimRule:
    """A rule as the dashboard made it."""

    id: str
    name: str
    description: str | None
    enabled: bool
    trigger_type: str
    """``ON_FUNDS_TRANSFERRED``, ``SCHEDULED`` or ``MANUAL``."""
    trigger_account: str
    actions: tuple[SimAction, ...]
    created_at: float
    supported: bool = True
    """False: listed, but ``GET /rules/{id}`` and the trigger answer ``INVALID_RULE``."""
    schedule_type: str | None = None
    schedule_start: float | None = None
    """A scheduled rule's ``startDate`` (its first run; the schedule repeats from it)."""
    deleted_at: float | None = None
    """Listed with ``deletedAt``; ``GET /rules/{id}`` is 404, the trigger ``INVALID_RULE``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SimExecution:
    """One run of a rule."""

    id: str
    rule_id: str
    execution_mode: str
    trigger_type: str
    created_at: float
    settles_at: float
    amount_cents: int | None = None
    transfer_ids: tuple[str, ...] = ()
    transfers_attempted: int = 0
    visible_at: float | None = None
    """Before this, ``GET .../executions/{id}`` does not find it."""

    def status_at(self, now: float, transfers: Iterable[SimTransfer]) -> str:
        """``IN_PROGRESS`` until settled, then what its transfers came to."""
        statuses = [transfer.status_at(now) for transfer in transfers]
        if now < self.settles_at or any(status in IN_PROGRESS_STATUSES for status in statuses):
            return "IN_PROGRESS"
        failed = sum(status in FAILED_STATUSES for status in statuses)
        if failed and failed == len(statuses):
            return "FAILED"
        return "PARTIAL" if failed else "EXECUTED"


@dataclass(frozen=True, slots=True, kw_only=True)
class SimExternalTransaction:
    """One line of a linked external account, as its bank reported it."""

    id: str
    account: str
    """The external account's Remote API id."""
    amount_cents: int
    direction: str
    """``MONEY_IN`` or ``MONEY_OUT``, relative to the account."""
    status: str
    """``PENDING`` or ``COMPLETE``."""
    description: str
    date: float
