"""A short fault soak in the harness's ``hass``: every kind of fault, every check of the tool."""

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from tools.soak import START, Kind, SoakConfig, run_soak

pytestmark = pytest.mark.usefixtures("socket_enabled", "enable_custom_integrations")

FAST = SoakConfig(polls=150, accounts=12, seed=7, fault_rate=0.5, trace_memory=False)


async def test_fast_soak(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to(START)
    report = await run_soak(hass, freezer, FAST)

    assert report.problems == []
    assert report.polls == FAST.polls
    assert set(report.faults) == set(Kind)  # each kind at least once
    assert set(report.failed_by_kind) == {
        Kind.SERVER_ERROR,
        Kind.BAD_GATEWAY,
        Kind.TIMEOUT,
        Kind.RATE_LIMITED,
        Kind.RATE_LIMITED_BARE,
        Kind.TRUNCATED,
        Kind.WRONG_SHAPE,
        Kind.TOKEN_REVOKED,
    }
    assert report.reauths == report.faults[Kind.TOKEN_REVOKED]
    assert report.recoveries > 0
    assert report.retry_waits_checked > 0
    assert report.writes_checked > 0
    assert report.log_records > 0
    assert report.leftover == []
