"""The audit trail of money actions: every outcome in the logbook, on the bus and on disk.

Each outcome (refused with its reason, simulated, sent, succeeded, failed, result unknown) is
written three ways: a logbook entry a person reads, tied to the context of whoever asked; a
``sequence_money_action`` event automations can use; and a record in an append-only store per
entry that survives restarts (the newest ``MAX_RECORDS``), which ``sequence.get_audit_log``
returns. None of them holds a credential, a rule secret or an account number.
"""

import asyncio
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from homeassistant.components.logbook import async_log_entry
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, EVENT_MONEY_ACTION

STORAGE_VERSION = 1
MAX_RECORDS = 2000
"""The newest records kept per entry (at least a thousand, as promised in the README)."""


class MoneyAction(StrEnum):
    """Which action an audit record is about."""

    TRIGGER_RULE = "trigger_rule"
    TRANSFER = "transfer"


class AuditOutcome(StrEnum):
    """How a money action ended (or where it stands)."""

    REFUSED = "refused"
    """Refused before any request: nothing was sent."""
    SIMULATED = "simulated"
    SENT = "sent"
    """Sequence accepted the live request; the result is being followed."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"
    """Sent, or maybe sent, with no definite answer: check Sequence."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """One outcome. Ids, amounts and keys only: nothing secret, no account numbers."""

    time: datetime
    action: MoneyAction
    config_entry_id: str
    subentry_id: str | None
    outcome: AuditOutcome
    reason: str | None = None
    """Why it was refused or failed: a translation key of the integration's exceptions."""
    simulated: bool = False
    amount: str | None = None
    """Dollars with cents, as text (``"50.00"``)."""
    rule_id: str | None = None
    source_account_id: str | None = None
    destination_account_id: str | None = None
    execution_id: str | None = None
    transfer_id: str | None = None
    idempotency_key: str | None = None
    user_id: str | None = None
    context_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (the event's data and the store's format)."""
        data = asdict(self)
        data["time"] = self.time.isoformat()
        data["action"] = self.action.value
        data["outcome"] = self.outcome.value
        return data


class AuditTrail:
    """One entry's audit trail. Shared per entry (see :func:`async_get_audit_trail`)."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Bind the trail to its entry's store."""
        self._hass = hass
        self._store: Store[list[dict[str, Any]]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.audit.{entry_id}", private=True, atomic_writes=True
        )
        self._records: list[dict[str, Any]] = []

    async def async_load(self) -> None:
        """Read the stored records."""
        self._records = await self._store.async_load() or []

    async def async_record(
        self,
        record: AuditRecord,
        *,
        name: str,
        message: str,
        context: Context | None = None,
    ) -> None:
        """Write the outcome to the store, the bus and the logbook.

        ``name`` and ``message`` make the logbook line ("Sequence rule Round-ups" "ran"); the
        logbook adds who asked from ``context``. The line names no entity: Home Assistant's
        logbook titles an entity's line with the entity's name instead of ``name``, which
        would read "Last run result ran".
        """
        data = record.as_dict()
        self._records.append(data)
        del self._records[:-MAX_RECORDS]
        await self._store.async_save(self._records)
        self._hass.bus.async_fire(EVENT_MONEY_ACTION, data, context=context)
        async_log_entry(self._hass, name, message, DOMAIN, context=context)

    def records(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """The stored records, oldest first, from ``since`` on when given."""
        if since is None:
            return list(self._records)
        return [
            record
            for record in self._records
            if (when := dt_util.parse_datetime(record["time"])) is not None and when >= since
        ]

    def counts(self) -> dict[str, int]:
        """How many records per outcome (what diagnostics show)."""
        counts: dict[str, int] = {}
        for record in self._records:
            counts[record["outcome"]] = counts.get(record["outcome"], 0) + 1
        return counts

    async def async_remove(self) -> None:
        """Delete the stored trail (the entry itself is being removed)."""
        self._records.clear()
        await self._store.async_remove()


@dataclass(slots=True)
class _Trails:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    by_entry: dict[str, AuditTrail] = field(default_factory=dict)


_TRAILS: HassKey[_Trails] = HassKey(f"{DOMAIN}_audit_trails")


async def async_get_audit_trail(hass: HomeAssistant, entry_id: str) -> AuditTrail:
    """The entry's audit trail, loaded once and shared, also while the entry is not loaded.

    A refusal must be recorded even when the entry it names failed to load, so the trail lives
    apart from the entry's runtime data.
    """
    trails = hass.data.setdefault(_TRAILS, _Trails())
    async with trails.lock:
        if (trail := trails.by_entry.get(entry_id)) is None:
            trail = AuditTrail(hass, entry_id)
            await trail.async_load()
            trails.by_entry[entry_id] = trail
    return trail


async def async_remove_audit_trail(hass: HomeAssistant, entry_id: str) -> None:
    """Forget and delete an entry's trail (``async_remove_entry``)."""
    trail = await async_get_audit_trail(hass, entry_id)
    hass.data[_TRAILS].by_entry.pop(entry_id, None)
    await trail.async_remove()
