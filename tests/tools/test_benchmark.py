"""The quick benchmark, asserting structure only (requests and state writes), never timing."""

from homeassistant.core import HomeAssistant
import pytest

from tools.benchmark import POLL_KINDS, QUICK_POLLS, QUICK_SIZES, measure, table
from tools.harness import HUB_ENTITIES, STATUS_ENTITIES

pytestmark = pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")


@pytest.mark.parametrize("accounts", QUICK_SIZES)
async def test_quick_benchmark(hass: HomeAssistant, accounts: int) -> None:
    figures = await measure(hass, accounts, polls=QUICK_POLLS)

    assert STATUS_ENTITIES == 4
    assert figures.entities == accounts + HUB_ENTITIES + STATUS_ENTITIES
    assert figures.requests_per_poll == [1]  # one POST /accounts per poll, whatever N
    unchanged = figures.kinds["unchanged"].writes
    assert unchanged.changed == unchanged.reported == unchanged.calls == [0] * QUICK_POLLS
    for kind, changed_accounts in (("one_changed", 1), ("share_changed", max(1, accounts // 10))):
        figures_of_kind = figures.kinds[kind]
        assert figures_of_kind.changed_accounts == changed_accounts
        writes = figures_of_kind.writes
        # Exactly the changed accounts' balances and the Pods total: new states, nothing rewritten.
        assert writes.entities == figures_of_kind.expected
        assert writes.changed == writes.calls == [changed_accounts + 1] * QUICK_POLLS
        assert writes.reported == [0] * QUICK_POLLS
    assert figures.floor_ms > 0
    assert figures.body_bytes > 0
    rows = table([figures], {}).splitlines()
    assert len(rows) == 2 + 1 + 1 + 2 + 1  # two tables: header, rule, one row each
    assert "(!)" not in rows[2]
    assert set(POLL_KINDS) == set(figures.kinds)
