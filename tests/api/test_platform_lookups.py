"""The Platform client's look-ups at the HTTP level: transfers by filter and limit, bank lines.

``async_get_transfers`` with ``until``, ``statuses``, ``directions`` and ``limit`` (never more
than the limit, paging stops once the newest are certain, 50 account ids a request), and
``async_get_external_transactions``.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
import pytest

from custom_components.sequence.api import (
    Permission,
    SequencePermissionError,
    SequencePlatformClient,
    TransferDirection,
)
from custom_components.sequence.api.limiter import RequestBudget
from tests.api.platform_server import PREFIX, FakePlatform, error, external_transaction, transfer

pytestmark = pytest.mark.usefixtures("socket_enabled")

KEY = "sk_test_lookup_key"
START = datetime(2026, 11, 1, tzinfo=UTC)

type ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
type Client = TestClient[Any, Any]


@pytest.fixture
def fake() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def server(aiohttp_client: ClientFactory, fake: FakePlatform) -> Client:
    return await aiohttp_client(fake.app())


@pytest.fixture
def client(server: Client) -> SequencePlatformClient:
    return SequencePlatformClient(
        server.session, KEY, base_url=str(server.make_url(PREFIX)), budget=RequestBudget()
    )


def stamp(minutes: int) -> str:
    """``START`` plus ``minutes``, as the API writes it."""
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def history(fake: FakePlatform, count: int, accounts: list[str]) -> None:
    """``count`` transfers, one a minute, cycling through statuses, directions and accounts."""
    statuses = ("COMPLETE", "PENDING_APPROVAL", "PENDING")
    directions = ("INTERNAL", "MONEY_IN", "MONEY_OUT")
    fake.transfers = [
        transfer(
            f"t-{minute:04d}",
            accounts[minute % len(accounts)],
            accounts[(minute + 1) % len(accounts)],
            createdAt=stamp(minute),
            status=statuses[minute % 3],
            direction=directions[minute // 3 % 3],
        )
        for minute in range(count)
    ]


def transfer_requests(fake: FakePlatform) -> list[dict[str, list[str]]]:
    return [query for path, query, _ in fake.requests if path == f"{PREFIX}/transfers"]


async def test_the_newest_up_to_the_limit_and_no_page_more(
    client: SequencePlatformClient, fake: FakePlatform
) -> None:
    ids = fake.add_accounts(2)
    history(fake, 350, ids)
    transfers = await client.async_get_transfers(since=None, account_ids=ids, limit=120)
    assert [item.id for item in transfers] == [f"t-{minute:04d}" for minute in range(349, 229, -1)]
    queries = transfer_requests(fake)
    assert [(query["page"], query["pageSize"]) for query in queries] == [
        (["1"], ["100"]),
        (["2"], ["100"]),
    ]


async def test_a_small_limit_reads_one_small_page(
    client: SequencePlatformClient, fake: FakePlatform
) -> None:
    ids = fake.add_accounts(1)
    history(fake, 30, ids)
    transfers = await client.async_get_transfers(since=None, account_ids=ids, limit=5)
    assert len(transfers) == 5
    assert [(query["page"], query["pageSize"]) for query in transfer_requests(fake)] == [
        (["1"], ["5"])
    ]


async def test_without_a_limit_every_page(
    client: SequencePlatformClient, fake: FakePlatform
) -> None:
    ids = fake.add_accounts(1)
    history(fake, 250, ids)
    assert len(await client.async_get_transfers(since=None, account_ids=ids)) == 250
    assert len(transfer_requests(fake)) == 3


async def test_a_time_window(client: SequencePlatformClient, fake: FakePlatform) -> None:
    ids = fake.add_accounts(1)
    history(fake, 100, ids)
    transfers = await client.async_get_transfers(
        since=START + timedelta(minutes=10),
        until=(START + timedelta(minutes=19)).astimezone(UTC),
        account_ids=ids,
    )
    assert [item.id for item in transfers] == [f"t-{minute:04d}" for minute in range(19, 9, -1)]
    [query] = transfer_requests(fake)
    assert query["from"] == ["2026-11-01T00:10:00.000000Z"]
    assert query["to"] == ["2026-11-01T00:19:00.000000Z"]


async def test_transfers_awaiting_approval(
    client: SequencePlatformClient, fake: FakePlatform
) -> None:
    ids = fake.add_accounts(1)
    history(fake, 30, ids)
    waiting = await client.async_get_transfers(
        since=None, account_ids=ids, statuses=["PENDING_APPROVAL"]
    )
    assert {item.status for item in waiting} == {"PENDING_APPROVAL"}
    assert len(waiting) == 10
    [query] = transfer_requests(fake)
    assert query["status"] == ["PENDING_APPROVAL"]


async def test_several_statuses_and_directions_one_stream_each_merged(
    client: SequencePlatformClient, fake: FakePlatform
) -> None:
    ids = fake.add_accounts(1)
    history(fake, 90, ids)
    found = await client.async_get_transfers(
        since=None,
        account_ids=ids,
        statuses=["COMPLETE", "PENDING", "COMPLETE"],
        directions=[TransferDirection.INCOMING, TransferDirection.OUTGOING],
        limit=7,
    )
    expected = [
        item
        for item in reversed(fake.transfers)
        if item["status"] in {"COMPLETE", "PENDING"} and item["direction"] != "INTERNAL"
    ][:7]
    assert [item.id for item in found] == [item["id"] for item in expected]
    filters = {(query["status"][0], query["direction"][0]) for query in transfer_requests(fake)}
    assert filters == {
        ("COMPLETE", "MONEY_IN"),
        ("COMPLETE", "MONEY_OUT"),
        ("PENDING", "MONEY_IN"),
        ("PENDING", "MONEY_OUT"),
    }
    assert len(transfer_requests(fake)) == 4


async def test_empty_filters_filter_nothing(
    client: SequencePlatformClient, fake: FakePlatform
) -> None:
    ids = fake.add_accounts(1)
    history(fake, 12, ids)
    found = await client.async_get_transfers(
        since=None, account_ids=ids, statuses=[], directions=()
    )
    assert len(found) == 12
    [query] = transfer_requests(fake)
    assert "status" not in query
    assert "direction" not in query


async def test_50_account_ids_a_request_each_limited_then_merged(
    client: SequencePlatformClient, fake: FakePlatform
) -> None:
    ids = fake.add_accounts(60)
    # Transfers between account i and i + 1: the ones between 49 and 50 are in both batches.
    history(fake, 120, ids)
    found = await client.async_get_transfers(since=None, account_ids=ids, limit=30)
    assert [item.id for item in found] == [f"t-{minute:04d}" for minute in range(119, 89, -1)]
    batches = [len(query["accountIds"]) for query in transfer_requests(fake)]
    assert batches == [50, 10]
    assert all(query["pageSize"] == ["30"] for query in transfer_requests(fake))


async def test_a_repeated_item_counts_once_towards_the_limit(
    client: SequencePlatformClient, fake: FakePlatform
) -> None:
    """Offset paging may show an item twice; the limit counts distinct transfers."""
    ids = fake.add_accounts(1)
    history(fake, 10, ids)
    fake.transfers.insert(8, dict(fake.transfers[9]))  # t-0009 twice, next to itself
    found = await client.async_get_transfers(since=None, account_ids=ids, limit=2)
    assert [item.id for item in found] == ["t-0009", "t-0008"]
    assert len(transfer_requests(fake)) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, "limit must be at least 1"),
        ({"until": datetime(2026, 11, 1)}, "must be timezone-aware"),  # noqa: DTZ001
        ({"statuses": ["DONE"]}, "status must be among"),
        ({"directions": [TransferDirection.UNKNOWN]}, "cannot filter on the unknown direction"),
    ],
)
async def test_filters_sequence_would_refuse_are_refused_before_sending(
    client: SequencePlatformClient, fake: FakePlatform, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.async_get_transfers(since=None, account_ids=["a"], **kwargs)
    assert fake.requests == []


# --- External transactions ----------------------------------------------------------------------


def bank_lines(fake: FakePlatform, count: int, accounts: list[str]) -> None:
    fake.external = [
        external_transaction(
            f"x-{minute:04d}",
            accounts[minute % len(accounts)],
            amountInCents=100 + minute,
            transactionDate=stamp(minute),
        )
        for minute in range(count)
    ]


def external_requests(fake: FakePlatform) -> list[dict[str, list[str]]]:
    return [query for path, query, _ in fake.requests if path == f"{PREFIX}/external-transactions"]


async def test_external_transactions_newest_first_fifty_by_default(
    client: SequencePlatformClient, fake: FakePlatform
) -> None:
    bank_lines(fake, 80, ["checking"])
    found = await client.async_get_external_transactions(account_ids=["checking"])
    assert [item.id for item in found] == [f"x-{minute:04d}" for minute in range(79, 29, -1)]
    assert found[0].amount == Decimal("1.79")
    assert found[0].account_id == "checking"
    [query] = external_requests(fake)
    assert query == {"accountIds": ["checking"], "page": ["1"], "pageSize": ["50"]}


async def test_external_transactions_in_a_window_and_every_page(
    client: SequencePlatformClient, fake: FakePlatform
) -> None:
    bank_lines(fake, 300, ["checking", "savings"])
    found = await client.async_get_external_transactions(
        account_ids=["savings", "savings"],
        since=START + timedelta(minutes=1),
        until=START + timedelta(minutes=260),
        limit=None,
    )
    assert len(found) == 130
    assert {item.account_id for item in found} == {"savings"}
    queries = external_requests(fake)
    assert [query["page"] for query in queries] == [["1"], ["2"]]
    assert queries[0]["accountIds"] == ["savings"]
    assert queries[0]["from"] == ["2026-11-01T00:01:00.000000Z"]
    assert queries[0]["to"] == ["2026-11-01T04:20:00.000000Z"]


async def test_external_transactions_of_many_accounts(
    client: SequencePlatformClient, fake: FakePlatform
) -> None:
    accounts = [f"ext-{index:02d}" for index in range(55)]
    bank_lines(fake, 110, accounts)
    found = await client.async_get_external_transactions(account_ids=accounts, limit=10)
    assert [item.id for item in found] == [f"x-{minute:04d}" for minute in range(109, 99, -1)]
    assert [len(query["accountIds"]) for query in external_requests(fake)] == [50, 5]


async def test_no_account_no_request(client: SequencePlatformClient, fake: FakePlatform) -> None:
    assert await client.async_get_external_transactions(account_ids=[]) == ()
    assert fake.requests == []


async def test_external_transactions_need_read_transfers(
    client: SequencePlatformClient, fake: FakePlatform
) -> None:
    async def denied(_request: web.Request) -> web.StreamResponse:
        return error(403, "ACCESS_DENIED", "API key does not have required permissions")

    fake.overrides[f"{PREFIX}/external-transactions"] = denied
    with pytest.raises(SequencePermissionError) as caught:
        await client.async_get_external_transactions(account_ids=["checking"])
    assert caught.value.permission is Permission.READ_TRANSFERS


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, "limit must be at least 1"),
        ({"since": datetime(2026, 11, 1)}, "must be timezone-aware"),  # noqa: DTZ001
    ],
)
async def test_external_transaction_arguments(
    client: SequencePlatformClient, fake: FakePlatform, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.async_get_external_transactions(account_ids=["a"], **kwargs)
    assert fake.requests == []
