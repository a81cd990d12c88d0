"""Occurrences of scheduled rules: every schedule type, month ends, ISO weeks, DST, windows."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.sequence.api.models import RuleSchedule, ScheduleType
from custom_components.sequence.schedule import occurrences


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def runs(kind: str, start: datetime, window_start: datetime, days: int) -> list[datetime]:
    schedule = RuleSchedule(schedule_type=kind, start=start)
    return occurrences(schedule, window_start, window_start + timedelta(days=days))


def test_one_time_only_inside_the_window() -> None:
    start = utc(2026, 12, 24, 15, 30)
    assert runs(ScheduleType.ONE_TIME, start, utc(2026, 12, 1), 60) == [start]
    assert runs(ScheduleType.ONE_TIME, start, utc(2026, 12, 25), 60) == []
    assert runs(ScheduleType.ONE_TIME, start, utc(2026, 10, 1), 30) == []


def test_daily_keeps_the_start_time_and_never_runs_before_the_start() -> None:
    start = utc(2026, 12, 3, 14, 0)
    found = runs(ScheduleType.DAILY, start, utc(2026, 12, 1), 5)
    assert found == [utc(2026, 12, day, 14, 0) for day in (3, 4, 5)]


def test_daily_started_long_ago_starts_at_the_window() -> None:
    found = runs(ScheduleType.DAILY, utc(2019, 1, 1, 6, 30), utc(2026, 12, 1, 7, 0), 2)
    assert found == [utc(2026, 12, 2, 6, 30), utc(2026, 12, 3, 6, 30)]


def test_a_run_at_the_window_start_is_included_and_at_its_end_excluded() -> None:
    start = utc(2026, 1, 1, 8, 0)
    found = runs(ScheduleType.DAILY, start, utc(2026, 12, 1, 8, 0), 2)
    assert found == [utc(2026, 12, 1, 8, 0), utc(2026, 12, 2, 8, 0)]


def test_weekly_on_the_start_weekday() -> None:
    start = utc(2026, 11, 6, 9, 0)  # a Friday
    found = runs(ScheduleType.WEEKLY, start, utc(2026, 12, 1), 21)
    assert found == [utc(2026, 12, 4, 9), utc(2026, 12, 11, 9), utc(2026, 12, 18, 9)]
    assert {run.weekday() for run in found} == {4}


def test_every_other_week_runs_in_even_iso_weeks_only() -> None:
    start = utc(2026, 11, 2, 12, 0)  # Monday of ISO week 45 (odd): its first run is week 46
    found = runs(ScheduleType.EVERY_OTHER_WEEK, start, utc(2026, 11, 1), 40)
    assert found == [utc(2026, 11, 9, 12), utc(2026, 11, 23, 12), utc(2026, 12, 7, 12)]
    assert all(run.isocalendar().week % 2 == 0 for run in found)


def test_every_other_week_across_a_53_week_year_follows_the_iso_numbers() -> None:
    # 2026 has 53 ISO weeks: weeks 53 and 1 are both odd, so four weeks pass between runs.
    start = utc(2026, 12, 14, 10, 0)  # Monday, ISO week 51
    found = runs(ScheduleType.EVERY_OTHER_WEEK, start, utc(2026, 12, 1), 45)
    assert [run.isocalendar().week for run in found] == [52, 2]
    assert found == [utc(2026, 12, 21, 10), utc(2027, 1, 11, 10)]


def test_bi_weekly_is_the_1st_and_the_15th() -> None:
    start = utc(2026, 10, 20, 16, 45)
    found = runs(ScheduleType.BI_WEEKLY, start, utc(2026, 11, 10), 60)
    assert found == [
        utc(2026, 11, 15, 16, 45),
        utc(2026, 12, 1, 16, 45),
        utc(2026, 12, 15, 16, 45),
        utc(2027, 1, 1, 16, 45),
    ]


def test_monthly_on_the_31st_falls_on_each_short_months_last_day() -> None:
    start = utc(2026, 10, 31, 13, 0)
    found = runs(ScheduleType.MONTHLY, start, utc(2026, 11, 1), 151)
    assert found == [
        utc(2026, 11, 30, 13),
        utc(2026, 12, 31, 13),
        utc(2027, 1, 31, 13),
        utc(2027, 2, 28, 13),
        utc(2027, 3, 31, 13),
    ]


def test_monthly_on_the_29th_in_a_leap_february() -> None:
    found = runs(ScheduleType.MONTHLY, utc(2027, 12, 29, 0, 5), utc(2028, 2, 1), 30)
    assert found == [utc(2028, 2, 29, 0, 5)]


def test_across_a_dst_change_the_utc_time_stays_and_the_local_time_moves() -> None:
    new_york = ZoneInfo("America/New_York")
    start = utc(2027, 3, 12, 14, 0)
    found = runs(ScheduleType.DAILY, start, utc(2027, 3, 13), 3)
    assert [run.hour for run in found] == [14, 14, 14]
    assert [run.astimezone(new_york).hour for run in found] == [9, 10, 10]  # DST began 14 March


def test_an_unknown_schedule_type_has_no_runs() -> None:
    assert runs("EVERY_FULL_MOON", utc(2026, 1, 1), utc(2026, 12, 1), 60) == []


def test_a_window_before_the_start_or_empty_has_no_runs() -> None:
    start = utc(2027, 1, 1)
    assert runs(ScheduleType.DAILY, start, utc(2026, 12, 1), 10) == []
    window = utc(2027, 2, 1)
    schedule = RuleSchedule(schedule_type=ScheduleType.DAILY, start=start)
    assert occurrences(schedule, window, window) == []


def test_the_window_may_be_given_in_local_time() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    schedule = RuleSchedule(schedule_type=ScheduleType.DAILY, start=utc(2026, 1, 1, 20, 0))
    found = occurrences(
        schedule, datetime(2026, 12, 2, 0, 0, tzinfo=tokyo), datetime(2026, 12, 3, tzinfo=tokyo)
    )
    assert found == [utc(2026, 12, 1, 20, 0)]  # 05:00 on 2 December in Tokyo
    assert found[0].tzinfo is UTC


def test_a_naive_window_is_refused() -> None:
    schedule = RuleSchedule(schedule_type=ScheduleType.DAILY, start=utc(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrences(schedule, datetime(2026, 12, 1), utc(2026, 12, 2))  # noqa: DTZ001


KINDS = st.sampled_from(list(ScheduleType))
INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(derandomize=True, max_examples=300)
@given(kind=KINDS, start=INSTANTS, window_start=INSTANTS, days=st.integers(0, 400))
def test_runs_are_sorted_distinct_inside_the_window_and_after_the_start(
    kind: ScheduleType, start: datetime, window_start: datetime, days: int
) -> None:
    window_end = window_start + timedelta(days=days)
    found = occurrences(RuleSchedule(schedule_type=kind, start=start), window_start, window_end)
    assert found == sorted(set(found))
    assert all(max(window_start, start) <= run < window_end for run in found)
    assert all(
        (run.hour, run.minute, run.second) == (start.hour, start.minute, start.second)
        for run in found
    )
    # Not only what is found is right: what should be found is (two months hold every kind).
    if kind is ScheduleType.ONE_TIME:
        assert found == ([start] if window_start <= start < window_end else [])
    elif days >= 62 and window_start >= start:
        assert found


@settings(derandomize=True, max_examples=200)
@given(kind=KINDS, start=INSTANTS, window_start=INSTANTS, split=st.integers(0, 200 * 24))
def test_splitting_a_window_finds_the_same_runs(
    kind: ScheduleType, start: datetime, window_start: datetime, split: int
) -> None:
    schedule = RuleSchedule(schedule_type=kind, start=start)
    middle = window_start + timedelta(hours=split)
    end = window_start + timedelta(days=200)
    whole = occurrences(schedule, window_start, end)
    assert occurrences(schedule, window_start, middle) + occurrences(schedule, middle, end) == whole
