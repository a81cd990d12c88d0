"""Long-term statistics of the balances, from what the polls write (the recorder's view)."""

from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.core import Recorder
from homeassistant.components.recorder.statistics import (
    StatisticsRow,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.sequence.api import parse_accounts_payload
from custom_components.sequence.const import DEFAULT_SCAN_INTERVAL

from .conftest import load_payload


@pytest.fixture(autouse=True)
def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """The recorder's database is made before Home Assistant (the harness's order)."""


GROCERIES = "sensor.sequence_groceries_balance"
PODS_TOTAL = "sensor.sequence_pods_total"


async def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(DEFAULT_SCAN_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_hourly_statistics_follow_the_balances(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Polls that change nothing write nothing; the statistics are those of every poll's data."""
    start = dt_util.parse_datetime("2026-11-21T12:00:00+00:00")
    assert start is not None
    freezer.move_to(start)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    for _ in range(5):  # the first hour: nothing changes
        await poll(hass, freezer)

    freezer.move_to(start + timedelta(hours=1, minutes=5))
    payload = load_payload()
    payload["data"]["accounts"][0]["balance"]["amountInDollars"] = 400.01  # down 12.05
    mock_sequence_client.async_get_accounts.return_value = parse_accounts_payload(payload)
    await poll(hass, freezer)
    for _ in range(4):  # the rest of the second hour: nothing changes
        await poll(hass, freezer)
    await async_wait_recording_done(hass)

    # The last five minutes of each hour: what a balance was after an hour without writes.
    periods = [start + timedelta(minutes=55), start + timedelta(hours=1, minutes=55)]
    for period in periods:
        do_adhoc_statistics(hass, start=period)
    await async_wait_recording_done(hass)
    statistics: dict[str, list[StatisticsRow]] = await recorder_mock.async_add_executor_job(
        statistics_during_period,
        hass,
        start,
        start + timedelta(hours=2),
        {GROCERIES, PODS_TOTAL},
        "5minute",
        None,
        {"state", "sum"},
    )

    def cents(rows: list[StatisticsRow]) -> list[tuple[Decimal, Decimal]]:
        """Statistics are floats: to the cent, as the sensors show them."""
        return [
            (round(Decimal(row.get("state") or 0), 2), round(Decimal(row.get("sum") or 0), 2))
            for row in rows
        ]

    assert cents(statistics[GROCERIES]) == [
        (Decimal("412.06"), Decimal("0.00")),
        (Decimal("400.01"), Decimal("-12.05")),
    ]
    assert cents(statistics[PODS_TOTAL]) == [
        (Decimal("2262.66"), Decimal("0.00")),
        (Decimal("2250.61"), Decimal("-12.05")),
    ]
