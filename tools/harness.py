"""What the benchmark and the soak share: a Home Assistant core, the simulator, and probes.

Home Assistant is the test harness's (``pytest_homeassistant_custom_component``): the real
``HomeAssistant`` core, state machine, event bus, entity platforms and registries, with the
registries kept in memory (no storage writes). The tests get it from the ``hass`` fixture; the
command-line tools from :func:`home_assistant`, which does what that fixture does (custom
integrations enabled, loop exceptions captured, entries unloaded and the core stopped at the end).

The simulator (``tools.simulator``) runs in the same process and event loop, on ``127.0.0.1``
with a port the system picks. Which API the integration talks to is an :class:`ApiMode`; only the
Remote API exists today, and a Platform API mode adds one more entry to ``API_MODES``.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
import contextlib
from dataclasses import dataclass, field
import gc
from pathlib import Path
from typing import Any
from unittest.mock import patch

from aiohttp import AsyncResolver, web
from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, frame, translation
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.storage import Store
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.sequence.api import SequenceRemoteClient
from custom_components.sequence.const import CONF_API_TOKEN, CONF_BASE_URL, DOMAIN
from tools.simulator.__main__ import bind, url
from tools.simulator.app import build_app
from tools.simulator.runtime import Simulator
from tools.simulator.state import SYNTHETIC_FIRST_NUMBER, AccountKind, Bank, seed_accounts

SEEDED_ACCOUNTS = len(seed_accounts())
ANCHOR_ID = min(account.id for account in seed_accounts())
"""The entry's unique id: the smallest account id (what the config flow would pick)."""
HUB_ENTITIES = 5
"""Enabled entities besides the balances: three totals, API problem, refresh button (the
last-update sensor is disabled by default)."""
STATUS_ENTITIES = sum(account.kind is AccountKind.EXTERNAL_ACCOUNT for account in seed_accounts())
"""Balance statuses: the seeded linked accounts have one each, the synthetic Pods none."""


@dataclass(frozen=True, slots=True)
class ApiMode:
    """How the integration reaches Sequence in one mode: what to time, what to count.

    A Platform API mode is one more instance (its client, methods, path and routes, and the
    entry data that selects it), added to ``API_MODES``.
    """

    name: str
    client: type
    """The client class the integration builds in this mode."""
    exchange: str
    """Its method that sends one request and reads the answer (timed as the network part)."""
    fetch: str
    """Its method that returns the parsed accounts (the exchange, then parsing)."""
    poll_path: str
    """The path a poll requests (where the soak injects its own faults)."""
    poll_routes: frozenset[str]
    """Simulator routes (``Simulator.requests`` keys) that a poll's requests go to."""

    def entry_data(self, base_url: str, token: str) -> dict[str, Any]:
        """The config entry data for this mode."""
        return {CONF_API_TOKEN: token, CONF_BASE_URL: base_url}


REMOTE = ApiMode(
    name="remote",
    client=SequenceRemoteClient,
    exchange="_async_post",
    fetch="async_get_accounts",
    poll_path="/accounts",
    poll_routes=frozenset({"POST /accounts"}),
)
API_MODES: Mapping[str, ApiMode] = {mode.name: mode for mode in (REMOTE,)}


class FrozenClock:
    """A bank clock that only moves when told to (balances do not drift on their own)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        """Start at ``now`` (seconds)."""
        self.now = now

    def __call__(self) -> float:
        """The current time."""
        return self.now


def make_bank(accounts: int, *, seed: int = 1, clock: Callable[[], float] | None = None) -> Bank:
    """A bank with ``accounts`` accounts in total: the ten seeded ones plus synthetic Pods."""
    extra = max(0, accounts - SEEDED_ACCOUNTS)
    return Bank(seed=seed, extra_accounts=extra, clock=clock or FrozenClock())


def synthetic_id(index: int) -> str:
    """The id of the ``index``-th synthetic Pod (1-based), as ``Bank`` numbers them."""
    return str(SYNTHETIC_FIRST_NUMBER + index - 1)


@dataclass(slots=True)
class RunningSimulator:
    """A simulator serving on loopback."""

    simulator: Simulator
    base_url: str

    def poll_requests(self, mode: ApiMode) -> int:
        """Requests served so far on the routes a poll uses."""
        return sum(self.simulator.requests[route] for route in mode.poll_routes)


@contextlib.asynccontextmanager
async def serve_simulator(
    simulator: Simulator,
    *,
    tokens: Iterable[str],
    middlewares: Iterable[Any] = (),
) -> AsyncIterator[RunningSimulator]:
    """Serve ``simulator`` on ``127.0.0.1`` (a free port) until the block ends.

    ``middlewares`` run inside the simulator's own (which counts every request), so a request a
    middleware answers by itself is still counted.
    """
    app = build_app(simulator, tokens=tokens)
    app.middlewares.extend(middlewares)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    sock = bind("127.0.0.1", 0)
    try:
        await web.SockSite(runner, sock).start()
        yield RunningSimulator(simulator, url("127.0.0.1", sock.getsockname()[1]))
    finally:
        await runner.cleanup()


@dataclass(slots=True)
class LoopExceptions:
    """Exceptions the event loop saw that no one handled (callbacks, tasks never awaited)."""

    contexts: list[dict[str, Any]] = field(default_factory=list)


@contextlib.contextmanager
def capture_loop_exceptions() -> Iterator[LoopExceptions]:
    """Install a loop exception handler that records everything, chaining the previous one."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    seen = LoopExceptions()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        seen.contexts.append(context)
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    try:
        yield seen
    finally:
        loop.set_exception_handler(previous)


@contextlib.asynccontextmanager
async def home_assistant(config_dir: Path | None = None) -> AsyncIterator[HomeAssistant]:
    """A running Home Assistant core, as the test harness's ``hass`` fixture builds it.

    On exit: loaded config entries are unloaded (as the fixture does, to catch what an unload
    leaves behind), then the core is stopped.
    """
    # As the harness's fixtures do: resolve without zeroconf (only 127.0.0.1 is used), and no
    # files read or written (the registries start empty).
    resolver = AsyncResolver()
    resolver.real_close = resolver.close  # type: ignore[attr-defined] # what HA closes at stop
    with (
        patch("homeassistant.helpers.aiohttp_client._async_make_resolver", return_value=resolver),
        memory_storage(),
    ):
        async with async_test_home_assistant(
            config_dir=str(config_dir) if config_dir else None
        ) as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # find custom_components/
            frame.async_setup(hass)
            await translation.async_load_integrations(hass, {"homeassistant"})
            try:
                yield hass
            finally:
                await unload_entries(hass)
                await hass.async_stop(force=True)


@contextlib.contextmanager
def memory_storage() -> Iterator[dict[str, Any]]:
    """Storage in a dict: nothing is read from files, saves are kept in memory (last one only).

    The harness's ``mock_storage`` records every save in a mock's call history, which grows
    with each registry save and would show up as memory growth in a long soak.
    """
    saved: dict[str, Any] = {}

    async def load(store: Store[Any]) -> None:
        return None

    async def write(store: Store[Any], data: dict[str, Any]) -> None:
        if "data_func" in data:
            data["data"] = data.pop("data_func")()
        saved[store.key] = data

    with (
        patch.object(Store, "_async_load_data", load),
        patch.object(Store, "_async_write_data", write),
    ):
        yield saved


async def unload_entries(hass: HomeAssistant) -> None:
    """Unload every loaded config entry of the integration."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def add_entry(
    hass: HomeAssistant,
    running: RunningSimulator,
    token: str,
    *,
    mode: ApiMode = REMOTE,
    options: Mapping[str, Any] | None = None,
) -> MockConfigEntry:
    """Add (not set up) a config entry pointing at the simulator."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Sequence",
        unique_id=ANCHOR_ID,
        data=mode.entry_data(running.base_url, token),
        options=dict(options or {}),
    )
    entry.add_to_hass(hass)
    return entry


def balance_entity_ids(hass: HomeAssistant, entry_id: str) -> dict[str, str]:
    """Account id -> entity id of its balance sensor, from the entity registry."""
    registry = er.async_get(hass)
    found: dict[str, str] = {}
    for entity in er.async_entries_for_config_entry(registry, entry_id):
        unique_id = entity.unique_id
        if entity.domain == "sensor" and unique_id.endswith("_balance"):
            account_id = unique_id.removeprefix(f"{ANCHOR_ID}_").removesuffix("_balance")
            found[account_id] = entity.entity_id
    return found


@dataclass(slots=True)
class WriteCounts:
    """State machine writes seen, per entity id."""

    changed: Counter[str] = field(default_factory=Counter)
    """``state_changed``: a new state or new attributes (what the recorder stores)."""
    reported: Counter[str] = field(default_factory=Counter)
    """``state_reported``: the same state and attributes written again."""
    calls: Counter[str] = field(default_factory=Counter)
    """``Entity._async_write_ha_state`` calls (a write that reaches the state machine)."""

    def written(self) -> set[str]:
        """Every entity id with a state write of either kind."""
        return set(self.changed) | set(self.reported)

    def total(self) -> int:
        """How many writes, of either kind."""
        return self.changed.total() + self.reported.total()


class WriteProbe:
    """Counts state writes of every entity, between :meth:`start` and :meth:`take`."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Listen to the state machine; nothing is counted until :meth:`start`."""
        self.counts = WriteCounts()
        self._unsubs = [
            hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed),
            hass.bus.async_listen(EVENT_STATE_REPORTED, self._reported, event_filter=_any_event),
        ]
        self._original = Entity._async_write_ha_state  # noqa: SLF001 - counting HA's writes
        probe = self

        def counting(entity: Entity) -> None:
            probe.counts.calls[entity.entity_id] += 1
            probe._original(entity)

        Entity._async_write_ha_state = counting  # type: ignore[method-assign,assignment]  # noqa: SLF001

    @callback
    def _changed(self, event: Event[EventStateChangedData]) -> None:
        self.counts.changed[event.data["entity_id"]] += 1

    @callback
    def _reported(self, event: Event[Any]) -> None:
        self.counts.reported[event.data["entity_id"]] += 1

    def start(self) -> None:
        """Forget what was counted so far."""
        self.counts = WriteCounts()

    def take(self) -> WriteCounts:
        """What was counted since :meth:`start`; counting starts again."""
        counts, self.counts = self.counts, WriteCounts()
        return counts

    def close(self) -> None:
        """Stop listening and restore ``Entity._async_write_ha_state``."""
        for unsub in self._unsubs:
            unsub()
        Entity._async_write_ha_state = self._original  # type: ignore[method-assign]  # noqa: SLF001


@callback
def _any_event(_data: object) -> bool:
    return True


def collect_garbage() -> None:
    """Run a full collection (before reading memory figures)."""
    gc.collect()
