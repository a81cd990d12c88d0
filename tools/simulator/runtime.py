"""What one running simulator holds, shared by every route module."""

from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

from .scenarios import ScenarioController, Settings
from .state import Bank


@dataclass(slots=True)
class Simulator:
    """The bank, the current scenario and what has been asked so far (never the tokens)."""

    bank: Bank
    scenarios: ScenarioController
    requests: Counter[str] = field(default_factory=Counter)
    """Requests served per route, e.g. ``{"POST /accounts": 3}`` (control routes excluded)."""

    @classmethod
    def create(cls, bank: Bank, settings: Settings | None = None) -> Simulator:
        """A simulator for ``bank`` in scenario ``ok``."""
        return cls(bank=bank, scenarios=ScenarioController(bank, settings))

    def reset(self) -> None:
        """As if freshly started: seeded accounts, scenario ``ok``, no requests counted."""
        self.bank.reset()
        self.scenarios.reset()
        self.requests.clear()


SIMULATOR = web.AppKey("simulator", Simulator)
"""Where the application keeps its simulator."""
