"""Activity (Platform API, opt-in): transfers polled hourly, events, and this month's summary.

Only transfers that touch an account the options include count or fire an event: Sequence is
asked about those accounts alone, and whatever else it returns is dropped.

Needs the API key's ``READ_TRANSFERS`` permission. When it is missing, a repair issue tells the
user how to fix it (grant it in Sequence, or switch activity off) and the accounts keep working.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api import (
    Permission,
    SequenceError,
    SequencePermissionError,
    SequencePlatformClient,
    Transfer,
    TransferDirection,
)
from .backoff import FailureBackoff
from .const import ACTIVITY_INTERVAL, DOMAIN, EVENT_TRANSFER, LOGGER
from .coordinator import SequenceConfigEntry, SequenceCoordinator
from .errors import required_wait, update_error
from .reauth import reload_for_reauthentication
from .texts import credential_kind

FAILED_STATUSES = frozenset({"ERROR", "INCOMPLETE", "CANCELLED"})
"""Transfers in these states moved no money: they are left out of the month's summary."""
PENDING_APPROVAL = "PENDING_APPROVAL"


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivitySummary:
    """This calendar month's activity (local time), from live transfers that did not fail."""

    month_start: datetime
    incoming_total: Decimal
    """Money that arrived from outside Sequence (``MONEY_IN``), in dollars."""
    transfer_count: int
    """Transfers of any direction created this month."""
    rule_runs: int
    """Distinct rule executions among this month's transfers."""
    awaiting_approval: int
    """Transfers waiting for the user's approval (``PENDING_APPROVAL``), of any month."""


def transfer_event_data(
    entry_id: str, transfer: Transfer, previous_status: str | None
) -> dict[str, str | None]:
    """The data of ``sequence_transfer`` for a transfer's new status (no names, no numbers)."""
    return {
        "config_entry_id": entry_id,
        "transfer_id": transfer.id,
        "direction": transfer.direction.value,
        "amount": str(transfer.amount),
        "currency": "USD",
        "status": transfer.status,
        "previous_status": previous_status,
        "origin": transfer.origin,
        "rule_id": transfer.rule_id,
        "created_at": transfer.created_at.isoformat(),
    }


def missing_permission_issue_id(entry: SequenceConfigEntry) -> str:
    """The repair issue raised while the key lacks READ_TRANSFERS."""
    return f"{entry.entry_id}_missing_read_transfers"


class SequenceActivityCoordinator(DataUpdateCoordinator[ActivitySummary]):
    """Polls transfers once an hour and fires ``sequence_transfer`` for new or changed ones."""

    config_entry: SequenceConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SequenceConfigEntry,
        client: SequencePlatformClient,
        accounts: SequenceCoordinator,
    ) -> None:
        """Poll hourly; the accounts coordinator says which accounts to ask about."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN}_activity",
            update_interval=ACTIVITY_INTERVAL,
        )
        self.client = client
        self.accounts = accounts
        self._backoff = FailureBackoff(ACTIVITY_INTERVAL)
        self._statuses: dict[str, str] = {}
        """Transfer id -> status, for the transfers of the current window."""
        self._pending_since: datetime | None = None
        """The oldest unfinished transfer: the window reaches back to it to see it settle."""

    def transfer_status(self, transfer_id: str) -> str | None:
        """The status last told (by an event) of a transfer, if it was."""
        return self._statuses.get(transfer_id)

    def note_transfer_status(self, transfer_id: str, status: str) -> None:
        """A transfer's status was told elsewhere (a followed transfer): do not tell it again."""
        self._statuses[transfer_id] = status

    async def _async_update_data(self) -> ActivitySummary:
        now = dt_util.now()
        month_start = dt_util.start_of_local_day(now.replace(day=1))
        since = month_start
        if self._pending_since is not None:
            since = min(since, self._pending_since)
        included = self.accounts.data.accounts  # what the options leave out is left out here too
        try:
            fetched = await self.client.async_get_transfers(since=since, account_ids=included)
        except SequenceError as err:
            raise self._failure(err) from err
        self._backoff.succeeded()
        transfers = tuple(
            transfer
            for transfer in fetched
            if transfer.source_id in included or transfer.destination_id in included
        )
        ir.async_delete_issue(self.hass, DOMAIN, missing_permission_issue_id(self.config_entry))
        self._fire_events(transfers)
        return self._summarize(transfers, month_start)

    def _failure(self, err: SequenceError) -> ConfigEntryAuthFailed | UpdateFailed:
        """Retry soon (1, 2, 5, 15, 30 minutes, then hourly); a missing permission is a repair."""
        if isinstance(err, SequencePermissionError):
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                missing_permission_issue_id(self.config_entry),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="missing_read_transfers",
                translation_placeholders={
                    "title": self.config_entry.title,
                    "permission": Permission.READ_TRANSFERS.value,
                },
            )
        error = update_error(
            err,
            credential=credential_kind(self.config_entry),
            retry_after=self._backoff.failed(required_wait(err)),
            permission_needs_reauth=False,  # balances work without READ_TRANSFERS
        )
        if isinstance(error, ConfigEntryAuthFailed):
            reload_for_reauthentication(self.hass, self.config_entry)
        return error

    def _fire_events(self, transfers: tuple[Transfer, ...]) -> None:
        """One event per transfer that is new or changed status since the last poll.

        The first poll after a start only learns what exists, so a restart fires nothing twice.
        """
        first_poll = self.data is None
        statuses: dict[str, str] = {}
        pending: list[datetime] = []
        for transfer in reversed(transfers):  # oldest first, as they happened
            statuses[transfer.id] = transfer.status
            if transfer.completed_at is None and transfer.status not in FAILED_STATUSES:
                pending.append(transfer.created_at)
            previous = self._statuses.get(transfer.id)
            if first_poll or previous == transfer.status:
                continue
            self.hass.bus.async_fire(
                EVENT_TRANSFER, transfer_event_data(self.config_entry.entry_id, transfer, previous)
            )
        self._statuses = statuses
        self._pending_since = min(pending, default=None)

    @staticmethod
    def _summarize(transfers: tuple[Transfer, ...], month_start: datetime) -> ActivitySummary:
        this_month = [
            transfer
            for transfer in transfers
            if transfer.created_at >= month_start and transfer.status not in FAILED_STATUSES
        ]
        return ActivitySummary(
            month_start=month_start,
            incoming_total=sum(
                (t.amount for t in this_month if t.direction is TransferDirection.INCOMING),
                Decimal("0.00"),
            ),
            transfer_count=len(this_month),
            rule_runs=len(
                {
                    transfer.rule_execution_id or transfer.id
                    for transfer in this_month
                    if transfer.rule_id is not None or transfer.rule_execution_id is not None
                }
            ),
            awaiting_approval=sum(
                1 for transfer in transfers if transfer.status == PENDING_APPROVAL
            ),
        )
