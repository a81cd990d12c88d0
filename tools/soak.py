"""Fault soak: thousands of polls in virtual time against the simulator, with seeded random faults.

``python -m tools.soak`` sets the integration up in a real Home Assistant core (the test
harness's, as ``tools.benchmark`` does) against the in-process simulator, freezes time
(freezegun) and drives the polls by jumping virtual time to the next scheduled timer
(``async_fire_time_changed``), so Home Assistant's own scheduling decides when a poll happens:
intervals, ``Retry-After`` and the client's timeout all run on virtual time.

Before each poll, with the seeded random generator, a fault may start: 500, 502 with an HTML
page, a stall longer than the client's timeout, 429 with and without ``Retry-After``, a
truncated body, a well-formed body of the wrong shape, the token revoked (then restored through
the reauthentication flow), an account added, removed or renamed, a balance error set or cleared.
Every kind happens at least once, in a seeded order, before the rest are drawn at random.

Checked on every poll and reported (the run fails on any problem):

* each poll fails exactly when a fault says it should, with the right ``error_kind``;
* entities are right on the first good poll after a fault (every balance against the bank);
* every balance state written (``state_changed`` and ``state_reported``) equals the simulator's
  bank at that moment; ``unavailable`` only while failing, for gone accounts or on unload;
* the next poll after a failed one comes after the integration's retry step (1, 2, 5, ...
  minutes, capped by the interval), and never before a 429's ``Retry-After``;
* a reauthentication flow exists exactly after the poll that met the revoked token, and the
  entry, reloaded, failed to set up with the refused token's error;
* no unhandled exception (loop exception handler; log records with a traceback);
* no task or timer of the integration is left after unloading;
* the token appears in no log record, at any level;
* memory after warm-up stays flat (tracemalloc; the growth is reported).

The test suite runs a short soak (``tests/tools/test_soak.py``) in the harness's ``hass``.
"""

# First: patch_time makes Home Assistant's utcnow freezable, which works only when it is imported
# before Home Assistant (the test harness's plugin does the same). Imported for that effect alone.
from pytest_homeassistant_custom_component import patch_time  # noqa: F401

# isort: split

import argparse
import asyncio
from collections import Counter, deque
from collections.abc import Iterator, Sequence
import contextlib
from dataclasses import asdict, dataclass, field
import datetime as dt
from enum import StrEnum
import gc
import json
import logging
from pathlib import Path
import random
import re
import sys
import threading
import time
import tracemalloc
from typing import Any, Protocol

from aiohttp import web
import freezegun
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util.async_ import get_scheduled_timer_handles
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.patch_time import (
    HAFakeDate,
    HAFakeDatetime,
    ha_datetime_to_fakedatetime,
    ha_get_current_time,
    ha_get_module_attributes,
    ha_get_module_attributes_hash,
    ha_should_use_real_time,
)

from custom_components.sequence.api import SequenceRemoteClient
from custom_components.sequence.api.models import cents_to_dollars
from custom_components.sequence.backoff import RETRY_STEPS
from custom_components.sequence.const import CONF_API_TOKEN, CONF_SCAN_INTERVAL_MINUTES, DOMAIN
from custom_components.sequence.coordinator import ISSUE_UNEXPECTED_RESPONSE
from tools.harness import (
    ANCHOR_ID,
    REMOTE,
    ApiMode,
    RunningSimulator,
    add_entry,
    capture_loop_exceptions,
    home_assistant,
    make_bank,
    serve_simulator,
)
from tools.simulator.app import Handler
from tools.simulator.runtime import Simulator
from tools.simulator.scenarios import Fault
from tools.simulator.state import Bank, SimAccount

ROOT = Path(__file__).resolve().parent.parent
START = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
TOKENS = ("soak-token-a-91d7e2", "soak-token-b-4c08f6")
"""The simulator accepts both; each reauthentication switches to the other one."""
INTERVAL_MINUTES = 5
CLIENT_TIMEOUT_S: float = (SequenceRemoteClient.__init__.__kwdefaults__ or {})["request_timeout"]
STALL_S = CLIENT_TIMEOUT_S + 30
RETRY_AFTER_CHOICES = (30, 120, 900, 3600)
REAUTH_DELAYS_S = (60, 1800, 6 * 3600)
"""How long the user takes to enter the token again; no poll may happen meanwhile."""
MIN_ACCOUNTS = 4
WARM_UP_POLLS = 300
"""Polls before memory is traced (at most a fifth of them): caches and registries fill first."""
MEMORY_VERDICT_POLLS = 1000
"""Fewer polls than this report memory without judging it (caches are still filling)."""
MEMORY_FLAT_B_PER_POLL = 512
"""More than this per poll in the second half of a soak counts as a leak. Account churn alone
adds registry tombstones (about 160 B per poll at the default fault rate); a leaked task, timer
or state per poll would be well above."""
MAX_JUMPS_PER_POLL = 200
WATCHDOG_S = 60.0
"""Real seconds a poll may take before the soak gives up (virtual time never ends a wait)."""
REFRESH_CODE = "DataUpdateCoordinator._handle_refresh_interval"
UNHANDLED = re.compile(
    r"Unexpected error|Error doing job|never retrieved|Exception in callback|Unhandled"
)
_REAL_CLOCK = (time.perf_counter,)
"""Wall time while freezegun patches time.perf_counter (inside a tuple, which its scan of module
attributes does not replace)."""


class Kind(StrEnum):
    """What can go wrong (or change) before a poll."""

    SERVER_ERROR = "server_error"
    """500 with Sequence's error body (simulator scenario)."""
    BAD_GATEWAY = "bad_gateway_html"
    """502 with an nginx HTML page (simulator scenario)."""
    TIMEOUT = "timeout"
    """The answer stalls past the client's timeout (simulator scenario ``slow``)."""
    RATE_LIMITED = "rate_limited"
    """429 with ``Retry-After`` (simulator scenario)."""
    RATE_LIMITED_BARE = "rate_limited_without_retry_after"
    """429 without ``Retry-After`` (injected)."""
    TRUNCATED = "truncated_body"
    """200 whose JSON is cut in half (simulator scenario ``malformed``)."""
    WRONG_SHAPE = "malformed_body"
    """200 with well-formed JSON of another shape (injected)."""
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 - a fault's name, not a secret
    """401 until the user enters a token again (reauthentication)."""
    ACCOUNT_ADDED = "account_added"
    ACCOUNT_REMOVED = "account_removed"
    ACCOUNT_RENAMED = "account_renamed"
    BALANCE_ERROR = "balance_error"
    """The provider's error on a balance, set or cleared."""


ERROR_KIND = {
    Kind.SERVER_ERROR: "unavailable",
    Kind.BAD_GATEWAY: "unavailable",
    Kind.TRUNCATED: "unexpected_response",
    Kind.WRONG_SHAPE: "unexpected_response",
    Kind.TIMEOUT: "cannot_connect",
    Kind.RATE_LIMITED: "rate_limited",
    Kind.RATE_LIMITED_BARE: "rate_limited",
}
"""Faults that make polls fail, and the ``error_kind`` the API-problem sensor must show."""
REFUSED_REASON = "invalid_auth_access_token"
"""What the entry says after a poll met the revoked token: its setup failed with this error."""
SCENARIO_OF = {
    Kind.SERVER_ERROR: "server_error",
    Kind.BAD_GATEWAY: "bad_gateway_html",
    Kind.TIMEOUT: "slow",
    Kind.RATE_LIMITED: "rate_limited",
    Kind.TRUNCATED: "malformed",
}


class Ticker(Protocol):
    """What moves virtual time: freezegun's factory (the ``freezer`` fixture, or freeze_time)."""

    def tick(self, delta: dt.timedelta) -> dt.datetime:
        """Move time forward."""
        ...


@dataclass(frozen=True, slots=True)
class SoakConfig:
    """One soak's parameters."""

    polls: int = 3000
    accounts: int = 30
    seed: int = 1
    fault_rate: float = 0.3
    """Chance that a fault starts before a poll when none is active."""
    trace_memory: bool = True
    kinds: tuple[Kind, ...] = tuple(Kind)
    """The faults and changes to draw from."""
    mode: ApiMode = REMOTE


@dataclass(slots=True)
class SoakReport:
    """What a soak did and found."""

    config: dict[str, Any]
    polls: int = 0
    good_polls: int = 0
    failed_polls: int = 0
    requests: int = 0
    """Poll requests the simulator received (reauthentication and reloads included)."""
    faults: Counter[str] = field(default_factory=Counter)
    """Faults started, by kind."""
    failed_by_kind: Counter[str] = field(default_factory=Counter)
    """Failed polls, by the fault that made them fail."""
    recoveries: int = 0
    """Good polls right after one or more failed ones (entities checked right there)."""
    max_outage_s: float = 0.0
    """Longest virtual time from a first failed poll to the good poll that ended it, when no
    one had to act: the time to recover by itself (fault length, Retry-After, interval)."""
    max_outage_polls: int = 0
    max_reauth_outage_s: float = 0.0
    """The same for outages ended by entering a token again (the user's delay included)."""
    reauths: int = 0
    retry_waits_checked: int = 0
    """Failed polls whose next poll came exactly when the retry schedule says."""
    writes_checked: int = 0
    """Balance states written (state_changed and state_reported) compared with the bank."""
    accounts_checked: int = 0
    """Balance entities compared with the bank after each good poll."""
    log_records: int = 0
    errors_logged: Counter[str] = field(default_factory=Counter)
    """ERROR records (handled failures, e.g. the first failed poll of an outage), by message."""
    memory_kib: list[float] | None = None
    """tracemalloc after a full collection, relative to the end of warm-up: at the middle of
    the remaining polls and at the end. Caches and registries fill in the first half; a leak
    keeps growing in the second."""
    memory_second_half_b_per_poll: float | None = None
    virtual_days: float = 0.0
    wall_s: float = 0.0
    leftover: list[str] = field(default_factory=list)
    """Tasks and timers of the integration still there after unloading."""
    problems: list[str] = field(default_factory=list)
    """Everything that went wrong; empty when the soak passed."""

    def as_json(self) -> dict[str, Any]:
        """JSON-ready data (counters as plain objects)."""
        return {
            name: dict(value) if isinstance(value, Counter) else value
            for name, value in ((name, getattr(self, name)) for name in self.__slots__)
        }

    def problem(self, text: str) -> None:
        """Record a problem (the first hundred are kept, and the count)."""
        if len(self.problems) < 100:  # noqa: PLR2004 - enough to diagnose, bounded memory
            self.problems.append(text)
        elif len(self.problems) == 100:  # noqa: PLR2004
            self.problems.append("... more problems left out")


class LogWatch(logging.Handler):
    """Reads every log record: secrets, errors and tracebacks."""

    def __init__(self, secrets: Sequence[str], report: SoakReport) -> None:
        """Watch for ``secrets``; count into ``report``."""
        super().__init__(logging.DEBUG)
        self.secrets = tuple(secrets)
        self.report = report
        self.formatter = logging.Formatter("%(name)s: %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        """Check one record (its message, arguments and any traceback)."""
        self.report.log_records += 1
        text = self.format(record)
        if any(secret in text for secret in self.secrets):
            self.report.problem(f"a token in a log record of {record.name}")
        if record.levelno >= logging.ERROR:
            self.report.errors_logged[f"{record.name}: {record.msg}"[:120]] += 1
        # Tracebacks at debug level are the detail of handled failures ("Full error:").
        if record.levelno >= logging.ERROR and (record.exc_info or UNHANDLED.search(text)):
            self.report.problem(f"unhandled: {text[:300]}")


class Injector:
    """The soak's own middleware on ``POST /accounts``.

    It answers the faults the simulator has no scenario for, and notes every poll request's
    arrival (in virtual time) and any request that will stall.
    """

    def __init__(self, simulator: Simulator, path: str) -> None:
        """Nothing armed; ``path`` is what a poll requests."""
        self.simulator = simulator
        self.path = path
        self.armed: Kind | None = None
        self.left = 0
        self.count = 0
        """Poll requests received so far."""
        self.arrived: list[float] = []
        """Virtual times of the poll requests received since :meth:`mark`."""
        self.stalled = asyncio.Event()

    def mark(self) -> None:
        """Start collecting arrival times afresh."""
        self.arrived.clear()

    def arm(self, kind: Kind, times: int) -> None:
        """Answer the next ``times`` poll requests with ``kind``."""
        self.armed, self.left = kind, times

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Count the request, then answer it with the armed fault or let the simulator."""
        if request.path != self.path:
            return await handler(request)
        self.count += 1
        self.arrived.append(time.time())
        if self.armed is not None and self.left > 0:
            kind = self.armed
            self.left -= 1
            if kind is Kind.RATE_LIMITED_BARE:
                return web.json_response(
                    {"code": "TOO_MANY_REQUESTS", "message": "Slow down"}, status=429
                )
            return web.json_response({"message": "OK", "data": {"balances": []}})
        if self.simulator.scenarios.current.fault is Fault.SLOW:
            self.stalled.set()  # the answer now waits on virtual time
        return await handler(request)


@dataclass(slots=True)
class Pending:
    """The fault in force for the coming polls."""

    kind: Kind
    failing_polls: int
    retry_after: float | None = None


class MemoryWatch:
    """tracemalloc readings after warm-up, at the middle and at the end of a soak."""

    def __init__(self, config: SoakConfig) -> None:
        """Plan the readings for ``config.polls`` polls."""
        self.warm_up = min(WARM_UP_POLLS, config.polls // 5)
        self.middle = (config.polls + self.warm_up) // 2
        self.polls = config.polls
        self.readings: list[int] = []

    def _read(self) -> None:
        gc.collect()
        self.readings.append(tracemalloc.get_traced_memory()[0])

    def at(self, index: int) -> None:
        """Before poll ``index``: start tracing after warm-up, read at the middle."""
        if index == self.warm_up:
            gc.collect()
            tracemalloc.start()
            self._read()
        elif index == self.middle and self.readings:
            self._read()

    def finish(self, report: SoakReport) -> None:
        """Read at the end, stop tracing, judge."""
        if len(self.readings) != 2:  # noqa: PLR2004 - warm-up and middle
            tracemalloc.stop()
            return
        self._read()
        tracemalloc.stop()
        base, middle, end = self.readings
        report.memory_kib = [round((middle - base) / 1024, 1), round((end - base) / 1024, 1)]
        per_poll = (end - middle) / max(self.polls - self.middle, 1)
        report.memory_second_half_b_per_poll = round(per_poll, 1)
        if self.polls >= MEMORY_VERDICT_POLLS and per_poll > MEMORY_FLAT_B_PER_POLL:
            report.problem(f"memory grows {per_poll:.0f} B per poll in the second half")


class Soak:
    """One soak run in one ``hass``."""

    def __init__(self, hass: HomeAssistant, clock: Ticker, config: SoakConfig) -> None:
        """Prepare; nothing runs until :meth:`run`."""
        self.hass = hass
        self.clock = clock
        self.config = config
        self.rng = random.Random(config.seed)  # noqa: S311 - a reproducible schedule, not crypto
        self.report = SoakReport(
            config={**asdict(config), "mode": config.mode.name, "kinds": list(config.kinds)}
        )
        self.bank: Bank = make_bank(config.accounts, seed=config.seed, clock=time.time)
        self.simulator = Simulator.create(self.bank)
        self.injector = Injector(self.simulator, config.mode.poll_path)
        self.token_index = 0
        self.entry: MockConfigEntry | None = None
        self.entities: dict[str, str] = {}
        """Balance entity id -> account id."""
        self.pending: Pending | None = None
        self.revoked = False
        self.outage_since: float | None = None
        self.outage_polls = 0
        self.earliest_next_poll: tuple[float, float] | None = None
        """(not before, not after) for the next poll request, after a 429."""
        self.kinds = list(config.kinds)
        first = list(config.kinds)
        self.rng.shuffle(first)
        self.first_kinds = deque(first)
        """Every kind once, in a seeded order, before the rest are drawn at random."""
        self.added = 0

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> SoakReport:
        """Run every poll, then unload and check what is left."""
        started = _REAL_CLOCK[0]()
        watch = LogWatch(TOKENS, self.report)
        root = logging.getLogger()
        root.addHandler(watch)
        try:
            with capture_loop_exceptions() as loop_errors:
                async with serve_simulator(
                    self.simulator, tokens=TOKENS, middlewares=[self.injector.middleware]
                ) as running:
                    await self._soak(running)
            for context in loop_errors.contexts:
                self.report.problem(f"loop exception: {context.get('message')}")
        finally:
            root.removeHandler(watch)
            if tracemalloc.is_tracing():
                tracemalloc.stop()
        self.report.wall_s = round(_REAL_CLOCK[0]() - started, 2)
        self.report.virtual_days = round((time.time() - START.timestamp()) / 86400, 2)
        return self.report

    async def _soak(self, running: RunningSimulator) -> None:
        entry = add_entry(
            self.hass,
            running,
            TOKENS[0],
            mode=self.config.mode,
            options={CONF_SCAN_INTERVAL_MINUTES: INTERVAL_MINUTES},
        )
        self.entry = entry
        self.hass.bus.async_listen(EVENT_STATE_CHANGED, self._on_state)
        self.hass.bus.async_listen(EVENT_STATE_REPORTED, self._on_state, event_filter=_any)
        await self.hass.config_entries.async_setup(entry.entry_id)
        await self.hass.async_block_till_done()
        if entry.state is not ConfigEntryState.LOADED:
            self.report.problem(f"setup failed: {entry.state}")
            return
        self._check_entities()
        memory = MemoryWatch(self.config) if self.config.trace_memory else None
        for index in range(self.config.polls):
            if memory is not None:
                memory.at(index)
            self._maybe_start_fault()
            await self._poll()
            if self.revoked:
                await self._restore()
        if memory is not None:
            memory.finish(self.report)
        self.report.requests = self.injector.count
        await self._advance(STALL_S)  # let a stalled answer finish before the server stops
        await self.hass.config_entries.async_unload(entry.entry_id)
        await self.hass.async_block_till_done()
        self._check_leftovers()

    # -- faults ----------------------------------------------------------------------------

    def _maybe_start_fault(self) -> None:
        if self.pending is not None and self.pending.failing_polls > 0:
            return
        self.pending = None
        if self.rng.random() >= self.config.fault_rate:
            return
        kind = self.first_kinds.popleft() if self.first_kinds else self.rng.choice(self.kinds)
        self.report.faults[kind] += 1
        times = self.rng.randint(1, 3)
        scenarios = self.simulator.scenarios
        match kind:
            case Kind.TOKEN_REVOKED:
                scenarios.activate("token_revoked")
                self.pending = Pending(kind, 1)
            case Kind.RATE_LIMITED:
                retry_after = self.rng.choice(RETRY_AFTER_CHOICES)
                scenarios.activate("rate_limited", {"times": times, "retry_after": retry_after})
                self.pending = Pending(kind, times, retry_after)
            case Kind.TIMEOUT:
                scenarios.activate("slow", {"times": times, "slow_seconds": STALL_S})
                self.pending = Pending(kind, times)
            case Kind.SERVER_ERROR | Kind.BAD_GATEWAY | Kind.TRUNCATED:
                scenarios.activate(SCENARIO_OF[kind], {"times": times})
                self.pending = Pending(kind, times)
            case Kind.RATE_LIMITED_BARE | Kind.WRONG_SHAPE:
                self.injector.arm(kind, times)
                self.pending = Pending(kind, times)
            case _:
                self._change_bank(kind)

    def _change_bank(self, kind: Kind) -> None:
        accounts = self.bank.accounts()
        account: SimAccount = self.rng.choice(accounts)
        match kind:
            case Kind.ACCOUNT_ADDED:
                self.added += 1
                self.simulator.scenarios.activate(
                    "account_added",
                    {
                        "name": f"Soak Pod {self.added}",
                        "balance_cents": self.rng.randint(-5000, 500000),
                    },
                )
            case Kind.ACCOUNT_REMOVED if len(accounts) > MIN_ACCOUNTS:
                self.bank.remove(account.id)
            case Kind.ACCOUNT_REMOVED:
                self.report.faults[kind] -= 1  # too few accounts left to remove one
            case Kind.ACCOUNT_RENAMED:
                self.bank.rename(
                    account.id, f"{account.name.split(' ~')[0]} ~{self.rng.randint(1, 99)}"
                )
            case _:
                self.bank.set_error(account.id, None if account.error else "Connection failed")

    # -- virtual time ----------------------------------------------------------------------

    def _next_timer(self) -> float | None:
        handles = [h for h in get_scheduled_timer_handles(self.hass.loop) if not h.cancelled()]
        return min((h.when() for h in handles), default=None)

    async def _jump(self, until: float | None = None) -> bool:
        """Move virtual time to the next timer (not past ``until``), fire it, settle."""
        loop = self.hass.loop
        when = self._next_timer()
        if when is None or (until is not None and when > until):
            if until is None:
                return False
            when = until
        delta = max(0.0, when - loop.time())
        self.clock.tick(dt.timedelta(seconds=delta))
        async_fire_time_changed(self.hass)
        await self._settle()
        return True

    async def _advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass, firing every timer on the way."""
        until = self.hass.loop.time() + seconds
        while self.hass.loop.time() < until:
            await self._jump(until)

    async def _settle(self) -> None:
        """Wait until no poll is in flight, or the one in flight waits on virtual time."""
        while True:
            await self.hass.async_block_till_done()
            busy = _refreshing()
            if not busy or self.injector.stalled.is_set():
                self.injector.stalled.clear()
                return
            stalled = asyncio.ensure_future(self.injector.stalled.wait())
            with _watchdog(self.hass.loop) as gave_up:
                await asyncio.wait([*busy, stalled, gave_up], return_when=asyncio.FIRST_COMPLETED)
                expired = gave_up.done()
            stalled.cancel()
            if expired:
                msg = f"a poll did not finish within {WATCHDOG_S:g} s of real time"
                raise RuntimeError(msg)

    # -- one poll --------------------------------------------------------------------------

    async def _poll(self) -> None:
        self.injector.mark()
        for _ in range(MAX_JUMPS_PER_POLL):
            if not await self._jump():
                self.report.problem("nothing scheduled: polling stopped")
                return
            if self.injector.arrived and not _refreshing():
                break
        else:
            self.report.problem("no poll within the jumps allowed")
            return
        arrived = self.injector.arrived[0]
        # A refused token reloads the entry, whose setup asks once more (and fails, saying why).
        expected = 2 if self._refusing() else 1
        if len(self.injector.arrived) != expected:
            self.report.problem(f"{len(self.injector.arrived)} requests in one poll")
        self.report.polls += 1
        self._check_retry_after(arrived)
        self._check_poll(arrived)

    def _check_retry_after(self, arrived: float) -> None:
        if self.earliest_next_poll is None:
            return
        earliest, latest = self.earliest_next_poll
        self.earliest_next_poll = None
        self.report.retry_waits_checked += 1
        if not earliest <= arrived <= latest:
            self.report.problem(
                f"after a failed poll the next came {arrived - earliest:+.0f} s from when expected"
            )

    def _refusing(self) -> bool:
        """Whether this poll meets the revoked token."""
        pending = self.pending
        return bool(pending and pending.failing_polls > 0 and pending.kind is Kind.TOKEN_REVOKED)

    def _check_poll(self, arrived: float) -> None:
        assert self.entry is not None  # noqa: S101 - set before polling
        pending = self.pending if self.pending and self.pending.failing_polls > 0 else None
        if pending is not None and pending.kind is Kind.TOKEN_REVOKED:
            self._refused_poll(arrived, pending)
            return
        coordinator = self.entry.runtime_data.coordinator
        ok = coordinator.last_update_success
        problem = self.hass.states.get("binary_sensor.sequence_api_problem")
        if pending is None:
            if not ok:
                self.report.problem(
                    f"a poll failed without a fault ({coordinator.last_error_kind})"
                )
            self._good_poll(arrived)
        else:
            pending.failing_polls -= 1
            self.report.failed_by_kind[pending.kind] += 1
            expected = ERROR_KIND[pending.kind]
            if ok:
                self.report.problem(f"a poll succeeded despite {pending.kind}")
            elif problem is None or problem.attributes.get("error_kind") != expected:
                shown = problem.attributes.get("error_kind") if problem else None
                self.report.problem(f"{pending.kind}: error_kind {shown}, not {expected}")
            self._failed_poll(arrived, pending)
        self._check_reauth_flows(expect=self.revoked)

    def _refused_poll(self, arrived: float, pending: Pending) -> None:
        """The entry was reloaded, and its failed setup says why (while entities are unloaded)."""
        assert self.entry is not None  # noqa: S101 - set before polling
        pending.failing_polls -= 1
        self.report.failed_by_kind[pending.kind] += 1
        reason = self.entry.error_reason_translation_key
        if (self.entry.state, reason) != (ConfigEntryState.SETUP_ERROR, REFUSED_REASON):
            self.report.problem(f"{pending.kind}: the entry is {self.entry.state} ({reason})")
        self._failed_poll(arrived, pending)
        self._check_reauth_flows(expect=True)

    def _good_poll(self, arrived: float) -> None:
        self.report.good_polls += 1
        self._recovered(arrived)
        self._check_entities()
        if ir.async_get(self.hass).async_get_issue(DOMAIN, ISSUE_UNEXPECTED_RESPONSE):
            self.report.problem("the unexpected-response repair issue outlived a good poll")

    def _recovered(self, arrived: float, *, by_reauth: bool = False) -> None:
        if self.outage_since is None:
            return
        report = self.report
        report.recoveries += 1
        outage = arrived - self.outage_since
        if by_reauth:
            report.max_reauth_outage_s = max(report.max_reauth_outage_s, outage)
        else:
            report.max_outage_s = max(report.max_outage_s, outage)
            report.max_outage_polls = max(report.max_outage_polls, self.outage_polls)
        self.outage_since = None
        self.outage_polls = 0

    def _failed_poll(self, arrived: float, pending: Pending) -> None:
        self.report.failed_polls += 1
        if self.outage_since is None:
            self.outage_since = arrived
        self.outage_polls += 1
        for entity_id in self.entities:
            state = self.hass.states.get(entity_id)
            if state is not None and state.state != STATE_UNAVAILABLE:
                self.report.problem(f"{entity_id} is {state.state} while polls fail")
        if pending.kind is Kind.TOKEN_REVOKED:
            self.revoked = True
        else:
            step = (
                RETRY_STEPS[self.outage_polls - 1]
                if self.outage_polls <= len(RETRY_STEPS)
                else None
            )
            interval = dt.timedelta(minutes=INTERVAL_MINUTES)
            wait = max(min(step or interval, interval).total_seconds(), pending.retry_after or 0)
            # The wait counts from the end of the failed poll (a timeout ends it late); Home
            # Assistant schedules on whole seconds of its clock, plus under a second.
            ended = arrived + (CLIENT_TIMEOUT_S if pending.kind is Kind.TIMEOUT else 0)
            self.earliest_next_poll = (ended + wait - 1, ended + wait + 2)

    def _check_reauth_flows(self, *, expect: bool) -> list[str]:
        flows = [
            flow["flow_id"]
            for flow in self.hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if flow["context"]["source"] == SOURCE_REAUTH
        ]
        if bool(flows) is not expect or len(flows) > 1:
            self.report.problem(f"{len(flows)} reauthentication flows; expected {int(expect)}")
        return flows

    async def _restore(self) -> None:
        """The user takes a while, then enters the other token: polling must resume."""
        assert self.entry is not None  # noqa: S101 - set before polling
        arrivals = self.injector.count
        await self._advance(self.rng.choice(REAUTH_DELAYS_S))
        if self.injector.count != arrivals:
            self.report.problem("polls went on after the token was refused")
        flows = self._check_reauth_flows(expect=True)
        self.simulator.scenarios.activate("ok")
        self.token_index = 1 - self.token_index
        token = TOKENS[self.token_index]
        if flows:
            result = await self.hass.config_entries.flow.async_configure(
                flows[0], {CONF_API_TOKEN: token}
            )
            if result["type"] is not FlowResultType.ABORT or result["reason"] != (
                "reauth_successful"
            ):
                self.report.problem(f"reauthentication ended with {result}")
        await self.hass.async_block_till_done()
        self.revoked = False
        self.pending = None
        self.report.reauths += 1
        if self.entry.state is not ConfigEntryState.LOADED:
            self.report.problem(f"not loaded after reauthentication: {self.entry.state}")
            return
        if self.entry.data[CONF_API_TOKEN] != token:
            self.report.problem("the new token was not stored")
        self._check_reauth_flows(expect=False)
        self._recovered(time.time(), by_reauth=True)  # the reload's first poll
        self._check_entities()

    # -- what the entities show ------------------------------------------------------------

    def _account_of(self, entity_id: str) -> str | None:
        if entity_id not in self.entities:
            self._refresh_entities()
        return self.entities.get(entity_id)

    def _refresh_entities(self) -> None:
        assert self.entry is not None  # noqa: S101 - set before polling
        registry = er.async_get(self.hass)
        prefix = f"{ANCHOR_ID}_"
        self.entities = {
            entity.entity_id: entity.unique_id.removeprefix(prefix).removesuffix("_balance")
            for entity in er.async_entries_for_config_entry(registry, self.entry.entry_id)
            if entity.domain == "sensor" and entity.unique_id.endswith("_balance")
        }

    def _expected(self, account_id: str) -> tuple[str, str | None, str] | None:
        """(state, balance_error, name) the bank says now; None when the account is gone."""
        try:
            account = self.bank.get(account_id)
        except LookupError:
            return None
        cents = self.bank.balance_cents(account)
        state = STATE_UNKNOWN if cents is None else str(cents_to_dollars(cents))
        return state, account.error, account.name

    @callback
    def _on_state(self, event: Event[Any]) -> None:
        """Every balance state written must be the bank's, or justified unavailable."""
        new: State | None = event.data["new_state"]
        if new is None:
            return
        account_id = self._account_of(event.data["entity_id"])
        if account_id is None:
            return
        self.report.writes_checked += 1
        expected = self._expected(account_id)
        if new.state == STATE_UNAVAILABLE:
            if not self._unavailable_is_justified(expected, new):
                self.report.problem(f"{new.entity_id} written unavailable without a reason")
            return
        if expected is None:
            self.report.problem(f"{new.entity_id} written {new.state} for a removed account")
        elif (new.state, new.attributes.get("balance_error")) != expected[:2]:
            self.report.problem(
                f"{new.entity_id} written {new.state!r}/{new.attributes.get('balance_error')!r}"
                f", the bank says {expected[0]!r}/{expected[1]!r}"
            )

    def _unavailable_is_justified(
        self, expected: tuple[str, str | None, str] | None, new: State
    ) -> bool:
        assert self.entry is not None  # noqa: S101 - set before polling
        if expected is None or new.attributes.get("restored"):
            return True  # the account is gone, or the entity is being unloaded
        if self.entry.state is not ConfigEntryState.LOADED:
            return True
        return not self.entry.runtime_data.coordinator.last_update_success

    def _check_entities(self) -> None:
        """After a good poll: every account has its entity, showing the bank's values."""
        self._refresh_entities()
        by_account = {account_id: entity for entity, account_id in self.entities.items()}
        for account in self.bank.accounts():
            self.report.accounts_checked += 1
            entity_id = by_account.get(account.id)
            state = self.hass.states.get(entity_id) if entity_id else None
            expected = self._expected(account.id)
            if state is None or expected is None:
                self.report.problem(f"no balance entity for account {account.id}")
                continue
            shown = (state.state, state.attributes.get("balance_error"))
            if shown != expected[:2]:
                self.report.problem(f"{entity_id} shows {shown}, the bank says {expected[:2]}")
            if state.attributes.get("friendly_name") != f"{expected[2]} Balance":
                self.report.problem(f"{entity_id} is named {state.attributes['friendly_name']}")
        for entity_id, account_id in self.entities.items():
            state = self.hass.states.get(entity_id)
            if self._expected(account_id) is None and state and state.state != STATE_UNAVAILABLE:
                self.report.problem(f"{entity_id} of a removed account shows {state.state}")

    def _check_leftovers(self) -> None:
        """No task or timer of the integration may outlive the unload."""
        current = asyncio.current_task()
        for task in asyncio.all_tasks():
            if task is not current and not task.done() and "sequence" in repr(task.get_coro()):
                self.report.leftover.append(repr(task)[:200])
        for handle in get_scheduled_timer_handles(self.hass.loop):
            if not handle.cancelled() and "custom_components.sequence" in repr(handle):
                self.report.leftover.append(repr(handle)[:200])
        if self.report.leftover:
            self.report.problem(f"{len(self.report.leftover)} tasks or timers left after unload")


def _refreshing() -> list[asyncio.Task[Any]]:
    """Scheduled polls in flight (the coordinator's refresh tasks)."""
    return [task for task in asyncio.all_tasks() if not task.done() and _is_refresh(task)]


def _is_refresh(task: asyncio.Task[Any]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and code.co_qualname == REFRESH_CODE


@callback
def _any(_data: object) -> bool:
    return True


@contextlib.contextmanager
def _watchdog(loop: asyncio.AbstractEventLoop) -> Iterator[asyncio.Future[None]]:
    """A future a real-time thread completes after ``WATCHDOG_S`` (loop timers are frozen)."""
    future: asyncio.Future[None] = loop.create_future()

    def expire() -> None:
        if not future.done():
            future.set_result(None)

    timer = threading.Timer(WATCHDOG_S, lambda: loop.call_soon_threadsafe(expire))
    timer.daemon = True
    timer.start()
    try:
        yield future
    finally:
        timer.cancel()
        timer.join()
        future.cancel()


async def run_soak(hass: HomeAssistant, clock: Ticker, config: SoakConfig) -> SoakReport:
    """Run a soak in a fresh ``hass`` (custom integrations enabled); ``clock`` moves time."""
    return await Soak(hass, clock, config).run()


# -- the command line ----------------------------------------------------------------------


def _use_harness_freezegun() -> None:
    """Patch freezegun as the test harness does (HA-aware fake datetimes, faster scans)."""
    api: Any = freezegun.api
    api.FakeDate = HAFakeDate
    api.datetime_to_fakedatetime = ha_datetime_to_fakedatetime
    api.FakeDatetime = HAFakeDatetime
    api._get_module_attributes = ha_get_module_attributes  # noqa: SLF001
    api._get_module_attributes_hash = ha_get_module_attributes_hash  # noqa: SLF001
    api._should_use_real_time = ha_should_use_real_time  # noqa: SLF001
    api.get_current_time = ha_get_current_time


async def _cli_soak(config: SoakConfig, clock: Ticker) -> tuple[SoakReport, list[str]]:
    async with home_assistant() as hass:
        report = await run_soak(hass, clock, config)
    # Home Assistant is stopped: whatever is left in the loop leaked.
    loop = asyncio.get_running_loop()
    current = asyncio.current_task()
    left = [repr(task)[:200] for task in asyncio.all_tasks() if task is not current]
    left += [repr(h)[:200] for h in get_scheduled_timer_handles(loop) if not h.cancelled()]
    return report, left


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.soak",
        description="Fault soak: thousands of polls of the Sequence integration in virtual "
        "time against the simulator, with seeded random faults; fails on any problem.",
    )
    parser.add_argument("--polls", type=_positive_int, default=3000, help="polls (default 3000)")
    parser.add_argument(
        "--accounts", type=_positive_int, default=30, help="accounts in the bank (default 30)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the schedule (default 1)")
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.3,
        help="chance a fault starts before a poll when none is active (default 0.3)",
    )
    parser.add_argument(
        "--kinds",
        type=Kind,
        nargs="+",
        choices=tuple(Kind),
        metavar="KIND",
        help=f"faults and changes to draw from (default all: {', '.join(Kind)})",
    )
    parser.add_argument(
        "--no-memory",
        action="store_true",
        help="skip tracemalloc (faster; memory is judged from 1000 polls on)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="where to write the report")
    return parser.parse_args(argv)


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        msg = f"must be >= 1, not {number}"
        raise argparse.ArgumentTypeError(msg)
    return number


def summary(report: SoakReport) -> str:
    """The report in a few lines."""
    faults = ", ".join(f"{kind} {count}" for kind, count in sorted(report.faults.items()))
    memory: Sequence[object] = report.memory_kib or ("-", "-")
    lines = [
        (
            f"polls {report.polls} ({report.good_polls} good, {report.failed_polls} failed), "
            f"requests {report.requests}, {report.virtual_days} virtual days in "
            f"{report.wall_s} s"
        ),
        f"faults: {faults}",
        (
            f"recoveries {report.recoveries}, longest outage {report.max_outage_s:.0f} s "
            f"({report.max_outage_polls} polls; {report.max_reauth_outage_s:.0f} s when ended "
            f"by reauthentication), reauthentications {report.reauths}, retry waits checked "
            f"{report.retry_waits_checked}"
        ),
        (
            f"balance writes checked {report.writes_checked}, entity checks "
            f"{report.accounts_checked}, log records read {report.log_records}"
        ),
        (
            f"memory after warm-up: +{memory[0]} KiB at the middle, +{memory[1]} KiB at the "
            f"end ({report.memory_second_half_b_per_poll} B per poll in the second half"
            f"{'' if report.polls >= MEMORY_VERDICT_POLLS else '; not judged'})"
        ),
        f"problems: {len(report.problems)}",
    ]
    return "\n".join(lines + [f"  {text}" for text in report.problems[:20]])


def main(argv: Sequence[str] | None = None) -> int:
    """Run a soak from the command line; exit 1 on any problem."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.CRITICAL + 1)  # the soak reads every record; shows none
    config = SoakConfig(
        polls=args.polls,
        accounts=args.accounts,
        seed=args.seed,
        fault_rate=args.fault_rate,
        trace_memory=not args.no_memory,
        kinds=tuple(args.kinds or Kind),
    )
    _use_harness_freezegun()
    with freezegun.freeze_time(START) as clock:
        report, left = asyncio.run(_cli_soak(config, clock))
    if left:
        report.problem(f"{len(left)} tasks or timers left after Home Assistant stopped")
        report.leftover += left
    data = report.as_json()
    path = args.json or ROOT / "artifacts" / "soak" / f"soak-{_stamp()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    print(summary(report))
    print(f"JSON: {path}")
    return 1 if report.problems else 0


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


if __name__ == "__main__":
    sys.exit(main())
