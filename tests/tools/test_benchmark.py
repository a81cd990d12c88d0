"""The quick benchmark, asserting structure only (requests and state writes), never timing."""

from homeassistant.core import HomeAssistant
import pytest

from tools.benchmark import QUICK_POLLS, QUICK_SIZES, measure
from tools.harness import HUB_ENTITIES, STATUS_ENTITIES

pytestmark = pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")


@pytest.mark.parametrize("accounts", QUICK_SIZES)
async def test_quick_benchmark(hass: HomeAssistant, accounts: int) -> None:
    figures = await measure(hass, accounts, polls=QUICK_POLLS)

    assert STATUS_ENTITIES == 4
    assert figures.entities == accounts + HUB_ENTITIES + STATUS_ENTITIES
    assert figures.requests_per_poll == [1]  # one POST /accounts per poll, whatever N
    unchanged = figures.writes_unchanged
    assert unchanged.changed == unchanged.reported == unchanged.calls == [0] * QUICK_POLLS
    changed = figures.writes_changed
    # Exactly the changed account's balance and the Pods total: new states, nothing rewritten.
    assert changed.entities == figures.expected_changed
    assert changed.changed == changed.calls == [2] * QUICK_POLLS
    assert changed.reported == [0] * QUICK_POLLS
