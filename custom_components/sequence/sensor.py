"""Sensors: per account (balance and, on the Platform API, its details), totals, activity."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import (
    DOMAIN as SENSOR_DOMAIN,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import slugify

from .account_changes import ChangesTopic, members_topic
from .activity import ActivitySummary, SequenceActivityCoordinator
from .api import Account, AccountKind
from .const import KIND_API_KEY
from .coordinator import SequenceConfigEntry, SequenceCoordinator
from .entity import SequenceAccountEntity, SequenceEntity, SequenceHubEntity
from .money_entities import sensors_for
from .subentries import async_add_subentry_entities
from .texts import credential_kind

PARALLEL_UPDATES = 0
CURRENCY = "USD"  # neither API names a currency; Sequence is a US service

type SensorValue = Decimal | datetime | date | int | str | None

MONEY: dict[str, Any] = {
    "device_class": SensorDeviceClass.MONETARY,
    "native_unit_of_measurement": CURRENCY,
    "suggested_display_precision": 2,
}
MONEY_TOTAL: dict[str, Any] = {**MONEY, "state_class": SensorStateClass.TOTAL}


@dataclass(frozen=True, kw_only=True)
class SequenceAccountSensorDescription(SensorEntityDescription):
    """A sensor of one account: its value, and whether the account has one at all."""

    value_fn: Callable[[Account], SensorValue]
    exists_fn: Callable[[Account], bool] = lambda _account: True


@dataclass(frozen=True, kw_only=True)
class SequenceTotalDescription(SensorEntityDescription):
    """A sum over the included accounts that ``member_fn`` selects."""

    member_fn: Callable[[Account], bool]
    sign_fn: Callable[[Account], int] = lambda _account: 1
    """+1 to add the account's balance, -1 to subtract it (net worth subtracts debts)."""


def _balance(kind: str, translation_key: str | None = None) -> SequenceAccountSensorDescription:
    return SequenceAccountSensorDescription(
        key="balance",
        translation_key=translation_key or f"{kind}_balance",
        value_fn=lambda account: account.balance,
        **MONEY_TOTAL,
    )


# One balance description per kind, so icons.json gives each kind its own icon. A liability's
# balance is the positive amount owed ("Amount owed"), as Sequence reports it.
BALANCE_DESCRIPTIONS = {kind: _balance(kind.value) for kind in AccountKind}
LIABILITY_BALANCE_DESCRIPTION = _balance("liability", "liability_balance")


def balance_description(account: Account) -> SequenceAccountSensorDescription:
    """The balance description that fits the account."""
    if account.is_liability:
        return LIABILITY_BALANCE_DESCRIPTION
    return BALANCE_DESCRIPTIONS[account.kind]


KNOWN_BALANCE_ERRORS = frozenset({"connection_failed"})
"""Reasons Sequence gives (slugified) that the balance status names; any other is ``other``."""
BALANCE_STATUSES = ["ok", *sorted(KNOWN_BALANCE_ERRORS), "no_balance", "other"]


def balance_status(account: Account) -> str:
    """Whether the balance is there, and if not, why: a state to translate, one per reason."""
    if account.balance_error is not None:
        reason = slugify(account.balance_error)
        return reason if reason in KNOWN_BALANCE_ERRORS else "other"
    return "ok" if account.balance is not None else "no_balance"


# Linked accounts (and those of a type this version does not know) are the ones whose balance
# depends on a bank connection; only they get a status, which keeps setup small with thousands
# of Pods.
BALANCE_STATUS_DESCRIPTION = SequenceAccountSensorDescription(
    key="balance_status",
    translation_key="balance_status",
    device_class=SensorDeviceClass.ENUM,
    options=BALANCE_STATUSES,
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=balance_status,
    exists_fn=lambda account: account.kind in {AccountKind.EXTERNAL, AccountKind.UNKNOWN},
)


def _savings_progress(account: Account) -> Decimal | None:
    if account.balance is None or not account.savings_target:
        return None
    return (account.balance / account.savings_target * 100).quantize(Decimal("0.1"))


# Platform API only: each exists only for accounts whose data carries it.
DETAIL_DESCRIPTIONS: tuple[SequenceAccountSensorDescription, ...] = (
    SequenceAccountSensorDescription(
        key="available_balance",
        translation_key="available_balance",
        value_fn=lambda account: account.available_balance,
        exists_fn=lambda account: account.available_balance is not None,
        entity_registry_enabled_default=False,
        **MONEY_TOTAL,
    ),
    SequenceAccountSensorDescription(
        key="balance_updated_at",
        translation_key="balance_updated_at",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda account: account.balance_updated_at,
        exists_fn=lambda account: account.balance_updated_at is not None,
    ),
    SequenceAccountSensorDescription(
        key="savings_target",
        translation_key="savings_target",
        value_fn=lambda account: account.savings_target,
        exists_fn=lambda account: bool(account.savings_target),
        **MONEY,
    ),
    SequenceAccountSensorDescription(
        key="savings_progress",
        translation_key="savings_progress",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_savings_progress,
        exists_fn=lambda account: bool(account.savings_target),
    ),
    SequenceAccountSensorDescription(
        key="next_payment_minimum",
        translation_key="next_payment_minimum",
        value_fn=lambda account: (
            account.liability.next_payment_minimum if account.liability else None
        ),
        exists_fn=lambda account: (
            account.liability is not None and account.liability.next_payment_minimum is not None
        ),
        entity_registry_enabled_default=False,
        **MONEY,
    ),
    SequenceAccountSensorDescription(
        key="next_payment_due_date",
        translation_key="next_payment_due_date",
        device_class=SensorDeviceClass.DATE,
        value_fn=lambda account: (
            account.liability.next_payment_due_date if account.liability else None
        ),
        exists_fn=lambda account: (
            account.liability is not None and account.liability.next_payment_due_date is not None
        ),
        entity_registry_enabled_default=False,
    ),
)

TOTAL_DESCRIPTIONS: tuple[SequenceTotalDescription, ...] = (
    SequenceTotalDescription(
        key="pod_total",
        translation_key="pod_total",
        member_fn=lambda account: account.kind is AccountKind.POD,
        **MONEY_TOTAL,
    ),
    SequenceTotalDescription(
        key="income_source_total",
        translation_key="income_source_total",
        member_fn=lambda account: account.kind is AccountKind.INCOME_SOURCE,
        **MONEY_TOTAL,
    ),
    SequenceTotalDescription(
        key="external_total",
        translation_key="external_total",
        member_fn=lambda account: account.kind is AccountKind.EXTERNAL and not account.is_liability,
        **MONEY_TOTAL,
    ),
)
# Only the Platform API says which accounts are debts, so only it gets these two.
PLATFORM_TOTAL_DESCRIPTIONS: tuple[SequenceTotalDescription, ...] = (
    SequenceTotalDescription(
        key="liability_total",
        translation_key="liability_total",
        member_fn=lambda account: account.is_liability,
        **MONEY_TOTAL,
    ),
    SequenceTotalDescription(
        key="net_worth",
        translation_key="net_worth",
        member_fn=lambda _account: True,
        sign_fn=lambda account: -1 if account.is_liability else 1,
        **MONEY_TOTAL,
    ),
)
LAST_UPDATE_DESCRIPTION = SensorEntityDescription(
    key="last_successful_update",
    translation_key="last_successful_update",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    # Noisy: a new state on every poll, also when nothing else changed.
    entity_registry_enabled_default=False,
)


@dataclass(frozen=True, kw_only=True)
class SequenceActivitySensorDescription(SensorEntityDescription):
    """A value of this month's activity summary."""

    value_fn: Callable[[ActivitySummary], Decimal | int]


MONTHLY_INCOMING_DESCRIPTION = SequenceActivitySensorDescription(
    key="monthly_incoming",
    translation_key="monthly_incoming",
    value_fn=lambda summary: summary.incoming_total,
    **MONEY_TOTAL,
)
MONTHLY_TRANSFERS_DESCRIPTION = SequenceActivitySensorDescription(
    key="monthly_transfer_count",
    translation_key="monthly_transfer_count",
    state_class=SensorStateClass.TOTAL,
    value_fn=lambda summary: summary.transfer_count,
)
MONTHLY_RULE_RUNS_DESCRIPTION = SequenceActivitySensorDescription(
    key="monthly_rule_runs",
    translation_key="monthly_rule_runs",
    state_class=SensorStateClass.TOTAL,
    value_fn=lambda summary: summary.rule_runs,
)
ACTIVITY_DESCRIPTIONS = (
    MONTHLY_INCOMING_DESCRIPTION,
    MONTHLY_TRANSFERS_DESCRIPTION,
    MONTHLY_RULE_RUNS_DESCRIPTION,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SequenceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub sensors now, and every account's sensors as their accounts appear."""
    coordinator = entry.runtime_data.coordinator
    totals = TOTAL_DESCRIPTIONS
    # The Remote API has none of the details: skip checking them for every account every poll.
    details: tuple[SequenceAccountSensorDescription, ...] = ()
    if credential_kind(entry) == KIND_API_KEY:
        totals += PLATFORM_TOTAL_DESCRIPTIONS
        details = DETAIL_DESCRIPTIONS
    hub: list[SensorEntity] = [
        SequenceTotalSensor(coordinator, description) for description in totals
    ]
    hub.append(SequenceLastUpdateSensor(coordinator, LAST_UPDATE_DESCRIPTION))
    if (activity := entry.runtime_data.activity) is not None:
        hub.extend(
            SequenceActivitySensor(activity, description) for description in ACTIVITY_DESCRIPTIONS
        )
    async_add_entities(hub)
    known: set[tuple[str, str]] = set()

    def add_account_sensors(accounts: Iterable[Account]) -> None:
        new: list[SequenceAccountSensor] = []
        for account in accounts:
            for description in (balance_description(account), BALANCE_STATUS_DESCRIPTION, *details):
                if (account.id, description.key) in known or not description.exists_fn(account):
                    continue
                known.add((account.id, description.key))
                new.append(SequenceAccountSensor(coordinator, description, account))
        if new:
            async_add_entities(new)

    @callback
    def follow_accounts() -> None:
        """Add the sensors of new accounts (and of details that appeared); forget gone ones."""
        if not coordinator.last_update_success:
            return
        changed = coordinator.data.changes.changed
        gone = {account_id for account_id, (_, after) in changed.items() if after is None}
        known.difference_update({key for key in known if key[0] in gone})
        add_account_sensors(after for _, after in changed.values() if after is not None)

    add_account_sensors(coordinator.data.accounts.values())
    # The Remote API's accounts have no details: only new and gone accounts matter there.
    topic = ChangesTopic(
        (lambda _before, _after: True)
        if details
        else (lambda before, after: before is None or after is None)
    )
    entry.async_on_unload(coordinator.async_add_listener(follow_accounts, topic))
    async_add_subentry_entities(
        hass, entry, async_add_entities, lambda subentry: sensors_for(entry, subentry)
    )


class SequenceSensor(SensorEntity):
    """A sensor whose display precision is stored with its new registry entry.

    Otherwise Home Assistant stores it right after adding the entity: a registry update, which
    makes the new entity write its state a second time (at setup, once per sensor).
    """

    def get_initial_entity_options(self) -> er.EntityOptionsType | None:
        """The options Home Assistant would store, plus the display precision."""
        options = dict(super().get_initial_entity_options() or {})
        if (precision := self.suggested_display_precision) is not None:
            options[SENSOR_DOMAIN] = {"suggested_display_precision": precision}
        return options or None


class SequenceAccountSensor(SequenceAccountEntity, SequenceSensor):
    """One value of one Sequence account.

    What it shows comes from the account through ``value_fn`` and ``_attributes`` only, which
    is how an update tells whether a changed account changed it (override ``_attributes``, not
    ``extra_state_attributes``).
    """

    entity_description: SequenceAccountSensorDescription

    def __init__(
        self,
        coordinator: SequenceCoordinator,
        description: SequenceAccountSensorDescription,
        account: Account,
    ) -> None:
        """Describe ``description`` of ``account``."""
        super().__init__(coordinator, description, account, "sensor")

    @property
    def native_value(self) -> SensorValue:
        """The value, exact to the cent for money; None (unknown) when Sequence has none."""
        return self.entity_description.value_fn(self.account)

    @property
    def extra_state_attributes(self) -> dict[str, str | None] | None:
        """Non-sensitive facts about the account, on its balance sensor; the status's reason."""
        return self._attributes(self.account)

    def _attributes(self, account: Account) -> dict[str, str | None] | None:
        """The attributes shown for ``account``."""
        match self.entity_description.key:
            case "balance":
                return {
                    "account_id": account.id,
                    "account_type": account.type_name,
                    "balance_error": account.balance_error,
                }
            case "balance_status":
                return {"reason": account.balance_error}
        return None

    def _shown_values(self) -> object:
        """The account itself (no copy kept): what the sensor shows is a function of it."""
        return self.account

    def _shows_the_same(self, shown: object, key: object) -> bool:
        """The same account, or one whose value and attributes are those shown."""
        if not isinstance(shown, Account) or not isinstance(key, Account):
            return shown is key  # unavailable, or not yet shown
        value = self.entity_description.value_fn
        return value(shown) == value(key) and self._attributes(shown) == self._attributes(key)


class SequenceTotalSensor(SequenceEntity, SequenceSensor):
    """A sum over the included accounts (Decimal, exact to the cent).

    Summed again only when one of its accounts changed, came or went (or availability changed).
    """

    entity_description: SequenceTotalDescription

    def __init__(
        self, coordinator: SequenceCoordinator, description: SequenceTotalDescription
    ) -> None:
        """Describe the total, summed from the current data."""
        super().__init__(coordinator, description, members_topic(description.member_fn))
        self._summarize()

    def _summarize(self) -> None:
        """Accounts without a balance are left out of the sum (and counted)."""
        member, sign = self.entity_description.member_fn, self.entity_description.sign_fn
        total = Decimal("0.00")
        count = without_balance = 0
        for account in self.coordinator.data.accounts.values():
            if not member(account):
                continue
            count += 1
            if account.balance is None:
                without_balance += 1
            else:
                total += account.balance * sign(account)
        self._attr_native_value = total
        self._attr_extra_state_attributes = {
            "account_count": count,
            "accounts_without_balance": without_balance,
        }

    @callback
    def _handle_coordinator_update(self) -> None:
        """Sum the new data, then write if the total or its counts changed."""
        self._summarize()
        super()._handle_coordinator_update()


class SequenceLastUpdateSensor(SequenceEntity, SequenceSensor):
    """When Sequence last answered successfully; stays available while polls fail."""

    @property
    def available(self) -> bool:
        """Always available: its value matters most when the API is failing."""
        return True

    @property
    def native_value(self) -> datetime | None:
        """The time of the last successful poll."""
        return self.coordinator.last_success_at


class SequenceActivitySensor(SequenceHubEntity[SequenceActivityCoordinator], SequenceSensor):
    """This month's activity on the hub device (Platform API with activity switched on)."""

    entity_description: SequenceActivitySensorDescription

    @property
    def native_value(self) -> Decimal | int:
        """The month's incoming total, transfer count or rule runs."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def last_reset(self) -> datetime:
        """Each starts again at the beginning of every month."""
        return self.coordinator.data.month_start
