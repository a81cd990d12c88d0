"""The Platform API client at the HTTP level: real servers on 127.0.0.1, no mocks of aiohttp."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
import logging
import re
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient
import pytest

from custom_components.sequence.api import (
    AccountKind,
    Permission,
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequencePermissionError,
    SequencePlatformClient,
    SequenceRateLimitError,
    SequenceResponseError,
    SequenceServerError,
    TransferDirection,
    detect_credential_kind,
)
from custom_components.sequence.api.limiter import RequestBudget
from custom_components.sequence.api.platform import MAX_PAGES, normalize_api_key
from tests.api.platform_server import (
    PREFIX,
    ROUTING_NUMBER,
    FakePlatform,
    account_detail,
    bank_account_number,
    envelope,
    transfer,
)
from tests.conftest import refusing_port
from tools.simulator.app import build_app
from tools.simulator.platform_records import READ_PERMISSIONS, Permission as SimPermission
from tools.simulator.platform_wire import secret_numbers
from tools.simulator.runtime import Simulator
from tools.simulator.state import Bank

pytestmark = pytest.mark.usefixtures("socket_enabled")

KEY = "sk_test_client_key"
"""Distinctive, so a leak into any text is easy to spot (and no scanner mistakes it for real)."""

type ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
type Client = TestClient[Any, Any]


class VirtualClock:
    """Monotonic time that only moves when the limiter sleeps or a test advances it."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []
        self.real_delay = 0.0
        """Real seconds each sleep also takes (to let a response arrive meanwhile)."""

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(self.real_delay)


@pytest.fixture
def fake() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def server(aiohttp_client: ClientFactory, fake: FakePlatform) -> Client:
    return await aiohttp_client(fake.app())


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


def make_client(
    server: Client, clock: VirtualClock | None = None, **options: Any
) -> SequencePlatformClient:
    """A client with a budget of its own (limits from ``options``, on ``clock`` when given)."""
    limits = {key: options.pop(key) for key in BUDGET_OPTIONS if key in options}
    if clock is not None:
        limits |= {"clock": clock, "sleep": clock.sleep}
    return SequencePlatformClient(
        server.session,
        f"Bearer {KEY}",
        base_url=str(server.make_url(PREFIX)),
        budget=RequestBudget(**limits),
        **options,
    )


BUDGET_OPTIONS = ("requests_per_minute", "max_concurrency")


def respond(
    status: int,
    body: object = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(_request: web.Request) -> web.StreamResponse:
        if raw is not None:
            return web.Response(status=status, body=raw, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    return handler


# --- Accounts, through the simulator (the realistic path) -------------------------------------


@pytest.fixture
def sim_clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def simulator_server(aiohttp_client: ClientFactory, sim_clock: VirtualClock) -> Client:
    simulator = Simulator.create(Bank(seed=5, clock=sim_clock), api_keys={KEY: READ_PERMISSIONS})
    return await aiohttp_client(build_app(simulator))


async def test_accounts_from_the_simulator(simulator_server: Client) -> None:
    snapshot = await make_client(simulator_server).async_get_accounts()
    accounts = {account.name: account for account in snapshot.accounts.values()}
    assert len(accounts) == 10
    groceries = accounts["Groceries"]
    assert groceries.kind is AccountKind.POD
    assert groceries.type_name == "POD"
    assert groceries.balance == Decimal("412.06")
    assert str(groceries.balance) == "412.06"
    assert groceries.available_balance == Decimal("412.06")
    assert groceries.balance_updated_at is not None
    assert groceries.balance_updated_at.tzinfo is UTC
    assert groceries.is_liability is False
    assert groceries.liability is None
    assert accounts["Emergency Fund"].savings_target == Decimal("15000.00")
    assert accounts["Paycheck"].kind is AccountKind.INCOME_SOURCE
    assert accounts["Paycheck"].institution_name == "Acme Payroll"
    card = accounts["Sapphire Visa 4417"]
    assert card.kind is AccountKind.EXTERNAL
    assert card.external_type == "LIABILITY"
    assert card.is_liability is True
    assert card.balance == Decimal("1287.43")  # positive: the amount owed
    assert card.liability is not None
    assert card.liability.last_statement_balance == Decimal("964.12")
    assert card.liability.next_payment_minimum == Decimal("35.00")
    assert isinstance(card.liability.next_payment_due_date, date)
    assert card.liability.interest_rate_percentage == Decimal("24.99")
    brokerage = accounts["Brokerage 9921"]
    assert brokerage.balance is None
    assert brokerage.balance_error == "Connection failed"  # CONNECTION_FAILED, readable
    assert accounts["Everyday Checking"].available_balance == Decimal("3192.27")
    assert snapshot.field_shapes["balance.balanceInCents"] == {"number": 9, "null": 1}


async def test_cents_become_exact_decimals(server: Client, fake: FakePlatform) -> None:
    cases = {"a": 1, "b": 10, "c": 41206, "d": -5, "e": 0, "f": 10**16 + 1, "g": 123456789}
    for account_id, cents in cases.items():
        fake.accounts[account_id] = account_detail(account_id, cents=cents)
    snapshot = await make_client(server).async_get_accounts()
    balances = {key: str(account.balance) for key, account in snapshot.accounts.items()}
    assert balances == {
        "a": "0.01",
        "b": "0.10",
        "c": "412.06",
        "d": "-0.05",
        "e": "0.00",
        "f": "100000000000000.01",
        "g": "1234567.89",
    }


async def test_unchanged_details_keep_their_models(server: Client, fake: FakePlatform) -> None:
    for account_id in ("a", "b"):
        fake.accounts[account_id] = account_detail(account_id, cents=100)
    client = make_client(server)
    first = await client.async_get_accounts()
    fake.accounts["b"] = account_detail("b", cents=101)
    second = await client.async_get_accounts()
    assert second.accounts["a"] is first.accounts["a"]
    assert second.accounts["b"].balance == Decimal("1.01")
    assert second.field_shapes == first.field_shapes


async def test_liability_facts(server: Client, fake: FakePlatform) -> None:
    fake.accounts["card"] = account_detail(
        "card",
        "Amex Gold",
        type_name="EXTERNAL_ACCOUNT",
        external_type="LIABILITY",
        institution="American Express",
        balance={
            "balanceInCents": 245000,
            "availableBalanceInCents": None,
            "lastStatementBalanceInCents": 198000,
            "lastStatementDate": "2026-10-28",
            "nextPaymentMinimumInCents": 3500,
            "nextPaymentDueDate": "2026-11-15",
            "balanceLastUpdatedAt": "2026-11-20T06:00:00+02:00",
            "error": None,
            "interestRatePercentage": 21,
            "originalLoanAmountInCents": 500000,
        },
    )
    account = await make_client(server).async_get_account("card")
    assert account.is_liability
    assert account.balance == Decimal("2450.00")
    assert account.balance_updated_at == datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
    assert account.liability is not None
    assert account.liability.last_statement_date == date(2026, 10, 28)
    assert account.liability.next_payment_due_date == date(2026, 11, 15)
    assert account.liability.interest_rate_percentage == Decimal(21)
    assert account.liability.original_loan_amount == Decimal("5000.00")


async def test_missing_balance_and_spec_example_omissions(
    server: Client, fake: FakePlatform
) -> None:
    fake.accounts["none"] = account_detail("none") | {
        "balance": None,
        "savingsTargetInCents": 250000,
    }
    fake.accounts["short"] = account_detail("short", balance={"balanceInCents": 5, "error": "  "})
    snapshot = await make_client(server).async_get_accounts()
    assert snapshot.accounts["none"].balance is None
    assert snapshot.accounts["none"].savings_target == Decimal("2500.00")
    short = snapshot.accounts["short"]
    assert short.balance == Decimal("0.05")
    assert short.balance_error is None
    assert short.balance_updated_at is None


# --- Pagination, deleted accounts, detail fan-out ---------------------------------------------


async def test_pagination_across_pages(server: Client, fake: FakePlatform) -> None:
    fake.add_accounts(250)
    listed = await make_client(server, requests_per_minute=1000).async_list_accounts()
    assert len(listed) == 250
    assert all(account.balance is None for account in listed)
    pages = [query for path, query, _ in fake.requests if path == f"{PREFIX}/accounts"]
    assert pages == [
        {"page": ["1"], "pageSize": ["100"]},
        {"page": ["2"], "pageSize": ["100"]},
        {"page": ["3"], "pageSize": ["100"]},
    ]


async def test_repeated_items_across_pages_are_kept_once(
    server: Client, fake: FakePlatform
) -> None:
    first, second = account_detail("a"), account_detail("b")

    async def shifting(request: web.Request) -> web.Response:
        page = int(request.query["page"])
        items = [first, second] if page == 1 else [second]
        pagination = {"page": page, "pageSize": 100, "hasNextPage": page == 1}
        return web.json_response(envelope({"items": items, "pagination": pagination}))

    fake.overrides[f"{PREFIX}/accounts"] = shifting
    listed = await make_client(server).async_list_accounts()
    assert [account.id for account in listed] == ["a", "b"]


async def test_deleted_accounts_are_skipped(server: Client, fake: FakePlatform) -> None:
    fake.add_accounts(2)
    fake.accounts["gone"] = account_detail("gone", deleted_at="2026-11-01T00:00:00Z")
    client = make_client(server)
    assert [account.id for account in await client.async_list_accounts()] == [
        "acct-0001",
        "acct-0002",
    ]
    snapshot = await client.async_get_accounts(account_ids=["acct-0001", "gone"])
    assert list(snapshot.accounts) == ["acct-0001"]
    with pytest.raises(SequenceNotFoundError, match="deleted"):
        await client.async_get_account("gone")


async def test_account_ids_skip_the_list_and_404s_are_dropped(
    server: Client, fake: FakePlatform
) -> None:
    fake.add_accounts(3)
    client = make_client(server)
    snapshot = await client.async_get_accounts(
        account_ids=["acct-0002", "acct-0003", "acct-0002", "removed"]
    )
    assert list(snapshot.accounts) == ["acct-0002", "acct-0003"]
    assert fake.counts == {"detail": 3}
    with pytest.raises(SequenceNotFoundError, match="HTTP 404, ACCOUNT_NOT_FOUND"):
        await client.async_get_account("removed")


async def test_account_ids_are_escaped_in_the_path(server: Client, fake: FakePlatform) -> None:
    odd = "a/b?c d"
    fake.accounts[odd] = account_detail(odd)

    async def detail(_request: web.Request) -> web.Response:
        return web.json_response(envelope(fake.accounts[odd]))

    fake.overrides[f"{PREFIX}/accounts/a/b?c d"] = detail
    account = await make_client(server).async_get_account(odd)
    assert account.id == odd
    assert fake.requests[-1][0] == f"{PREFIX}/accounts/a/b?c d"  # one segment, decoded


async def test_detail_fan_out_has_bounded_concurrency(server: Client, fake: FakePlatform) -> None:
    fake.add_accounts(20)
    fake.delay = 0.1  # long enough that a third request is open before the first ends
    snapshot = await make_client(
        server, max_concurrency=3, requests_per_minute=1000
    ).async_get_accounts()
    assert len(snapshot.accounts) == 20
    assert fake.max_in_flight == 3


async def test_first_failure_cancels_the_rest(server: Client, fake: FakePlatform) -> None:
    fake.add_accounts(12)
    fake.delay = 0.01
    fake.overrides[f"{PREFIX}/accounts/acct-0002"] = respond(
        500, {"error": {"code": "UNEXPECTED_ERROR", "message": "x"}}
    )
    with pytest.raises(SequenceServerError, match="HTTP 500, UNEXPECTED_ERROR"):
        await make_client(server, max_concurrency=2).async_get_accounts()
    await asyncio.sleep(0.05)
    assert fake.counts["detail"] < 12


async def test_detail_must_be_the_account_asked_for(server: Client, fake: FakePlatform) -> None:
    fake.accounts["a"] = account_detail("b")
    with pytest.raises(SequenceResponseError, match="not the account asked for"):
        await make_client(server).async_get_account("a")


# --- Request budget and the limiter -----------------------------------------------------------


async def test_request_budget_at_200_accounts(
    aiohttp_client: ClientFactory, sim_clock: VirtualClock
) -> None:
    """One list page per 100 accounts plus one detail per account, never over Sequence's cap.

    The simulator enforces 100 requests/minute per key on the same virtual clock the client's
    limiter uses, so a burst the limiter let through would come back as 429.
    """
    simulator = Simulator.create(
        Bank(seed=5, extra_accounts=190, clock=sim_clock), api_keys={KEY: READ_PERMISSIONS}
    )
    starts: list[float] = []

    @web.middleware
    async def stamp(request: web.Request, handler: Any) -> web.StreamResponse:
        starts.append(sim_clock())
        return await handler(request)

    app = build_app(simulator)
    app.middlewares.append(stamp)
    server = await aiohttp_client(app)
    client = SequencePlatformClient(
        server.session,
        KEY,
        base_url=str(server.make_url(PREFIX)),
        budget=RequestBudget(60, clock=sim_clock, sleep=sim_clock.sleep),
    )
    started = sim_clock()
    snapshot = await client.async_get_accounts()
    assert len(snapshot.accounts) == 200
    assert dict(simulator.requests) == {
        "GET /platform/v1/accounts": 2,
        "GET /platform/v1/accounts/{id}": 200,
    }
    assert len(starts) == 202
    busiest = max(sum(start <= other < start + 60 for other in starts) for start in starts)
    assert busiest == 60  # the limiter's cap, well under Sequence's 100
    assert 180 <= sim_clock() - started < 240  # 202 requests at 60/min: a little over 3 minutes
    assert max(sim_clock.slept) <= 60


async def test_one_budget_shared_by_two_clients(
    server: Client, fake: FakePlatform, clock: VirtualClock
) -> None:
    """Two clients of one key share the window and sit out each other's Retry-After."""
    fake.add_accounts(1)
    budget = RequestBudget(2, clock=clock, sleep=clock.sleep)
    first, second = (
        SequencePlatformClient(
            server.session, KEY, base_url=str(server.make_url(PREFIX)), budget=budget
        )
        for _ in range(2)
    )
    await first.async_get_account("acct-0001")
    await second.async_get_account("acct-0001")
    assert clock.slept == []
    await first.async_get_account("acct-0001")
    assert clock.slept == [60.0]

    fake.overrides[f"{PREFIX}/accounts/acct-0001"] = respond(
        429, raw=b"", headers={"Retry-After": "300"}
    )
    with pytest.raises(SequenceRateLimitError):
        await first.async_get_account("acct-0001")
    sent = len(fake.requests)
    with pytest.raises(SequenceRateLimitError, match="300 s left"):
        await second.async_list_accounts()
    assert len(fake.requests) == sent


# --- Errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        (
            401,
            {"error": {"code": "UNAUTHORIZED", "message": "Unauthorized"}},
            SequenceAuthError,
            "HTTP 401, UNAUTHORIZED",
        ),
        (401, None, SequenceAuthError, "refused the API key (HTTP 401)"),
        (
            404,
            {"error": {"code": "ACCOUNT_NOT_FOUND", "message": "x"}},
            SequenceNotFoundError,
            "HTTP 404",
        ),
        (
            500,
            {"error": {"code": "UNEXPECTED_ERROR", "message": "x"}},
            SequenceServerError,
            "unavailable (HTTP 500, UNEXPECTED_ERROR)",
        ),
        (
            500,
            {"error": {"code": "lower case", "message": 3}},
            SequenceServerError,
            "unavailable (HTTP 500)",
        ),
        (500, {"error": "flat"}, SequenceServerError, "unavailable (HTTP 500)"),
        (
            400,
            {"error": {"code": "BAD_REQUEST", "message": "x"}},
            SequenceResponseError,
            "HTTP 400",
        ),
        (405, None, SequenceResponseError, "answered HTTP 405"),
        (
            403,
            {"error": {"code": "RULE_DEACTIVATED", "message": "x"}},
            SequenceResponseError,
            "HTTP 403, RULE_DEACTIVATED",
        ),
        (409, [], SequenceResponseError, "HTTP 409"),
    ],
)
async def test_error_statuses(
    server: Client, fake: FakePlatform, case: tuple[int, object, type[SequenceError], str]
) -> None:
    status, body, error_type, message = case
    fake.overrides[f"{PREFIX}/accounts"] = respond(status, body)
    with pytest.raises(error_type, match=re.escape(message)) as caught:
        await make_client(server).async_list_accounts()
    assert type(caught.value) is error_type
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


OUTAGE_BODIES = {
    "no-body": b"",
    "json": b'{"error": {"code": "INTERNAL", "message": "boom"}}',
    "html": b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
}


@pytest.mark.parametrize("status", [500, 502, 503, 504, 507, 599])
@pytest.mark.parametrize("raw", OUTAGE_BODIES.values(), ids=OUTAGE_BODIES.keys())
@pytest.mark.parametrize("path", ["/accounts", "/accounts/acct-0001", "/transfers"])
async def test_every_5xx_is_an_outage(
    server: Client, fake: FakePlatform, status: int, raw: bytes, path: str
) -> None:
    fake.add_accounts(1)
    fake.overrides[f"{PREFIX}{path}"] = respond(status, raw=raw)
    client = make_client(server)

    async def poll_everything() -> None:
        await client.async_get_transfers(since=None)  # lists the accounts first
        await client.async_get_accounts()

    with pytest.raises(SequenceServerError) as caught:
        await poll_everything()
    assert str(caught.value).startswith(f"Sequence is unavailable (HTTP {status}")
    assert isinstance(caught.value, SequenceConnectionError)
    assert not isinstance(caught.value, SequenceResponseError)
    assert caught.value.__context__ is None


async def test_an_outage_keeps_its_retry_after_but_blocks_nothing(
    server: Client, fake: FakePlatform, clock: VirtualClock
) -> None:
    fake.add_accounts(1)
    fake.overrides[f"{PREFIX}/accounts"] = respond(503, raw=b"", headers={"Retry-After": "90"})
    client = make_client(server, clock)
    with pytest.raises(SequenceServerError) as caught:
        await client.async_list_accounts()
    assert caught.value.retry_after == 90
    del fake.overrides[f"{PREFIX}/accounts"]
    assert len(await client.async_list_accounts()) == 1  # only a 429 holds requests back


@pytest.mark.parametrize(
    ("path", "message", "permission"),
    [
        (
            "/accounts",
            "API key does not have required permissions to access this resource",
            Permission.READ_ACCOUNTS,
        ),
        ("/accounts", "missing READ_TRANSFERS on these accounts", Permission.READ_TRANSFERS),
        ("/transfers", "API key does not have required permissions", Permission.READ_TRANSFERS),
    ],
)
async def test_access_denied_names_the_permission(
    server: Client, fake: FakePlatform, path: str, message: str, permission: Permission
) -> None:
    fake.add_accounts(1)
    fake.overrides[f"{PREFIX}{path}"] = respond(
        403, {"error": {"code": "ACCESS_DENIED", "message": message}}
    )
    with pytest.raises(SequencePermissionError) as caught:
        await make_client(server).async_get_transfers(since=None)
    assert caught.value.permission == permission
    assert (
        str(caught.value)
        == f"the API key lacks the {permission} permission (HTTP 403, ACCESS_DENIED)"
    )
    assert not isinstance(caught.value, SequenceAuthError)


async def test_403_without_a_body_is_a_permission_error(server: Client, fake: FakePlatform) -> None:
    fake.overrides[f"{PREFIX}/accounts"] = respond(403, raw=b"Forbidden")
    with pytest.raises(SequencePermissionError) as caught:
        await make_client(server).async_list_accounts()
    assert caught.value.permission == Permission.READ_ACCOUNTS


async def test_429_with_retry_after_holds_requests_back(
    server: Client, fake: FakePlatform, clock: VirtualClock
) -> None:
    fake.add_accounts(1)
    fake.overrides[f"{PREFIX}/accounts/acct-0001"] = respond(
        429, {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "x"}}, {"Retry-After": "17"}
    )
    client = make_client(server, clock)
    with pytest.raises(SequenceRateLimitError, match="HTTP 429, RATE_LIMIT_EXCEEDED") as caught:
        await client.async_get_account("acct-0001")
    assert caught.value.retry_after == 17
    del fake.overrides[f"{PREFIX}/accounts/acct-0001"]
    clock.now += 5
    with pytest.raises(SequenceRateLimitError, match="12 s left") as caught:
        await client.async_get_accounts()
    assert caught.value.retry_after == pytest.approx(12)
    assert fake.counts == {"detail": 1}  # nothing was sent while waiting
    clock.now += 12
    assert (await client.async_get_account("acct-0001")).id == "acct-0001"


async def test_429_without_retry_after_holds_back_a_minute(
    server: Client, fake: FakePlatform, clock: VirtualClock
) -> None:
    fake.overrides[f"{PREFIX}/accounts"] = respond(429, raw=b"")
    client = make_client(server, clock)
    with pytest.raises(SequenceRateLimitError) as caught:
        await client.async_list_accounts()
    assert caught.value.retry_after is None
    clock.now += 59
    with pytest.raises(SequenceRateLimitError, match="1 s left"):
        await client.async_list_accounts()


async def test_429_arriving_while_others_wait_for_the_limiter(
    server: Client, fake: FakePlatform, clock: VirtualClock
) -> None:
    fake.add_accounts(3)
    fake.overrides[f"{PREFIX}/accounts/acct-0001"] = respond(
        429, raw=b"", headers={"Retry-After": "600"}
    )
    clock.real_delay = 0.2
    client = make_client(server, clock, requests_per_minute=1, max_concurrency=3)
    with pytest.raises(SequenceRateLimitError):
        await client.async_get_accounts(account_ids=["acct-0001", "acct-0002", "acct-0003"])
    assert fake.counts["detail"] == 1


async def test_retry_after_as_an_http_date(server: Client, fake: FakePlatform) -> None:
    later = (datetime.now(UTC) + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    fake.overrides[f"{PREFIX}/accounts"] = respond(429, raw=b"", headers={"Retry-After": later})
    with pytest.raises(SequenceRateLimitError) as caught:
        await make_client(server).async_list_accounts()
    assert caught.value.retry_after is not None
    assert 80 < caught.value.retry_after <= 90


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the response body is empty"),
        (b"<html>oops</html>", "HTML, not JSON"),
        (b'{"data": {"items": [], "pagina', "not valid JSON"),
        (b'{"value": NaN}', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
async def test_bodies_that_are_not_json(
    server: Client, fake: FakePlatform, raw: bytes, message: str
) -> None:
    fake.overrides[f"{PREFIX}/accounts"] = respond(200, raw=raw)
    with pytest.raises(SequenceResponseError, match=message):
        await make_client(server, max_response_bytes=1_000_000).async_list_accounts()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "the response is array, not an object"),
        ({"requestId": "r"}, "data is missing"),
        ({"data": {}}, "requestId is missing, not a string"),
        ({"data": [], "requestId": "r"}, "data is array, not an object"),
        ({"error": {"code": "X", "message": "y"}}, "data is missing"),
        ({"data": {"pagination": {}}, "requestId": "r"}, "data.items is missing"),
        ({"data": {"items": []}, "requestId": "r"}, "data.pagination is missing"),
        (
            {"data": {"items": [], "pagination": {}}, "requestId": "r"},
            "data.pagination.page is missing",
        ),
        (
            {
                "data": {
                    "items": [],
                    "pagination": {"page": 2, "pageSize": 1, "hasNextPage": False},
                },
                "requestId": "r",
            },
            "not the page asked for",
        ),
        (
            {
                "data": {
                    "items": [],
                    "pagination": {"page": 1, "pageSize": 0, "hasNextPage": False},
                },
                "requestId": "r",
            },
            "pageSize is not positive",
        ),
        (
            {"data": {"items": [], "pagination": {"page": 1, "pageSize": 10}}, "requestId": "r"},
            "hasNextPage is missing",
        ),
        (
            {
                "data": {
                    "items": [],
                    "pagination": {"page": "1", "pageSize": 10, "hasNextPage": False},
                },
                "requestId": "r",
            },
            "page is string, not an integer",
        ),
        (
            {
                "data": {
                    "items": [{"id": 3}],
                    "pagination": {"page": 1, "pageSize": 10, "hasNextPage": False},
                },
                "requestId": "r",
            },
            r"data.items\[0\].id is number, not a string",
        ),
    ],
)
async def test_unexpected_shapes(
    server: Client, fake: FakePlatform, body: object, message: str
) -> None:
    fake.overrides[f"{PREFIX}/accounts"] = respond(200, body)
    with pytest.raises(SequenceResponseError, match=message):
        await make_client(server).async_list_accounts()


async def test_endless_pagination_is_refused(server: Client, fake: FakePlatform) -> None:
    async def endless(request: web.Request) -> web.Response:
        pagination = {"page": int(request.query["page"]), "pageSize": 100, "hasNextPage": True}
        return web.json_response(envelope({"items": [], "pagination": pagination}))

    fake.overrides[f"{PREFIX}/accounts"] = endless
    with pytest.raises(SequenceResponseError, match=f"more than {MAX_PAGES} pages"):
        await make_client(server, requests_per_minute=10_000).async_list_accounts()
    assert fake.counts["/accounts"] == MAX_PAGES


async def test_oversized_responses(server: Client, fake: FakePlatform) -> None:
    fake.overrides[f"{PREFIX}/accounts"] = respond(200, raw=b" " * 2048)
    with pytest.raises(SequenceResponseError, match="larger than 1024 bytes"):
        await make_client(server, max_response_bytes=1024).async_list_accounts()

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(4):
            await response.write(b" " * 512)
        await response.write_eof()
        return response

    fake.overrides[f"{PREFIX}/accounts"] = streamed
    with pytest.raises(SequenceResponseError, match="larger than 1024 bytes"):
        await make_client(server, max_response_bytes=1024).async_list_accounts()


async def test_redirects_are_not_followed(server: Client, fake: FakePlatform) -> None:
    fake.overrides[f"{PREFIX}/accounts"] = respond(
        302, raw=b"", headers={"Location": "https://elsewhere.invalid/"}
    )
    with pytest.raises(SequenceResponseError, match="answered HTTP 302"):
        await make_client(server).async_list_accounts()
    assert len(fake.requests) == 1


async def test_timeout_covers_the_body(server: Client, fake: FakePlatform) -> None:
    async def dribble(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b'{"data": ')
        await asyncio.sleep(1)
        return response

    fake.overrides[f"{PREFIX}/accounts"] = dribble
    with pytest.raises(
        SequenceConnectionError, match=r"no complete answer from Sequence within 0\.2 seconds"
    ) as caught:
        await make_client(server, request_timeout=0.2).async_list_accounts()
    assert caught.value.__context__ is None


async def test_connection_refused() -> None:
    with refusing_port() as port:
        async with ClientSession() as session:
            client = SequencePlatformClient(
                session, KEY, base_url=f"http://127.0.0.1:{port}/platform/v1"
            )
            with pytest.raises(
                SequenceConnectionError, match=r"connection to Sequence failed \(Client"
            ):
                await client.async_list_accounts()


async def raw_server(reply: bytes) -> tuple[asyncio.Server, int]:
    """A TCP server on 127.0.0.1 that answers every request with ``reply`` and hangs up."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize(
    ("reply", "error_type", "message"),
    [
        (
            b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"data"',
            SequenceConnectionError,
            "ClientPayloadError",
        ),
        (b"NOT HTTP AT ALL\r\n\r\n", SequenceResponseError, "invalid HTTP response"),
    ],
)
async def test_broken_http(reply: bytes, error_type: type[SequenceError], message: str) -> None:
    server, port = await raw_server(reply)
    try:
        async with ClientSession() as session:
            client = SequencePlatformClient(session, KEY, base_url=f"http://127.0.0.1:{port}")
            with pytest.raises(error_type, match=message) as caught:
                await client.async_list_accounts()
            assert caught.value.__context__ is None
    finally:
        server.close()
        await server.wait_closed()


class _FailingSession:
    """A session whose requests fail with a plain ``aiohttp.ClientError`` (e.g. a bad URL)."""

    def request(self, *_args: object, **_kwargs: object) -> Any:
        from aiohttp import ClientError  # noqa: PLC0415

        msg = "boom"
        raise ClientError(msg)


async def test_other_client_errors_are_connection_errors() -> None:
    client = SequencePlatformClient(_FailingSession(), KEY)  # type: ignore[arg-type]
    with pytest.raises(
        SequenceConnectionError, match=r"connection to Sequence failed \(ClientError\)"
    ):
        await client.async_list_accounts()


# --- Transfers --------------------------------------------------------------------------------


async def test_transfers_since_with_the_from_filter(server: Client, fake: FakePlatform) -> None:
    ids = fake.add_accounts(2)
    fake.transfers = [
        transfer("t-old", ids[0], ids[1], createdAt="2026-10-01T00:00:00Z"),
        transfer(
            "t-new",
            None,
            ids[0],
            direction="MONEY_IN",
            origin="DIRECT_DEPOSIT",
            ruleId=None,
            ruleExecutionId=None,
            createdAt="2026-11-02T08:00:00Z",
            amountInCents=320000,
        ),
        transfer(
            "t-mid",
            ids[1],
            None,
            direction="MONEY_OUT",
            origin="EXTERNAL_PULL",
            status="PENDING",
            completedAt=None,
            createdAt="2026-11-01T09:15:00Z",
        ),
    ]
    since = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    client = make_client(server)
    transfers = await client.async_get_transfers(since=since)
    assert [item.id for item in transfers] == ["t-new", "t-mid"]
    incoming, outgoing = transfers
    assert incoming.direction is TransferDirection.INCOMING
    assert incoming.direction_name == "MONEY_IN"
    assert incoming.amount == Decimal("3200.00")
    assert incoming.source_id is None
    assert incoming.destination_id == ids[0]
    assert incoming.rule_id is None
    assert incoming.created_at == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    assert outgoing.direction is TransferDirection.OUTGOING
    assert outgoing.status == "PENDING"
    assert outgoing.completed_at is None
    assert outgoing.simulated is False
    query = fake.requests[-1][1]
    assert query == {
        "accountIds": ids,
        "from": ["2026-10-31T12:00:00.000000Z"],
        "page": ["1"],
        "pageSize": ["100"],
    }
    assert [path for path, _, _ in fake.requests] == [f"{PREFIX}/accounts", f"{PREFIX}/transfers"]


async def test_transfers_in_batches_deduplicated(server: Client, fake: FakePlatform) -> None:
    ids = [f"acct-{index:04d}" for index in range(1, 121)]
    fake.transfers = [
        transfer("across", ids[0], ids[119], createdAt="2026-11-02T00:00:00Z"),
        transfer(
            "first",
            ids[1],
            ids[2],
            createdAt="2026-11-01T00:00:00Z",
            executionMode="SIMULATION",
            direction="SIDEWAYS",
        ),
    ]
    transfers = await make_client(server).async_get_transfers(since=None, account_ids=ids)
    assert [item.id for item in transfers] == ["across", "first"]
    assert transfers[1].simulated is True
    assert transfers[1].direction is TransferDirection.UNKNOWN
    batches = [query["accountIds"] for _, query, _ in fake.requests]
    assert [len(batch) for batch in batches] == [50, 50, 20]
    assert all("from" not in query for _, query, _ in fake.requests)


async def test_transfers_paginate(server: Client, fake: FakePlatform) -> None:
    fake.transfers = [
        transfer(
            f"t{index:03d}",
            "a",
            "b",
            createdAt=f"2026-11-01T00:{index // 60:02d}:{index % 60:02d}Z",
        )
        for index in range(150)
    ]
    transfers = await make_client(server).async_get_transfers(since=None, account_ids=["a"])
    assert len(transfers) == 150
    assert transfers[0].id == "t149"
    assert [query["page"] for _, query, _ in fake.requests] == [["1"], ["2"]]


async def test_transfers_need_aware_since_and_some_accounts(
    server: Client, fake: FakePlatform
) -> None:
    client = make_client(server)
    with pytest.raises(ValueError, match="timezone-aware"):
        await client.async_get_transfers(since=datetime(2026, 11, 1))  # noqa: DTZ001
    assert await client.async_get_transfers(since=None, account_ids=[]) == ()
    assert fake.requests == []


# --- Permissions check and credentials --------------------------------------------------------


async def test_check_permissions_with_every_read(simulator_server: Client) -> None:
    check = await make_client(simulator_server).async_check_permissions()
    assert check.granted == {
        Permission.READ_ACCOUNTS,
        Permission.READ_RULES,
        Permission.READ_TRANSFERS,
    }
    assert check.missing == frozenset()
    assert check.unverified == frozenset()


@pytest.mark.parametrize(
    "case",
    [
        (
            {SimPermission.READ_ACCOUNTS},
            {Permission.READ_ACCOUNTS},
            {Permission.READ_RULES, Permission.READ_TRANSFERS},
            set(),
        ),
        (
            {SimPermission.READ_TRANSFERS},
            set(),
            {Permission.READ_ACCOUNTS, Permission.READ_RULES},
            {Permission.READ_TRANSFERS},
        ),
    ],
)
async def test_check_permissions_reports_what_is_missing(
    aiohttp_client: ClientFactory,
    sim_clock: VirtualClock,
    case: tuple[set[SimPermission], set[Permission], set[Permission], set[Permission]],
) -> None:
    permissions, granted, missing, unverified = case
    simulator = Simulator.create(Bank(clock=sim_clock), api_keys={KEY: frozenset(permissions)})
    server = await aiohttp_client(build_app(simulator))
    check = await make_client(server).async_check_permissions()
    assert (check.granted, check.missing, check.unverified) == (granted, missing, unverified)
    assert sum(simulator.requests.values()) == 2 + (not unverified)


async def test_check_permissions_without_accounts(server: Client, fake: FakePlatform) -> None:
    fake.overrides[f"{PREFIX}/rules"] = respond(
        200, envelope({"items": [], "pagination": {"page": 1, "pageSize": 1, "hasNextPage": False}})
    )
    check = await make_client(server).async_check_permissions()
    assert check.granted == {Permission.READ_ACCOUNTS, Permission.READ_RULES}
    assert check.unverified == {Permission.READ_TRANSFERS}


async def test_check_permissions_with_a_bad_key(server: Client, fake: FakePlatform) -> None:
    fake.overrides[f"{PREFIX}/accounts"] = respond(
        401, {"error": {"code": "UNAUTHORIZED", "message": "no"}}
    )
    with pytest.raises(SequenceAuthError):
        await make_client(server).async_check_permissions()


async def test_authorization_header(server: Client, fake: FakePlatform) -> None:
    fake.add_accounts(1)
    await make_client(server).async_list_accounts()
    headers = fake.requests[0][2]
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["Accept"] == "application/json"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("sk_live_abc", "api_key"),
        ("  Bearer sk_test_x ", "api_key"),
        ("bearer\tsk_x", "api_key"),
        ("tok-live-5f2a9c0e77d1", "access_token"),
        ("Bearer abc", "access_token"),
        ("SK_upper", "access_token"),
        ("", "access_token"),
    ],
)
def test_detect_credential_kind(raw: str, kind: str) -> None:
    assert detect_credential_kind(raw) == kind


@pytest.mark.parametrize(
    ("raw", "message"),
    [("", "empty"), ("Bearer ", "empty"), ("sk_a b", "spaces"), ("sk_é", "characters")],
)
def test_unusable_keys(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_api_key(raw)


def test_normalize_api_key() -> None:
    assert normalize_api_key("  BEARER   sk_live_x  ") == "sk_live_x"
    assert normalize_api_key("sk_live_x") == "sk_live_x"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"request_timeout": 0}, "request_timeout"),
        ({"max_response_bytes": 0}, "max_response_bytes"),
    ],
)
async def test_bad_options(options: dict[str, Any], message: str) -> None:
    async with ClientSession() as session:
        with pytest.raises(ValueError, match=message):
            SequencePlatformClient(session, KEY, **options)


# --- Secrets ----------------------------------------------------------------------------------


async def test_secrets_never_leak(
    simulator_server: Client, server: Client, fake: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    """The key, routing numbers and account numbers appear in no model, repr, error or log."""
    caplog.set_level(logging.DEBUG)
    client = make_client(simulator_server)
    snapshot = await client.async_get_accounts()
    transfers = await client.async_get_transfers(since=None, account_ids=list(snapshot.accounts))
    fake.add_accounts(2)
    fake.overrides[f"{PREFIX}/accounts/acct-0002"] = respond(
        500, {"error": {"code": "UNEXPECTED_ERROR", "message": f"{KEY} {ROUTING_NUMBER}"}}
    )
    errors: list[BaseException] = []
    for path, status in ((f"{PREFIX}/transfers", 403), (f"{PREFIX}/rules", 401)):
        fake.overrides[path] = respond(status, {"error": {"code": "ACCESS_DENIED", "message": KEY}})
    other = make_client(server)
    for call in (
        other.async_get_accounts,
        lambda: other.async_get_transfers(since=None),
        other.async_check_permissions,
    ):
        with pytest.raises(SequenceError) as caught:
            await call()
        errors.append(caught.value)

    secrets = {KEY, ROUTING_NUMBER, bank_account_number(1), bank_account_number(2)}
    sim_bank = Bank(seed=5)
    for account in sim_bank.accounts():
        secrets.update(secret_numbers(account))
    texts = [
        repr(client),
        repr(other),
        repr(snapshot),
        repr(transfers),
        caplog.text,
        *(repr(err) + str(err) + repr(vars(err)) for err in errors),
        *(repr(account) for account in snapshot.accounts.values()),
    ]
    for secret in secrets:
        for text in texts:
            assert secret not in text
    for account in snapshot.accounts.values():
        assert not any(
            "routing" in name.lower() or "number" in name.lower()
            for name in type(account).__dataclass_fields__
        )
    assert "GET /accounts/{id} answered HTTP 200" in caplog.text
