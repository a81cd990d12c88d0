"""The payments calendar: debts' due dates and scheduled rules' runs, in local time, from memory."""

from collections.abc import Generator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import AsyncMock, MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.sequence.api import (
    AccountsSnapshot,
    SequencePermissionError,
    SequenceServerError,
)
from custom_components.sequence.api.models import Rule, RuleSchedule, RuleSummary
from custom_components.sequence.calendar import (
    RULE_HORIZON,
    SequencePaymentsCalendar,
    dollars,
    payment_event,
    rule_runs,
)
from custom_components.sequence.const import PLATFORM_DEFAULT_SCAN_INTERVAL
from custom_components.sequence.rule_catalog import CATALOG_INTERVAL

from .conftest import load_platform_accounts, load_platform_snapshot
from .test_state_writes import Writes

CALENDAR = "calendar.sequence_payments"
VISA_ID = "0b1e8c6a-1111-4c1b-9f7e-000000000005"
GROCERIES_ID = "0b1e8c6a-1111-4c1b-9f7e-000000000001"
BEFORE_THE_CLOCKS_GO_BACK = datetime(2026, 10, 28, 19, tzinfo=UTC)
"""Wednesday Oct 28, 12:00 in US/Pacific (PDT); the clocks go back on Sunday Nov 1, 09:00 UTC."""


def scheduled(name: str, schedule_type: str, start: datetime) -> Rule:
    return Rule(
        summary=RuleSummary(id=name.lower(), name=name, enabled=True, supported=True),
        trigger_type="SCHEDULED",
        schedule=RuleSchedule(schedule_type=schedule_type, start=start),
    )


RULES = (
    scheduled("Daily", "DAILY", datetime(2026, 10, 1, 16, tzinfo=UTC)),
    scheduled("Weekly", "WEEKLY", datetime(2026, 10, 2, 17, tzinfo=UTC)),  # Fridays
    # Mondays of even ISO weeks (Oct 5 is in week 41): Oct 12, 26, Nov 9, 23
    scheduled("Fortnightly", "EVERY_OTHER_WEEK", datetime(2026, 10, 5, 15, tzinfo=UTC)),
    scheduled("Twice a month", "BI_WEEKLY", datetime(2026, 9, 20, 13, tzinfo=UTC)),
    scheduled("Month end", "MONTHLY", datetime(2026, 8, 31, 18, tzinfo=UTC)),
    scheduled("Once", "ONE_TIME", datetime(2026, 11, 2, 2, 30, tzinfo=UTC)),
)
MANUAL = Rule(
    summary=RuleSummary(id="manual", name="Manual", enabled=True, supported=True),
    trigger_type="MANUAL",
)


@pytest.fixture
def rules() -> list[Rule]:
    """What Sequence has: every kind of schedule, and a rule that runs only when triggered."""
    return [*RULES, MANUAL]


@pytest.fixture
def rules_client(mock_platform_client: MagicMock, rules: list[Rule]) -> MagicMock:
    """A key with READ_RULES: the rules listed, each read in full."""
    client = mock_platform_client

    async def get_rule(rule_id: str) -> Rule:
        return next(rule for rule in rules if rule.summary.id == rule_id)

    client.async_list_rules = AsyncMock(side_effect=lambda: tuple(r.summary for r in rules))
    client.async_get_rule = AsyncMock(side_effect=get_rule)
    return client


@pytest.fixture
def calendar_only() -> Generator[None]:
    with patch("custom_components.sequence.PLATFORMS", [Platform.CALENDAR]):
        yield


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    rules_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> MockConfigEntry:
    freezer.move_to(BEFORE_THE_CLOCKS_GO_BACK)
    return await set_up(hass, platform_config_entry)


async def events(hass: HomeAssistant, start: str, end: str) -> list[tuple[str, str, str]]:
    """(start, end, summary) of the calendar's events between two local times."""
    response: Any = await hass.services.async_call(
        "calendar",
        "get_events",
        {"entity_id": CALENDAR, "start_date_time": start, "end_date_time": end},
        blocking=True,
        return_response=True,
    )
    return [(e["start"], e["end"], e["summary"]) for e in response[CALENDAR]["events"]]


async def move_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    freezer.move_to(when)
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done()


# --- Scheduled rules ----------------------------------------------------------------------------


@pytest.mark.usefixtures("entry")
async def test_every_schedule_across_the_month_end_and_the_clocks_going_back(
    hass: HomeAssistant,
) -> None:
    """UTC schedules keep their UTC time: in local time the runs move back an hour on Nov 1."""
    assert await events(hass, "2026-10-29T00:00:00", "2026-11-03T00:00:00") == [
        ("2026-10-29T09:00:00-07:00", "2026-10-29T09:30:00-07:00", "Rule run: Daily"),
        ("2026-10-30T09:00:00-07:00", "2026-10-30T09:30:00-07:00", "Rule run: Daily"),
        ("2026-10-30T10:00:00-07:00", "2026-10-30T10:30:00-07:00", "Rule run: Weekly"),
        ("2026-10-31T09:00:00-07:00", "2026-10-31T09:30:00-07:00", "Rule run: Daily"),
        ("2026-10-31T11:00:00-07:00", "2026-10-31T11:30:00-07:00", "Rule run: Month end"),
        # 13:00 UTC is 05:00 PST: the clocks went back at 02:00 PDT (09:00 UTC)
        ("2026-11-01T05:00:00-08:00", "2026-11-01T05:30:00-08:00", "Rule run: Twice a month"),
        ("2026-11-01T08:00:00-08:00", "2026-11-01T08:30:00-08:00", "Rule run: Daily"),
        # Nov 2, 02:30 UTC is still Nov 1 here
        ("2026-11-01T18:30:00-08:00", "2026-11-01T19:00:00-08:00", "Rule run: Once"),
        ("2026-11-02T08:00:00-08:00", "2026-11-02T08:30:00-08:00", "Rule run: Daily"),
    ]


@pytest.mark.usefixtures("entry")
async def test_later_runs_of_each_schedule(hass: HomeAssistant) -> None:
    found = await events(hass, "2026-11-03T00:00:00", "2026-12-02T00:00:00")
    runs = [(start, summary) for start, _end, summary in found if summary != "Rule run: Daily"]
    assert runs == [
        ("2026-11-06T09:00:00-08:00", "Rule run: Weekly"),
        ("2026-11-09T07:00:00-08:00", "Rule run: Fortnightly"),  # ISO week 46
        ("2026-11-13T09:00:00-08:00", "Rule run: Weekly"),
        ("2026-11-15T05:00:00-08:00", "Rule run: Twice a month"),
        ("2026-11-20T09:00:00-08:00", "Rule run: Weekly"),
        ("2026-11-23T07:00:00-08:00", "Rule run: Fortnightly"),  # ISO week 48
        ("2026-11-27T09:00:00-08:00", "Rule run: Weekly"),
        ("2026-11-28", "Visa 9921: $35.00 minimum due"),  # all day
        # Nov 30: the 31st falls on the month's last day
        ("2026-11-30T10:00:00-08:00", "Rule run: Month end"),
        ("2026-12-01T05:00:00-08:00", "Rule run: Twice a month"),
    ]
    assert sum(summary == "Rule run: Daily" for _start, _end, summary in found) == 29


@pytest.mark.usefixtures("entry")
async def test_runs_are_shown_from_today_to_60_days_ahead(hass: HomeAssistant) -> None:
    earlier = await events(hass, "2026-10-01T00:00:00", "2026-10-28T23:59:00")
    assert earlier == [
        ("2026-10-28T09:00:00-07:00", "2026-10-28T09:30:00-07:00", "Rule run: Daily")
    ]
    later = await events(hass, "2026-12-20T00:00:00", "2027-01-10T00:00:00")
    last = BEFORE_THE_CLOCKS_GO_BACK + RULE_HORIZON
    assert later[-1] == (
        "2026-12-27T08:00:00-08:00",
        "2026-12-27T08:30:00-08:00",
        "Rule run: Daily",
    )
    assert all(datetime.fromisoformat(start) < last for start, _end, _summary in later)


async def test_in_another_time_zone_a_month_end_run_is_next_month(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    rules_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """In Tokyo (UTC+9, no daylight saving) Oct 31, 18:00 UTC is Nov 1, 03:00."""
    await hass.config.async_set_time_zone("Asia/Tokyo")
    freezer.move_to(BEFORE_THE_CLOCKS_GO_BACK)
    await set_up(hass, platform_config_entry)
    found = await events(hass, "2026-11-01T00:00:00", "2026-11-02T00:00:00")
    assert found == [
        ("2026-11-01T01:00:00+09:00", "2026-11-01T01:30:00+09:00", "Rule run: Daily"),
        ("2026-11-01T03:00:00+09:00", "2026-11-01T03:30:00+09:00", "Rule run: Month end"),
        ("2026-11-01T22:00:00+09:00", "2026-11-01T22:30:00+09:00", "Rule run: Twice a month"),
    ]
    october = await events(hass, "2026-10-31T00:00:00", "2026-11-01T00:00:00")
    assert [(start, summary) for start, _end, summary in october] == [
        ("2026-10-31T01:00:00+09:00", "Rule run: Daily"),
        ("2026-10-31T02:00:00+09:00", "Rule run: Weekly"),  # Friday, 17:00 UTC
    ]


async def test_across_europes_daylight_saving_change(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    rules_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Berlin goes back an hour on Oct 25, 2026: the daily 16:00 UTC run is at 17:00, not 18:00."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(datetime(2026, 10, 24, 8, tzinfo=UTC))
    await set_up(hass, platform_config_entry)
    found = await events(hass, "2026-10-24T00:00:00", "2026-10-27T00:00:00")
    assert [start for start, _end, summary in found if summary == "Rule run: Daily"] == [
        "2026-10-24T18:00:00+02:00",
        "2026-10-25T17:00:00+01:00",
        "2026-10-26T17:00:00+01:00",
    ]


# --- The entity's event (its state) --------------------------------------------------------------


async def test_the_state_is_the_current_or_next_event(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    state = hass.states.get(CALENDAR)
    assert state.state == STATE_OFF
    assert state.attributes["message"] == "Rule run: Daily"
    assert state.attributes["start_time"] == "2026-10-29 09:00:00"
    assert state.attributes["end_time"] == "2026-10-29 09:30:00"
    assert state.attributes["description"] == "Sequence runs this rule every day."
    # The calendar writes its state when its event starts and ends.
    await move_to(hass, freezer, datetime(2026, 10, 29, 16, 0, 1, tzinfo=UTC))
    assert hass.states.get(CALENDAR).state == STATE_ON
    await move_to(hass, freezer, datetime(2026, 10, 29, 16, 30, 1, tzinfo=UTC))
    state = hass.states.get(CALENDAR)
    assert state.state == STATE_OFF
    assert state.attributes["message"] == "Rule run: Daily"
    assert state.attributes["start_time"] == "2026-10-30 09:00:00"


async def test_the_event_property_on_both_sides_of_the_clocks_going_back(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    calendar = hass.data["entity_components"]["calendar"].get_entity(CALENDAR)
    assert isinstance(calendar, SequencePaymentsCalendar)
    freezer.move_to(datetime(2026, 11, 1, 8, 50, tzinfo=UTC))  # 01:50 PDT
    event = calendar.event
    assert event is not None
    assert (event.summary, event.start.isoformat()) == (
        "Rule run: Twice a month",
        "2026-11-01T05:00:00-08:00",
    )
    freezer.move_to(datetime(2026, 11, 1, 13, 10, tzinfo=UTC))  # 05:10 PST: running
    event = calendar.event
    assert event is not None
    assert event.summary == "Rule run: Twice a month"
    assert calendar.state == STATE_ON
    freezer.move_to(datetime(2026, 11, 2, 17, tzinfo=UTC))  # the one-time rule has run
    event = calendar.event
    assert event is not None
    assert (event.summary, event.start.isoformat()) == (
        "Rule run: Daily",
        "2026-11-03T08:00:00-08:00",
    )


async def test_a_payment_is_the_event_when_nothing_runs_before_it(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    rules_client: MagicMock,
    rules: list[Rule],
    freezer: FrozenDateTimeFactory,
) -> None:
    rules.clear()
    freezer.move_to(BEFORE_THE_CLOCKS_GO_BACK)
    await set_up(hass, platform_config_entry)
    state = hass.states.get(CALENDAR)
    assert state.attributes["message"] == "Visa 9921: $35.00 minimum due"
    assert state.attributes["all_day"] is True
    assert state.attributes["start_time"] == "2026-11-28 00:00:00"
    assert state.attributes["description"] == (
        "Last statement balance: $610.00 (statement of 2026-11-01)"
    )
    # More than 60 days ahead, it still is the next event.
    await move_to(hass, freezer, datetime(2026, 9, 1, tzinfo=UTC))
    calendar = hass.data["entity_components"]["calendar"].get_entity(CALENDAR)
    event = calendar.event
    assert event is not None
    assert event.start == date(2026, 11, 28)
    freezer.move_to(datetime(2026, 11, 29, 9, tzinfo=UTC))  # the day after
    assert calendar.event is None


# --- Payments -----------------------------------------------------------------------------------


def test_payment_events_say_what_sequence_knows() -> None:
    visa = next(account for account in load_platform_accounts() if account.id == VISA_ID)
    assert visa.liability is not None
    event = payment_event(visa)
    assert event is not None
    assert (event.start, event.end) == (date(2026, 11, 28), date(2026, 11, 29))
    assert event.uid == f"payment-{VISA_ID}-2026-11-28"
    unknown = replace(
        visa,
        liability=replace(
            visa.liability,
            next_payment_minimum=None,
            last_statement_balance=Decimal("1234.5"),
            last_statement_date=None,
        ),
    )
    event = payment_event(unknown)
    assert event is not None
    assert event.summary == "Visa 9921: payment due"
    assert event.description == "Last statement balance: $1,234.50"
    no_statement = replace(visa, liability=replace(visa.liability, last_statement_balance=None))
    event = payment_event(no_statement)
    assert event is not None
    assert event.description is None
    no_date = replace(visa, liability=replace(visa.liability, next_payment_due_date=None))
    assert payment_event(no_date) is None
    assert payment_event(replace(visa, liability=None)) is None
    groceries = next(account for account in load_platform_accounts() if account.id == GROCERIES_ID)
    assert payment_event(groceries) is None
    assert dollars(Decimal(1000000)) == "$1,000,000.00"


async def poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, client: MagicMock, snapshot: Any
) -> None:
    client.async_get_accounts.return_value = snapshot
    freezer.tick(PLATFORM_DEFAULT_SCAN_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def with_account(snapshot: AccountsSnapshot, account_id: str, **changes: Any) -> AccountsSnapshot:
    accounts = dict(snapshot.accounts)
    accounts[account_id] = replace(accounts[account_id], **changes)
    return AccountsSnapshot(accounts=accounts)


async def test_a_new_due_date_is_written_and_nothing_else_is(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    rules_client: MagicMock,
    rules: list[Rule],
    freezer: FrozenDateTimeFactory,
) -> None:
    writes = Writes(hass)
    snapshot = load_platform_snapshot()
    # A Pod's balance changes: the calendar has nothing new to show.
    snapshot = with_account(snapshot, GROCERIES_ID, balance=Decimal("1.00"))
    await poll(hass, freezer, rules_client, snapshot)
    assert CALENDAR not in writes.take()
    # The card's next payment moves: the calendar writes.
    visa = snapshot.accounts[VISA_ID]
    assert visa.liability is not None
    moved = replace(visa.liability, next_payment_due_date=date(2026, 12, 28))
    snapshot = with_account(snapshot, VISA_ID, liability=moved)
    await poll(hass, freezer, rules_client, snapshot)
    assert CALENDAR in writes.take()
    found = await events(hass, "2026-11-01T00:00:00", "2027-01-01T00:00:00")
    payments = [(start, end) for start, end, summary in found if "minimum due" in summary]
    assert payments == [("2026-12-28", "2026-12-29")]
    # A debt's balance changes but not what the calendar shows: nothing is written.
    snapshot = with_account(snapshot, VISA_ID, balance=Decimal("900.00"))
    await poll(hass, freezer, rules_client, snapshot)
    assert CALENDAR not in writes.take()


async def test_the_rules_follow_the_daily_catalog(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    rules_client: MagicMock,
    rules: list[Rule],
    freezer: FrozenDateTimeFactory,
) -> None:
    writes = Writes(hass)
    requests = rules_client.async_get_rule.await_count
    await events(hass, "2026-10-28T00:00:00", "2026-12-28T00:00:00")
    assert rules_client.async_get_rule.await_count == requests  # a view sends nothing
    rules[:] = [RULES[1]]  # only the weekly rule is left
    freezer.tick(CATALOG_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert CALENDAR in writes.take()
    found = await events(hass, "2026-10-28T00:00:00", "2026-11-08T00:00:00")
    assert {summary for _start, _end, summary in found} == {"Rule run: Weekly"}
    # A catalog that cannot be read says nothing about the rules: no runs are shown.
    rules_client.async_list_rules.side_effect = SequenceServerError("down")
    freezer.tick(CATALOG_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await events(hass, "2026-10-28T00:00:00", "2026-11-08T00:00:00") == []


async def test_without_read_rules_only_payments(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    mock_platform_client.async_list_rules.side_effect = SequencePermissionError(
        "x", permission="READ_RULES"
    )
    await set_up(hass, platform_config_entry)
    assert platform_config_entry.runtime_data.rule_catalog is None
    found = await events(hass, "2026-11-01T00:00:00", "2026-12-01T00:00:00")
    assert found == [("2026-11-28", "2026-11-29", "Visa 9921: $35.00 minimum due")]


async def test_unavailable_while_the_accounts_cannot_be_read(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    rules_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    rules_client.async_get_accounts.side_effect = SequenceServerError("down")
    freezer.tick(PLATFORM_DEFAULT_SCAN_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(CALENDAR).state == STATE_UNAVAILABLE
    rules_client.async_get_accounts.side_effect = None
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(CALENDAR).state == STATE_OFF


async def test_an_access_token_entry_sets_no_calendar_up(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Not even the platform: Home Assistant would show an empty Calendar in the sidebar."""
    assert hass.states.get(CALENDAR) is None
    assert "calendar" not in hass.config.components
    assert await hass.config_entries.async_unload(init_integration.entry_id)


async def test_an_api_key_entry_unloads_its_calendar(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass.states.get(CALENDAR).state == STATE_UNAVAILABLE


@pytest.mark.usefixtures("calendar_only")
async def test_snapshot(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    entry: MockConfigEntry,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


def test_a_rule_without_a_schedule_has_no_runs() -> None:
    start = BEFORE_THE_CLOCKS_GO_BACK
    assert list(rule_runs(MANUAL, start, start + RULE_HORIZON)) == []
    unknown = scheduled("Someday", "YEARLY", start)
    assert list(rule_runs(unknown, start, start + RULE_HORIZON)) == []
