"""The entities of rule and transfer-route devices: what the money ledger says about each.

A rule's device shows its last run, that run's result and the live runs of the local day; a
route's shows the amount moved today, what is left of its daily maximum, and its last transfer.
With an API key that may read rules, a rule's device also says whether Sequence has it enabled.
None of them calls a client: they read the ledger (and the rule catalog) and write their state
when it changes, and at local midnight, when "today" starts again.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import EntityCategory
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from . import rules, transfers
from .api.models import RuleSummary, cents_to_dollars
from .const import KIND_API_KEY, SUBENTRY_ROUTE, SUBENTRY_RULE
from .coordinator import SequenceConfigEntry
from .entity import SequenceSubentryEntity
from .ledger import MoneyLedger, local_day_start
from .subentry_data import RouteSettings, RuleSettings
from .texts import credential_kind

CURRENCY = "USD"
UNKNOWN = "outcome_unknown"
"""An outcome nobody knows (sent, no definite answer) or a status this version does not know:
check Sequence. Not ``unknown``, which is Home Assistant's state for "no value" (never ran)."""


def sensor_options(results: Iterable[str]) -> list[str]:
    """A runner's results as an enum sensor's options (``unknown`` is ``UNKNOWN`` here)."""
    return [UNKNOWN if result == "unknown" else result for result in results]


RULE_RESULTS = sensor_options(rules.RULE_RESULTS)
"""Platform API executions, Remote API triggers, simulations, and results nobody knows."""
TRANSFER_STATUSES = sensor_options(transfers.TRANSFER_RESULTS)
"""Sequence's transfer statuses (lower case), simulations, live requests refused, rate limited
or never sent, and statuses nobody knows."""

type SubentryValue = Decimal | datetime | int | str | None


def _enum_value(result: str | None, options: list[str]) -> str | None:
    if result is None:
        return None
    value = result.lower()
    return value if value in options else UNKNOWN


@dataclass(frozen=True, kw_only=True)
class MoneySensorDescription(SensorEntityDescription):
    """A value of a rule or route, from the ledger and the subentry's settings."""

    value_fn: Callable[[MoneyLedger, ConfigSubentry], SubentryValue]
    daily: bool = False
    """The value is the local day's: it starts again at midnight (``last_reset`` for totals)."""


def _last_at(ledger: MoneyLedger, subentry: ConfigSubentry) -> datetime | None:
    outcome = ledger.last_outcome(subentry.subentry_id)
    return None if outcome is None else outcome.at


def _last_result(options: list[str]) -> Callable[[MoneyLedger, ConfigSubentry], str | None]:
    def value(ledger: MoneyLedger, subentry: ConfigSubentry) -> str | None:
        outcome = ledger.last_outcome(subentry.subentry_id)
        return _enum_value(None if outcome is None else outcome.result, options)

    return value


def _moved_today(ledger: MoneyLedger, subentry: ConfigSubentry) -> Decimal:
    return cents_to_dollars(ledger.moved_today_cents(subentry.subentry_id))


def _left_today(ledger: MoneyLedger, subentry: ConfigSubentry) -> Decimal:
    maximum = RouteSettings.from_subentry(subentry).limits.max_per_day_cents
    return cents_to_dollars(max(0, maximum - ledger.moved_today_cents(subentry.subentry_id)))


MONEY: dict[str, Any] = {
    "device_class": SensorDeviceClass.MONETARY,
    "native_unit_of_measurement": CURRENCY,
    "suggested_display_precision": 2,
}

RULE_SENSORS: tuple[MoneySensorDescription, ...] = (
    MoneySensorDescription(
        key="last_run",
        translation_key="rule_last_run",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_last_at,
    ),
    MoneySensorDescription(
        key="last_run_result",
        translation_key="rule_last_run_result",
        device_class=SensorDeviceClass.ENUM,
        options=RULE_RESULTS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_last_result(RULE_RESULTS),
    ),
    MoneySensorDescription(
        key="runs_today",
        translation_key="rule_runs_today",
        state_class=SensorStateClass.TOTAL,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda ledger, subentry: ledger.runs_today(subentry.subentry_id),
        daily=True,
    ),
)
ROUTE_SENSORS: tuple[MoneySensorDescription, ...] = (
    # A total that starts again every local day: long-term statistics sum what each day moved
    # (a released reservation is a negative change, as it should be), and the drop to zero at
    # midnight is a new cycle, not money moved back.
    MoneySensorDescription(
        key="moved_today",
        translation_key="route_moved_today",
        state_class=SensorStateClass.TOTAL,
        value_fn=_moved_today,
        daily=True,
        **MONEY,
    ),
    # An allowance, not an amount of money anyone holds: no statistics.
    MoneySensorDescription(
        key="left_today",
        translation_key="route_left_today",
        value_fn=_left_today,
        daily=True,
        **MONEY,
    ),
    MoneySensorDescription(
        key="last_transfer_status",
        translation_key="route_last_transfer_status",
        device_class=SensorDeviceClass.ENUM,
        options=TRANSFER_STATUSES,
        value_fn=_last_result(TRANSFER_STATUSES),
    ),
    MoneySensorDescription(
        key="last_transfer",
        translation_key="route_last_transfer",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_last_at,
    ),
)
SENSORS = {SUBENTRY_RULE: RULE_SENSORS, SUBENTRY_ROUTE: ROUTE_SENSORS}

RULE_ENABLED = BinarySensorEntityDescription(
    key="enabled_in_sequence", translation_key="rule_enabled_in_sequence"
)


def sensors_for(entry: SequenceConfigEntry, subentry: ConfigSubentry) -> list[Entity]:
    """The sensors of a rule's or route's device."""
    return [
        MoneySensor(entry, subentry, description)
        for description in SENSORS.get(subentry.subentry_type, ())
    ]


def binary_sensors_for(entry: SequenceConfigEntry, subentry: ConfigSubentry) -> list[Entity]:
    """A rule's "Enabled in Sequence", where the entry lists its key's rules."""
    catalog = entry.runtime_data.rule_catalog
    if (
        subentry.subentry_type != SUBENTRY_RULE
        or catalog is None
        or credential_kind(entry) != KIND_API_KEY
    ):
        return []
    return [RuleEnabledSensor(entry, subentry, catalog)]


class MoneySensor(SequenceSubentryEntity, SensorEntity):
    """One value of a rule or transfer route."""

    entity_description: MoneySensorDescription
    _cancel_midnight: CALLBACK_TYPE

    def __init__(
        self,
        entry: SequenceConfigEntry,
        subentry: ConfigSubentry,
        description: MoneySensorDescription,
    ) -> None:
        """Describe ``description`` of the subentry."""
        super().__init__(entry, subentry, description, "sensor")

    async def async_added_to_hass(self) -> None:
        """Also write at every local midnight, when the day's figures start again."""
        await super().async_added_to_hass()
        if self.entity_description.daily:
            self._schedule_midnight()
            self.async_on_remove(self._stop_midnight)

    @callback
    def _schedule_midnight(self) -> None:
        # The next day's start as the ledger counts days, DST included (a 23- or 25-hour day).
        # Not async_track_time_change(hour=0): where DST starts at midnight (Santiago), a day
        # has no 00:00 and begins at 01:00.
        tomorrow = dt_util.now().date() + timedelta(days=1)
        self._cancel_midnight = async_track_point_in_utc_time(
            self.hass, self._at_midnight, dt_util.start_of_local_day(tomorrow)
        )

    @callback
    def _at_midnight(self, _now: datetime) -> None:
        self._schedule_midnight()
        self.async_write_ha_state()

    @callback
    def _stop_midnight(self) -> None:
        self._cancel_midnight()  # the latest timer: each one schedules the next

    @property
    def native_value(self) -> SubentryValue:
        """The value the ledger gives now."""
        return self.entity_description.value_fn(self.ledger, self.subentry)

    @property
    def last_reset(self) -> datetime | None:
        """The start of the local day, for the day's totals."""
        if self.entity_description.state_class is SensorStateClass.TOTAL:
            return local_day_start()
        return None


class RuleEnabledSensor(
    SequenceSubentryEntity,
    CoordinatorEntity[DataUpdateCoordinator[dict[str, RuleSummary]]],
    BinarySensorEntity,
):
    """On while Sequence lists the rule as enabled (and not deleted)."""

    def __init__(
        self,
        entry: SequenceConfigEntry,
        subentry: ConfigSubentry,
        catalog: DataUpdateCoordinator[dict[str, RuleSummary]],
    ) -> None:
        """Read the rule from the key's rule list."""
        SequenceSubentryEntity.__init__(self, entry, subentry, RULE_ENABLED, "binary_sensor")
        CoordinatorEntity.__init__(self, catalog)
        self._rule_id = RuleSettings.from_subentry(subentry).rule_id

    @property
    def available(self) -> bool:
        """Unavailable until the rules have been listed, and while listing them fails."""
        return super().available and self.coordinator.data is not None

    @property
    def is_on(self) -> bool:
        """Enabled in Sequence; off for a rule Sequence disabled, deleted or no longer lists."""
        rule = self.coordinator.data.get(self._rule_id)
        return rule is not None and rule.enabled and not rule.deleted
