"""Shared fixtures for the Sequence tests: the four-fixture pattern plus loaders."""

from collections.abc import Generator
import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.sequence.api import AccountsSnapshot, parse_accounts_payload
from custom_components.sequence.const import CONF_API_TOKEN, CONF_BASE_URL, DOMAIN

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "tok-test-7f3a"  # an obvious fake
BASE_URL = "https://api.getsequence.io"
ANCHOR_ID = "4410007"
START = "2026-11-21T12:00:00+00:00"  # the smallest account id in fixtures/accounts.json


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
    "tok-new-1234",
    "tok-someone-else",
    "tok-another-token",
    "DO_NOT_LEAK",
    "tok-live-5f2a9c0e77d1",
    "tok-probe-31c9",
    "soak-token-a-91d7e2",  # tools/soak.py
    "soak-token-b-4c08f6",
    "bench-token-0c41",  # tools/benchmark.py
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
    return MockConfigEntry(
        domain=DOMAIN,
        title="Sequence",
        unique_id=ANCHOR_ID,
        data={CONF_API_TOKEN: TOKEN, CONF_BASE_URL: BASE_URL},
        entry_id="01JSEQUENCETESTENTRY0000001",
    )


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep the flow tests from setting the entry up."""
    with patch("custom_components.sequence.async_setup_entry", return_value=True) as mock_setup:
        yield mock_setup


@pytest.fixture
def mock_client_class() -> Generator[MagicMock]:
    """The Remote API client class, autospecced, wherever the integration builds a client."""
    with (
        patch("custom_components.sequence.SequenceRemoteClient", autospec=True) as client_class,
        patch("custom_components.sequence.config_flow.SequenceRemoteClient", new=client_class),
    ):
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
