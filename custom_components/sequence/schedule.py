"""When a scheduled Sequence rule runs: the occurrences of its schedule within a time window.

Sequence defines schedules in UTC (``TriggerScheduled``: a ``scheduleType`` and a ``startDate``),
so occurrences are computed in UTC and only shown in local time; across a daylight-saving change
a rule keeps its UTC time and its local time moves by the hour.

What the API documents, and what is inferred (docs/API_BOUNDARY.md says the same):

* ``ONE_TIME``: once, at ``startDate`` [doc].
* ``DAILY``: every day [doc], at ``startDate``'s time of day [guess].
* ``WEEKLY``: every week [doc], on ``startDate``'s weekday and time [guess].
* ``EVERY_OTHER_WEEK``: every other calendar week, "based on even ISO week numbers" [doc]: in
  the weeks whose ISO week number is even, on ``startDate``'s weekday and time [guess].
* ``BI_WEEKLY``: on the 1st and the 15th of every month [doc], at ``startDate``'s time [guess].
* ``MONTHLY``: once a month [doc], on ``startDate``'s day of the month at its time; in a month
  without that day (the 31st in April), on the month's last day [guess].

No occurrence is before ``startDate``. A type this version does not know has no occurrences
(the calendar shows nothing rather than something wrong).
"""

from calendar import monthrange
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from .api.models import RuleSchedule, ScheduleType

DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)
BI_WEEKLY_DAYS = (1, 15)


def occurrences(schedule: RuleSchedule, start: datetime, end: datetime) -> list[datetime]:
    """Every run of ``schedule`` at or after ``start`` and before ``end`` (aware, UTC out).

    Raises:
        ValueError: ``start`` or ``end`` is naive.
    """
    if start.tzinfo is None or end.tzinfo is None:
        msg = "the window must be timezone-aware"
        raise ValueError(msg)
    first = max(start.astimezone(UTC), schedule.start)
    end = end.astimezone(UTC)
    found: list[datetime] = []
    if first >= end:
        return found
    for run in _runs(schedule, first):
        if run >= end:
            break
        if run >= first:
            found.append(run)
    return found


def _runs(schedule: RuleSchedule, first: datetime) -> Iterator[datetime]:  # noqa: PLR0911 - a return per type
    """The schedule's runs in order, from about ``first`` on (a few earlier ones may come)."""
    anchor = schedule.start
    match schedule.schedule_type:
        case ScheduleType.ONE_TIME:
            return iter((anchor,))
        case ScheduleType.DAILY:
            return _every(anchor, DAY, first)
        case ScheduleType.WEEKLY:
            return _every(anchor, WEEK, first)
        case ScheduleType.EVERY_OTHER_WEEK:
            return (run for run in _every(anchor, WEEK, first) if run.isocalendar().week % 2 == 0)
        case ScheduleType.BI_WEEKLY:
            return _monthly(anchor, first, BI_WEEKLY_DAYS)
        case ScheduleType.MONTHLY:
            return _monthly(anchor, first, (anchor.day,))
        case _:
            return iter(())


def _every(anchor: datetime, period: timedelta, first: datetime) -> Iterator[datetime]:
    """``anchor + k * period`` for k from the first one at or after ``first``, endlessly."""
    k = -((anchor - first) // period)  # ceil((first - anchor) / period), in whole periods
    run = anchor + k * period
    while True:
        yield run
        run += period


def _monthly(anchor: datetime, first: datetime, days: tuple[int, ...]) -> Iterator[datetime]:
    """The given days of each month from ``first``'s month on, at ``anchor``'s time of day.

    A day past the month's end falls on its last day.
    """
    year, month = first.year, first.month
    while True:
        last = monthrange(year, month)[1]
        for day in days:
            yield anchor.replace(year=year, month=month, day=min(day, last))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)  # noqa: PLR2004
