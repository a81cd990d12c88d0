"""Tests for the account sources: what each poll costs on each API."""

from datetime import timedelta
from unittest.mock import AsyncMock, MagicMock, create_autospec

from freezegun.api import FrozenDateTimeFactory

from custom_components.sequence.api import (
    AccountsSnapshot,
    SequencePlatformClient,
    SequenceRemoteClient,
)
from custom_components.sequence.const import PLATFORM_LIST_INTERVAL
from custom_components.sequence.sources import PlatformAccountsSource, RemoteAccountsSource

from .conftest import load_platform_accounts, load_platform_snapshot, load_snapshot


async def test_remote_source_is_one_call() -> None:
    client = create_autospec(SequenceRemoteClient, instance=True)
    client.async_get_accounts.return_value = load_snapshot()
    source = RemoteAccountsSource(client)
    assert await source.async_fetch() is client.async_get_accounts.return_value
    source.invalidate()  # nothing cached: a no-op
    await source.async_fetch()
    assert client.async_get_accounts.await_count == 2


def platform_client() -> MagicMock:
    client = create_autospec(SequencePlatformClient, instance=True)
    client.async_list_accounts = AsyncMock(return_value=load_platform_accounts())
    client.async_get_accounts = AsyncMock(return_value=load_platform_snapshot())
    return client


async def test_platform_source_lists_daily_and_fetches_details_each_poll(
    freezer: FrozenDateTimeFactory,
) -> None:
    client = platform_client()
    source = PlatformAccountsSource(client)
    ids = tuple(account.id for account in load_platform_accounts())

    for _ in range(3):
        snapshot = await source.async_fetch()
        freezer.tick(timedelta(hours=6))
    assert len(snapshot.accounts) == len(ids)
    assert client.async_list_accounts.await_count == 1  # 18 hours: still the same list
    client.async_get_accounts.assert_awaited_with(account_ids=ids)
    assert client.async_get_accounts.await_count == 3

    freezer.tick(PLATFORM_LIST_INTERVAL)
    await source.async_fetch()
    assert client.async_list_accounts.await_count == 2


async def test_platform_source_lists_again_after_invalidate() -> None:
    client = platform_client()
    source = PlatformAccountsSource(client)
    await source.async_fetch()
    source.invalidate()
    await source.async_fetch()
    assert client.async_list_accounts.await_count == 2


async def test_platform_source_lists_again_when_an_account_is_gone() -> None:
    client = platform_client()
    full = load_platform_snapshot()
    first_id = next(iter(full.accounts))
    client.async_get_accounts.return_value = AccountsSnapshot(
        accounts={key: value for key, value in full.accounts.items() if key != first_id}
    )
    source = PlatformAccountsSource(client)
    await source.async_fetch()
    await source.async_fetch()
    assert client.async_list_accounts.await_count == 2
