"""Scenarios: what the simulated service does wrong (or changes) right now.

A scenario is either a *fault mode* that stays active (until switched, or for ``times``
requests) or a *one-shot mutation* of the bank that then behaves like ``ok``. Faults are
API-neutral (``Fault.RATE_LIMITED``); each API module decides how a fault looks on its wire,
so the Platform API can render the same modes its own way, and modes that only make sense there
(for example a missing permission) are one more ``Fault`` plus a registry entry.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .params import InvalidParamsError, Params, integer, reject_unknown, seconds, text
from .state import AccountKind, Bank, DuplicateAccountError, SimAccount, UnknownAccountError

DEFAULT_RETRY_AFTER = 30
DEFAULT_SLOW_SECONDS = 12.0


class Fault(StrEnum):
    """A way for a request to go wrong, independent of any API's wire format."""

    TOKEN_REVOKED = "token_revoked"  # noqa: S105 - a scenario name, not a secret
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    BAD_GATEWAY_HTML = "bad_gateway_html"
    SLOW = "slow"
    """Not an error: the answer is right but late."""
    MALFORMED = "malformed"
    """A success whose body is cut short, so it is not valid JSON."""


type Mutation = Callable[[Bank, Params], dict[str, object]]


@dataclass(frozen=True, slots=True)
class Scenario:
    """One selectable scenario."""

    name: str
    description: str
    fault: Fault | None = None
    mutation: Mutation | None = None
    params: frozenset[str] = field(default_factory=frozenset)
    """Parameters it accepts besides ``scenario`` itself."""


@dataclass(slots=True)
class Settings:
    """Tunable details of the fault modes."""

    retry_after: int = DEFAULT_RETRY_AFTER
    """Seconds sent in ``Retry-After`` by ``rate_limited``."""
    slow_seconds: float = DEFAULT_SLOW_SECONDS
    """Delay added by ``slow``."""


def _pick(bank: Bank, params: Params, *, default_last: bool) -> SimAccount:
    account_id = text(params, "id")
    accounts = bank.accounts()
    if account_id is None:
        if not accounts:
            msg = "the bank has no accounts"
            raise InvalidParamsError(msg)
        return accounts[-1] if default_last else accounts[0]
    try:
        return bank.get(account_id)
    except UnknownAccountError:
        msg = f"no account with id {account_id!r}"
        raise InvalidParamsError(msg) from None


def _add_account(bank: Bank, params: Params) -> dict[str, object]:
    account_id = text(params, "id") or bank.new_id()
    name = text(params, "name") or f"New Pod {account_id}"
    balance = integer(params, "balance_cents")
    balance = 2500 if balance is None else balance
    try:
        account = bank.add(
            SimAccount(
                id=account_id,
                name=name,
                kind=AccountKind.POD,
                base_cents=balance,
                overdrawable=balance < 0,
            )
        )
    except DuplicateAccountError:
        msg = f"an account with id {account_id!r} already exists"
        raise InvalidParamsError(msg) from None
    return {"added": bank.describe(account)}


def _remove_account(bank: Bank, params: Params) -> dict[str, object]:
    account = _pick(bank, params, default_last=True)
    bank.remove(account.id)
    return {"removed": bank.describe(account)}


def _rename_account(bank: Bank, params: Params) -> dict[str, object]:
    account = _pick(bank, params, default_last=False)
    name = text(params, "name") or f"{account.name} (renamed)"
    renamed = bank.rename(account.id, name)
    return {"renamed": bank.describe(renamed), "old_name": account.name}


_TIMES = frozenset({"times"})
SCENARIOS: Mapping[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario("ok", "every request with a valid token succeeds"),
        Scenario(
            "token_revoked",
            "401 INVALID_ACCESS_TOKEN, whatever the token",
            Fault.TOKEN_REVOKED,
            params=_TIMES,
        ),
        Scenario(
            "rate_limited",
            "429 TOO_MANY_REQUESTS with Retry-After",
            Fault.RATE_LIMITED,
            params=_TIMES | {"retry_after"},
        ),
        Scenario("server_error", "500 UNEXPECTED_ERROR", Fault.SERVER_ERROR, params=_TIMES),
        Scenario(
            "bad_gateway_html", "502 with an HTML page", Fault.BAD_GATEWAY_HTML, params=_TIMES
        ),
        Scenario("slow", "correct answers, late", Fault.SLOW, params=_TIMES | {"slow_seconds"}),
        Scenario("malformed", "200 with truncated JSON", Fault.MALFORMED, params=_TIMES),
        Scenario(
            "account_added",
            "once: add a Pod, then ok",
            mutation=_add_account,
            params=frozenset({"id", "name", "balance_cents"}),
        ),
        Scenario(
            "account_removed",
            "once: remove an account (default: the last), then ok",
            mutation=_remove_account,
            params=frozenset({"id"}),
        ),
        Scenario(
            "account_renamed",
            "once: rename an account (default: the first), then ok",
            mutation=_rename_account,
            params=frozenset({"id", "name"}),
        ),
    )
}
SCENARIO_NAMES = tuple(SCENARIOS)


class ScenarioController:
    """The current mode of one simulator, switchable while it runs."""

    def __init__(self, bank: Bank, settings: Settings | None = None) -> None:
        """Start in ``ok`` with the given settings."""
        self._bank = bank
        self._initial = settings or Settings()
        self.settings = Settings(self._initial.retry_after, self._initial.slow_seconds)
        self.current: Scenario = SCENARIOS["ok"]
        self.remaining: int | None = None
        """Requests left before a fault mode reverts to ``ok``; None means until switched."""

    def activate(self, name: str, params: Params | None = None) -> dict[str, object]:
        """Switch to scenario ``name``; a one-shot mutation is applied now, then ``ok`` follows.

        Returns what changed (for the control API's answer). Raises ``InvalidParamsError`` and
        changes nothing when the name or a parameter is not usable.
        """
        params = params or {}
        scenario = SCENARIOS.get(name)
        if scenario is None:
            msg = f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIO_NAMES)}"
            raise InvalidParamsError(msg)
        reject_unknown(params, scenario.params, f"scenario {name!r}")
        if scenario.mutation is not None:
            result = scenario.mutation(self._bank, params)
            self.current, self.remaining = SCENARIOS["ok"], None
            return {"applied": name, **result}
        times = integer(params, "times", minimum=1)
        retry_after = integer(params, "retry_after", minimum=0)
        slow_seconds = seconds(params, "slow_seconds")
        if retry_after is not None:
            self.settings.retry_after = retry_after
        if slow_seconds is not None:
            self.settings.slow_seconds = slow_seconds
        self.current, self.remaining = scenario, times
        return {"applied": name}

    def next_fault(self) -> Fault | None:
        """The fault for the request being served now (counts down ``times``)."""
        fault = self.current.fault
        if fault is not None and self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                self.current, self.remaining = SCENARIOS["ok"], None
        return fault

    def reset(self) -> None:
        """Back to ``ok`` with the settings given at start."""
        self.settings = Settings(self._initial.retry_after, self._initial.slow_seconds)
        self.current, self.remaining = SCENARIOS["ok"], None

    def describe(self) -> dict[str, object]:
        """The current mode for the control API."""
        return {
            "name": self.current.name,
            "remaining": self.remaining,
            "retry_after": self.settings.retry_after,
            "slow_seconds": self.settings.slow_seconds,
        }
