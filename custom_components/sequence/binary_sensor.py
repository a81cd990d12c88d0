"""Binary sensors: API problems, rules enabled in Sequence, transfers awaiting approval."""

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .activity import SequenceActivityCoordinator
from .coordinator import SequenceConfigEntry
from .entity import SequenceEntity, SequenceHubEntity
from .money_entities import binary_sensors_for
from .subentries import async_add_subentry_entities
from .texts import CREDENTIAL_KINDS, credential_kind

PARALLEL_UPDATES = 0

# One translation key per credential kind: the error kinds' texts name the credential
# ("Access token refused"), while the attribute's values are the same for both.
API_PROBLEM_DESCRIPTIONS = {
    kind: BinarySensorEntityDescription(
        key="api_problem",
        translation_key=f"api_problem_{kind}",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
    )
    for kind in CREDENTIAL_KINDS
}
AWAITING_APPROVAL_DESCRIPTION = BinarySensorEntityDescription(
    key="transfers_awaiting_approval",
    translation_key="transfers_awaiting_approval",
    device_class=BinarySensorDeviceClass.PROBLEM,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SequenceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the API-problem sensor (and, with activity, the approvals sensor) to the hub."""
    description = API_PROBLEM_DESCRIPTIONS[credential_kind(entry)]
    hub: list[BinarySensorEntity] = [
        SequenceApiProblemSensor(entry.runtime_data.coordinator, description)
    ]
    if (activity := entry.runtime_data.activity) is not None:
        hub.append(SequenceAwaitingApprovalSensor(activity, AWAITING_APPROVAL_DESCRIPTION))
    async_add_entities(hub)
    async_add_subentry_entities(
        hass, entry, async_add_entities, lambda subentry: binary_sensors_for(entry, subentry)
    )


class SequenceApiProblemSensor(SequenceEntity, BinarySensorEntity):
    """On while polls fail; the ``error_kind`` attribute says why (never the error text)."""

    @property
    def available(self) -> bool:
        """Always available: it reports the failures that make the others unavailable."""
        return True

    @property
    def is_on(self) -> bool:
        """True when the last poll failed."""
        return not self.coordinator.last_update_success

    @property
    def extra_state_attributes(self) -> dict[str, str | None]:
        """The kind of the last error: invalid_auth, rate_limited, cannot_connect, ..."""
        return {
            "error_kind": None
            if self.coordinator.last_update_success
            else self.coordinator.last_error_kind
        }


class SequenceAwaitingApprovalSensor(
    SequenceHubEntity[SequenceActivityCoordinator], BinarySensorEntity
):
    """On while a transfer waits for the user's approval in Sequence; how many, as ``count``."""

    @property
    def is_on(self) -> bool:
        """True while any transfer is ``PENDING_APPROVAL``."""
        return self.coordinator.data.awaiting_approval > 0

    @property
    def extra_state_attributes(self) -> dict[str, int]:
        """How many transfers wait."""
        return {"count": self.coordinator.data.awaiting_approval}
