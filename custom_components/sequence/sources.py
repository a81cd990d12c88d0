"""Where a poll's accounts come from: one Remote API call, or the Platform API's list + details.

The coordinator asks a source for an ``AccountsSnapshot`` and never sees which API answered.
"""

from datetime import datetime, timedelta
from typing import Protocol

from homeassistant.util import dt as dt_util

from .api import AccountsSnapshot, SequencePlatformClient, SequenceRemoteClient
from .const import PLATFORM_LIST_INTERVAL


class AccountsSource(Protocol):
    """Something that can fetch every account with its balance."""

    async def async_fetch(self) -> AccountsSnapshot:
        """Return the accounts (raises the client's ``SequenceError`` subclasses)."""
        ...

    def invalidate(self) -> None:
        """Forget any cached account list, so the next fetch is complete."""
        ...


class RemoteAccountsSource:
    """The Remote API: one ``POST /accounts`` returns everything."""

    def __init__(self, client: SequenceRemoteClient) -> None:
        """Wrap the client."""
        self.client = client

    async def async_fetch(self) -> AccountsSnapshot:
        """One request."""
        return await self.client.async_get_accounts()

    def invalidate(self) -> None:
        """Nothing is cached."""


class PlatformAccountsSource:
    """The Platform API: the account list (daily) and one detail request per account (each poll).

    Sequence's list endpoint has no balances, so a poll costs one request per account; the list
    itself (one request per 100 accounts) is refreshed only daily, when an account turned out to
    be gone, or after ``invalidate`` (the refresh button).
    """

    def __init__(
        self, client: SequencePlatformClient, *, list_interval: timedelta = PLATFORM_LIST_INTERVAL
    ) -> None:
        """Wrap the client."""
        self.client = client
        self._list_interval = list_interval
        self._account_ids: tuple[str, ...] | None = None
        self._listed_at: datetime | None = None

    async def async_fetch(self) -> AccountsSnapshot:
        """The details of every listed account, listing first when the list is stale."""
        now = dt_util.utcnow()
        if (
            self._account_ids is None
            or self._listed_at is None
            or now - self._listed_at >= self._list_interval
        ):
            listed = await self.client.async_list_accounts()
            self._account_ids = tuple(account.id for account in listed)
            self._listed_at = now
        snapshot = await self.client.async_get_accounts(account_ids=self._account_ids)
        if len(snapshot.accounts) < len(self._account_ids):
            self.invalidate()  # some were deleted: list again next time
        return snapshot

    def invalidate(self) -> None:
        """List the accounts again on the next fetch (new accounts appear at once)."""
        self._listed_at = None
