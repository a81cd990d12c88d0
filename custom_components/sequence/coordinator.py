"""The coordinator: polls Sequence and hands entities a normalized snapshot keyed by account id."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .account_changes import (
    NO_CHANGES,
    AccountChanges,
    AccountListeners,
    AccountTopic,
    ChangesTopic,
    diff_accounts,
)
from .api import Account, AccountKind, AccountsSnapshot, SequenceError
from .backoff import FailureBackoff
from .const import (
    CONF_ACCOUNT_KINDS,
    CONF_BALANCE_EVENTS,
    CONF_EXCLUDED_ACCOUNTS,
    CONF_SCAN_INTERVAL_MINUTES,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    EVENT_BALANCE_DECREASED,
    EVENT_BALANCE_INCREASED,
    KIND_API_KEY,
    LOGGER,
    MANUFACTURER,
    PLATFORM_DEFAULT_SCAN_INTERVAL,
    SEQUENCE_APP_URL,
)
from .errors import UNEXPECTED_RESPONSE, action_error, error_kind, required_wait, update_error
from .reauth import reload_for_reauthentication
from .sources import AccountsSource
from .texts import credential_kind

if TYPE_CHECKING:
    from .activity import SequenceActivityCoordinator
    from .guard import MoneyGuard
    from .lookups import LookupClient
    from .rule_catalog import RuleCatalogCoordinator
    from .rules import RuleRunner
    from .transfers import TransferRunner


@dataclass(slots=True)
class SequenceRuntimeData:
    """What a loaded entry holds: the accounts, money actions, and activity when switched on."""

    coordinator: SequenceCoordinator
    money: MoneyGuard
    """The gate of the entry's rule runs and transfers, with its ledger and audit trail."""
    rules: RuleRunner
    transfers: TransferRunner
    activity: SequenceActivityCoordinator | None = None
    rule_catalog: RuleCatalogCoordinator | None = None
    """API key with ``READ_RULES`` only: Sequence's rules by id (``.data``; "Enabled in
    Sequence" shows it)."""
    lookup_client: LookupClient | None = None
    """API key only: the Platform API client the look-up actions ask."""


type SequenceConfigEntry = ConfigEntry[SequenceRuntimeData]

# After this many unreadable answers since the last good poll, tell the user through Repairs:
# one bad answer is a blip, several mean Sequence changed its API. Outages never count.
UNEXPECTED_RESPONSE_ISSUE_THRESHOLD = 3
ISSUE_UNEXPECTED_RESPONSE = "unexpected_response"


def account_device_identifier(entry: SequenceConfigEntry, account_id: str) -> tuple[str, str]:
    """Return the device registry identifier of an account's device."""
    return (DOMAIN, f"{entry.unique_id}:{account_id}")


def hub_device_identifier(entry: SequenceConfigEntry) -> tuple[str, str]:
    """Return the device registry identifier of the entry's "Sequence" hub device."""
    return (DOMAIN, f"{entry.unique_id}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SequenceData:
    """What the entities read: the accounts the options include, keyed by id."""

    accounts: Mapping[str, Account]
    snapshot: AccountsSnapshot
    """Everything the poll returned, before the options' filter (for options and diagnostics)."""
    changes: AccountChanges = field(default=NO_CHANGES, compare=False)
    """Which of ``accounts`` differ from the previous poll's (none on the first poll)."""


def default_scan_interval(entry: ConfigEntry) -> timedelta:
    """Ten minutes on the Remote API (one request); six hours on the Platform API, as asked."""
    if credential_kind(entry) == KIND_API_KEY:
        return PLATFORM_DEFAULT_SCAN_INTERVAL
    return DEFAULT_SCAN_INTERVAL


class SequenceCoordinator(DataUpdateCoordinator[SequenceData]):
    """Polls one Sequence beneficiary's accounts once per interval, through either API."""

    config_entry: SequenceConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: SequenceConfigEntry, source: AccountsSource
    ) -> None:
        """Set up the coordinator with the interval chosen in the options."""
        minutes = entry.options.get(CONF_SCAN_INTERVAL_MINUTES)
        interval = timedelta(minutes=minutes) if minutes else default_scan_interval(entry)
        super().__init__(hass, LOGGER, config_entry=entry, name=DOMAIN, update_interval=interval)
        self.source = source
        self.last_success_at: datetime | None = None
        self.last_error: SequenceError | None = None
        """The client error of the last poll; None after a good poll."""
        self._backoff = FailureBackoff(interval)
        self._unexpected_responses = 0
        self._kind_changed_while_failing = False
        self._devices_synced = False
        """The last device sync found every account's device (so only changes need one)."""
        self.account_listeners = AccountListeners(
            self, lambda: self.data.changes if self.data else NO_CHANGES
        )

    @callback
    def async_add_listener(
        self, update_callback: CALLBACK_TYPE, context: object = None
    ) -> Callable[[], None]:
        """Listen for updates; with an account's or a sum's topic as context, only to those."""
        if isinstance(context, AccountTopic | ChangesTopic):
            return self.account_listeners.async_add(context, update_callback)
        return super().async_add_listener(update_callback, context)

    def async_register_hub(self) -> None:
        """Register the entry's "Sequence" hub device, which account devices link to."""
        dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.config_entry.entry_id,
            identifiers={hub_device_identifier(self.config_entry)},
            name="Sequence",
            manufacturer=MANUFACTURER,
            model="Sequence account",
            entry_type=dr.DeviceEntryType.SERVICE,
            configuration_url=SEQUENCE_APP_URL,
        )

    async def async_refresh_now(self) -> None:
        """Poll now, with the account list read afresh (what the Refresh button asks for).

        Raises:
            HomeAssistantError: the poll failed (translated, naming the entry's credential).
        """
        self.source.invalidate()
        await self.async_refresh()
        if not self.last_update_success:
            raise action_error(self.last_error, credential_kind(self.config_entry))

    @property
    def last_error_kind(self) -> str | None:
        """The kind of the last poll's error (``invalid_auth``, ``unavailable``, ...), or None."""
        return None if self.last_error is None else error_kind(self.last_error)

    async def _async_update_data(self) -> SequenceData:
        """Fetch the accounts and map client errors to Home Assistant's.

        A failed poll is retried after 1, 2, 5, 15 and 30 minutes, then at the interval (see
        :mod:`.backoff`). The first poll, while the entry is being set up, is different: its
        failure is Home Assistant's setup retry (5, 10, 20, ... seconds), which gets only the
        wait Sequence asked for (2026.10 ignores it there, 2026.11 waits at least that long).
        A key that lost ``READ_ACCOUNTS`` needs replacing just like a revoked one: both start
        reauthentication.
        """
        try:
            snapshot = await self.source.async_fetch()
        except SequenceError as err:
            self._record_failure(err)
            setting_up = self.config_entry.state is ConfigEntryState.SETUP_IN_PROGRESS
            wait = required_wait(err)
            error = update_error(
                err,
                credential=credential_kind(self.config_entry),
                retry_after=wait if setting_up else self._backoff.failed(wait),
                permission_needs_reauth=True,
            )
            if isinstance(error, ConfigEntryAuthFailed):
                reload_for_reauthentication(self.hass, self.config_entry)
            raise error from err
        self._record_success()
        data = self._select_accounts(snapshot)
        self._fire_balance_events(data)
        return data

    @callback
    def async_update_listeners(self) -> None:
        """Follow a good poll in the device registry, then update the entities.

        The devices are synced here, once the new data is in ``self.data``: an entity whose
        device is renamed rewrites its state at once, and must show the new balance then.
        """
        if self.last_update_success:
            self._sync_devices(self.data)
        super().async_update_listeners()

    def _record_failure(self, err: SequenceError) -> None:
        kind = error_kind(err)
        # Home Assistant updates the entities only when a poll's success changes; another kind
        # of failure during an outage must still reach the API-problem sensor.
        self._kind_changed_while_failing = (
            not self.last_update_success and kind != self.last_error_kind
        )
        self.last_error = err
        if kind != UNEXPECTED_RESPONSE:
            return
        self._unexpected_responses += 1
        if self._unexpected_responses == UNEXPECTED_RESPONSE_ISSUE_THRESHOLD:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                ISSUE_UNEXPECTED_RESPONSE,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_UNEXPECTED_RESPONSE,
                translation_placeholders={"count": str(self._unexpected_responses)},
            )

    @callback
    def _async_refresh_finished(self) -> None:
        """Tell the entities about a new kind of failure while polls keep failing."""
        if self._kind_changed_while_failing:
            self._kind_changed_while_failing = False
            self.async_update_listeners()

    def _record_success(self) -> None:
        self.last_success_at = dt_util.utcnow()
        self.last_error = None
        self._backoff.succeeded()
        # Also on this coordinator's first success: the issue may predate a reload.
        if self.data is None or self._unexpected_responses >= UNEXPECTED_RESPONSE_ISSUE_THRESHOLD:
            ir.async_delete_issue(self.hass, DOMAIN, ISSUE_UNEXPECTED_RESPONSE)
        self._unexpected_responses = 0

    def _select_accounts(self, snapshot: AccountsSnapshot) -> SequenceData:
        """Keep the accounts the options include (all kinds and all accounts by default)."""
        previous = self.data
        if previous is not None and snapshot.accounts is previous.snapshot.accounts:
            # The client returned the same accounts: nothing to filter again, nothing changed.
            return SequenceData(accounts=previous.accounts, snapshot=snapshot)
        options = self.config_entry.options
        kinds = {AccountKind(kind) for kind in options.get(CONF_ACCOUNT_KINDS, list(AccountKind))}
        excluded = set(options.get(CONF_EXCLUDED_ACCOUNTS, ()))
        accounts: Mapping[str, Account] = snapshot.accounts  # all of them, by default
        if excluded or not kinds.issuperset(AccountKind):
            accounts = {
                account_id: account
                for account_id, account in snapshot.accounts.items()
                if account.kind in kinds and account_id not in excluded
            }
        return SequenceData(
            accounts=accounts,
            snapshot=snapshot,
            # Nothing to compare with on the first poll (its entities are made from it).
            changes=diff_accounts(previous.accounts, accounts) if previous else NO_CHANGES,
        )

    def _fire_balance_events(self, new: SequenceData) -> None:
        """Fire an event per real balance change; never on the first poll."""
        if self.data is None or not self.config_entry.options.get(CONF_BALANCE_EVENTS, False):
            return
        for account_id, (previous, account) in new.changes.changed.items():
            if (
                previous is None
                or account is None
                or previous.balance is None
                or account.balance is None
            ):
                continue
            delta: Decimal = account.balance - previous.balance
            if not delta:
                continue
            self.hass.bus.async_fire(
                EVENT_BALANCE_INCREASED if delta > 0 else EVENT_BALANCE_DECREASED,
                {
                    "config_entry_id": self.config_entry.entry_id,
                    "account_id": account_id,
                    "account_type": account.kind.value,
                    "old_balance": str(previous.balance),
                    "new_balance": str(account.balance),
                    "delta": str(delta),
                    "currency": "USD",
                },
            )

    def _sync_devices(self, data: SequenceData) -> None:
        """Remove devices of accounts that are gone (or excluded); follow renames.

        Only account devices: the hub and the devices of the entry's subentries (rules,
        transfer routes) are not the accounts' to remove or rename.

        Runs only after a successful poll, so a failed poll never removes anything. After a sync
        that found every account's device, the registry is scanned again (O(devices)) only when
        an account came, went or was renamed.
        """
        if self._devices_synced and not data.changes.moves_devices():
            return
        registry = dr.async_get(self.hass)
        entry = self.config_entry
        wanted = {
            account_device_identifier(entry, account_id): account
            for account_id, account in data.accounts.items()
        }
        hub = hub_device_identifier(entry)
        found = 0
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if device.config_subentry_id is not None:
                continue
            identifier = next((ident for ident in device.identifiers if ident[0] == DOMAIN), None)
            if identifier is None or identifier == hub:
                continue
            account = wanted.get(identifier)
            if account is None:
                LOGGER.debug("Removing the device of an account Sequence no longer returns")
                registry.async_remove_device(device.id)
                continue
            found += 1
            if device.name != account.name:
                registry.async_update_device(device.id, name=account.name)
        # A device still to be created (its entity is being added) gets checked next poll.
        self._devices_synced = found == len(wanted)
