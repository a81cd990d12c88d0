"""Benchmark the integration inside a real Home Assistant core against the simulator.

``python -m tools.benchmark`` (or ``script/bench``) measures, for each number of accounts N:

* HTTP requests per poll, counted by the simulator (the Remote API needs exactly one);
* one poll's time from the response being received to every entity state being written, wall
  and CPU of the event loop's thread (median of ``--polls``), split into parsing, the
  coordinator's own work and the entities' updates, for three kinds of poll: nothing changed,
  one balance changed, a tenth of the balances changed; the network exchange is shown apart
  (the simulator shares the event loop, so it holds the simulator's own time too);
* the floor: CPU to decode the same response body alone (``decode_json``), in the same run,
  and the ratio of a poll where nothing changed to it;
* state writes per poll of each kind (``state_changed`` and ``state_reported`` events, and
  ``Entity._async_write_ha_state`` calls), against what changed: the changed balances and the
  Pods total;
* the config entry's setup time until every entity exists, and the memory it added and kept
  (tracemalloc, in a separate pass, so that tracing does not slow the timed one);
* per-account costs at each N, and their growth from N=100 to the largest N (1.0 is linear).

It prints a table and writes JSON to ``artifacts/bench/`` (or ``--json PATH``). ``--quick`` runs
N=10 and 100 with a few polls, as the test suite does.

Home Assistant caps a config entry at 10,000 enabled entities, so at N=20,000 about half of the
accounts have no sensor (they are still fetched and parsed); the tables show the entities.
"""

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
import contextlib
from dataclasses import asdict, dataclass
import datetime as dt
from functools import partial
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

from custom_components.sequence.api.transport import Reply, decode_json
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
DEFAULT_SIZES = (10, 100, 1000, 5000, 20000)
QUICK_SIZES = (10, 100)
DEFAULT_POLLS = 25
QUICK_POLLS = 3
GROWTH_BASE = 100
"""Per-account costs are compared with this N's (small Ns are dominated by fixed costs)."""
TOKEN = "bench-token-0c41"  # noqa: S105 - the simulator's token for this run, not a secret
SEEDED_POD = "4410021"
"""The seeded Pod whose balance changes when there are no synthetic accounts (N=10)."""
PODS_TOTAL = "sensor.sequence_pods_total"
SHARE_CHANGED = 10
"""One account in this many changes in the polls where "10 %" changed."""
POLL_KINDS = ("unchanged", "one_changed", "share_changed")
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
        self.body = b""
        """The last response body (for the floor: decoding it alone)."""
        self._stack = contextlib.ExitStack()
        mark = self._mark
        exchange = getattr(mode.client, mode.exchange)
        fetch = getattr(mode.client, mode.fetch)
        update_data = coordinator._async_update_data  # noqa: SLF001 - timing its boundary
        update_listeners = coordinator.async_update_listeners

        async def timed_exchange(*args: object, **kwargs: object) -> object:
            mark("request")
            try:
                result = await exchange(*args, **kwargs)
            finally:
                mark("response")
            if isinstance(result, Reply):
                self.body = result.body
            return result

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
    """``state_changed`` per poll."""
    reported: list[int]
    """``state_reported`` per poll (the same state written again)."""
    calls: list[int]
    """``async_write_ha_state`` calls per poll."""
    entities: list[list[str]]
    """Per poll, the entity ids written."""


@dataclass(slots=True)
class PollKind:
    """Every poll of one kind at one N: median timings, writes, and the writes expected."""

    timing: dict[str, float]
    """Median timings (ms)."""
    writes: Writes
    expected: list[list[str]]
    """Per poll, the entities whose state should change: changed balances and the Pods total."""
    changed_accounts: int
    """Accounts whose balance changed in each poll."""


@dataclass(slots=True)
class SizeFigures:
    """Every figure for one number of accounts."""

    accounts: int
    entities: int
    polls: int
    requests_per_poll: list[int]
    """The distinct numbers of poll requests the simulator counted per poll."""
    setup_s: float
    setup_cpu_s: float
    setup_rss_mib: float | None
    """Resident memory after setup minus before (coarse: the allocator keeps freed pages)."""
    kinds: dict[str, PollKind]
    """By kind of poll: ``unchanged``, ``one_changed``, ``share_changed`` (a tenth)."""
    floor_ms: float
    """CPU to decode the unchanged poll's response body alone (median)."""
    body_bytes: int
    memory_mib: float | None = None
    """Memory the entry's setup added and kept (tracemalloc), when measured."""

    def cpu(self, kind: str) -> float:
        """Median CPU (ms) of a poll of ``kind``."""
        return self.kinds[kind].timing["cpu"]

    def per_account_us(self, kind: str) -> float:
        """Median CPU of a poll of ``kind`` per account, in microseconds."""
        return self.cpu(kind) * 1000 / self.accounts


def _medians(samples: Sequence[PollSample]) -> dict[str, float]:
    return {
        name: round(statistics.median(getattr(s.timing, name) for s in samples), 3)
        for name in TIMING_FIELDS
    }


def _writes(samples: Sequence[PollSample]) -> Writes:
    return Writes(
        changed=[s.writes.changed.total() for s in samples],
        reported=[s.writes.reported.total() for s in samples],
        calls=[s.writes.calls.total() for s in samples],
        entities=[sorted(s.writes.written()) for s in samples],
    )


def _rss_mib() -> float | None:
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    except OSError:  # not Linux
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _accounts_to_change(
    bank: Bank, with_sensor: Mapping[str, str], count: int, index: int
) -> list[str]:
    """``count`` synthetic Pods that have a sensor, other ones each time.

    The seeded Groceries Pod when there are no synthetic Pods.
    """
    pods = [
        synthetic_id(number)
        for number in range(1, bank.extra_accounts + 1)
        if synthetic_id(number) in with_sensor
    ]
    if not pods:
        return [SEEDED_POD]
    start = index * count
    return [pods[(start + offset) % len(pods)] for offset in range(min(count, len(pods)))]


def _change_balances(bank: Bank, account_ids: Sequence[str]) -> None:
    """Each account's balance up by a cent."""
    for account_id in account_ids:
        bank.set_balance(account_id, (bank.balance_cents(bank.get(account_id)) or 0) + 1)


def _cpu_median_ms(function: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.thread_time()
        function()
        samples.append(time.thread_time() - started)
    return round(statistics.median(samples) * 1000, 3)


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

    Rounds of three polls: nothing changed, one Pod's balance changed by a cent, a tenth of the
    accounts' balances changed by a cent (other Pods each round).
    """
    async with _running(accounts) as (running, bank):
        run = Run(hass, running, bank, mode)
        gc.collect()
        rss_before = _rss_mib()
        started, started_cpu = time.perf_counter(), time.thread_time()
        entities = await run.setup()
        setup_s, setup_cpu_s = time.perf_counter() - started, time.thread_time() - started_cpu
        gc.collect()
        rss_after = _rss_mib()
        balances = balance_entity_ids(hass, run.entry.entry_id)
        share = max(1, accounts // SHARE_CHANGED)
        timer = PollTimer(run.entry.runtime_data.coordinator, mode)
        writes = WriteProbe(hass)
        samples: dict[str, list[PollSample]] = {kind: [] for kind in POLL_KINDS}
        expected: dict[str, list[list[str]]] = {kind: [] for kind in POLL_KINDS}
        floor_ms = 0.0
        body = b""
        counts = {"unchanged": 0, "one_changed": 1, "share_changed": share}
        try:
            for index in range(polls):
                samples["unchanged"].append(await run.poll(timer, writes))
                expected["unchanged"].append([])
                if index == 0:
                    body = timer.body
                    floor_ms = _cpu_median_ms(partial(decode_json, body), max(polls, 5))
                for kind, count in (("one_changed", 1), ("share_changed", share)):
                    changed = _accounts_to_change(bank, balances, count, index)
                    counts[kind] = len(changed)
                    _change_balances(bank, changed)
                    expected[kind].append(sorted({balances[a] for a in changed} | {PODS_TOTAL}))
                    samples[kind].append(await run.poll(timer, writes))
        finally:
            timer.close()
            writes.close()
    every = [sample for kind in POLL_KINDS for sample in samples[kind]]
    return SizeFigures(
        accounts=accounts,
        entities=entities,
        polls=polls,
        requests_per_poll=sorted({sample.requests for sample in every}),
        setup_s=round(setup_s, 4),
        setup_cpu_s=round(setup_cpu_s, 4),
        setup_rss_mib=None
        if rss_before is None or rss_after is None
        else round(rss_after - rss_before, 2),
        kinds={
            kind: PollKind(
                timing=_medians(samples[kind]),
                writes=_writes(samples[kind]),
                expected=expected[kind],
                changed_accounts=counts[kind],
            )
            for kind in POLL_KINDS
        },
        floor_ms=floor_ms,
        body_bytes=len(body),
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
        print(f"N={accounts}: timing 3 x {polls} polls", file=sys.stderr, flush=True)
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
        "poll_cpu_unchanged": ratio(base.cpu("unchanged"), top.cpu("unchanged")),
        "poll_cpu_one_changed": ratio(base.cpu("one_changed"), top.cpu("one_changed")),
        "poll_cpu_share_changed": ratio(base.cpu("share_changed"), top.cpu("share_changed")),
        "floor": ratio(base.floor_ms, top.floor_ms),
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


def _writes_cell(kind: PollKind) -> str:
    """Most writes of one poll, and whether every poll wrote exactly what changed."""
    writes = kind.writes
    most = _max(writes.changed) + _max(writes.reported)
    exact = writes.entities == kind.expected and not any(writes.reported)
    return f"{most}" if exact else f"{most} (!)"


def table(results: Sequence[SizeFigures], ratios: dict[str, Any]) -> str:
    """The figures as two Markdown tables (polls; scale), then the growth ratios."""
    lines = [
        (
            "| N | entities | req/poll | nothing changed: ms CPU (wall) | parse | coord. "
            "| entities | 1 changed | 10 % changed | floor ms | poll / floor "
            "| writes: nothing / 1 / 10 % |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        same = r.kinds["unchanged"].timing
        ratio = same["cpu"] / r.floor_ms if r.floor_ms else None
        lines.append(
            f"| {r.accounts} | {r.entities} | {','.join(map(str, r.requests_per_poll))} "
            f"| {_fmt(same['cpu'], 2)} ({_fmt(same['wall'], 2)}) "
            f"| {_fmt(same['parse'], 2)} | {_fmt(same['coordinator'], 2)} "
            f"| {_fmt(same['entities'], 2)} | {_fmt(r.cpu('one_changed'), 2)} "
            f"| {_fmt(r.cpu('share_changed'), 2)} | {_fmt(r.floor_ms, 3)} | {_fmt(ratio, 2)} "
            f"| {' / '.join(_writes_cell(r.kinds[kind]) for kind in POLL_KINDS)} |"
        )
    lines += [
        "",
        (
            "| N | µs/account: nothing changed | 1 changed | 10 % changed | floor "
            "| setup s (CPU) | setup µs/account | memory MiB | KiB/account |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        per_account = None if r.memory_mib is None else r.memory_mib * 1024 / r.accounts
        lines.append(
            f"| {r.accounts} | {_fmt(r.per_account_us('unchanged'), 3)} "
            f"| {_fmt(r.per_account_us('one_changed'), 3)} "
            f"| {_fmt(r.per_account_us('share_changed'), 3)} "
            f"| {_fmt(r.floor_ms * 1000 / r.accounts, 3)} "
            f"| {_fmt(r.setup_s, 3)} ({_fmt(r.setup_cpu_s, 3)}) "
            f"| {_fmt(r.setup_s * 1e6 / r.accounts, 0)} "
            f"| {_fmt(r.memory_mib)} | {_fmt(per_account)} |"
        )
    if ratios:
        lines += [
            "",
            f"Per-account cost at N={ratios['to']} / at N={ratios['from']} (1.0 = linear): "
            + ", ".join(
                f"{name.replace('_', ' ')} {_fmt(ratios[name], 2)}"
                for name in (
                    "poll_cpu_unchanged",
                    "poll_cpu_one_changed",
                    "poll_cpu_share_changed",
                    "floor",
                    "setup",
                    "memory",
                )
            ),
            (
                "Writes: the most in one poll; (!) marks a poll that wrote other than exactly "
                "the changed balances and the Pods total, or wrote a state again unchanged."
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
        help=f"polls of each kind (nothing, one, a tenth changed) per N (default {DEFAULT_POLLS})",
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
