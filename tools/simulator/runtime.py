"""What one running simulator holds, shared by every route module."""

from collections import Counter
from collections.abc import Mapping
import contextlib
from dataclasses import dataclass, field
from typing import Final

from aiohttp import web

from . import money
from .platform_records import RATE_LIMIT_PER_MINUTE, Permission, TransferPair
from .platform_state import PlatformState
from .remote_rules import RemoteRules, SimRemoteRule
from .scenarios import ScenarioController, Settings
from .state import Bank, UnknownAccountError

HOUSEHOLD: Final = "household"
"""The first beneficiary: both APIs, the scenarios' one-shot changes, the control API's default."""
BUSINESS: Final = "business"
"""The second beneficiary: only Remote API tokens given for it see its accounts."""


@dataclass(slots=True)
class Simulator:
    """The banks, the current scenario and what has been asked so far (never the tokens)."""

    bank: Bank
    """The household's accounts (the first beneficiary)."""
    scenarios: ScenarioController
    platform: PlatformState
    """API keys, rate limit, transfers and rules of the Platform API (the household's)."""
    business: Bank
    """The business's accounts (the second beneficiary), on the household bank's clock."""
    remote_rules: RemoteRules
    """Both beneficiaries' rules with a Remote API trigger."""
    requests: Counter[str] = field(default_factory=Counter)
    """Requests served per route, e.g. ``{"POST /accounts": 3}`` (control routes excluded)."""

    @classmethod
    def create(
        cls,
        bank: Bank,
        settings: Settings | None = None,
        *,
        api_keys: Mapping[str, frozenset[Permission]] | None = None,
        transfer_pairs: Mapping[str, tuple[TransferPair, ...] | None] | None = None,
        rate_limit: int = RATE_LIMIT_PER_MINUTE,
    ) -> Simulator:
        """A simulator for ``bank`` (the household) and a seeded business, in scenario ``ok``.

        ``api_keys`` maps each Platform API key to its permissions (default: the development
        key: every read, ``TRIGGER_RULES`` and ``MANUAL_TRANSFER`` with its pairs);
        ``transfer_pairs`` a key to the pairs its ``MANUAL_TRANSFER`` allows (a key without
        an entry, or None: any pair); ``rate_limit`` is per key and minute.
        """
        return cls(
            bank=bank,
            scenarios=ScenarioController(bank, settings),
            platform=PlatformState(
                bank, api_keys=api_keys, transfer_pairs=transfer_pairs, rate_limit=rate_limit
            ),
            business=Bank.business(seed=bank.seed, clock=bank.clock),
            remote_rules=RemoteRules(bank.clock),
        )

    def banks(self) -> dict[str, Bank]:
        """Each beneficiary's bank by name, the household first."""
        return {HOUSEHOLD: self.bank, BUSINESS: self.business}

    def bank_with(self, account_id: str) -> Bank:
        """The bank that holds the account (ids are unique across beneficiaries)."""
        for bank in self.banks().values():
            with contextlib.suppress(UnknownAccountError):
                bank.get(account_id)
                return bank
        raise UnknownAccountError(account_id)

    def holds(self, account_id: str) -> bool:
        """Whether a beneficiary has an account with this id."""
        try:
            self.bank_with(account_id)
        except UnknownAccountError:
            return False
        return True

    def run_remote_rule(self, rule: SimRemoteRule) -> None:
        """A Remote API rule's live run: its transfers, and the money they move.

        In the household (which API keys see) it is an execution with its transfers, as the
        Platform API shows it; in the business, only the balances change.
        """
        if rule.beneficiary == HOUSEHOLD:
            self.platform.run(rule.id, rule.actions, trigger_type="REMOTE_API")
            return
        bank = self.banks()[rule.beneficiary]
        for action in rule.actions:
            amount = action.amount_cents or 0
            if money.funded(bank, action.source, amount):
                money.move(bank, action.source, action.destination, amount)

    def reset(self) -> None:
        """As if freshly started: seeded accounts and history, scenario ``ok``, no requests."""
        self.bank.reset()
        self.business.reset()
        self.platform.reset()
        self.remote_rules.reset()
        self.scenarios.reset()
        self.requests.clear()


SIMULATOR = web.AppKey("simulator", Simulator)
"""Where the application keeps its simulator."""
