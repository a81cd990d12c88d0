"""Benchmark the integration inside a real Home Assistant core against the simulator.

``python -m tools.benchmark`` (or ``script/bench``) measures, for each number of accounts N:

* HTTP requests per poll, counted by the simulator (the Remote API needs exactly one);
* one poll's time from the response being received to every entity state being written, wall
  and CPU of the event loop's thread (median of ``--polls``), split into parsing, the
  coordinator's own work and the entities' updates; the network exchange is shown apart (the
  simulator shares the event loop, so it holds the simulator's own time too);
* state writes per poll when nothing changed and when one balance changed (``state_changed``
  and ``state_reported`` events, and ``Entity._async_write_ha_state`` calls);
* the config entry's setup time until every entity exists, and the memory it added and kept
  (tracemalloc, in a separate pass, so that tracing does not slow the timed one);
* per-account costs, and their growth from N=100 to the largest N (1.0 is linear).

It prints a table and writes JSON to ``artifacts/bench/`` (or ``--json PATH``). ``--quick`` runs
N=10 and 100 with a few polls, as the test suite does.
"""

import argparse
import asyncio
from collections.abc import AsyncIterator, Sequence
import contextlib
from dataclasses import asdict, dataclass
import datetime as dt
import gc
import json
import logging
import os
from pathlib import Path
import platform
import statistics
import sys
import time
import tracemalloc
from typing import Any
from unittest.mock import patch

from homeassistant.const import __version__ as ha_version
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.sequence.coordinator import SequenceCoordinator, SequenceData
from tools.harness import (
    API_MODES,
    HUB_ENTITIES,
    REMOTE,
    SEEDED_ACCOUNTS,
    ApiMode,
    RunningSimulator,
    WriteCounts,
    WriteProbe,
    add_entry,
    balance_entity_ids,
    home_assistant,
    make_bank,
    serve_simulator,
    synthetic_id,
)
from tools.simulator.runtime import Simulator
from tools.simulator.state import Bank

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (10, 100, 1000, 5000)
QUICK_SIZES = (10, 100)
DEFAULT_POLLS = 25
QUICK_POLLS = 3
GROWTH_BASE = 100
"""Per-account costs are compared with this N's (small Ns are dominated by fixed costs)."""
TOKEN = "bench-token-0c41"  # noqa: S105 - the simulator's token for this run, not a secret
SEEDED_POD = "4410021"
"""The seeded Pod whose balance changes when there are no synthetic accounts (N=10)."""
PODS_TOTAL = "sensor.sequence_pods_total"
LAST_UPDATE = "sensor.sequence_last_successful_update"
"""Changes on every successful poll by design (a timestamp), so it is counted apart."""
TIMING_FIELDS = ("network_wall", "parse", "coordinator", "entities", "cpu", "wall")


@dataclass(slots=True)
class PollTiming:
    """One poll's timeline in milliseconds: CPU time of the event loop's thread, unless wall."""

    network_wall: float
    """Request sent to body read, wall (includes the in-process simulator's own work)."""
    parse: float
    """Body to models: JSON decoding and parsing into accounts."""
    coordinator: float
    """The coordinator's work after parsing: options filter, balance events."""
    entities: float
    """Listener dispatch: the device sync (a no-op while no account appeared, left or was
    renamed), then every entity's update and state write."""
    cpu: float
    """Response received to the last listener done: the integration's cost of one poll."""
    wall: float
    """The same span in wall time (includes time other processes took the CPU)."""


@dataclass(slots=True)
class PollSample:
    """What one poll cost and wrote."""

    timing: PollTiming
    requests: int
    writes: WriteCounts


class PollTimer:
    """Time stamps at the boundaries of one poll, taken by wrapping its pieces.

    Request sent, response read, accounts parsed, coordinator done, listeners started and done;
    nothing in the integration is changed for this.
    """

    def __init__(self, coordinator: SequenceCoordinator, mode: ApiMode) -> None:
        """Wrap the client's exchange and fetch, and the coordinator's update and dispatch."""
        self._marks: dict[str, tuple[float, float]] = {}
        self._stack = contextlib.ExitStack()
        mark = self._mark
        exchange = getattr(mode.client, mode.exchange)
        fetch = getattr(mode.client, mode.fetch)
        update_data = coordinator._async_update_data  # noqa: SLF001 - timing its boundary
        update_listeners = coordinator.async_update_listeners

        async def timed_exchange(*args: object, **kwargs: object) -> object:
            mark("request")
            try:
                return await exchange(*args, **kwargs)
            finally:
                mark("response")

        async def timed_fetch(*args: object, **kwargs: object) -> object:
            try:
                return await fetch(*args, **kwargs)
            finally:
                mark("parsed")

        async def timed_update_data() -> SequenceData:
            try:
                return await update_data()
            finally:
                mark("updated")

        def timed_update_listeners() -> None:
            mark("dispatch")
            try:
                update_listeners()
            finally:
                mark("dispatched")

        for owner, name, wrapper in (
            (mode.client, mode.exchange, timed_exchange),
            (mode.client, mode.fetch, timed_fetch),
            (coordinator, "_async_update_data", timed_update_data),
            (coordinator, "async_update_listeners", timed_update_listeners),
        ):
            self._stack.enter_context(patch.object(owner, name, wrapper))

    def _mark(self, name: str) -> None:
        self._marks[name] = (time.perf_counter(), time.thread_time())

    def take(self) -> PollTiming:
        """The timeline of the poll since the last call."""
        marks, self._marks = self._marks, {}

        def cpu(start: str, end: str) -> float:
            return (marks[end][1] - marks[start][1]) * 1000

        def wall(start: str, end: str) -> float:
            return (marks[end][0] - marks[start][0]) * 1000

        return PollTiming(
            network_wall=wall("request", "response"),
            parse=cpu("response", "parsed"),
            coordinator=cpu("parsed", "updated"),
            entities=cpu("dispatch", "dispatched"),
            cpu=cpu("response", "dispatched"),
            wall=wall("response", "dispatched"),
        )

    def close(self) -> None:
        """Undo the wrapping."""
        self._stack.close()


@dataclass(slots=True)
class Writes:
    """State writes per poll of one kind of poll."""

    changed: list[int]
    """``state_changed`` per poll, the last-update timestamp sensor excluded."""
    reported: list[int]
    """``state_reported`` per poll (the same state written again)."""
    calls: list[int]
    """``async_write_ha_state`` calls per poll, the last-update sensor excluded."""
    last_update: list[int]
    """Writes of the last-update timestamp sensor per poll."""
    entities: list[list[str]]
    """Per poll, the entity ids written (the last-update sensor excluded)."""


@dataclass(slots=True)
class SizeFigures:
    """Every figure for one number of accounts."""

    accounts: int
    entities: int
    polls: int
    requests_per_poll: list[int]
    """The distinct numbers of poll requests the simulator counted per poll."""
    setup_s: float
    setup_rss_mib: float | None
    """Resident memory after setup minus before (coarse: the allocator keeps freed pages)."""
    unchanged: dict[str, float]
    """Median timings (ms) of polls where nothing changed."""
    changed: dict[str, float]
    """Median timings (ms) of polls where one balance changed."""
    writes_unchanged: Writes
    writes_changed: Writes
    expected_changed: list[list[str]]
    """Per changed poll: the changed account's balance entity and the Pods total."""
    memory_mib: float | None = None
    """Memory the entry's setup added and kept (tracemalloc), when measured."""


def _medians(samples: Sequence[PollSample]) -> dict[str, float]:
    return {
        name: round(statistics.median(getattr(s.timing, name) for s in samples), 3)
        for name in TIMING_FIELDS
    }


def _writes(samples: Sequence[PollSample]) -> Writes:
    def without_last_update(counts: dict[str, int]) -> int:
        return sum(n for entity_id, n in counts.items() if entity_id != LAST_UPDATE)

    return Writes(
        changed=[without_last_update(s.writes.changed) for s in samples],
        reported=[without_last_update(s.writes.reported) for s in samples],
        calls=[without_last_update(s.writes.calls) for s in samples],
        last_update=[
            s.writes.changed[LAST_UPDATE] + s.writes.reported[LAST_UPDATE] for s in samples
        ],
        entities=[sorted(s.writes.written() - {LAST_UPDATE}) for s in samples],
    )


def _rss_mib() -> float | None:
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    except OSError:  # not Linux
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _account_to_change(bank: Bank, index: int) -> str:
    """A different synthetic Pod each time (the seeded Groceries Pod when there are none)."""
    synthetic = bank.extra_accounts
    return synthetic_id(index % synthetic + 1) if synthetic else SEEDED_POD


class Run:
    """The integration set up against a simulator of ``accounts`` accounts, in one ``hass``."""

    def __init__(
        self, hass: HomeAssistant, running: RunningSimulator, bank: Bank, mode: ApiMode
    ) -> None:
        """Keep what the polls need."""
        self.hass = hass
        self.running = running
        self.bank = bank
        self.mode = mode
        self.entry = add_entry(hass, running, TOKEN, mode=mode)

    async def setup(self) -> int:
        """Set the entry up; the number of its enabled entities, each checked to have a state."""
        await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.hass.async_block_till_done()
        registry = er.async_get(self.hass)
        entries = [
            entry
            for entry in er.async_entries_for_config_entry(registry, self.entry.entry_id)
            if not entry.disabled
        ]
        missing = [e.entity_id for e in entries if self.hass.states.get(e.entity_id) is None]
        if missing:
            msg = f"{len(missing)} entities have no state after setup"
            raise RuntimeError(msg)
        return len(entries)

    async def poll(self, timer: PollTimer, writes: WriteProbe) -> PollSample:
        """One poll, as the coordinator's schedule would run it."""
        coordinator: SequenceCoordinator = self.entry.runtime_data.coordinator
        before = self.running.poll_requests(self.mode)
        writes.start()
        await coordinator.async_refresh()
        await self.hass.async_block_till_done()
        return PollSample(
            timer.take(), self.running.poll_requests(self.mode) - before, writes.take()
        )


@contextlib.asynccontextmanager
async def _running(accounts: int) -> AsyncIterator[tuple[RunningSimulator, Bank]]:
    bank = make_bank(accounts)  # a frozen clock: balances change only when told to
    async with serve_simulator(Simulator.create(bank), tokens=[TOKEN]) as running:
        yield running, bank


async def measure(
    hass: HomeAssistant, accounts: int, *, polls: int = DEFAULT_POLLS, mode: ApiMode = REMOTE
) -> SizeFigures:
    """Set the integration up for ``accounts`` accounts in a fresh ``hass`` and measure it.

    ``polls`` polls where nothing changed alternate with ``polls`` polls where one Pod's balance
    changed by a cent.
    """
    async with _running(accounts) as (running, bank):
        run = Run(hass, running, bank, mode)
        gc.collect()
        rss_before = _rss_mib()
        started = time.perf_counter()
        entities = await run.setup()
        setup_s = time.perf_counter() - started
        gc.collect()
        rss_after = _rss_mib()
        balances = balance_entity_ids(hass, run.entry.entry_id)
        timer = PollTimer(run.entry.runtime_data.coordinator, mode)
        writes = WriteProbe(hass)
        unchanged: list[PollSample] = []
        changed: list[PollSample] = []
        expected: list[list[str]] = []
        try:
            for index in range(polls):
                unchanged.append(await run.poll(timer, writes))
                account_id = _account_to_change(bank, index)
                cents = bank.balance_cents(bank.get(account_id)) or 0
                bank.set_balance(account_id, cents + 1)
                expected.append(sorted({balances[account_id], PODS_TOTAL}))
                changed.append(await run.poll(timer, writes))
        finally:
            timer.close()
            writes.close()
    return SizeFigures(
        accounts=accounts,
        entities=entities,
        polls=polls,
        requests_per_poll=sorted({s.requests for s in unchanged + changed}),
        setup_s=round(setup_s, 4),
        setup_rss_mib=None
        if rss_before is None or rss_after is None
        else round(rss_after - rss_before, 2),
        unchanged=_medians(unchanged),
        changed=_medians(changed),
        writes_unchanged=_writes(unchanged),
        writes_changed=_writes(changed),
        expected_changed=expected,
    )


async def measure_memory(hass: HomeAssistant, accounts: int, *, mode: ApiMode = REMOTE) -> float:
    """MiB that setting the entry up (first poll included) added and kept, by tracemalloc."""
    async with _running(accounts) as (running, bank):
        run = Run(hass, running, bank, mode)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            await run.setup()
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    return round((after - before) / 2**20, 3)


async def run_sizes(
    sizes: Sequence[int], polls: int, mode: ApiMode, *, memory: bool
) -> list[SizeFigures]:
    """Measure every size, each in a fresh Home Assistant (and another one for memory)."""
    results = []
    for accounts in sizes:
        print(f"N={accounts}: timing {polls}+{polls} polls", file=sys.stderr, flush=True)
        async with home_assistant() as hass:
            figures = await measure(hass, accounts, polls=polls, mode=mode)
        if memory:
            print(f"N={accounts}: memory", file=sys.stderr, flush=True)
            async with home_assistant() as hass:
                figures.memory_mib = await measure_memory(hass, accounts, mode=mode)
        results.append(figures)
    return results


def growth(results: Sequence[SizeFigures]) -> dict[str, Any]:
    """Per-account cost at the largest N divided by that at N=100 (1.0: linear)."""
    by_n = {r.accounts: r for r in results}
    base = by_n.get(GROWTH_BASE)
    top = by_n[max(by_n)]
    if base is None or top is base:
        return {}

    def ratio(base_value: float | None, top_value: float | None) -> float | None:
        if not base_value or top_value is None:
            return None
        return round((top_value / top.accounts) / (base_value / base.accounts), 3)

    return {
        "from": base.accounts,
        "to": top.accounts,
        "poll_cpu_unchanged": ratio(base.unchanged["cpu"], top.unchanged["cpu"]),
        "poll_cpu_changed": ratio(base.changed["cpu"], top.changed["cpu"]),
        "parse": ratio(base.unchanged["parse"], top.unchanged["parse"]),
        "setup": ratio(base.setup_s, top.setup_s),
        "memory": ratio(base.memory_mib, top.memory_mib),
    }


def machine() -> dict[str, Any]:
    """What the figures ran on."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "home_assistant": ha_version,
        "system": f"{platform.system()} {platform.release()}",
    }


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _max(values: Sequence[int]) -> int:
    return max(values, default=0)


def table(results: Sequence[SizeFigures], ratios: dict[str, Any]) -> str:
    """The figures as a Markdown table, then the growth ratios."""
    lines = [
        (
            "| N | req/poll | poll ms CPU (wall) | parse | coord. | entities "
            "| 1 changed: ms CPU | writes/poll unchanged | writes/poll 1 changed "
            "| setup s | memory MiB | KiB/account |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        same = r.writes_unchanged
        one = r.writes_changed
        per_account = None if r.memory_mib is None else r.memory_mib * 1024 / r.accounts
        lines.append(
            f"| {r.accounts} | {','.join(map(str, r.requests_per_poll))} "
            f"| {_fmt(r.unchanged['cpu'], 2)} ({_fmt(r.unchanged['wall'], 2)}) "
            f"| {_fmt(r.unchanged['parse'], 2)} | {_fmt(r.unchanged['coordinator'], 2)} "
            f"| {_fmt(r.unchanged['entities'], 2)} | {_fmt(r.changed['cpu'], 2)} "
            f"| {_max(same.changed) + _max(same.reported)} "
            f"| {_max(one.changed) + _max(one.reported)} "
            f"| {_fmt(r.setup_s, 3)} | {_fmt(r.memory_mib)} | {_fmt(per_account)} |"
        )
    if ratios:
        lines += [
            "",
            f"Per-account cost at N={ratios['to']} / at N={ratios['from']} (1.0 = linear): "
            + ", ".join(
                f"{name.replace('_', ' ')} {_fmt(ratios[name], 2)}"
                for name in ("poll_cpu_unchanged", "poll_cpu_changed", "parse", "setup", "memory")
            ),
        ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.benchmark",
        description="Benchmark the Sequence integration in a real Home Assistant core against "
        "the simulator: requests, time, state writes, setup and memory per number of accounts.",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"N={QUICK_SIZES}, {QUICK_POLLS} polls of each kind"
    )
    parser.add_argument(
        "--sizes",
        type=_positive_int,
        nargs="+",
        metavar="N",
        help=f"numbers of accounts (default {' '.join(map(str, DEFAULT_SIZES))})",
    )
    parser.add_argument(
        "--polls",
        type=_positive_int,
        help=f"polls of each kind (unchanged, one changed) per N (default {DEFAULT_POLLS})",
    )
    parser.add_argument(
        "--api", choices=tuple(API_MODES), default=REMOTE.name, help="the API the integration uses"
    )
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the tracemalloc pass (faster)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help="where to write the figures (default artifacts/bench/benchmark-<time>.json)",
    )
    return parser.parse_args(argv)


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        msg = f"must be >= 1, not {number}"
        raise argparse.ArgumentTypeError(msg)
    return number


def report(results: Sequence[SizeFigures], mode: ApiMode, polls: int) -> dict[str, Any]:
    """Everything, as JSON-ready data."""
    return {
        "tool": "tools.benchmark",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "api": mode.name,
        "polls": polls,
        "machine": machine(),
        "hub_entities": HUB_ENTITIES,
        "seeded_accounts": SEEDED_ACCOUNTS,
        "sizes": [asdict(r) for r in results],
        "growth": growth(results),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table, write the JSON."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)  # "custom integration"
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    polls = args.polls or (QUICK_POLLS if args.quick else DEFAULT_POLLS)
    mode = API_MODES[args.api]
    results = asyncio.run(run_sizes(sizes, polls, mode, memory=not args.no_memory))
    data = report(results, mode, polls)
    path = args.json or ROOT / "artifacts" / "bench" / f"benchmark-{_stamp()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    info = data["machine"]
    print(
        f"Sequence benchmark, {mode.name} API, median of {polls} polls of each kind; "
        f"{info['cpu']} ({info['cores']} cores), Python {info['python']}, "
        f"Home Assistant {info['home_assistant']}"
    )
    print(table(results, data["growth"]))
    print(f"\nJSON: {path}")
    return 0


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


if __name__ == "__main__":
    sys.exit(main())
