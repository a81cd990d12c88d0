"""One request budget per API key: shared by the entry, its reloads and every flow.

The end-to-end tests run the real Platform API client over HTTP (127.0.0.1) against the fake
Platform API or the simulator, on Home Assistant's flows and setup.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import partial
from typing import Any
from unittest.mock import patch

from aiohttp import web
from aiohttp.test_utils import TestClient
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sequence.api import RequestBudget, SequenceRateLimitError
from custom_components.sequence.const import (
    CONF_API_TOKEN,
    CONF_BASE_URL,
    CONF_CREDENTIAL_KIND,
    DOMAIN,
    KIND_API_KEY,
    SECTION_ADVANCED,
)
from custom_components.sequence.request_budgets import (
    DATA_REQUEST_BUDGETS,
    request_budget,
)
from tests.api.platform_server import PREFIX, FakePlatform, error
from tools.simulator.app import build_app
from tools.simulator.platform_records import READ_PERMISSIONS
from tools.simulator.runtime import Simulator
from tools.simulator.state import Bank

from .conftest import API_KEY

type Client = TestClient[Any, Any]
type ClientFactory = Callable[[web.Application], Awaitable[Client]]

OTHER_KEY = "sk_test_other_fake_key"


# --- The registry -------------------------------------------------------------------------------


async def test_one_budget_per_key_however_it_was_pasted(hass: HomeAssistant) -> None:
    budget = request_budget(hass, API_KEY)
    assert request_budget(hass, f"  Bearer {API_KEY} ") is budget
    assert request_budget(hass, OTHER_KEY) is not budget


async def test_the_key_itself_is_kept_nowhere(hass: HomeAssistant) -> None:
    request_budget(hass, API_KEY).block(60)
    held = hass.data[DATA_REQUEST_BUDGETS]._by_digest  # the only place keys could be
    assert len(held) == 1
    shown = repr(held)
    assert API_KEY not in shown
    assert API_KEY.removeprefix("sk_") not in shown


async def test_idle_budgets_of_other_keys_are_forgotten(hass: HomeAssistant) -> None:
    waiting = request_budget(hass, API_KEY)
    waiting.block(600)  # a Retry-After is running: kept
    idle = request_budget(hass, OTHER_KEY)
    request_budget(hass, "sk_test_third_fake_key")
    budgets = hass.data[DATA_REQUEST_BUDGETS]
    assert len(budgets) == 2
    assert request_budget(hass, API_KEY) is waiting
    assert request_budget(hass, OTHER_KEY) is not idle


# --- Over HTTP, through the flows and the entry -------------------------------------------------


@pytest.fixture
def fake() -> FakePlatform:
    fake = FakePlatform()
    fake.add_accounts(3)
    return fake


@pytest.fixture
async def server(
    socket_enabled: None, aiohttp_client: ClientFactory, fake: FakePlatform
) -> AsyncIterator[Client]:
    client = await aiohttp_client(fake.app())
    with patch(
        "custom_components.sequence.credentials.async_get_clientsession",
        return_value=client.session,
    ):
        yield client


def base_url(server: Client) -> str:
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def api_key_entry(hass: HomeAssistant, server: Client) -> MockConfigEntry:
    """An API-key entry on the fake Platform API, set up (one list, three details)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Sequence (API key)",
        unique_id="acct-0001",
        data={
            CONF_API_TOKEN: API_KEY,
            CONF_BASE_URL: base_url(server),
            CONF_CREDENTIAL_KIND: KIND_API_KEY,
        },
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def rate_limited(hass: HomeAssistant, entry: MockConfigEntry, fake: FakePlatform) -> int:
    """Let a poll meet a 429 with Retry-After: 600; return the requests sent so far."""
    path = f"{PREFIX}/accounts/acct-0002"

    async def too_many(_request: web.Request) -> web.Response:
        return error(429, "RATE_LIMIT_EXCEEDED", headers={"Retry-After": "600"})

    fake.overrides[path] = too_many
    await entry.runtime_data.coordinator.async_refresh()
    assert entry.runtime_data.coordinator.last_error_kind == "rate_limited"
    del fake.overrides[path]
    return len(fake.requests)


async def test_a_flow_during_a_retry_after_sends_nothing_and_says_to_wait(
    hass: HomeAssistant, api_key_entry: MockConfigEntry, fake: FakePlatform, server: Client
) -> None:
    sent = await rate_limited(hass, api_key_entry, fake)

    result = await api_key_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {SECTION_ADVANCED: {CONF_BASE_URL: base_url(server)}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "rate_limited"}

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_API_TOKEN: f"Bearer {API_KEY}", SECTION_ADVANCED: {CONF_BASE_URL: base_url(server)}},
    )
    assert result["errors"] == {"base": "rate_limited"}
    assert len(fake.requests) == sent


async def test_a_reload_keeps_the_retry_after(
    hass: HomeAssistant, api_key_entry: MockConfigEntry, fake: FakePlatform
) -> None:
    sent = await rate_limited(hass, api_key_entry, fake)
    assert await hass.config_entries.async_reload(api_key_entry.entry_id) is False
    await hass.async_block_till_done()
    assert api_key_entry.state is ConfigEntryState.SETUP_RETRY
    assert api_key_entry.error_reason_translation_key == "rate_limited"
    assert len(fake.requests) == sent


async def test_another_key_is_not_held_back(
    hass: HomeAssistant, api_key_entry: MockConfigEntry, fake: FakePlatform, server: Client
) -> None:
    """The budget is the key's: a flow with another key still checks it with Sequence."""
    sent = await rate_limited(hass, api_key_entry, fake)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_API_TOKEN: OTHER_KEY, SECTION_ADVANCED: {CONF_BASE_URL: base_url(server)}},
    )
    assert len(fake.requests) > sent
    with pytest.raises(SequenceRateLimitError):
        async with request_budget(hass, API_KEY).slot():
            pytest.fail("the key's own requests must still wait")


class VirtualClock:
    """Monotonic seconds that move only when the budget sleeps."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def virtual_budgets() -> Iterator[VirtualClock]:
    """Budgets made by the integration run on a virtual clock (the simulator's too)."""
    clock = VirtualClock()
    with patch(
        "custom_components.sequence.request_budgets.RequestBudget",
        partial(RequestBudget, clock=clock, sleep=clock.sleep),
    ):
        yield clock


async def test_setting_up_a_key_with_100_accounts_stays_within_the_limit(
    hass: HomeAssistant,
    socket_enabled: None,
    aiohttp_client: ClientFactory,
    virtual_budgets: VirtualClock,
) -> None:
    """The flow's checks and the first poll share the key's 60 requests a minute.

    The simulator answers 429 past Sequence's 100 a minute, on the same virtual clock.
    """
    clock = virtual_budgets
    simulator = Simulator.create(
        Bank(seed=5, extra_accounts=90, clock=clock), api_keys={API_KEY: READ_PERMISSIONS}
    )
    starts: list[float] = []
    statuses: list[int] = []

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        starts.append(clock())
        response: web.StreamResponse = await handler(request)
        statuses.append(response.status)
        return response

    app = build_app(simulator)
    app.middlewares.append(record)
    server = await aiohttp_client(app)
    with patch(
        "custom_components.sequence.credentials.async_get_clientsession",
        return_value=server.session,
    ):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_API_TOKEN: API_KEY, SECTION_ADVANCED: {CONF_BASE_URL: base_url(server)}},
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        entry = hass.config_entries.async_get_entry(result["result"].entry_id)
        assert entry is not None
        assert entry.state is ConfigEntryState.LOADED
        assert len(entry.runtime_data.coordinator.data.accounts) == 100
        assert await hass.config_entries.async_unload(entry.entry_id)

    # The flow's three checks and list, then the setup's list, 100 details, and the rule
    # catalog: the list and the trigger of each rule that runs.
    running = [
        rule for rule in simulator.platform.rules.values() if rule.enabled and rule.supported
    ]
    assert len(starts) == 4 + 1 + 100 + 1 + len(running)
    assert set(statuses) == {200}
    busiest = max(sum(start <= other < start + 60 for other in starts) for start in starts)
    assert busiest <= 60  # with a budget per client instead of per key: 62
