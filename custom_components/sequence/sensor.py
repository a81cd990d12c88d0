"""Balance sensors per account, totals per account kind, and the last successful update."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Account, AccountKind
from .coordinator import SequenceConfigEntry, SequenceCoordinator, SequenceData
from .entity import SequenceAccountEntity, SequenceEntity

PARALLEL_UPDATES = 0
CURRENCY = "USD"  # the Remote API has no currency field; Sequence is a US service


@dataclass(frozen=True, kw_only=True)
class SequenceTotalDescription(SensorEntityDescription):
    """A total over the included accounts of one kind."""

    kind: AccountKind


def _money(key: str, translation_key: str) -> dict[str, Any]:
    return {
        "key": key,
        "translation_key": translation_key,
        "device_class": SensorDeviceClass.MONETARY,
        "state_class": SensorStateClass.TOTAL,
        "native_unit_of_measurement": CURRENCY,
        "suggested_display_precision": 2,
    }


# One balance description per kind, so icons.json can give each kind its own icon.
BALANCE_DESCRIPTIONS: Mapping[AccountKind, SensorEntityDescription] = {
    kind: SensorEntityDescription(**_money("balance", f"{kind.value}_balance"))
    for kind in AccountKind
}
TOTAL_DESCRIPTIONS: tuple[SequenceTotalDescription, ...] = tuple(
    SequenceTotalDescription(**_money(f"{kind.value}_total", f"{kind.value}_total"), kind=kind)
    for kind in (AccountKind.POD, AccountKind.INCOME_SOURCE, AccountKind.EXTERNAL)
)
LAST_UPDATE_DESCRIPTION = SensorEntityDescription(
    key="last_successful_update",
    translation_key="last_successful_update",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SequenceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub sensors now and a balance sensor for every account, including new ones."""
    coordinator = entry.runtime_data
    async_add_entities(
        [
            *(SequenceTotalSensor(coordinator, description) for description in TOTAL_DESCRIPTIONS),
            SequenceLastUpdateSensor(coordinator, LAST_UPDATE_DESCRIPTION),
        ]
    )
    known: set[str] = set()

    @callback
    def add_new_accounts() -> None:
        if not coordinator.last_update_success:
            return
        accounts = coordinator.data.accounts
        known.intersection_update(accounts)  # an account that comes back is added again
        new = [account for account_id, account in accounts.items() if account_id not in known]
        known.update(account.id for account in new)
        if new:
            async_add_entities(SequenceBalanceSensor(coordinator, account) for account in new)

    add_new_accounts()
    entry.async_on_unload(coordinator.async_add_listener(add_new_accounts))


class SequenceBalanceSensor(SequenceAccountEntity, SensorEntity):
    """The balance of one Sequence account."""

    def __init__(self, coordinator: SequenceCoordinator, account: Account) -> None:
        """Describe the balance of ``account``."""
        super().__init__(coordinator, BALANCE_DESCRIPTIONS[account.kind], account, "sensor")

    @property
    def native_value(self) -> Decimal | None:
        """The balance in dollars (exact cents), or None (unknown) when Sequence has none."""
        return self.account.balance

    @property
    def extra_state_attributes(self) -> dict[str, str | None]:
        """Non-sensitive facts about the account."""
        return {
            "account_id": self.account.id,
            "account_type": self.account.type_name,
            "balance_error": self.account.balance_error,
        }


class SequenceTotalSensor(SequenceEntity, SensorEntity):
    """The sum of the balances of the included accounts of one kind."""

    entity_description: SequenceTotalDescription

    def __init__(
        self, coordinator: SequenceCoordinator, description: SequenceTotalDescription
    ) -> None:
        """Describe the total of one kind, summed from the current data."""
        super().__init__(coordinator, description)
        self._summarize()

    def _summarize(self) -> None:
        """Sum in Decimal, once per poll; accounts without a balance are left out (and counted)."""
        data: SequenceData = self.coordinator.data
        kind = self.entity_description.kind
        total = Decimal("0.00")
        count = without_balance = 0
        for account in data.accounts.values():
            if account.kind is not kind:
                continue
            count += 1
            if account.balance is None:
                without_balance += 1
            else:
                total += account.balance
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


class SequenceLastUpdateSensor(SequenceEntity, SensorEntity):
    """When Sequence last answered successfully; stays available while polls fail."""

    @property
    def available(self) -> bool:
        """Always available: its value matters most when the API is failing."""
        return True

    @property
    def native_value(self) -> datetime | None:
        """The time of the last successful poll."""
        return self.coordinator.last_success_at
