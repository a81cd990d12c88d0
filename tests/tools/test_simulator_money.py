"""The simulator's money: transfers, idempotency, timing, approvals, bank lines, rule states."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
import pytest

from tools.simulator.app import build_app
from tools.simulator.platform_records import (
    DEV_PERMISSIONS,
    DEV_TRANSFER_PAIRS,
    READ_PERMISSIONS,
    Permission,
    TransferPair,
)
from tools.simulator.platform_seed import midnight
from tools.simulator.runtime import Simulator
from tools.simulator.state import Bank, platform_id_of

pytestmark = pytest.mark.usefixtures("socket_enabled")

MOVER = "sk_test_mover"
"""The development key's grant: the demo's pairs."""
ANYWHERE = "sk_test_anywhere"
"""MANUAL_TRANSFER with any pair."""
READER = "sk_test_reader"
GROCERIES, RENT, EMERGENCY, VACATION, TAXES = "4410021", "4410022", "4410023", "4410024", "4410025"
PAYCHECK, CHECKING, CARD, BROKERAGE = "4410007", "acc-3c19", "acc-9a02", "acc-77e1"
NOWHERE = "6f0c1a54-0000-4000-8000-000000000000"

type ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
type Client = TestClient[Any, Any]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def simulator(clock: FakeClock) -> Simulator:
    return Simulator.create(
        Bank(seed=7, clock=clock),
        api_keys={MOVER: DEV_PERMISSIONS, ANYWHERE: DEV_PERMISSIONS, READER: READ_PERMISSIONS},
        transfer_pairs={MOVER: DEV_TRANSFER_PAIRS},
    )


@pytest.fixture
async def client(aiohttp_client: ClientFactory, simulator: Simulator) -> Client:
    return await aiohttp_client(build_app(simulator))


def pid(account_id: str) -> str:
    return platform_id_of(account_id)


async def call(
    client: Client,
    route: str,
    *,
    key: str = MOVER,
    json: object = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    method, path = route.split(" ", 1)
    sent = {"Authorization": f"Bearer {key}", **(headers or {})}
    response = await client.request(method, f"/platform/v1{path}", json=json, headers=sent)
    return response.status, await response.json(content_type=None)


async def control(client: Client, method: str, path: str, body: object = None) -> tuple[int, Any]:
    response = await client.request(method, f"/_simulator{path}", json=body)
    return response.status, await response.json()


async def balances(client: Client) -> dict[str, int | None]:
    _, state = await control(client, "GET", "/state")
    return {account["id"]: account["balance_cents"] for account in state["accounts"]}


def transfer_body(source: str, destination: str, cents: object, **changes: Any) -> dict[str, Any]:
    return {
        "sourceAccountId": pid(source),
        "destinationAccountId": pid(destination),
        "amountInCents": cents,
        **changes,
    }


async def transfer(
    client: Client,
    source: str = EMERGENCY,
    destination: str = VACATION,
    cents: int = 5000,
    *,
    key: str = MOVER,
    idempotency_key: str | None = None,
    **changes: Any,
) -> tuple[int, Any]:
    headers = {} if idempotency_key is None else {"idempotency-key": idempotency_key}
    return await call(
        client,
        "POST /transfers",
        key=key,
        json=transfer_body(source, destination, cents, **changes),
        headers=headers,
    )


# --- A live transfer ----------------------------------------------------------------------------


async def test_a_live_transfer_moves_money_and_settles_over_time(
    client: Client, clock: FakeClock
) -> None:
    before = await balances(client)
    status, body = await transfer(client, description="Trip 2027")
    assert status == 201
    created = body["data"]
    assert created["status"] == "PROCESSING"
    assert (created["direction"], created["origin"]) == ("INTERNAL", "USER")
    assert created["executionMode"] == "LIVE"
    assert (created["source"]["name"], created["destination"]["name"]) == (
        "Emergency Fund",
        "Vacation",
    )
    after = await balances(client)
    assert after[EMERGENCY] == before[EMERGENCY] - 5000  # type: ignore[operator]
    assert after[VACATION] == before[VACATION] + 5000  # type: ignore[operator]
    path = f"GET /transfers/{created['id']}"
    status, missing = await call(client, path)
    assert (status, missing["error"]["code"]) == (404, "TRANSFER_NOT_FOUND")
    clock.advance(1)
    assert (await call(client, path))[1]["data"]["status"] == "PROCESSING"
    clock.advance(1)
    assert (await call(client, path))[1]["data"]["status"] == "PENDING"
    clock.advance(3)
    done = (await call(client, path))[1]["data"]
    assert done["status"] == "COMPLETE"
    assert done["completedAt"] == "2027-01-15T08:00:05.000Z"
    assert await balances(client) == after  # the money moved once, at the start


async def test_directions_follow_the_accounts(client: Client) -> None:
    _, out = await transfer(client, VACATION, CHECKING, 1000)
    assert (out["data"]["direction"], out["data"]["origin"]) == ("MONEY_OUT", "USER")
    _, pull = await transfer(client, CHECKING, EMERGENCY, 1000)
    assert (pull["data"]["direction"], pull["data"]["origin"]) == ("MONEY_IN", "USER_PULL")


async def test_without_the_money_it_ends_incomplete_and_moves_nothing(
    client: Client, clock: FakeClock
) -> None:
    await control(client, "PATCH", f"/accounts/{GROCERIES}", {"balance_cents": 300})
    before = await balances(client)
    status, body = await transfer(client, GROCERIES, VACATION, 5000)
    assert (status, body["data"]["status"]) == (201, "PROCESSING")
    assert await balances(client) == before
    clock.advance(5)
    _, done = await call(client, f"GET /transfers/{body['data']['id']}")
    assert (done["data"]["status"], done["data"]["errorCode"]) == (
        "INCOMPLETE",
        "INSUFFICIENT_FUNDS",
    )
    assert done["data"]["completedAt"] is None


async def test_a_disconnected_account_ends_in_error(client: Client, clock: FakeClock) -> None:
    await control(client, "PATCH", f"/accounts/{VACATION}", {"error": "Connection failed"})
    _, body = await transfer(client)
    clock.advance(5)
    _, done = await call(client, f"GET /transfers/{body['data']['id']}")
    assert (done["data"]["status"], done["data"]["errorCode"]) == ("ERROR", "DISCONNECTED_ACCOUNT")


async def test_failing_a_live_transfer_gives_the_money_back(
    client: Client, clock: FakeClock
) -> None:
    before = await balances(client)
    _, body = await transfer(client)
    transfer_id = body["data"]["id"]
    status, _ = await control(
        client, "PATCH", f"/transfers/{transfer_id}", {"status": "ERROR", "error_code": "X"}
    )
    assert status == 200
    assert await balances(client) == before
    # Once complete, a later change moves nothing back.
    _, body = await transfer(client)
    clock.advance(5)
    after = await balances(client)
    await control(client, "PATCH", f"/transfers/{body['data']['id']}", {"status": "CANCELLED"})
    assert await balances(client) == after


# --- Simulations --------------------------------------------------------------------------------


async def test_a_simulation_moves_nothing_and_is_not_listed_as_live(
    client: Client, clock: FakeClock
) -> None:
    before = await balances(client)
    status, body = await transfer(client, simulation=True)
    assert (status, body["data"]["executionMode"], body["data"]["status"]) == (
        201,
        "SIMULATION",
        "PROCESSING",
    )
    clock.advance(5)
    assert await balances(client) == before
    _, done = await call(client, f"GET /transfers/{body['data']['id']}")
    assert done["data"]["status"] == "COMPLETE"
    _, live = await call(
        client, f"GET /transfers?accountIds={pid(EMERGENCY)}&from=2027-01-15T07:00:00Z"
    )
    assert live["data"]["items"] == []


@pytest.mark.parametrize(
    ("setup", "status", "error"),
    [
        (
            {"account": GROCERIES, "change": {"balance_cents": 100}},
            "INCOMPLETE",
            "INSUFFICIENT_FUNDS",
        ),
        ({"account": VACATION, "change": {"error": "Locked"}}, "ERROR", "DISCONNECTED_ACCOUNT"),
    ],
)
async def test_a_simulation_that_would_fail_says_so_at_once(
    client: Client, setup: dict[str, Any], status: str, error: str
) -> None:
    await control(client, "PATCH", f"/accounts/{setup['account']}", setup["change"])
    answer, body = await transfer(client, GROCERIES, VACATION, 5000, simulation=True)
    assert answer == 201
    assert (body["data"]["status"], body["data"]["errorCode"]) == (status, error)


# --- Refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (transfer_body(EMERGENCY, VACATION, 99), 400, "INVALID_PARAMETERS"),
        (transfer_body(EMERGENCY, VACATION, 100.5), 400, "INVALID_PARAMETERS"),
        (transfer_body(EMERGENCY, VACATION, cents=True), 400, "INVALID_PARAMETERS"),
        (
            transfer_body(EMERGENCY, VACATION, 500, description="Eleven chrs"),
            400,
            "INVALID_PARAMETERS",
        ),
        (
            transfer_body(EMERGENCY, VACATION, 500, description="Rent-May"),
            400,
            "INVALID_PARAMETERS",
        ),
        (transfer_body(EMERGENCY, VACATION, 500, description=5), 400, "INVALID_PARAMETERS"),
        (transfer_body(EMERGENCY, VACATION, 500, simulation="yes"), 400, "INVALID_PARAMETERS"),
        ({"sourceAccountId": pid(EMERGENCY), "amountInCents": 500}, 400, "INVALID_PARAMETERS"),
        ([], 400, "INVALID_PARAMETERS"),
        (transfer_body(EMERGENCY, EMERGENCY, 500), 400, "INVALID_PARAMETERS"),
        (transfer_body(CARD, VACATION, 500), 400, "INVALID_PARAMETERS"),
        (transfer_body(EMERGENCY, BROKERAGE, 500), 400, "INVALID_PARAMETERS"),
        (
            {**transfer_body(EMERGENCY, VACATION, 500), "sourceAccountId": NOWHERE},
            400,
            "INVALID_PARAMETERS",
        ),
        (transfer_body(EMERGENCY, RENT, 500), 403, "ACCESS_DENIED"),
        (transfer_body(VACATION, EMERGENCY, 500), 403, "ACCESS_DENIED"),
        (transfer_body(EMERGENCY, VACATION, 50001), 400, "MAXIMUM_AMOUNT_EXCEEDED"),
        (transfer_body(CHECKING, EMERGENCY, 100001), 400, "MAXIMUM_AMOUNT_EXCEEDED"),
    ],
)
async def test_refusals(client: Client, body: object, status: int, code: str) -> None:
    before = await balances(client)
    answer, error = await call(client, "POST /transfers", json=body)
    assert (answer, error["error"]["code"]) == (status, code)
    assert await balances(client) == before


async def test_the_maximum_itself_and_any_pair(client: Client) -> None:
    assert (await transfer(client, EMERGENCY, VACATION, 50000))[0] == 201
    assert (await transfer(client, EMERGENCY, RENT, 500, key=ANYWHERE))[0] == 201


async def test_a_removed_account_cannot_take_part(client: Client) -> None:
    await control(client, "DELETE", f"/accounts/{VACATION}")
    status, body = await transfer(client)
    assert (status, body["error"]["code"]) == (400, "INVALID_PARAMETERS")


async def test_only_a_key_with_manual_transfer(client: Client) -> None:
    status, body = await transfer(client, key=READER)
    assert (status, body["error"]["code"]) == (403, "ACCESS_DENIED")
    status, _ = await transfer(client, key="sk_test_nobody")
    assert status == 401


async def test_bad_json_and_bad_keys(client: Client) -> None:
    response = await client.post(
        "/platform/v1/transfers", data=b"{oops", headers={"Authorization": f"Bearer {MOVER}"}
    )
    assert response.status == 400
    for key in ("x" * 37, "with space"):
        status, body = await transfer(client, idempotency_key=key)
        assert (status, body["error"]["code"]) == (400, "INVALID_PARAMETERS")


# --- Idempotency ----------------------------------------------------------------------------------


async def test_a_key_never_moves_money_twice(client: Client, clock: FakeClock) -> None:
    key = "2027-01-15:vacation"
    status, first = await transfer(client, idempotency_key=key)
    assert status == 201
    moved = await balances(client)
    status, body = await transfer(client, idempotency_key=key)
    assert (status, body["error"]["code"]) == (409, "TRANSFER_IN_PROGRESS")
    clock.advance(1)
    status, again = await transfer(client, idempotency_key=key)
    assert (status, again["data"]["id"]) == (201, first["data"]["id"])
    assert await balances(client) == moved
    status, body = await transfer(client, cents=6000, idempotency_key=key)
    assert (status, body["error"]["code"]) == (400, "IDEMPOTENCY_KEY_MISMATCH")
    status, body = await transfer(client, simulation=True, idempotency_key=key)
    assert (status, body["error"]["code"]) == (400, "IDEMPOTENCY_KEY_MISMATCH")
    clock.advance(24 * 3600)
    status, later = await transfer(client, idempotency_key=key)
    assert status == 201
    assert later["data"]["id"] != first["data"]["id"]


async def test_a_refused_request_does_not_use_up_its_key(client: Client) -> None:
    key = "retry-after-fixing"
    assert (await transfer(client, cents=99, idempotency_key=key))[0] == 400
    assert (await transfer(client, idempotency_key=key))[0] == 201


async def test_each_route_has_its_own_keys(client: Client, simulator: Simulator) -> None:
    key = {"idempotency-key": "shared-key"}
    rule = next(
        rule for rule in simulator.platform.rules.values() if rule.name == "Weekly allowance"
    )
    assert (await transfer(client, idempotency_key="shared-key"))[0] == 201
    assert (
        await call(client, f"POST /rules/{rule.id}/trigger", json={"simulation": True}, headers=key)
    )[0] == 202


# --- Timing ---------------------------------------------------------------------------------------


async def test_timing_is_controlled(client: Client, clock: FakeClock) -> None:
    status, timing = await control(
        client,
        "POST",
        "/timing",
        {
            "hidden_seconds": 0,
            "in_flight_seconds": 0,
            "processing_seconds": 10,
            "settle_seconds": 20,
        },
    )
    assert status == 200
    assert timing == {
        "in_flight_seconds": 0.0,
        "hidden_seconds": 0.0,
        "processing_seconds": 10.0,
        "settle_seconds": 20.0,
    }
    _, body = await transfer(client, idempotency_key="k1")
    path = f"GET /transfers/{body['data']['id']}"
    assert (await call(client, path))[1]["data"]["status"] == "PROCESSING"
    assert (await transfer(client, idempotency_key="k1"))[1]["data"]["id"] == body["data"]["id"]
    clock.advance(10)
    assert (await call(client, path))[1]["data"]["status"] == "PENDING"
    clock.advance(10)
    assert (await call(client, path))[1]["data"]["status"] == "COMPLETE"
    for bad in ({"hidden_seconds": -1}, {"sleep": 1}, {"settle_seconds": "5"}):
        assert (await control(client, "POST", "/timing", bad))[0] == 400
    _, state = await control(client, "POST", "/reset")
    assert state["platform"]["timing"]["hidden_seconds"] == 1.0


# --- Approvals, history, the linked accounts' lines ----------------------------------------------


async def test_a_transfer_awaits_approval(client: Client) -> None:
    _, body = await call(
        client, f"GET /transfers?accountIds={pid(EMERGENCY)}&status=PENDING_APPROVAL"
    )
    [waiting] = body["data"]["items"]
    assert (waiting["amountInCents"], waiting["destination"]["name"]) == (
        200000,
        "Everyday Checking",
    )
    assert waiting["completedAt"] is None
    await control(client, "PATCH", f"/transfers/{waiting['id']}", {"status": "COMPLETE"})
    _, body = await call(
        client, f"GET /transfers?accountIds={pid(EMERGENCY)}&status=PENDING_APPROVAL"
    )
    assert body["data"]["items"] == []


async def test_more_than_a_hundred_transfers_a_month(client: Client) -> None:
    _, first = await call(
        client,
        f"GET /transfers?accountIds={pid(GROCERIES)}&from=2026-12-16T08:00:00Z&pageSize=100",
    )
    assert first["data"]["pagination"]["hasNextPage"] is True
    _, second = await call(
        client,
        f"GET /transfers?accountIds={pid(GROCERIES)}&from=2026-12-16T08:00:00Z&pageSize=100&page=2",
    )
    assert second["data"]["items"]
    assert {item["id"] for item in first["data"]["items"]}.isdisjoint(
        item["id"] for item in second["data"]["items"]
    )


async def lines(client: Client, query: str, key: str = MOVER) -> tuple[int, Any]:
    return await call(client, f"GET /external-transactions?{query}", key=key)


async def test_the_linked_accounts_lines(client: Client, clock: FakeClock) -> None:
    status, body = await lines(client, f"accountIds={pid(CHECKING)}&pageSize=100")
    assert status == 200
    items = body["data"]["items"]
    assert len(items) == 100
    assert body["data"]["pagination"]["hasNextPage"] is True
    dates = [item["transactionDate"] for item in items]
    assert dates == sorted(dates, reverse=True)
    assert {item["accountId"] for item in items} == {pid(CHECKING)}
    assert {item["status"] for item in items[:3]} == {"PENDING"}
    assert items[-1]["status"] == "COMPLETE"
    assert all(item["amountInCents"] > 0 for item in items)
    _, payroll = await lines(client, f"accountIds={pid(CHECKING)}&direction=MONEY_IN&pageSize=100")
    assert {item["description"] for item in payroll["data"]["items"]} == {"ACME CORP PAYROLL"}
    _, pending = await lines(
        client, f"accountIds[]={pid(CHECKING)}&accountIds[]={pid(CARD)}&status=PENDING&pageSize=100"
    )
    assert {item["accountId"] for item in pending["data"]["items"]} == {pid(CHECKING), pid(CARD)}
    _, window = await lines(
        client,
        f"accountIds={pid(CARD)}&from=2027-01-01T00:00:00Z&to=2027-01-07T23:59:59Z&pageSize=100",
    )
    assert len(window["data"]["items"]) == 7
    _, pod = await lines(client, f"accountIds={pid(GROCERIES)}")
    assert pod["data"]["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "accountIds=checking",
        f"accountIds={NOWHERE}&status=DONE",
        f"accountIds={NOWHERE}&direction=INTERNAL",
    ],
)
async def test_bad_line_queries(client: Client, query: str) -> None:
    status, body = await lines(client, query)
    assert (status, body["error"]["code"]) == (400, "INVALID_PARAMETERS")


async def test_lines_need_read_transfers(client: Client, simulator: Simulator) -> None:
    simulator.platform.api_keys["sk_test_accounts"] = frozenset({Permission.READ_ACCOUNTS})
    status, body = await lines(client, f"accountIds={pid(CHECKING)}", key="sk_test_accounts")
    assert (status, body["error"]["code"]) == (403, "ACCESS_DENIED")


async def test_a_line_added_now(client: Client) -> None:
    status, body = await control(
        client,
        "POST",
        "/external_transactions",
        {"account": CARD, "amount_cents": 4599, "description": "Bookshop"},
    )
    assert status == 201
    _, listed = await lines(client, f"accountIds={pid(CARD)}&pageSize=1")
    assert listed["data"]["items"][0] == {
        "id": body["id"],
        "accountId": pid(CARD),
        "amountInCents": 4599,
        "direction": "MONEY_OUT",
        "status": "PENDING",
        "description": "Bookshop",
        "transactionDate": "2027-01-15T08:00:00.000Z",
    }
    for bad, code in (
        ({"account": GROCERIES, "amount_cents": 1}, 400),
        ({"account": CARD}, 400),
        ({"account": CARD, "amount_cents": 1, "status": "LOST"}, 400),
        ({"account": "nope", "amount_cents": 1}, 404),
        ({"account": CARD, "amount_cents": 1, "memo": "x"}, 400),
    ):
        assert (await control(client, "POST", "/external_transactions", bad))[0] == code


# --- Rules: deleted, unsupported, scheduled, partial --------------------------------------------


async def rule_id(client: Client, name: str) -> str:
    _, body = await call(client, "GET /rules?pageSize=100")
    return next(item["id"] for item in body["data"]["items"] if item["name"] == name)


async def test_a_deleted_rule(client: Client) -> None:
    allowance = await rule_id(client, "Weekly allowance")
    status, body = await control(client, "PATCH", f"/rules/{allowance}", {"deleted": True})
    assert body == {"id": allowance, "enabled": True, "supported": True, "deleted": True}
    _, listed = await call(client, "GET /rules?pageSize=100")
    [rule] = [item for item in listed["data"]["items"] if item["id"] == allowance]
    assert rule["deletedAt"] == "2027-01-15T08:00:00.000Z"
    assert (await call(client, f"GET /rules/{allowance}"))[0] == 404
    status, body = await call(client, f"POST /rules/{allowance}/trigger", json={})
    assert (status, body["error"]["code"]) == (403, "INVALID_RULE")
    await control(client, "PATCH", f"/rules/{allowance}", {"deleted": False})
    assert (await call(client, f"POST /rules/{allowance}/trigger", json={}))[0] == 202


async def test_a_rule_made_unsupported(client: Client) -> None:
    allowance = await rule_id(client, "Weekly allowance")
    await control(client, "PATCH", f"/rules/{allowance}", {"supported": False})
    status, body = await call(client, f"POST /rules/{allowance}/trigger", json={})
    assert (status, body["error"]["code"]) == (403, "INVALID_RULE")
    for bad in ({}, {"enabled": 1}, {"gone": True}):
        assert (await control(client, "PATCH", f"/rules/{allowance}", bad))[0] == 400


async def test_scheduled_rules_of_every_type(client: Client, simulator: Simulator) -> None:
    schedules = {}
    for rule in simulator.platform.rules.values():
        if rule.trigger_type == "SCHEDULED":
            _, body = await call(client, f"GET /rules/{rule.id}")
            trigger = body["data"]["trigger"]
            schedules[trigger["scheduleType"]] = trigger["startDate"]
    assert set(schedules) == {
        "ONE_TIME",
        "DAILY",
        "WEEKLY",
        "BI_WEEKLY",
        "MONTHLY",
        "EVERY_OTHER_WEEK",
    }
    assert schedules["ONE_TIME"] == "2027-01-25T12:00:00.000Z"  # ten days ahead
    assert all(start.endswith(":00:00.000Z") for start in schedules.values())
    assert midnight(1_800_000_000.0) == 1_799_971_200.0


async def test_a_partial_execution(client: Client, clock: FakeClock) -> None:
    payday = await rule_id(client, "Payday split")
    await control(client, "PATCH", f"/accounts/{PAYCHECK}", {"balance_cents": 200000})
    _, body = await call(client, f"POST /rules/{payday}/trigger", json={})
    clock.advance(5)
    _, done = await call(client, f"GET /rules/{payday}/executions/{body['data']['executionId']}")
    assert done["data"]["status"] == "PARTIAL"
    assert (done["data"]["transfersCompleted"], done["data"]["transfersFailed"]) == (2, 1)


def test_pairs_take_either_apis_ids() -> None:
    assert TransferPair.of(EMERGENCY, pid(VACATION)) == TransferPair(pid(EMERGENCY), pid(VACATION))
