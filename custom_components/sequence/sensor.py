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

    def _members(self) -> list[Account]:
        data: SequenceData = self.coordinator.data
        kind = self.entity_description.kind
        return [account for account in data.accounts.values() if account.kind is kind]

    @property
    def native_value(self) -> Decimal:
        """Sum in Decimal; accounts without a balance are left out (and counted)."""
        return sum(
            (account.balance for account in self._members() if account.balance is not None),
            Decimal("0.00"),
        )

    @property
    def extra_state_attributes(self) -> dict[str, int]:
        """How many accounts the total covers, and how many had no balance."""
        members = self._members()
        return {
            "account_count": len(members),
            "accounts_without_balance": sum(account.balance is None for account in members),
        }


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
