"""The Platform API's records: permissions, keys, the rate limit, transfers, rules, executions.

Money is integer cents and times are clock seconds (the bank's clock: wall-clock epoch seconds
unless a test injected another). The wire format lives in ``platform_api``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
import math
import uuid

DEFAULT_API_KEY = "sk_test_dev_key"
"""The development key: underscores, so it never looks like a real ``sk_`` key to scanners."""
RATE_LIMIT_PER_MINUTE = 100
RATE_WINDOW_SECONDS = 60.0
SETTLE_SECONDS = 2.0
"""How long a triggered rule's execution and transfers stay in progress."""
IDEMPOTENCY_SECONDS = 24 * 3600
MINIMUM_TRANSFER_CENTS = 100
ID_NAMESPACE = uuid.UUID("0b7e4f1c-2a43-4c8e-9d61-5f3a8c2e7d90")


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
"""What the default development key may do: every read this simulator serves."""


def new_id(kind: str, number: int) -> str:
    """A deterministic UUID for the ``number``-th object of ``kind``."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}:{number}"))


def parse_api_key(spec: str) -> tuple[str, frozenset[Permission]]:
    """``"KEY"`` (every read permission) or ``"KEY:PERM,PERM"`` (``"KEY:"`` for none).

    Raises:
        ValueError: a blank key, whitespace in it, or an unknown permission (the message
            never repeats the key).
    """
    key, colon, names = spec.partition(":")
    if not key or any(character.isspace() for character in key):
        msg = "an API key must be non-empty and without whitespace"
        raise ValueError(msg)
    if not colon:
        return key, READ_PERMISSIONS
    permissions = set()
    for name in filter(None, (part.strip() for part in names.split(","))):
        try:
            permissions.add(Permission(name.upper()))
        except ValueError:
            msg = f"unknown permission {name!r}; choose from: {', '.join(Permission)}"
            raise ValueError(msg) from None
    return key, frozenset(permissions)


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
    settled_status: str = "COMPLETE"
    error_code: str | None = None
    external_party: str | None = None
    """Name of an ``EXTERNAL_ENTITY`` on the side whose account is None (e.g. an ATM)."""
    execution_mode: str = "LIVE"
    rule_id: str | None = None
    rule_execution_id: str | None = None

    def status_at(self, now: float) -> str:
        """The status at clock time ``now``."""
        if self.settles_at is not None and now >= self.settles_at:
            return self.settled_status
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

    def status_at(self, now: float, transfers: Iterable[SimTransfer]) -> str:
        """``IN_PROGRESS`` until settled, then what its transfers came to."""
        statuses = [transfer.status_at(now) for transfer in transfers]
        if now < self.settles_at or any(status in {"PROCESSING", "PENDING"} for status in statuses):
            return "IN_PROGRESS"
        failed = sum(status in {"ERROR", "INCOMPLETE", "CANCELLED"} for status in statuses)
        if failed and failed == len(statuses):
            return "FAILED"
        return "PARTIAL" if failed else "EXECUTED"
