"""Money safety as properties: a Hypothesis state machine against a fake Sequence.

A real Home Assistant core runs the integration (actions, guard, ledger on disk, runners,
follows); only the HTTP clients are replaced by a fake Sequence that behaves as the docs say:
it remembers idempotency keys for 24 hours (the same key and body answer the first result,
another body is refused), executes each live request once, and can be made to fail in every
way a request can fail: refused before running, not sent at all, rate limited, a run still in
flight, and the worst: the answer lost after (or before) it ran.

Hypothesis drives random calls of ``sequence.trigger_rule`` (a Remote API rule and a Platform
API rule) and ``sequence.transfer`` (a route), sometimes several at once, sometimes repeating a
key or sharing a calling context, with failures injected, Home Assistant restarted from its
files, and the clock moved across local midnights (New York time). After every step:

* a rule's live runs Sequence executed per local day never exceed its maximum, and never come
  closer together than its minimum interval;
* a route's live amounts executed per local day never exceed its daily maximum, none exceeds
  its per-transfer maximum or is below $1.00;
* every live request carries a valid idempotency key, and no live transfer was sent without
  an accepted simulation of the same transfer before it;
* a simulation never leads to a live request, and calls that share one calling context (an
  automation retrying) never execute more than once (double spends: 0);
* nothing is sent again by itself: no money request goes out while time passes or Home
  Assistant restarts (an unknown outcome is never retried blindly).

``pytest tests/test_money_stateful.py -s`` prints the run's figures. It found, and now guards
against: a UTC evening (west of Greenwich) counted as the next local day, so the daily limits
reset at 19:00 in New York; a refused repeat of an accepted run giving that run's share back;
and a key Sequence had forgotten (after 24 hours) repeated without a share.
"""

import asyncio
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
import os
import tempfile
from typing import Any
from unittest.mock import AsyncMock, patch

from freezegun import freeze_time
from homeassistant import loader
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_test_home_assistant,
)

from custom_components.sequence.api import (
    SequenceConflictError,
    SequenceConnectionError,
    SequenceOutcomeUnknownError,
    SequenceRateLimitError,
    SequenceRefusedError,
    Transfer,
    TransferDirection,
)
from custom_components.sequence.api.models import RuleExecution, cents_to_dollars
from custom_components.sequence.api.remote_rules import RemoteRuleTrigger
from custom_components.sequence.api.transport import IDEMPOTENCY_KEY
from custom_components.sequence.const import DOMAIN
from custom_components.sequence.transfers import derive_simulation_key

from .conftest import (
    ALL_READ,
    API_KEY,
    BASE_URL,
    PLATFORM_ANCHOR_ID,
    ROUTE_SUBENTRY_ID,
    load_platform_accounts,
    load_platform_snapshot,
    load_snapshot,
    route_subentry,
    rule_subentry,
    token_entry_with,
)

TIME_ZONE = "America/New_York"
START = datetime.fromisoformat("2026-12-01T22:00:00+00:00")  # 17:00 in New York
REMEMBERED = timedelta(hours=24)
"""How long Sequence remembers an idempotency key."""
MAX_RUNS = 3
MIN_INTERVAL = timedelta(minutes=5)
MAX_PER_TRANSFER = 5000
MAX_PER_DAY = 8000
REMOTE_RULE = "01JSTATEFULREMOTERULE00001"
PLATFORM_RULE = "01JSTATEFULPLATFORMRULE001"
FAILURES = (
    "refused",  # a definite refusal: nothing ran
    "not_sent",  # the connection could not be made
    "rate_limited",
    "in_flight",  # 409: a request with this key is still running
    "lost_after",  # it ran, and the answer was lost
    "lost_before",  # the answer was lost before it ran (it never will)
)


REFUSED_CONNECTION = "the connection was refused"
REFUSED = "Sequence refused the request"
SLOW_DOWN = "Sequence is rate limiting requests"
IN_FLIGHT = "a request with this key is still running"
NO_ANSWER = "no answer from Sequence"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """The machine runs its own Home Assistant instances (and enables custom integrations)."""


@dataclass
class Executed:
    """A live request Sequence executed."""

    kind: str
    """``remote``, ``platform`` (rule runs) or ``transfer``."""
    key: str
    at: datetime
    amount_cents: int | None = None


@dataclass
class FakeSequence:
    """Sequence's money endpoints, as the docs describe them, with failures on demand."""

    executed: list[Executed] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, list[str]] = field(default_factory=dict)
    """Per kind (``remote``, ``platform``, ``transfer``): the next requests' failures."""
    memory: dict[str, tuple[datetime, str, object]] = field(default_factory=dict)
    """Idempotency key -> (when, body fingerprint, first answer)."""
    accepted_simulations: set[tuple[str, int, str]] = field(default_factory=set)
    """(simulation key, amount, route) of simulations Sequence accepted."""
    violations: list[str] = field(default_factory=list)

    def _fail_or_remember(self, kind: str, key: str, body: str) -> tuple[bool, object]:
        """Apply a queued failure; answer a remembered key. (remembered?, answer)."""
        now = dt_util.utcnow()
        if not key or not IDEMPOTENCY_KEY.fullmatch(key):
            self.violations.append(f"{kind} request without a valid idempotency key")
        queued = self.failures.get(kind) or []
        failure = queued.pop(0) if queued else None
        if failure == "not_sent":
            raise SequenceConnectionError(REFUSED_CONNECTION)
        self.requests.append({"kind": kind, "key": key, "body": body, "at": now})
        if failure == "refused":
            raise SequenceRefusedError(REFUSED, code="INVALID_PARAMETERS")
        if failure == "rate_limited":
            raise SequenceRateLimitError(SLOW_DOWN, retry_after=30)
        if failure == "in_flight":
            raise SequenceConflictError(IN_FLIGHT, code="RULE_EXECUTION_IN_PROGRESS")
        if failure == "lost_before":
            raise SequenceOutcomeUnknownError(NO_ANSWER)
        remembered = self.memory.get(key)
        if remembered is not None and now - remembered[0] < REMEMBERED:
            if remembered[1] != body:
                raise SequenceRefusedError(REFUSED, code="IDEMPOTENCY_KEY_MISMATCH")
            if failure == "lost_after":
                raise SequenceOutcomeUnknownError(NO_ANSWER)
            return True, remembered[2]
        return False, failure

    def _remember(self, key: str, body: str, answer: object, failure: object) -> object:
        self.memory[key] = (dt_util.utcnow(), body, answer)
        if failure == "lost_after":
            raise SequenceOutcomeUnknownError(NO_ANSWER)
        return answer

    async def trigger_remote(self, _trigger: RemoteRuleTrigger, *, idempotency_key: str) -> None:
        remembered, failure = self._fail_or_remember("remote", idempotency_key, "remote")
        if remembered:
            return
        self.executed.append(Executed("remote", idempotency_key, dt_util.utcnow()))
        self._remember(idempotency_key, "remote", None, failure)

    async def trigger_rule(
        self,
        rule_id: str,
        *,
        idempotency_key: str,
        simulation: bool,
        execute_amount_cents: int | None = None,
    ) -> str:
        body = f"rule {rule_id} {simulation} {execute_amount_cents}"
        remembered, failure = self._fail_or_remember("platform", idempotency_key, body)
        if remembered:
            return str(failure)
        execution = f"exec-{len(self.memory)}"
        if not simulation:
            self.executed.append(Executed("platform", idempotency_key, dt_util.utcnow()))
        return str(self._remember(idempotency_key, body, execution, failure))

    async def get_rule_execution(self, rule_id: str, execution_id: str) -> RuleExecution:
        return RuleExecution(
            id=execution_id,
            rule_id=rule_id,
            status="EXECUTED",
            simulated=False,
            created_at=dt_util.utcnow(),
        )

    async def create_transfer(
        self,
        *,
        source_id: str,
        destination_id: str,
        amount_cents: int,
        description: str | None,
        simulation: bool,
        idempotency_key: str,
    ) -> Transfer:
        route = f"{source_id}:{destination_id}"
        body = f"transfer {route} {amount_cents} {description} {simulation}"
        remembered, failure = self._fail_or_remember("transfer", idempotency_key, body)
        if remembered:
            assert isinstance(failure, Transfer)
            return failure
        transfer = Transfer(
            id=f"transfer-{len(self.memory)}",
            status="COMPLETE" if simulation else "PROCESSING",
            direction=TransferDirection.INTERNAL,
            direction_name="INTERNAL",
            origin="USER",
            amount=cents_to_dollars(amount_cents),
            created_at=dt_util.utcnow(),
            source_id=source_id,
            destination_id=destination_id,
            simulated=simulation,
        )
        if simulation:
            self.accepted_simulations.add((idempotency_key, amount_cents, route))
        else:
            simulated_first = (derive_simulation_key(idempotency_key), amount_cents, route)
            if simulated_first not in self.accepted_simulations:
                self.violations.append("a live transfer without an accepted simulation")
            self.executed.append(
                Executed("transfer", idempotency_key, dt_util.utcnow(), amount_cents)
            )
        answer = self._remember(idempotency_key, body, transfer, failure)
        assert isinstance(answer, Transfer)
        return answer

    async def get_transfer(self, transfer_id: str) -> Transfer:
        for _at, _body, answer in self.memory.values():
            if isinstance(answer, Transfer) and answer.id == transfer_id:
                return Transfer(
                    id=answer.id,
                    status="COMPLETE",
                    direction=answer.direction,
                    direction_name=answer.direction_name,
                    origin=answer.origin,
                    amount=answer.amount,
                    created_at=answer.created_at,
                    completed_at=dt_util.utcnow(),
                    source_id=answer.source_id,
                    destination_id=answer.destination_id,
                )
        raise SequenceRefusedError(REFUSED, code="TRANSFER_NOT_FOUND")


@dataclass
class Figures:
    """What the machine did, over every example (printed at the end of the module)."""

    examples: int = 0
    steps: int = 0
    calls: int = 0
    concurrent_calls: int = 0
    shared_context_calls: int = 0
    repeated_keys: int = 0
    simulations: int = 0
    failures_injected: int = 0
    restarts: int = 0
    day_boundaries: int = 0
    live_rule_runs: int = 0
    live_transfers: int = 0
    refused_or_failed_calls: int = 0
    limit_violations: int = 0
    double_spends: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


FIGURES = Figures()


class MoneyMachine(RuleBasedStateMachine):
    """Calls, failures, restarts and time, with the safety properties checked after each."""

    def __init__(self) -> None:
        """Start Home Assistant with an access-token entry and an API-key entry."""
        super().__init__()
        FIGURES.examples += 1
        self.loop = asyncio.new_event_loop()
        self.frozen = freeze_time(START, tick=False)
        self.clock = self.frozen.start()
        self.fake = FakeSequence()
        self.keys: list[str] = []
        self.days_seen = {self._day(START)}
        self.folder = tempfile.TemporaryDirectory()
        self.patches = [
            patch("custom_components.sequence.credentials.SequenceRemoteClient", autospec=True),
            patch("custom_components.sequence.credentials.SequencePlatformClient", autospec=True),
            patch.object(RemoteRuleTrigger, "async_trigger", autospec=True),
        ]
        remote_class, platform_class, remote_trigger = (p.start() for p in self.patches)
        remote_class.return_value.async_get_accounts.return_value = load_snapshot()
        client = platform_class.return_value
        client.async_check_permissions.return_value = ALL_READ
        client.async_list_accounts.return_value = load_platform_accounts()
        client.async_get_accounts.return_value = load_platform_snapshot()
        client.async_get_transfers.return_value = ()
        for name, method in (
            ("async_list_rules", self._no_rules),
            ("async_trigger_rule", self.fake.trigger_rule),
            ("async_get_rule_execution", self.fake.get_rule_execution),
            ("async_create_transfer", self.fake.create_transfer),
            ("async_get_transfer", self.fake.get_transfer),
        ):
            setattr(client, name, _async(method))
        remote_trigger.side_effect = self.fake.trigger_remote
        self.hass: HomeAssistant | None = None
        self._context: Any = None
        self.devices: dict[str, str] = {}
        self._run(self._start())

    @staticmethod
    async def _no_rules() -> tuple[()]:
        return ()

    def _run[T](self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    @staticmethod
    def _day(when: datetime) -> object:
        return dt_util.as_local(when).date()

    async def _start(self) -> None:
        """A Home Assistant on the example's folder: what the last one saved is read back."""
        self._context = async_test_home_assistant(config_dir=self.folder.name)
        hass = self.hass = await self._context.__aenter__()
        await hass.config.async_set_time_zone(TIME_ZONE)
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        token_entry = token_entry_with(
            rule_subentry(
                remote=True,
                subentry_id=REMOTE_RULE,
                max_runs_per_day=MAX_RUNS,
                min_interval_minutes=5,
            )
        )
        api_entry = MockConfigEntry(
            domain=DOMAIN,
            title="Sequence (API key)",
            unique_id=PLATFORM_ANCHOR_ID,
            data={"api_token": API_KEY, "base_url": BASE_URL, "credential_kind": "api_key"},
            entry_id="01JSEQUENCETESTENTRYPLATFORM",
            subentries_data=[
                rule_subentry(
                    remote=False,
                    subentry_id=PLATFORM_RULE,
                    max_runs_per_day=MAX_RUNS,
                    min_interval_minutes=5,
                ),
                route_subentry(
                    max_per_transfer_cents=MAX_PER_TRANSFER, max_per_day_cents=MAX_PER_DAY
                ),
            ],
        )
        for entry in (token_entry, api_entry):
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        registry = dr.async_get(hass)
        self.devices = {
            device.config_subentry_id: device.id
            for entry in (token_entry, api_entry)
            for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
            if device.config_subentry_id
        }
        assert set(self.devices) == {REMOTE_RULE, PLATFORM_RULE, ROUTE_SUBENTRY_ID}

    async def _stop(self) -> None:
        hass = self.hass
        assert hass is not None
        await hass.async_stop(force=True)
        await self._context.__aexit__(None, None, None)
        self.hass = None

    def teardown(self) -> None:
        """Stop Home Assistant, the clock and the patches; count the example's figures."""
        try:
            if self.hass is not None:
                self._run(self._stop())
        finally:
            for started in reversed(self.patches):
                started.stop()
            self.frozen.stop()
            # The test harness's Home Assistant writes its files on this loop's executor.
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()
            self.folder.cleanup()
        FIGURES.live_rule_runs += sum(e.kind != "transfer" for e in self.fake.executed)
        FIGURES.live_transfers += sum(e.kind == "transfer" for e in self.fake.executed)

    # --- Steps ---------------------------------------------------------------------------------

    def _calls(
        self, service: str, data: list[dict[str, Any]], contexts: list[Context]
    ) -> list[object]:
        """Make the calls at once; what each returned or raised."""
        hass = self.hass
        assert hass is not None

        async def one(call_data: dict[str, Any], context: Context) -> object:
            try:
                return await hass.services.async_call(
                    DOMAIN, service, call_data, blocking=True, context=context
                )
            except HomeAssistantError as err:
                return err

        async def all_of_them() -> list[object]:
            results = await asyncio.gather(*map(one, data, contexts, strict=True))
            await hass.async_block_till_done()
            return results

        FIGURES.calls += len(data)
        if len(data) > 1:
            FIGURES.concurrent_calls += len(data)
        results = self._run(all_of_them())
        failed = [result for result in results if isinstance(result, HomeAssistantError)]
        FIGURES.refused_or_failed_calls += len(failed)
        FIGURES.outcomes.update(
            getattr(result, "translation_key", None) or "ok" for result in results
        )
        return results

    def _key(self, choice: str, index: int) -> str | None:
        if choice == "derived":
            return None
        if choice == "repeat_last" and self.keys:
            FIGURES.repeated_keys += 1
            return self.keys[-1]
        if choice == "repeat_any" and self.keys:
            FIGURES.repeated_keys += 1
            return self.keys[index % len(self.keys)]
        key = f"k-{len(self.keys)}-{index}"
        self.keys.append(key)
        return key

    def _contexts(self, count: int, *, shared: bool) -> list[Context]:
        if shared:
            FIGURES.shared_context_calls += count
            context = Context()
            return [context] * count
        return [Context() for _ in range(count)]

    def _live_since(self, count: int) -> list[Executed]:
        return self.fake.executed[count:]

    @rule(
        which=st.sampled_from([REMOTE_RULE, PLATFORM_RULE]),
        simulate=st.booleans(),
        key=st.sampled_from(["derived", "fresh", "repeat_last", "repeat_any"]),
        count=st.integers(1, 4),
        shared=st.booleans(),
        amount=st.sampled_from([None, "12.50"]),
    )
    def run_rule(
        self, which: str, simulate: bool, key: str, count: int, shared: bool, amount: str | None
    ) -> None:
        FIGURES.steps += 1
        executed = len(self.fake.executed)
        data: list[dict[str, Any]] = []
        for index in range(count):
            call: dict[str, Any] = {"rule": self.devices[which], "simulate": simulate}
            if (given := self._key(key, index)) is not None:
                call["idempotency_key"] = given
            if amount is not None and which == PLATFORM_RULE:
                call["amount"] = amount
            data.append(call)
        if simulate:
            FIGURES.simulations += count
        self._calls("trigger_rule", data, self._contexts(count, shared=shared))
        new = self._live_since(executed)
        if simulate:
            assert not new, "a simulated run led to a live request"
        if shared and key == "derived" and len(new) > 1:
            FIGURES.double_spends += 1
            pytest.fail("calls sharing one context ran the rule more than once")

    @rule(
        cents=st.sampled_from([99, 100, 2500, 5000, 5001, 8000]),
        simulate=st.booleans(),
        key=st.sampled_from(["derived", "fresh", "repeat_last", "repeat_any"]),
        count=st.integers(1, 4),
        shared=st.booleans(),
    )
    def transfer(self, cents: int, simulate: bool, key: str, count: int, shared: bool) -> None:
        FIGURES.steps += 1
        executed = len(self.fake.executed)
        data: list[dict[str, Any]] = []
        for index in range(count):
            call: dict[str, Any] = {
                "route": self.devices[ROUTE_SUBENTRY_ID],
                "amount": f"{cents // 100}.{cents % 100:02d}",
                "simulate": simulate,
            }
            if (given := self._key(key, index)) is not None:
                call["idempotency_key"] = given
            data.append(call)
        if simulate:
            FIGURES.simulations += count
        self._calls("transfer", data, self._contexts(count, shared=shared))
        new = self._live_since(executed)
        if simulate:
            assert not new, "a simulated transfer led to a live one"
        if shared and key == "derived" and len(new) > 1:
            FIGURES.double_spends += 1
            pytest.fail("calls sharing one context moved money more than once")

    @rule(
        kind=st.sampled_from(["remote", "platform", "transfer"]), failure=st.sampled_from(FAILURES)
    )
    def fail_next(self, kind: str, failure: str) -> None:
        FIGURES.steps += 1
        FIGURES.failures_injected += 1
        self.fake.failures.setdefault(kind, []).append(failure)

    @rule(minutes=st.sampled_from([1, 4, 5, 6, 30, 180, 600, 1390, 1450]))
    def wait(self, minutes: int) -> None:
        FIGURES.steps += 1
        hass = self.hass
        assert hass is not None
        sent = len(self.fake.requests)
        self.clock.tick(timedelta(minutes=minutes))
        now = dt_util.utcnow()
        if self._day(now) not in self.days_seen:
            self.days_seen.add(self._day(now))
            FIGURES.day_boundaries += 1

        async def fire() -> None:
            async_fire_time_changed(hass, now)
            await hass.async_block_till_done()

        self._run(fire())
        assert len(self.fake.requests) == sent, "a request was sent again without a call"

    @precondition(lambda self: self.hass is not None)
    @rule()
    def restart(self) -> None:
        FIGURES.steps += 1
        FIGURES.restarts += 1
        sent = len(self.fake.requests)
        self._run(self._stop())
        self._run(self._start())
        assert len(self.fake.requests) == sent, "a restart sent a request again"

    # --- Properties ----------------------------------------------------------------------------

    @invariant()
    def every_live_request_was_allowed(self) -> None:
        assert not self.fake.violations, self.fake.violations
        by_day: dict[tuple[str, object], list[Executed]] = {}
        for executed in self.fake.executed:
            by_day.setdefault((executed.kind, self._day(executed.at)), []).append(executed)
        for (kind, day), runs in by_day.items():
            if kind == "transfer":
                amounts = [run.amount_cents or 0 for run in runs]
                assert all(100 <= amount <= MAX_PER_TRANSFER for amount in amounts), amounts
                if sum(amounts) > MAX_PER_DAY:
                    FIGURES.limit_violations += 1
                    pytest.fail(f"{sum(amounts)} cents moved on {day}")
            elif len(runs) > MAX_RUNS:
                FIGURES.limit_violations += 1
                pytest.fail(f"{kind} rule ran {len(runs)} times on {day}")
        for kind in ("remote", "platform"):
            times = sorted(run.at for run in self.fake.executed if run.kind == kind)
            for earlier, later in pairwise(times):
                assert later - earlier >= MIN_INTERVAL, f"{kind} runs {later - earlier} apart"
        keys = [run.key for run in self.fake.executed]
        repeated = [key for key, count in Counter(keys).items() if count > 1]
        for key in repeated:  # only allowed once Sequence forgot the key (a day later)
            times = sorted(run.at for run in self.fake.executed if run.key == key)
            assert all(b - a >= REMEMBERED for a, b in pairwise(times))


def _async(method: Callable[..., Any]) -> AsyncMock:
    """A client method answered by the fake."""
    return AsyncMock(side_effect=method)


MoneyMachine.TestCase.settings = settings(
    # A longer hunt: SEQUENCE_MONEY_EXAMPLES=1000 (the same examples every run, then more).
    max_examples=int(os.environ.get("SEQUENCE_MONEY_EXAMPLES", "80")),
    stateful_step_count=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture(scope="module", autouse=True)
def report_figures() -> Iterator[None]:
    """Print what the machine did (``-s`` shows it)."""
    yield
    print(f"\nmoney state machine: {FIGURES}")  # noqa: T201


def test_money_is_never_moved_beyond_what_the_user_allowed() -> None:
    MoneyMachine.TestCase().runTest()
    assert FIGURES.live_rule_runs > 0
    assert FIGURES.live_transfers > 0
    assert FIGURES.restarts > 0
    assert FIGURES.day_boundaries > 0
    assert FIGURES.double_spends == FIGURES.limit_violations == 0
