"""Which accounts a poll changed, and who hears about it: each listener only about its own.

The coordinator works out once per poll what changed (:func:`diff_accounts`, cheap because the
clients keep the model of an account whose wire data did not change). Listeners that pass a
topic as their coordinator context (:class:`AccountTopic` for one account, :class:`ChangesTopic`
for a sum or a list over accounts) go into :class:`AccountListeners` and hear only about
changes that concern them; every other listener is Home Assistant's as usual. When a poll's
success changes (failure, recovery), every listener hears about it: availability changed for
all of them.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .api import Account

type AccountChange = tuple[Account | None, Account | None]
"""An account before and after a poll; None where it did not exist (added, removed)."""


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """What one poll changed, by account id, in the order Sequence returned the accounts."""

    changed: Mapping[str, AccountChange] = field(default_factory=dict)

    def moves_devices(self) -> bool:
        """Whether an account came, went or was renamed (what the device registry follows)."""
        return any(
            before is None or after is None or before.name != after.name
            for before, after in self.changed.values()
        )


NO_CHANGES: Final = AccountChanges()


def diff_accounts(
    before: Mapping[str, Account] | None, after: Mapping[str, Account]
) -> AccountChanges:
    """The accounts that differ between two polls (everything is new after no poll at all).

    Unchanged accounts are the same objects (the clients reuse them), so most comparisons stop
    at identity; equal copies count as unchanged too.
    """
    if before is after:
        return NO_CHANGES
    if before is None:
        return AccountChanges(
            {account_id: (None, account) for account_id, account in after.items()}
        )
    changed: dict[str, AccountChange] = {}
    added = 0
    for account_id, account in after.items():
        previous = before.get(account_id)
        if previous is None:
            added += 1
            changed[account_id] = (None, account)
        elif previous is not account and previous != account:
            changed[account_id] = (previous, account)
    if len(before) != len(after) - added:  # some are gone
        for account_id, previous in before.items():
            if account_id not in after:
                changed[account_id] = (previous, None)
    return AccountChanges(changed) if changed else NO_CHANGES


@dataclass(frozen=True, slots=True)
class AccountTopic:
    """Listener context: hear about one account (added, changed, gone) and availability."""

    account_id: str


@dataclass(frozen=True, slots=True, eq=False)
class ChangesTopic:
    """Listener context: hear about a poll when one of its changes ``matches`` (and availability).

    For what depends on several accounts: a total on its members, a platform on new accounts.
    """

    matches: Callable[[Account | None, Account | None], bool]


def members_topic(member: Callable[[Account], bool]) -> ChangesTopic:
    """Hear about changes of accounts that ``member`` selects, before or after the poll."""

    def matches(before: Account | None, after: Account | None) -> bool:
        return (before is not None and member(before)) or (after is not None and member(after))

    return ChangesTopic(matches)


type Topic = AccountTopic | ChangesTopic


class AccountListeners:
    """Listeners by topic, behind one listener of the coordinator.

    While it holds any listener it is one of the coordinator's own, so Home Assistant schedules
    polls as for any listener, and calls :meth:`_async_dispatch` whenever it would update them.
    """

    def __init__(
        self, coordinator: DataUpdateCoordinator[Any], changes: Callable[[], AccountChanges]
    ) -> None:
        """Listen to ``coordinator``, whose latest poll's changes ``changes`` returns."""
        self._coordinator = coordinator
        self._changes = changes
        self._by_account: dict[str, list[CALLBACK_TYPE]] = {}
        self._by_changes: list[tuple[ChangesTopic, CALLBACK_TYPE]] = []
        self._count = 0
        self._unsubscribe: CALLBACK_TYPE | None = None
        self._success = True
        self._dispatched = NO_CHANGES

    @callback
    def async_add(self, topic: Topic, update_callback: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``update_callback`` for what ``topic`` covers; return how to stop."""
        if isinstance(topic, AccountTopic):
            self._by_account.setdefault(topic.account_id, []).append(update_callback)
        else:
            self._by_changes.append((topic, update_callback))
        self._count += 1
        if self._unsubscribe is None:
            self._success = self._coordinator.last_update_success
            self._dispatched = self._changes()
            self._unsubscribe = self._coordinator.async_add_listener(self._async_dispatch)

        return partial(self._async_remove, topic, update_callback)

    @callback
    def _async_remove(self, topic: Topic, update_callback: CALLBACK_TYPE) -> None:
        if isinstance(topic, AccountTopic):
            callbacks = self._by_account[topic.account_id]
            callbacks.remove(update_callback)
            if not callbacks:
                del self._by_account[topic.account_id]
        else:
            self._by_changes.remove((topic, update_callback))
        self._count -= 1
        if not self._count and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @callback
    def _async_dispatch(self) -> None:
        """Tell each listener what concerns it; everyone when a poll's success changed."""
        success = self._coordinator.last_update_success
        changes = self._changes()
        if success != self._success:
            callbacks = [
                *(cb for callbacks in self._by_account.values() for cb in callbacks),
                *(cb for _, cb in self._by_changes),
            ]
        elif changes is self._dispatched:
            return
        else:
            callbacks = [
                cb for account_id in changes.changed for cb in self._by_account.get(account_id, ())
            ]
            pairs = changes.changed.values()
            callbacks.extend(
                cb
                for topic, cb in self._by_changes
                if any(topic.matches(before, after) for before, after in pairs)
            )
        self._success = success
        self._dispatched = changes
        for update_callback in callbacks:
            try:
                update_callback()
            except Exception:
                self._coordinator.logger.exception(
                    "Unexpected error updating listener %s for %s",
                    id(update_callback),
                    self._coordinator.name,
                )
