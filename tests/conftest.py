"""Shared fixtures for the Sequence tests: the four-fixture pattern plus loaders."""

from collections.abc import Generator, Iterator
import contextlib
from dataclasses import dataclass, field, replace
import json
import logging
from pathlib import Path
import socket
from typing import Any
from unittest.mock import AsyncMock, MagicMock, PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util
from hypothesis import HealthCheck, settings
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.sequence.api import (
    Account,
    AccountsSnapshot,
    Permission,
    PermissionCheck,
    Transfer,
    TransferDirection,
    parse_accounts_payload,
)
from custom_components.sequence.api.models import (
    Rule,
    RuleExecution,
    RuleSchedule,
    RuleSummary,
    cents_to_dollars,
)
from custom_components.sequence.api.platform_parse import parse_account_detail, parse_transfer
from custom_components.sequence.api.remote_rules import RemoteRuleTrigger
from custom_components.sequence.const import (
    CONF_API_TOKEN,
    CONF_BASE_URL,
    CONF_CREDENTIAL_KIND,
    CONF_DESCRIPTION,
    CONF_DESTINATION,
    CONF_MAX_PER_DAY_CENTS,
    CONF_MAX_PER_TRANSFER_CENTS,
    CONF_MAX_RUNS_PER_DAY,
    CONF_MIN_INTERVAL_MINUTES,
    CONF_RULE_ID,
    CONF_SECRET,
    CONF_SOURCE,
    CONF_TRIGGER_URL,
    DOMAIN,
    KIND_ACCESS_TOKEN,
    KIND_API_KEY,
    LOGGER,
    SUBENTRY_ROUTE,
    SUBENTRY_RULE,
)

# Property tests do not depend on chance either: the same examples every run (derandomize) and
# no verdict from timing (a deadline per example, the too_slow health check), which a machine
# shared by parallel runs would give now and then. @settings on a test inherit these.
settings.register_profile(
    "sequence", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("sequence")


def pytest_configure(config: pytest.Config) -> None:
    """Silence Hypothesis 6.170's false alarm about its own PRNG, which derandomize brings out.

    Its check looks for referrers with the garbage collector, which does not see the thread-local
    state where Hypothesis keeps that PRNG; no PRNG of ours is involved.
    """
    config.addinivalue_line(
        "filterwarnings",
        "ignore:It looks like `register_random` was passed an object:"
        "hypothesis.errors.HypothesisWarning",
    )


FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "tok-test-7f3a"  # an obvious fake
BASE_URL = "https://api.getsequence.io"
ANCHOR_ID = "4410007"
API_KEY = "sk_test_fake_key"  # an obvious fake Platform API key
PLATFORM_ANCHOR_ID = "0b1e8c6a-1111-4c1b-9f7e-000000000001"
START = "2026-11-21T12:00:00+00:00"  # the smallest account id in fixtures/accounts.json
RULE_SECRET = "rule-secret-5d0c9a77"  # an obvious fake Remote API rule secret
REMOTE_RULE_ID = "ru_12345"
TRIGGER_URL = f"{BASE_URL}/remote-api/rules/{REMOTE_RULE_ID}/trigger"
PLATFORM_RULE_ID = "7c0f3a52-2222-4c1b-9f7e-00000000000a"
RULE_SUBENTRY_ID = "01JSEQUENCERULESUBENTRY001"
ROUTE_SUBENTRY_ID = "01JSEQUENCEROUTESUBENTRY01"
PAYCHECK_ID = "0b1e8c6a-1111-4c1b-9f7e-000000000003"  # fixtures/platform_accounts.json
EMERGENCY_FUND_ID = "0b1e8c6a-1111-4c1b-9f7e-000000000002"


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections for as long as the block runs.

    Bound but not listening: a connection gets a reset, and no other process can take the port
    meanwhile (a port found free and closed again may be listened on by then, by chance).
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def load_payload(name: str = "accounts.json") -> Any:
    """Return a JSON fixture as Python data."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def load_snapshot(name: str = "accounts.json") -> AccountsSnapshot:
    """Parse a JSON fixture with the real parser, as the client would."""
    return parse_accounts_payload(load_payload(name))


# Every fake credential any test hands the integration. No log record of any test, at any level,
# may contain one of them (checked after each test by ``no_secret_in_logs``).
FAKE_SECRETS = (
    TOKEN,
    API_KEY,
    "tok-new-1234",
    "tok-someone-else",
    "tok-another-token",
    "DO_NOT_LEAK",
    "tok-live-5f2a9c0e77d1",
    "tok-probe-31c9",
    "soak-token-a-91d7e2",  # tools/soak.py
    "soak-token-b-4c08f6",
    "bench-token-0c41",  # tools/benchmark.py
    RULE_SECRET,
    "new-secret-0000",  # tests/test_subentry_flows.py: a regenerated rule secret
    "a-new-secret-0000",  # tests/test_subentries.py
    "dev-rule-secret",  # tools/simulator/remote_rules.py: the seeded rules' API secrets
    "dev-business-rule-secret",
    "rule-secret-DO-NOT-LEAK-41c7",  # tests/api/test_remote_rules.py
    "sk_test_money_key_7e1d",  # tests/api/test_platform_money.py
    "sk_test_lookup_key",  # tests/api/test_platform_lookups.py
)


def rule_subentry(
    *,
    remote: bool,
    max_runs_per_day: int = 3,
    min_interval_minutes: int = 5,
    subentry_id: str = RULE_SUBENTRY_ID,
    rule_id: str | None = None,
    title: str = "Round-ups",
) -> ConfigSubentryDataWithId:
    """A rule subentry as the subentry flow stores it (Remote API: trigger URL and secret)."""
    data: dict[str, Any] = {
        CONF_RULE_ID: rule_id or (REMOTE_RULE_ID if remote else PLATFORM_RULE_ID),
        CONF_MIN_INTERVAL_MINUTES: min_interval_minutes,
        CONF_MAX_RUNS_PER_DAY: max_runs_per_day,
    }
    if remote:
        data |= {CONF_TRIGGER_URL: TRIGGER_URL, CONF_SECRET: RULE_SECRET}
    return ConfigSubentryDataWithId(
        data=data,
        subentry_id=subentry_id,
        subentry_type=SUBENTRY_RULE,
        title=title,
        unique_id=data[CONF_RULE_ID],
    )


def remote_rule_subentry(
    *, subentry_id: str = RULE_SUBENTRY_ID, title: str = "Round-ups", max_runs: int = 3
) -> ConfigSubentryDataWithId:
    """A Remote API rule (trigger URL and secret included)."""
    return rule_subentry(
        remote=True, subentry_id=subentry_id, title=title, max_runs_per_day=max_runs
    )


def platform_rule_subentry(
    *, subentry_id: str = RULE_SUBENTRY_ID, title: str = "Payday split", max_runs: int = 3
) -> ConfigSubentryDataWithId:
    """A Platform API rule."""
    return rule_subentry(
        remote=False, subentry_id=subentry_id, title=title, max_runs_per_day=max_runs
    )


def route_subentry(
    *,
    subentry_id: str = ROUTE_SUBENTRY_ID,
    max_per_transfer_cents: int = 5000,
    max_per_day_cents: int = 8000,
    description: str = "",
) -> ConfigSubentryDataWithId:
    """A transfer route from Paycheck to Emergency Fund, limits in cents."""
    return ConfigSubentryDataWithId(
        subentry_id=subentry_id,
        subentry_type=SUBENTRY_ROUTE,
        title="Paycheck → Emergency Fund",
        unique_id=f"{PAYCHECK_ID}:{EMERGENCY_FUND_ID}",
        data={
            CONF_SOURCE: PAYCHECK_ID,
            CONF_DESTINATION: EMERGENCY_FUND_ID,
            CONF_MAX_PER_TRANSFER_CENTS: max_per_transfer_cents,
            CONF_MAX_PER_DAY_CENTS: max_per_day_cents,
            CONF_DESCRIPTION: description,
        },
    )


def load_platform_accounts() -> tuple[Account, ...]:
    """fixtures/platform_accounts.json's account details, parsed as the client would."""
    details = load_payload("platform_accounts.json")["accounts"]
    accounts = (parse_account_detail({"data": detail, "requestId": "r"}) for detail in details)
    return tuple(account for account in accounts if account is not None)


def load_platform_snapshot() -> AccountsSnapshot:
    """The Platform API fixture as one poll's snapshot."""
    return AccountsSnapshot(accounts={account.id: account for account in load_platform_accounts()})


def load_transfers() -> tuple[Transfer, ...]:
    """fixtures/platform_transfers.json, newest first, parsed as the client would."""
    raw = load_payload("platform_transfers.json")["transfers"]
    return tuple(parse_transfer(item, f"transfers[{index}]") for index, item in enumerate(raw))


ALL_READ = PermissionCheck(
    granted=frozenset({Permission.READ_ACCOUNTS, Permission.READ_RULES, Permission.READ_TRANSFERS}),
    missing=frozenset(),
)


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Generator[None]:
    """Capture every test's logs at DEBUG and fail the test if a fake secret shows up."""
    caplog.set_level(logging.DEBUG)
    yield
    formatter = logging.Formatter()
    for record in caplog.get_records("setup") + caplog.get_records("call"):
        text = formatter.format(record)  # the message, its arguments and any traceback
        leaked = [secret for secret in FAKE_SECRETS if secret in text]
        assert not leaked, f"{record.name} logged a secret: {leaked}"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/sequence in every test."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer (stable ids, readable registry entries)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """A config entry as the user flow creates it from fixtures/accounts.json."""
    return token_entry_with()


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep the flow tests from setting the entry up."""
    with patch("custom_components.sequence.async_setup_entry", return_value=True) as mock_setup:
        yield mock_setup


@pytest.fixture
def mock_client_class() -> Generator[MagicMock]:
    """The Remote API client class, autospecced, wherever the integration builds a client."""
    with patch(
        "custom_components.sequence.credentials.SequenceRemoteClient", autospec=True
    ) as client_class:
        client_class.return_value.async_get_accounts.return_value = load_snapshot()
        yield client_class


@pytest.fixture
def mock_sequence_client(mock_client_class: MagicMock) -> MagicMock:
    """The client instance, answering fixtures/accounts.json."""
    client: MagicMock = mock_client_class.return_value
    return client


@pytest.fixture
def frozen_start(freezer: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    """Start at a fixed instant, so timestamps in snapshots are stable."""
    freezer.move_to(START)
    return freezer


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Entities disabled by default are enabled (request it before setting the entry up)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> MockConfigEntry:
    """Set the integration up with the mocked client."""
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry


@pytest.fixture
def mock_platform_client() -> Generator[MagicMock]:
    """The Platform API client, autospecced, answering the platform fixtures."""
    with patch(
        "custom_components.sequence.credentials.SequencePlatformClient", autospec=True
    ) as client_class:
        client = client_class.return_value
        client.async_check_permissions.return_value = ALL_READ
        client.async_list_accounts.return_value = load_platform_accounts()
        client.async_get_accounts.return_value = load_platform_snapshot()
        client.async_get_transfers.return_value = load_transfers()
        # The rule catalog's listing (a key without rules unless a test says otherwise).
        client.async_list_rules.return_value = ()
        client.async_get_rule.side_effect = AssertionError("no rule was listed")
        yield client


def token_entry_with(*subentries: ConfigSubentryDataWithId) -> MockConfigEntry:
    """``mock_config_entry`` (an access token) with subentries."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Sequence",
        unique_id=ANCHOR_ID,
        data={
            CONF_API_TOKEN: TOKEN,
            CONF_BASE_URL: BASE_URL,
            CONF_CREDENTIAL_KIND: KIND_ACCESS_TOKEN,
        },
        entry_id="01JSEQUENCETESTENTRY0000001",
        subentries_data=list(subentries),
    )


def api_key_entry_with(*subentries: ConfigSubentryDataWithId) -> MockConfigEntry:
    """``platform_config_entry`` (an API key) with subentries."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Sequence (API key)",
        unique_id=PLATFORM_ANCHOR_ID,
        data={CONF_API_TOKEN: API_KEY, CONF_BASE_URL: BASE_URL, CONF_CREDENTIAL_KIND: KIND_API_KEY},
        entry_id="01JSEQUENCETESTENTRYPLATFORM",
        subentries_data=list(subentries),
    )


@pytest.fixture
def platform_config_entry() -> MockConfigEntry:
    """A config entry as the user flow creates it from a Platform API key."""
    return api_key_entry_with()


@pytest.fixture
async def init_platform(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> MockConfigEntry:
    """Set up a Platform API entry with the mocked client (activity off)."""
    platform_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(platform_config_entry.entry_id)
    await hass.async_block_till_done()
    return platform_config_entry


type RuleCatalog = DataUpdateCoordinator[dict[str, RuleSummary]]


def rule_summary(*, enabled: bool = True, deleted: bool = False) -> RuleSummary:
    """The Platform rule of ``platform_rule_subentry`` as ``GET /rules`` lists it."""
    return RuleSummary(
        id=PLATFORM_RULE_ID, name="Payday split", enabled=enabled, supported=True, deleted=deleted
    )


@pytest.fixture
def rule_listing() -> AsyncMock:
    """What the rule catalogs of ``rule_catalogs`` list at each refresh."""
    return AsyncMock(return_value={PLATFORM_RULE_ID: rule_summary()})


@pytest.fixture
def rule_catalogs(hass: HomeAssistant, rule_listing: AsyncMock) -> Generator[list[RuleCatalog]]:
    """Give every entry set up a rule catalog (as an API key with READ_RULES has), not refreshed.

    A stand-in with the read interface the entities use (a coordinator of rule summaries by id),
    so that entity tests set what Sequence says of a rule directly; the real catalog is tested
    in tests/test_rule_catalog.py.
    """
    made: list[RuleCatalog] = []

    async def setup(*_args: Any) -> RuleCatalog:
        catalog: RuleCatalog = DataUpdateCoordinator(
            hass,
            LOGGER,
            config_entry=None,
            name="rules",
            update_method=rule_listing,
            request_refresh_debouncer=None,
        )
        catalog.scheduled_rules = {}  # what the payments calendar reads
        made.append(catalog)
        return catalog

    with patch("custom_components.sequence.async_setup_rule_catalog", side_effect=setup):
        yield made


# --- Money actions: devices of subentries, a fake Sequence, loaded entries with money -------


def add_subentry_device(hass: HomeAssistant, entry: MockConfigEntry, subentry_id: str) -> str:
    """The device of a rule or route subentry, as its platform registers it; its id."""
    subentry = entry.subentries[subentry_id]
    kind = "rule" if subentry.subentry_type == SUBENTRY_RULE else "route"
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        config_subentry_id=subentry_id,
        identifiers={(DOMAIN, f"{entry.unique_id}:{kind}:{subentry_id}")},
        name=subentry.title,
        model_id=subentry.subentry_type,
    )
    return device.id


@dataclass
class FakeSequence:
    """Sequence's money endpoints as the Platform client would answer them.

    Records every request; remembers idempotency keys (the same key answers the first result,
    as Sequence does); each follow-up read answers the next queued status.
    """

    requests: list[dict[str, Any]] = field(default_factory=list)
    execution_statuses: list[str] = field(default_factory=list)
    """What the next ``GET .../executions/{id}`` answer (the last one repeats)."""
    transfer_statuses: list[str] = field(default_factory=list)
    rules: tuple[RuleSummary, ...] = (
        RuleSummary(id=PLATFORM_RULE_ID, name="Round-ups", enabled=True, supported=True),
    )
    schedules: dict[str, RuleSchedule] = field(default_factory=dict)
    """Rule id -> its schedule, for rules with a ``SCHEDULED`` trigger (others are manual)."""
    _answers: dict[str, Any] = field(default_factory=dict)
    _transfers: dict[str, Transfer] = field(default_factory=dict)
    _executions: dict[str, RuleExecution] = field(default_factory=dict)

    def live(self, kind: str) -> list[dict[str, Any]]:
        """The live requests of ``kind`` (``trigger_rule`` or ``create_transfer``)."""
        return [r for r in self.requests if r["kind"] == kind and not r["simulation"]]

    async def trigger_rule(
        self,
        rule_id: str,
        *,
        idempotency_key: str,
        simulation: bool,
        execute_amount_cents: int | None = None,
    ) -> str:
        self.requests.append(
            {
                "kind": "trigger_rule",
                "rule_id": rule_id,
                "key": idempotency_key,
                "simulation": simulation,
                "amount_cents": execute_amount_cents,
            }
        )
        if (known := self._answers.get(idempotency_key)) is not None:
            return str(known)
        execution_id = f"exec-{len(self._executions) + 1}"
        self._executions[execution_id] = RuleExecution(
            id=execution_id,
            rule_id=rule_id,
            status="IN_PROGRESS",
            simulated=simulation,
            created_at=dt_util.utcnow(),
        )
        self._answers[idempotency_key] = execution_id
        return execution_id

    async def get_rule_execution(self, rule_id: str, execution_id: str) -> RuleExecution:
        status = self.execution_statuses.pop(0) if len(self.execution_statuses) > 1 else None
        status = status or (self.execution_statuses or ["IN_PROGRESS"])[0]
        execution = replace(
            self._executions[execution_id],
            status=status,
            transfers_completed=2 if status in {"EXECUTED", "PARTIAL"} else 0,
            transfers_failed=1 if status in {"PARTIAL", "FAILED"} else 0,
        )
        self._executions[execution_id] = execution
        return execution

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
        self.requests.append(
            {
                "kind": "create_transfer",
                "source_id": source_id,
                "destination_id": destination_id,
                "amount_cents": amount_cents,
                "description": description,
                "key": idempotency_key,
                "simulation": simulation,
            }
        )
        if (known := self._answers.get(idempotency_key)) is not None:
            return self._transfers[known]
        transfer_id = f"{'sim' if simulation else 'transfer'}-{len(self._transfers) + 1}"
        self._transfers[transfer_id] = Transfer(
            id=transfer_id,
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
        self._answers[idempotency_key] = transfer_id
        return self._transfers[transfer_id]

    async def get_transfer(self, transfer_id: str) -> Transfer:
        status = self.transfer_statuses.pop(0) if len(self.transfer_statuses) > 1 else None
        status = status or (self.transfer_statuses or [self._transfers[transfer_id].status])[0]
        self._transfers[transfer_id] = replace(
            self._transfers[transfer_id],
            status=status,
            completed_at=dt_util.utcnow() if status == "COMPLETE" else None,
        )
        return self._transfers[transfer_id]

    async def list_rules(self) -> tuple[RuleSummary, ...]:
        return self.rules

    async def get_rule(self, rule_id: str) -> Rule:
        summary = next(rule for rule in self.rules if rule.id == rule_id)
        schedule = self.schedules.get(rule_id)
        return Rule(
            summary=summary,
            trigger_type="MANUAL" if schedule is None else "SCHEDULED",
            schedule=schedule,
        )


@dataclass(frozen=True)
class MoneySetup:
    """A loaded entry with a rule (and, with an API key, a route) and their devices."""

    entry: MockConfigEntry
    rule_device: str
    route_device: str | None
    fake: FakeSequence
    client: MagicMock


@pytest.fixture
def fake_sequence() -> FakeSequence:
    return FakeSequence()


@pytest.fixture
def money_client(mock_platform_client: MagicMock, fake_sequence: FakeSequence) -> MagicMock:
    """The Platform client with Sequence's money and rule endpoints (the fake behind them)."""
    client = mock_platform_client
    client.async_list_rules.side_effect = fake_sequence.list_rules
    client.async_get_rule.side_effect = fake_sequence.get_rule
    client.async_trigger_rule.side_effect = fake_sequence.trigger_rule
    client.async_get_rule_execution.side_effect = fake_sequence.get_rule_execution
    client.async_create_transfer.side_effect = fake_sequence.create_transfer
    client.async_get_transfer.side_effect = fake_sequence.get_transfer
    return client


@pytest.fixture
def remote_trigger() -> Generator[MagicMock]:
    """``RemoteRuleTrigger.async_trigger``, mocked (the real object is built with its URL)."""
    with patch.object(RemoteRuleTrigger, "async_trigger", autospec=True) as trigger:
        yield trigger


@pytest.fixture
def platform_money_entry() -> MockConfigEntry:
    """The API-key entry with a rule and a transfer route."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Sequence (API key)",
        unique_id=PLATFORM_ANCHOR_ID,
        data={CONF_API_TOKEN: API_KEY, CONF_BASE_URL: BASE_URL, CONF_CREDENTIAL_KIND: KIND_API_KEY},
        entry_id="01JSEQUENCETESTENTRYPLATFORM",
        subentries_data=[rule_subentry(remote=False), route_subentry()],
    )


@pytest.fixture
def remote_money_entry() -> MockConfigEntry:
    """The access-token entry with a Remote API rule."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Sequence",
        unique_id=ANCHOR_ID,
        data={
            CONF_API_TOKEN: TOKEN,
            CONF_BASE_URL: BASE_URL,
            CONF_CREDENTIAL_KIND: KIND_ACCESS_TOKEN,
        },
        entry_id="01JSEQUENCETESTENTRY0000001",
        subentries_data=[rule_subentry(remote=True)],
    )


async def setup_money(
    hass: HomeAssistant, entry: MockConfigEntry, fake: FakeSequence, client: MagicMock
) -> MoneySetup:
    """Set ``entry`` up and register its subentries' devices."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return MoneySetup(
        entry=entry,
        rule_device=add_subentry_device(hass, entry, RULE_SUBENTRY_ID),
        route_device=(
            add_subentry_device(hass, entry, ROUTE_SUBENTRY_ID)
            if ROUTE_SUBENTRY_ID in entry.subentries
            else None
        ),
        fake=fake,
        client=client,
    )


@pytest.fixture
async def platform_money(
    hass: HomeAssistant,
    platform_money_entry: MockConfigEntry,
    money_client: MagicMock,
    fake_sequence: FakeSequence,
    frozen_start: FrozenDateTimeFactory,
) -> MoneySetup:
    """The API-key entry, loaded, with its rule and route devices."""
    return await setup_money(hass, platform_money_entry, fake_sequence, money_client)


@pytest.fixture
async def remote_money(
    hass: HomeAssistant,
    remote_money_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    remote_trigger: MagicMock,
    fake_sequence: FakeSequence,
    frozen_start: FrozenDateTimeFactory,
) -> MoneySetup:
    """The access-token entry, loaded, with its Remote API rule's device."""
    return await setup_money(hass, remote_money_entry, fake_sequence, remote_trigger)


async def call_action(
    hass: HomeAssistant, service: str, data: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """Call one of the integration's actions and return its response."""
    response = await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True, **kwargs
    )
    assert response is not None
    return dict(response)
