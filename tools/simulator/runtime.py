"""What one running simulator holds, shared by every route module."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from .platform_records import RATE_LIMIT_PER_MINUTE, Permission
from .platform_state import PlatformState
from .scenarios import ScenarioController, Settings
from .state import Bank


@dataclass(slots=True)
class Simulator:
    """The bank, the current scenario and what has been asked so far (never the tokens)."""

    bank: Bank
    scenarios: ScenarioController
    platform: PlatformState
    """API keys, rate limit, transfers and rules of the Platform API."""
    requests: Counter[str] = field(default_factory=Counter)
    """Requests served per route, e.g. ``{"POST /accounts": 3}`` (control routes excluded)."""

    @classmethod
    def create(
        cls,
        bank: Bank,
        settings: Settings | None = None,
        *,
        api_keys: Mapping[str, frozenset[Permission]] | None = None,
        rate_limit: int = RATE_LIMIT_PER_MINUTE,
    ) -> Simulator:
        """A simulator for ``bank`` in scenario ``ok``.

        ``api_keys`` maps each Platform API key to its permissions (default: the development
        key with every read permission); ``rate_limit`` is per key and minute.
        """
        return cls(
            bank=bank,
            scenarios=ScenarioController(bank, settings),
            platform=PlatformState(bank, api_keys=api_keys, rate_limit=rate_limit),
        )

    def reset(self) -> None:
        """As if freshly started: seeded accounts and history, scenario ``ok``, no requests."""
        self.bank.reset()
        self.platform.reset()
        self.scenarios.reset()
        self.requests.clear()


SIMULATOR = web.AppKey("simulator", Simulator)
"""Where the application keeps its simulator."""
