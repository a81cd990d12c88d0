"""Shared fixtures for the Sequence tests: the four-fixture pattern plus loaders."""

from collections.abc import Generator
import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock, PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
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
    parse_accounts_payload,
)
from custom_components.sequence.api.models import RuleSummary
from custom_components.sequence.api.platform_parse import parse_account_detail, parse_transfer
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
from custom_components.sequence.coordinator import SequenceRuntimeData

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
)


def remote_rule_subentry(
    *, subentry_id: str = RULE_SUBENTRY_ID, title: str = "Round-ups", max_runs: int = 3
) -> ConfigSubentryDataWithId:
    """A Remote API rule as the subentry flow stores it (trigger URL and secret included)."""
    return ConfigSubentryDataWithId(
        subentry_id=subentry_id,
        subentry_type=SUBENTRY_RULE,
        title=title,
        unique_id=REMOTE_RULE_ID,
        data={
            CONF_RULE_ID: REMOTE_RULE_ID,
            CONF_TRIGGER_URL: TRIGGER_URL,
            CONF_SECRET: RULE_SECRET,
            CONF_MIN_INTERVAL_MINUTES: 5,
            CONF_MAX_RUNS_PER_DAY: max_runs,
        },
    )


def platform_rule_subentry(
    *, subentry_id: str = RULE_SUBENTRY_ID, title: str = "Payday split", max_runs: int = 3
) -> ConfigSubentryDataWithId:
    """A Platform API rule as the subentry flow stores it."""
    return ConfigSubentryDataWithId(
        subentry_id=subentry_id,
        subentry_type=SUBENTRY_RULE,
        title=title,
        unique_id=PLATFORM_RULE_ID,
        data={
            CONF_RULE_ID: PLATFORM_RULE_ID,
            CONF_MIN_INTERVAL_MINUTES: 5,
            CONF_MAX_RUNS_PER_DAY: max_runs,
        },
    )


def route_subentry(
    *, subentry_id: str = ROUTE_SUBENTRY_ID, max_per_transfer: int = 5000, max_per_day: int = 20000
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
            CONF_MAX_PER_TRANSFER_CENTS: max_per_transfer,
            CONF_MAX_PER_DAY_CENTS: max_per_day,
            CONF_DESCRIPTION: "Savings",
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

    A stand-in with the read interface the entities use (a coordinator of rule summaries by
    id) for the rule catalog coordinator built beside the actions.
    """
    made: list[RuleCatalog] = []

    def runtime(**kwargs: Any) -> SequenceRuntimeData:
        catalog: RuleCatalog = DataUpdateCoordinator(
            hass,
            LOGGER,
            config_entry=None,
            name="rules",
            update_method=rule_listing,
            request_refresh_debouncer=None,
        )
        made.append(catalog)
        return SequenceRuntimeData(**kwargs, rule_catalog=catalog)

    with patch("custom_components.sequence.SequenceRuntimeData", side_effect=runtime):
        yield made
