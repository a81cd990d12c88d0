"""The simulated bank: one beneficiary's accounts and their slowly drifting balances.

The simulator holds two beneficiaries, each a ``Bank``: a household (``seed_accounts``, seen by
both APIs) and a small business (``business_accounts``, seen by the Remote API tokens given
for it), with account names and ids of their own.

Money is integer cents everywhere in here; only the API modules turn cents into a wire format
(dollars as a float for the Remote API, cents for the Platform API). The vocabulary is the
Platform API's (``POD``, ``INCOME_SOURCE``, ``EXTERNAL_ACCOUNT``), since it is the richer one.

Balances drift as a pure function of (seed, account id, elapsed time): integer-only value noise
between hourly knots, so the same seed and the same simulated time always give the same cents,
and tests move time with an injected clock instead of sleeping.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
import functools
import hashlib
import time
import uuid

type Clock = Callable[[], float]
"""Seconds on any monotonic-enough scale; only differences are used."""

DRIFT_KNOT_SECONDS = 3600
"""A balance heads for a new pseudo-random target every hour..."""
DRIFT_TICK_SECONDS = 60
"""...and moves towards it in steps at most once a minute."""

PLATFORM_ID_NAMESPACE = uuid.UUID("5e0c3a9e-6b1f-4d55-9a44-3c2f7d1e8b10")
"""Namespace of the simulator's Platform API account UUIDs (derived from the Remote API ids)."""


@functools.cache
def platform_id_of(account_id: str) -> str:
    """The Platform API UUID of the account with Remote API id ``account_id`` (cached)."""
    return str(uuid.uuid5(PLATFORM_ID_NAMESPACE, account_id))


class AccountKind(StrEnum):
    """What an account is (the Platform API's names)."""

    POD = "POD"
    INCOME_SOURCE = "INCOME_SOURCE"
    EXTERNAL_ACCOUNT = "EXTERNAL_ACCOUNT"


class ExternalType(StrEnum):
    """The sub-type of an external account (Platform API only)."""

    DEPOSITORY = "DEPOSITORY"
    INVESTMENT = "INVESTMENT"
    LIABILITY = "LIABILITY"


@dataclass(frozen=True, slots=True, kw_only=True)
class LiabilityTerms:
    """What the Platform API adds for a debt account; all money in cents."""

    last_statement_cents: int
    next_payment_minimum_cents: int
    interest_rate_percentage: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SimAccount:
    """One account as the bank holds it; the current balance comes from ``Bank.balance_cents``."""

    id: str
    """Opaque Remote API id (number-like for Sequence's own accounts)."""
    name: str
    kind: AccountKind
    base_cents: int
    """The balance at elapsed time zero; drift is added on top."""
    drift_cents: int = 0
    """How far (at most) the balance wanders from ``base_cents``; 0 keeps it fixed."""
    overdrawable: bool = False
    """Whether drift may take the balance below zero (otherwise it stops at zero)."""
    error: str | None = None
    """The provider's reason when the balance cannot be fetched (the balance is then unknown)."""
    # Platform-API-only facts, unused by the Remote API.
    external_type: ExternalType | None = None
    institution: str | None = None
    savings_target_cents: int | None = None
    liability: LiabilityTerms | None = None

    @property
    def platform_id(self) -> str:
        """The account's UUID on the Platform API (stable: derived from the Remote API id)."""
        return platform_id_of(self.id)


class UnknownAccountError(LookupError):
    """No account has that id."""


class DuplicateAccountError(ValueError):
    """An account with that id already exists."""


def _knot_offset(seed: int, account_id: str, knot: int, amplitude: int) -> int:
    """Pseudo-random offset in [-amplitude, amplitude] at one hourly knot (zero at the start)."""
    if knot == 0:
        return 0
    digest = hashlib.blake2b(f"{seed}:{account_id}:{knot}".encode(), digest_size=8).digest()
    return int.from_bytes(digest) % (2 * amplitude + 1) - amplitude


def drift_offset_cents(seed: int, account_id: str, elapsed_seconds: float, amplitude: int) -> int:
    """Drift of one account's balance after ``elapsed_seconds``: a pure, integer-valued function.

    Linear interpolation between hourly pseudo-random knots, evaluated once per minute, so a
    balance moves a little between polls and never jumps.
    """
    if amplitude <= 0 or elapsed_seconds <= 0:
        return 0
    ticks = int(elapsed_seconds) // DRIFT_TICK_SECONDS * DRIFT_TICK_SECONDS
    knot, into = divmod(ticks, DRIFT_KNOT_SECONDS)
    start = _knot_offset(seed, account_id, knot, amplitude)
    end = _knot_offset(seed, account_id, knot + 1, amplitude)
    return start + (end - start) * into // DRIFT_KNOT_SECONDS


def seed_accounts() -> list[SimAccount]:
    """A realistic beneficiary: Pods, an Income Source and linked external accounts."""
    pod = AccountKind.POD
    external = AccountKind.EXTERNAL_ACCOUNT
    return [
        SimAccount(id="4410021", name="Groceries", kind=pod, base_cents=41206, drift_cents=6000),
        SimAccount(id="4410022", name="Rent", kind=pod, base_cents=185000, drift_cents=2500),
        SimAccount(
            id="4410023",
            name="Emergency Fund",
            kind=pod,
            base_cents=1025000,
            drift_cents=4000,
            savings_target_cents=1500000,
        ),
        SimAccount(
            id="4410024",
            name="Vacation",
            kind=pod,
            base_cents=132045,
            drift_cents=3000,
            savings_target_cents=300000,
        ),
        SimAccount(id="4410025", name="Taxes", kind=pod, base_cents=287510, drift_cents=2000),
        SimAccount(
            id="4410007",
            name="Paycheck",
            kind=AccountKind.INCOME_SOURCE,
            base_cents=0,
            institution="Acme Payroll",
        ),
        SimAccount(
            id="acc-3c19",
            name="Everyday Checking",
            kind=external,
            base_cents=320477,
            drift_cents=25000,
            external_type=ExternalType.DEPOSITORY,
            institution="Chase",
        ),
        SimAccount(
            id="acc-51d4",
            name="High Yield Savings",
            kind=external,
            base_cents=1589012,
            drift_cents=5000,
            external_type=ExternalType.DEPOSITORY,
            institution="Ally Bank",
        ),
        SimAccount(
            id="acc-9a02",
            name="Sapphire Visa 4417",
            kind=external,
            base_cents=128743,  # positive: what is owed (the Remote API cannot say it is debt)
            drift_cents=15000,
            external_type=ExternalType.LIABILITY,
            institution="Chase",
            liability=LiabilityTerms(
                last_statement_cents=96412,
                next_payment_minimum_cents=3500,
                interest_rate_percentage=24.99,
            ),
        ),
        SimAccount(
            id="acc-77e1",
            name="Brokerage 9921",
            kind=external,
            base_cents=4210000,
            drift_cents=80000,
            error="Connection failed",
            external_type=ExternalType.INVESTMENT,
            institution="Fidelity",
        ),
    ]


def business_accounts() -> list[SimAccount]:
    """A second beneficiary, a small business: no account name or id is also the household's."""
    pod = AccountKind.POD
    external = AccountKind.EXTERNAL_ACCOUNT
    return [
        SimAccount(
            id="6620101", name="Payroll Reserve", kind=pod, base_cents=642500, drift_cents=4000
        ),
        SimAccount(
            id="6620102", name="Quarterly Taxes", kind=pod, base_cents=318090, drift_cents=2500
        ),
        SimAccount(
            id="6620103",
            name="Equipment Fund",
            kind=pod,
            base_cents=97512,
            drift_cents=1500,
            savings_target_cents=250000,
        ),
        SimAccount(
            id="6620107",
            name="Client Payments",
            kind=AccountKind.INCOME_SOURCE,
            base_cents=0,
            institution="Stripe",
        ),
        SimAccount(
            id="acc-b5f0",
            name="Business Checking",
            kind=external,
            base_cents=1204388,
            drift_cents=40000,
            external_type=ExternalType.DEPOSITORY,
            institution="Mercury",
        ),
        SimAccount(
            id="acc-c2d8",
            name="Amex Business 1008",
            kind=external,
            base_cents=231055,  # positive: what is owed
            drift_cents=20000,
            external_type=ExternalType.LIABILITY,
            institution="American Express",
            liability=LiabilityTerms(
                last_statement_cents=187020,
                next_payment_minimum_cents=4000,
                interest_rate_percentage=21.24,
            ),
        ),
    ]


def synthetic_accounts(seed: int, count: int, *, first_number: int) -> list[SimAccount]:
    """``count`` extra Pods for load tests: ids from ``first_number`` on, names ``Pod 0001``..."""
    accounts = []
    for index in range(1, count + 1):
        digest = hashlib.blake2b(f"{seed}:synthetic:{index}".encode(), digest_size=8).digest()
        base = int.from_bytes(digest) % 500000  # up to $5,000.00
        accounts.append(
            SimAccount(
                id=str(first_number + index - 1),
                name=f"Pod {index:04d}",
                kind=AccountKind.POD,
                base_cents=base,
                drift_cents=max(100, base // 50),
            )
        )
    return accounts


SYNTHETIC_FIRST_NUMBER = 5_000_000
"""Synthetic and added accounts get number-like ids from here on, clear of the seeded ones."""
BUSINESS_FIRST_NUMBER = 7_000_000
"""Accounts added to the business get ids from here on, clear of the household's."""


class Bank:
    """One beneficiary's accounts, with their balances at the clock's current time."""

    def __init__(
        self,
        *,
        seed: int = 1,
        extra_accounts: int = 0,
        clock: Clock = time.time,
        seeded: Callable[[], list[SimAccount]] = seed_accounts,
        first_number: int = SYNTHETIC_FIRST_NUMBER,
    ) -> None:
        """Open the bank with the ``seeded`` accounts plus ``extra_accounts`` synthetic Pods.

        Synthetic and added accounts are numbered from ``first_number`` on.
        """
        if extra_accounts < 0:
            msg = "extra_accounts must not be negative"
            raise ValueError(msg)
        self.seed = seed
        self.extra_accounts = extra_accounts
        self._clock = clock
        self._seeded = seeded
        self._first_number = first_number
        self._accounts: dict[str, SimAccount] = {}
        self.removed: dict[str, tuple[SimAccount, float]] = {}
        """Accounts removed since the reset, with when (clock time): the Platform API keeps
        showing them as deleted (``deletedAt``), the Remote API forgets them."""
        self._next_number = first_number
        self._origin = 0.0
        self.reset()

    def reset(self) -> None:
        """Back to the seeded accounts, with elapsed time starting again from zero."""
        accounts = self._seeded() + synthetic_accounts(
            self.seed, self.extra_accounts, first_number=self._first_number
        )
        self._accounts = {account.id: account for account in accounts}
        self.removed = {}
        self._next_number = self._first_number + self.extra_accounts
        self._origin = self._clock()

    @classmethod
    def business(cls, *, seed: int = 1, clock: Clock = time.time) -> Bank:
        """The second beneficiary's bank: ``business_accounts``, numbered clear of the first's."""
        return cls(
            seed=seed, clock=clock, seeded=business_accounts, first_number=BUSINESS_FIRST_NUMBER
        )

    @property
    def clock(self) -> Clock:
        """The clock the balances drift by (another bank on the same time uses it too)."""
        return self._clock

    def now(self) -> float:
        """The clock's current time (wall-clock seconds unless a test injected another clock)."""
        return self._clock()

    @property
    def origin(self) -> float:
        """Clock time of the opening (or last reset): seeded history is dated back from it."""
        return self._origin

    def elapsed_seconds(self) -> float:
        """Simulated seconds since the bank opened (or was reset)."""
        return max(0.0, self._clock() - self._origin)

    def accounts(self) -> list[SimAccount]:
        """Every account, in a stable order (insertion order)."""
        return list(self._accounts.values())

    def get(self, account_id: str) -> SimAccount:
        """The account with that id, or ``UnknownAccountError``."""
        try:
            return self._accounts[account_id]
        except KeyError:
            raise UnknownAccountError(account_id) from None

    def balance_cents(self, account: SimAccount) -> int | None:
        """The account's balance now, in cents; None when the provider reports an error.

        Drift stops at zero unless the account is overdrawable.
        """
        if account.error is not None:
            return None
        offset = drift_offset_cents(
            self.seed, account.id, self.elapsed_seconds(), account.drift_cents
        )
        cents = account.base_cents + offset
        return cents if account.overdrawable else max(0, cents)

    def describe(self, account: SimAccount) -> dict[str, object]:
        """What the control API shows of one account: cents and facts, no wire format."""
        return {
            "id": account.id,
            "name": account.name,
            "kind": account.kind.value,
            "balance_cents": self.balance_cents(account),
            "error": account.error,
            "drift_cents": account.drift_cents,
        }

    def new_id(self) -> str:
        """A fresh, unused number-like id."""
        while str(self._next_number) in self._accounts:
            self._next_number += 1
        self._next_number += 1
        return str(self._next_number - 1)

    def add(self, account: SimAccount) -> SimAccount:
        """Add an account at the end of the list (an id removed earlier comes back to life)."""
        if account.id in self._accounts:
            raise DuplicateAccountError(account.id)
        self.removed.pop(account.id, None)
        self._accounts[account.id] = account
        return account

    def remove(self, account_id: str) -> SimAccount:
        """Remove an account; the others keep their order."""
        account = self.get(account_id)
        del self._accounts[account_id]
        self.removed[account_id] = (account, self._clock())
        return account

    def _store(self, account: SimAccount) -> SimAccount:
        self._accounts[account.id] = account  # an existing id keeps its position in the list
        return account

    def rename(self, account_id: str, name: str) -> SimAccount:
        """Give an account a new name."""
        return self._store(replace(self.get(account_id), name=name))

    def set_balance(self, account_id: str, cents: int) -> SimAccount:
        """Make the account show ``cents`` now; it keeps drifting from there.

        A negative balance makes the account overdrawable; a positive one makes it stop at zero.
        """
        account = self.get(account_id)
        offset = drift_offset_cents(
            self.seed, account.id, self.elapsed_seconds(), account.drift_cents
        )
        return self._store(replace(account, base_cents=cents - offset, overdrawable=cents < 0))

    def set_drift(self, account_id: str, cents: int) -> SimAccount:
        """Let the balance wander at most ``cents`` from its base (0 freezes it)."""
        return self._store(replace(self.get(account_id), drift_cents=cents))

    def set_error(self, account_id: str, error: str | None) -> SimAccount:
        """Report a provider error for the balance, or clear it with None."""
        return self._store(replace(self.get(account_id), error=error))
