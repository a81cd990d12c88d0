"""The payments calendar (API key): debts' payment due dates and scheduled rules' next runs.

Everything it shows is in memory already: the accounts' liability details from the polls and,
with ``READ_RULES``, the scheduled rules of the rule catalog (read daily). Viewing the calendar
sends no request. A payment is an all-day event on its due date; a rule run a half-hour event at
its time, shown in local time from Sequence's UTC schedule, for the next ``RULE_HORIZON``.

The entity writes its state when a debt's facts or the scheduled rules change (and when its
current event starts or ends, as every calendar does): a poll that changed neither writes
nothing.
"""

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .account_changes import ChangesTopic
from .api import Account
from .api.models import Rule, ScheduleType
from .coordinator import SequenceConfigEntry, hub_device_identifier
from .schedule import occurrences

PARALLEL_UPDATES = 0

PAYMENTS_DESCRIPTION: Final = CalendarEntityDescription(key="payments", translation_key="payments")
RULE_HORIZON: Final = timedelta(days=60)
"""How far ahead scheduled rules' runs are shown."""
RULE_RUN_LENGTH: Final = timedelta(minutes=30)
"""A run is an instant; the calendar shows it as an event this long."""
SCHEDULE_WORDS: Final[dict[str, str]] = {
    ScheduleType.ONE_TIME: "once",
    ScheduleType.DAILY: "every day",
    ScheduleType.WEEKLY: "every week",
    ScheduleType.EVERY_OTHER_WEEK: "every other week",
    ScheduleType.BI_WEEKLY: "on the 1st and the 15th of every month",
    ScheduleType.MONTHLY: "every month",
}


def _is_debt(account: Account | None) -> bool:
    return account is not None and account.is_liability


DEBTS: Final = ChangesTopic(lambda before, after: _is_debt(before) or _is_debt(after))
"""Hear about polls that changed a debt (its due date, amounts or name), or availability."""


def dollars(amount: Decimal) -> str:
    """``Decimal("1234.5")`` -> ``"$1,234.50"``."""
    return f"${amount:,.2f}"


def payment_event(account: Account) -> CalendarEvent | None:
    """The all-day event of a debt's next payment, or None when Sequence gives no due date."""
    facts = account.liability
    if not account.is_liability or facts is None or facts.next_payment_due_date is None:
        return None
    due: date = facts.next_payment_due_date
    if facts.next_payment_minimum is None:
        summary = f"{account.name}: payment due"
    else:
        summary = f"{account.name}: {dollars(facts.next_payment_minimum)} minimum due"
    description = None
    if facts.last_statement_balance is not None:
        description = f"Last statement balance: {dollars(facts.last_statement_balance)}"
        if facts.last_statement_date is not None:
            description += f" (statement of {facts.last_statement_date.isoformat()})"
    return CalendarEvent(
        start=due,
        end=due + timedelta(days=1),
        summary=summary,
        description=description,
        uid=f"payment-{account.id}-{due.isoformat()}",
    )


def payment_events(accounts: Iterable[Account]) -> tuple[CalendarEvent, ...]:
    """Every debt's payment event, by due date."""
    events = (payment_event(account) for account in accounts)
    return tuple(
        sorted(
            (event for event in events if event is not None),
            key=lambda event: (event.start_datetime_local, event.summary),
        )
    )


def run_times(rule: Rule, start: datetime, end: datetime) -> list[datetime]:
    """When a scheduled rule runs in ``[start, end)`` (UTC); never for a rule without schedule."""
    return [] if rule.schedule is None else occurrences(rule.schedule, start, end)


def rule_event(rule: Rule, run: datetime) -> CalendarEvent:
    """The event of one run of a rule, in local time."""
    words = SCHEDULE_WORDS.get(rule.schedule.schedule_type if rule.schedule else "")
    local = dt_util.as_local(run)
    return CalendarEvent(
        start=local,
        end=local + RULE_RUN_LENGTH,
        summary=f"Rule run: {rule.summary.name}",
        description=f"Sequence runs this rule {words}.",
        uid=f"rule-{rule.summary.id}-{run.isoformat()}",
    )


def rule_runs(rule: Rule, start: datetime, end: datetime) -> Iterator[CalendarEvent]:
    """The events of a scheduled rule's runs that start in ``[start, end)``."""
    return (rule_event(rule, run) for run in run_times(rule, start, end))


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SequenceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the payments calendar to the hub device (API-key entries only come here)."""
    async_add_entities([SequencePaymentsCalendar(entry)])


class SequencePaymentsCalendar(CalendarEntity):
    """Debts' payment due dates and, with ``READ_RULES``, the next runs of scheduled rules."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description = PAYMENTS_DESCRIPTION

    def __init__(self, entry: SequenceConfigEntry) -> None:
        """Read the entry's accounts and, when it has one, its rule catalog."""
        self._accounts = entry.runtime_data.coordinator
        self._catalog = entry.runtime_data.rule_catalog
        self._attr_unique_id = f"{entry.unique_id}_{PAYMENTS_DESCRIPTION.key}"
        self._attr_device_info = DeviceInfo(identifiers={hub_device_identifier(entry)})
        self._payments = payment_events(self._accounts.data.accounts.values())
        self._rules = self._scheduled_rules()
        self._shown = (self.available, self._payments, self._rules)
        """What the state was last written from: availability, payments and rules."""

    async def async_added_to_hass(self) -> None:
        """Follow the debts and the scheduled rules."""
        await super().async_added_to_hass()
        self.async_on_remove(self._accounts.async_add_listener(self._async_update, DEBTS))
        if self._catalog is not None:
            self.async_on_remove(self._catalog.async_add_listener(self._async_update))

    @property
    def available(self) -> bool:
        """Unavailable while the accounts cannot be read."""
        return self._accounts.last_update_success

    def _scheduled_rules(self) -> tuple[Rule, ...]:
        """The catalog's scheduled rules while it can read them; none otherwise."""
        catalog = self._catalog
        if catalog is None or not catalog.last_update_success:
            return ()
        return tuple(catalog.scheduled_rules.values())

    @callback
    def _async_update(self) -> None:
        """Write the state when the debts, the rules or the availability changed."""
        shown = self._shown
        self._payments = payment_events(self._accounts.data.accounts.values())
        self._rules = self._scheduled_rules()
        self._shown = (self.available, self._payments, self._rules)
        if self._shown != shown:
            self.async_write_ha_state()

    def _rule_window(self, start: datetime, end: datetime) -> tuple[datetime, datetime]:
        """``[start, end)`` within the horizon: from the start of today to 60 days from now."""
        now = dt_util.now()
        return max(start, dt_util.start_of_local_day(now)), min(end, now + RULE_HORIZON)

    def _events(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        """The events that overlap ``[start, end)``, by start."""
        found = [
            event
            for event in self._payments
            if event.start_datetime_local < end and event.end_datetime_local > start
        ]
        rule_start, rule_end = self._rule_window(start - RULE_RUN_LENGTH, end)
        for rule in self._rules:
            found.extend(
                event
                for event in rule_runs(rule, rule_start, rule_end)
                if event.end_datetime_local > start
            )
        return sorted(found, key=lambda event: (event.start_datetime_local, event.summary))

    @property
    def event(self) -> CalendarEvent | None:
        """The event going on now, or the next one.

        Read at every state write: only the first run of each rule becomes an event.
        """
        now = dt_util.now()
        candidates = [event for event in self._payments if event.end_datetime_local > now][:1]
        start, end = self._rule_window(now - RULE_RUN_LENGTH, now + RULE_HORIZON)
        for rule in self._rules:
            run = next(
                (run for run in run_times(rule, start, end) if run + RULE_RUN_LENGTH > now), None
            )
            if run is not None:
                candidates.append(rule_event(rule, run))
        return min(
            candidates,
            key=lambda event: (event.start_datetime_local, event.summary),
            default=None,
        )

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The events between two times, from memory (no request)."""
        return self._events(start_date, end_date)
