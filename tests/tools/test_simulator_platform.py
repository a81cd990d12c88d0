"""The simulator's Platform API (/platform/v1): wire format, keys, rate limit, rules, control."""

from collections.abc import Awaitable, Callable
import logging
from typing import Any
import uuid

from aiohttp import web
from aiohttp.test_utils import TestClient
import pytest

from tools.simulator.__main__ import parse_args
from tools.simulator.app import build_app
from tools.simulator.platform_records import (
    DEFAULT_API_KEY,
    DEV_PERMISSIONS,
    DEV_TRANSFER_PAIRS,
    READ_PERMISSIONS,
    Permission,
    RateLimit,
    TransferPair,
    parse_api_key,
)
from tools.simulator.platform_state import PlatformState
from tools.simulator.platform_wire import error_code, secret_numbers
from tools.simulator.runtime import Simulator
from tools.simulator.state import Bank, platform_id_of

pytestmark = pytest.mark.usefixtures("socket_enabled")

KEY = "sk_test_sim_key"
READER = "sk_test_accounts_reader"
TRIGGER = "sk_test_rule_runner"
PAYCHECK, RENT, GROCERIES, CARD = "4410007", "4410022", "4410021", "acc-9a02"

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
        api_keys={
            KEY: READ_PERMISSIONS,
            READER: frozenset({Permission.READ_ACCOUNTS}),
            TRIGGER: READ_PERMISSIONS | {Permission.TRIGGER_RULES},
        },
    )


@pytest.fixture
async def client(aiohttp_client: ClientFactory, simulator: Simulator) -> Client:
    return await aiohttp_client(build_app(simulator))


async def call(
    client: Client,
    route: str,
    *,
    key: str | None = KEY,
    json: object = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    method, path = route.split(" ", 1)
    sent = dict(headers or {})
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    response = await client.request(method, f"/platform/v1{path}", json=json, headers=sent)
    if response.content_type != "application/json":
        return response.status, await response.text()
    return response.status, await response.json()


async def control(client: Client, method: str, path: str, body: object = None) -> tuple[int, Any]:
    response = await client.request(method, f"/_simulator{path}", json=body)
    return response.status, await response.json()


async def remote_balances(client: Client) -> dict[str, float | None]:
    response = await client.post(
        "/accounts", json={}, headers={"x-sequence-access-token": "dev-token"}
    )
    body = await response.json()
    return {item["id"]: item["balance"]["amountInDollars"] for item in body["data"]["accounts"]}


def pid(account_id: str) -> str:
    return platform_id_of(account_id)


async def every_item(client: Client, path: str) -> list[dict[str, Any]]:
    """Every item of a list, page after page (100 a page)."""
    items: list[dict[str, Any]] = []
    separator = "&" if "?" in path else "?"
    for page in range(1, 100):
        _, body = await call(client, f"GET {path}{separator}page={page}&pageSize=100")
        items += body["data"]["items"]
        if not body["data"]["pagination"]["hasNextPage"]:
            return items
    raise AssertionError(path)


# --- Accounts ---------------------------------------------------------------------------------


async def test_list_accounts_pages(client: Client) -> None:
    status, body = await call(client, "GET /accounts")
    assert status == 200
    assert body["requestId"].startswith("req_")
    assert len(body["data"]["items"]) == 10
    assert body["data"]["pagination"] == {"page": 1, "pageSize": 10, "hasNextPage": False}
    _, body = await call(client, "GET /accounts?page=2&pageSize=4")
    assert [item["name"] for item in body["data"]["items"]] == [
        "Taxes",
        "Paycheck",
        "Everyday Checking",
        "High Yield Savings",
    ]
    assert body["data"]["pagination"]["hasNextPage"] is True
    _, body = await call(client, "GET /accounts?type=EXTERNAL_ACCOUNT")
    assert {item["externalAccountType"] for item in body["data"]["items"]} == {
        "DEPOSITORY",
        "LIABILITY",
        "INVESTMENT",
    }
    for item in body["data"]["items"]:
        assert "routingNumber" not in item
        assert "balance" not in item


@pytest.mark.parametrize(
    "query",
    [
        "pageSize=101",
        "pageSize=0",
        "page=0",
        "page=x",
        "type=CARD",
        "state=DELETED",
        "pageSize=%C2%B2",
    ],
)
async def test_bad_list_parameters(client: Client, query: str) -> None:
    status, body = await call(client, f"GET /accounts?{query}")
    assert status == 400
    assert body["error"]["code"] == "INVALID_PARAMETERS"


async def test_account_detail_in_cents(client: Client) -> None:
    status, body = await call(client, f"GET /accounts/{pid(CARD)}")
    assert status == 200
    card = body["data"]
    assert card["balance"]["balanceInCents"] == 128743
    assert card["balance"]["lastStatementBalanceInCents"] == 96412
    assert card["balance"]["nextPaymentMinimumInCents"] == 3500
    assert card["balance"]["interestRatePercentage"] == 24.99
    assert card["balance"]["balanceLastUpdatedAt"].endswith("T06:00:00.000Z")
    assert (card["routingNumber"], card["bankAccountNumber"]) == secret_numbers(Bank().get(CARD))
    assert len(card["routingNumber"]) == 9
    assert len(card["bankAccountNumber"]) == 16
    _, body = await call(client, f"GET /accounts/{pid('4410024')}")
    assert body["data"]["savingsTargetInCents"] == 300000
    assert (
        body["data"]["balance"]["availableBalanceInCents"]
        == body["data"]["balance"]["balanceInCents"]
    )
    _, body = await call(client, f"GET /accounts/{pid('acc-77e1')}")
    assert body["data"]["balance"]["balanceInCents"] is None
    assert body["data"]["balance"]["error"] == "CONNECTION_FAILED"


async def test_both_apis_show_the_same_bank(client: Client, clock: FakeClock) -> None:
    clock.advance(5 * 3600)
    remote = await remote_balances(client)
    for account_id, dollars in remote.items():
        _, body = await call(client, f"GET /accounts/{pid(account_id)}")
        cents = body["data"]["balance"]["balanceInCents"]
        assert cents == (None if dollars is None else round(dollars * 100))


async def test_api_keys_see_the_household_only(client: Client, simulator: Simulator) -> None:
    """The business is a second beneficiary that only its own access tokens see."""
    _, body = await call(client, "GET /accounts?pageSize=100&state=ALL")
    listed = {item["id"] for item in body["data"]["items"]}
    assert listed == {account.platform_id for account in simulator.bank.accounts()}
    business = simulator.business.accounts()
    assert business
    for account in business:
        assert account.platform_id not in listed
        status, _ = await call(client, f"GET /accounts/{account.platform_id}")
        assert status == 404


async def test_removed_accounts_are_deleted_on_the_platform_api(client: Client) -> None:
    status, _ = await control(client, "DELETE", f"/accounts/{GROCERIES}")
    assert status == 200
    _, active = await call(client, "GET /accounts")
    assert pid(GROCERIES) not in {item["id"] for item in active["data"]["items"]}
    _, everything = await call(client, "GET /accounts?state=ALL&pageSize=100")
    removed = [item for item in everything["data"]["items"] if item["id"] == pid(GROCERIES)]
    assert removed[0]["deletedAt"] is not None
    _, detail = await call(client, f"GET /accounts/{pid(GROCERIES)}")
    assert detail["data"]["deletedAt"] is not None
    assert detail["data"]["balance"] is None
    _, transfers = await call(client, f"GET /transfers?accountIds={pid(GROCERIES)}&pageSize=1")
    newest = transfers["data"]["items"][0]
    side = newest["source"] if newest["source"]["id"] == pid(GROCERIES) else newest["destination"]
    assert side["isDeleted"] is True
    assert GROCERIES not in await remote_balances(client)
    await control(client, "POST", "/accounts", {"id": GROCERIES, "name": "Groceries again"})
    _, detail = await call(client, f"GET /accounts/{pid(GROCERIES)}")
    assert detail["data"]["deletedAt"] is None


async def test_unknown_account_is_404(client: Client) -> None:
    status, body = await call(client, f"GET /accounts/{uuid.uuid4()}")
    assert status == 404
    assert body["error"]["code"] == "ACCOUNT_NOT_FOUND"


# --- Keys, permissions, rate limit, routing ---------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer sk_test_wrong", f"Token {KEY}", KEY])
async def test_missing_or_unknown_key_is_401(client: Client, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    status, body = await call(client, "GET /accounts", key=None, headers=headers)
    assert status == 401
    assert body == {"error": {"code": "UNAUTHORIZED", "message": "Unauthorized"}}


async def test_scheme_is_case_insensitive(client: Client) -> None:
    status, _ = await call(
        client, "GET /accounts", key=None, headers={"Authorization": f"bearer  {KEY}"}
    )
    assert status == 200


async def test_permissions_per_key(client: Client) -> None:
    assert (await call(client, "GET /accounts", key=READER))[0] == 200
    for route in (
        f"GET /transfers?accountIds={pid(RENT)}",
        "GET /rules",
        f"GET /transfers/{uuid.uuid4()}",
    ):
        status, body = await call(client, route, key=READER)
        assert status == 403
        assert body["error"]["code"] == "ACCESS_DENIED"
    status, _ = await call(client, f"POST /rules/{uuid.uuid4()}/trigger", json={})
    assert status == 403


async def test_rate_limit_per_key(client: Client, clock: FakeClock) -> None:
    for _ in range(100):
        assert (await call(client, "GET /rules"))[0] == 200
    clock.advance(20)
    status, body = await call(client, "GET /rules")
    assert status == 429
    assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    response = await client.get("/platform/v1/rules", headers={"Authorization": f"Bearer {KEY}"})
    assert response.headers["Retry-After"] == "40"
    assert (await call(client, "GET /accounts", key=READER))[0] == 200  # another key's budget
    clock.advance(40)
    assert (await call(client, "GET /rules"))[0] == 200


async def test_unknown_routes_and_methods_are_plain_404(client: Client) -> None:
    for method, path in (
        ("DELETE", "/accounts"),
        ("PUT", f"/rules/{uuid.uuid4()}"),
        ("GET", "/nothing"),
    ):
        response = await client.request(
            method, f"/platform/v1{path}", headers={"Authorization": f"Bearer {KEY}"}
        )
        assert response.status == 404
        assert response.content_type == "text/plain"


@pytest.mark.parametrize(
    ("scenario", "status", "code"),
    [
        ("token_revoked", 401, "UNAUTHORIZED"),
        ("rate_limited", 429, "RATE_LIMIT_EXCEEDED"),
        ("server_error", 500, "UNEXPECTED_ERROR"),
    ],
)
async def test_scenarios_use_the_platform_envelope(
    client: Client, scenario: str, status: int, code: str
) -> None:
    await control(client, "POST", "/scenario", {"scenario": scenario, "times": 1})
    answer, body = await call(client, "GET /accounts")
    assert (answer, body["error"]["code"]) == (status, code)
    assert (await call(client, "GET /accounts"))[0] == 200


async def test_rate_limited_scenario_sends_retry_after(client: Client) -> None:
    await control(client, "POST", "/scenario", {"scenario": "rate_limited", "retry_after": 7})
    response = await client.get("/platform/v1/accounts", headers={"Authorization": f"Bearer {KEY}"})
    assert response.headers["Retry-After"] == "7"


async def test_bad_gateway_slow_and_malformed(client: Client) -> None:
    await control(client, "POST", "/scenario", {"scenario": "bad_gateway_html", "times": 1})
    response = await client.get("/platform/v1/accounts", headers={"Authorization": f"Bearer {KEY}"})
    assert (response.status, response.content_type) == (502, "text/html")
    await control(
        client, "POST", "/scenario", {"scenario": "slow", "slow_seconds": 0.01, "times": 1}
    )
    assert (await call(client, "GET /accounts"))[0] == 200
    await control(client, "POST", "/scenario", {"scenario": "malformed", "times": 2})
    response = await client.get("/platform/v1/rules", headers={"Authorization": f"Bearer {KEY}"})
    text = await response.text()
    assert response.status == 200
    assert text.startswith('{"data": {"items"')
    assert not text.endswith("}")
    status, _ = await call(client, "GET /accounts", key="sk_test_wrong")  # errors stay whole
    assert status == 401


# --- Transfers --------------------------------------------------------------------------------


async def test_transfers_filters(client: Client) -> None:
    status, body = await call(client, f"GET /transfers?accountIds={pid(PAYCHECK)}&pageSize=100")
    assert status == 200
    items = body["data"]["items"]
    created = [item["createdAt"] for item in items]
    assert created == sorted(created, reverse=True)
    assert {item["executionMode"] for item in items} == {"LIVE"}
    paychecks = [item for item in items if item["origin"] == "DIRECT_DEPOSIT"]
    assert len(paychecks) == 3
    assert all(item["source"] is None and item["amountInCents"] == 320000 for item in paychecks)
    _, everything = await call(
        client, f"GET /transfers?accountIds[]={pid(PAYCHECK)}&executionMode=ALL&pageSize=100"
    )
    assert len(everything["data"]["items"]) == len(items) + 2
    _, recent = await call(
        client,
        f"GET /transfers?accountIds={pid(PAYCHECK)}"
        "&from=2027-01-14T00:00:00Z&to=2027-01-16T00:00:00%2B00:00",
    )
    assert len(recent["data"]["items"]) == 4
    _, incoming = await call(
        client,
        f"GET /transfers?accountIds={pid(PAYCHECK)}"
        "&direction=MONEY_IN&status=COMPLETE&origin=DIRECT_DEPOSIT",
    )
    assert len(incoming["data"]["items"]) == 3
    execution = items[0]["ruleExecutionId"]
    _, by_run = await call(
        client, f"GET /transfers?accountIds={pid(PAYCHECK)}&rule_execution_id={execution}"
    )
    assert {item["ruleExecutionId"] for item in by_run["data"]["items"]} == {execution}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "accountIds=not-a-uuid",
        "from=yesterday",
        "from=2026-01-01",
        "status=LOST",
        "executionMode=SOME",
    ],
)
async def test_transfers_bad_parameters(client: Client, query: str) -> None:
    if query.startswith(("from", "status", "execution")):
        query = f"accountIds={pid(RENT)}&{query}"
    status, body = await call(client, f"GET /transfers?{query}")
    assert status == 400
    assert body["error"]["code"] == "INVALID_PARAMETERS"


async def test_transfers_settle_over_time(client: Client, clock: FakeClock) -> None:
    _, body = await call(client, f"GET /transfers?accountIds={pid(CARD)}")
    latest = body["data"]["items"][0]
    assert (latest["status"], latest["completedAt"]) == ("PENDING", None)
    clock.advance(2 * 3600)
    _, body = await call(client, f"GET /transfers/{latest['id']}")
    assert body["data"]["status"] == "COMPLETE"
    assert body["data"]["completedAt"] is not None


async def test_account_transfers_by_role(client: Client) -> None:
    routes = {}
    for role in ("source", "destination", "either"):
        routes[role] = await every_item(
            client, f"/accounts/{pid(GROCERIES)}/transfers?accountRole={role}"
        )
    assert len(routes["either"]) > 100  # the daily round-ups
    assert all(item["source"]["id"] == pid(GROCERIES) for item in routes["source"])
    assert all(item["destination"]["id"] == pid(GROCERIES) for item in routes["destination"])
    assert len(routes["either"]) == len(routes["source"]) + len(routes["destination"])
    atm = [item for item in routes["source"] if item["origin"] == "EXTERNAL_PULL"]
    assert atm[0]["destination"] == {
        "id": None,
        "name": "ATM withdrawal",
        "type": "EXTERNAL_ENTITY",
        "isDeleted": None,
    }


async def test_transfer_by_id(client: Client, simulator: Simulator) -> None:
    transfer_id = next(iter(simulator.platform.transfers))
    status, body = await call(client, f"GET /transfers/{transfer_id}")
    assert (status, body["data"]["id"]) == (200, transfer_id)
    status, body = await call(client, f"GET /transfers/{uuid.uuid4()}")
    assert (status, body["error"]["code"]) == (404, "TRANSFER_NOT_FOUND")


# --- Rules, triggers, executions --------------------------------------------------------------


async def rules(client: Client) -> dict[str, dict[str, Any]]:
    _, body = await call(client, "GET /rules")
    return {item["name"]: item for item in body["data"]["items"]}


async def test_rules(client: Client) -> None:
    listed = await rules(client)
    assert set(listed) == {
        "Payday split",
        "Pay the Sapphire card",
        "Vacation top-up",
        "Round-ups (legacy)",
        "Daily round-ups",
        "Weekly allowance",
        "Rent reserve",
        "Fortnightly savings",
        "Estimated tax payment",
    }
    assert listed["Vacation top-up"]["status"] == "DISABLED"
    assert listed["Round-ups (legacy)"]["isSupported"] is False
    _, body = await call(client, f"GET /rules/{listed['Payday split']['id']}")
    rule = body["data"]
    assert rule["trigger"] == {"type": "ON_FUNDS_TRANSFERRED", "accountId": pid(PAYCHECK)}
    actions = rule["steps"][0]["actions"]
    assert [action["type"] for action in actions] == ["FIXED", "FIXED", "PERCENTAGE"]
    assert actions[0]["amountInCents"] == 185000
    assert actions[2]["percentageValue"] == 10
    _, body = await call(client, f"GET /rules/{listed['Pay the Sapphire card']['id']}")
    assert body["data"]["trigger"]["scheduleType"] == "MONTHLY"
    assert body["data"]["trigger"]["startDate"] == "2026-12-26T15:00:00.000Z"
    status, body = await call(client, f"GET /rules/{listed['Round-ups (legacy)']['id']}")
    assert (status, body["error"]["code"]) == (403, "INVALID_RULE")
    status, body = await call(client, f"GET /rules/{uuid.uuid4()}")
    assert (status, body["error"]["code"]) == (404, "RULE_NOT_FOUND")
    _, body = await call(client, f"GET /rules?sourceId={pid(GROCERIES)}")
    assert [item["name"] for item in body["data"]["items"]] == [
        "Pay the Sapphire card",
        "Daily round-ups",
    ]


async def test_live_trigger_moves_money(client: Client, clock: FakeClock) -> None:
    payday = (await rules(client))["Payday split"]["id"]
    await control(client, "PATCH", f"/accounts/{PAYCHECK}", {"balance_cents": 500000})
    before = await remote_balances(client)
    status, body = await call(client, f"POST /rules/{payday}/trigger", key=TRIGGER, json={})
    assert status == 202
    execution_id = body["data"]["executionId"]
    after = await remote_balances(client)
    assert round((after[RENT] - before[RENT]) * 100) == 185000
    assert round((after[GROCERIES] - before[GROCERIES]) * 100) == 60000
    assert round(after[PAYCHECK] * 100) == 500000 - 185000 - 60000 - 25500
    status, _ = await call(client, f"GET /rules/{payday}/executions/{execution_id}")
    assert status == 404  # Sequence lags a moment behind its own answer
    clock.advance(1)
    _, running = await call(client, f"GET /rules/{payday}/executions/{execution_id}")
    assert running["data"]["status"] == "IN_PROGRESS"
    assert running["data"]["transfersPending"] == 3
    clock.advance(4)
    _, done = await call(client, f"GET /rules/{payday}/executions/{execution_id}")
    assert done["data"]["status"] == "EXECUTED"
    assert done["data"]["triggerDetails"] == {"type": "SEQUENCE_API", "amountInCents": None}
    assert done["data"]["transfersCompleted"] == 3
    _, listed = await call(client, f"GET /rules/{payday}/executions")
    assert listed["data"]["items"][0]["id"] == execution_id


async def test_live_trigger_without_funds_fails(client: Client, clock: FakeClock) -> None:
    card_rule = (await rules(client))["Pay the Sapphire card"]["id"]
    _, body = await call(client, f"POST /rules/{card_rule}/trigger", key=TRIGGER, json={})
    execution_id = body["data"]["executionId"]
    clock.advance(5)
    _, done = await call(client, f"GET /rules/{card_rule}/executions/{execution_id}")
    assert done["data"]["status"] == "FAILED"
    assert done["data"]["errorMessage"] == "Insufficient funds in source account."
    [transfer_id] = done["data"]["transferIds"]
    _, transfer = await call(client, f"GET /transfers/{transfer_id}")
    assert (transfer["data"]["status"], transfer["data"]["errorCode"]) == (
        "INCOMPLETE",
        "INSUFFICIENT_FUNDS",
    )
    assert transfer["data"]["amountInCents"] == 128743


async def test_simulated_trigger_moves_nothing(client: Client, simulator: Simulator) -> None:
    payday = (await rules(client))["Payday split"]["id"]
    before = await remote_balances(client)
    status, body = await call(
        client,
        f"POST /rules/{payday}/trigger",
        key=TRIGGER,
        json={"simulation": True, "executeAmount": 150000},
    )
    assert status == 202
    assert await remote_balances(client) == before
    execution = simulator.platform.executions[body["data"]["executionId"]]
    assert execution.execution_mode == "SIMULATION"
    transfers = [simulator.platform.transfers[item] for item in execution.transfer_ids]
    assert [item.amount_cents for item in transfers] == [185000, 60000, 15000]
    _, live = await call(client, f"GET /rules/{payday}/executions?executionMode=LIVE&pageSize=100")
    assert body["data"]["executionId"] not in {item["id"] for item in live["data"]["items"]}


async def test_trigger_idempotency(client: Client, clock: FakeClock) -> None:
    payday = (await rules(client))["Payday split"]["id"]
    key = {"idempotency-key": "run-2026-11-21"}
    first = await call(
        client, f"POST /rules/{payday}/trigger", key=TRIGGER, json={"simulation": True}, headers=key
    )
    assert first == (202, first[1])
    status, body = await call(
        client, f"POST /rules/{payday}/trigger", key=TRIGGER, json={"simulation": True}, headers=key
    )
    assert (status, body["error"]["code"]) == (409, "RULE_EXECUTION_IN_PROGRESS")
    clock.advance(1)
    again = await call(
        client, f"POST /rules/{payday}/trigger", key=TRIGGER, json={"simulation": True}, headers=key
    )
    assert again == (202, {"data": first[1]["data"], "requestId": again[1]["requestId"]})
    clock.advance(24 * 3600 - 2)
    assert (
        await call(
            client,
            f"POST /rules/{payday}/trigger",
            key=TRIGGER,
            json={"simulation": True},
            headers=key,
        )
    )[1]["data"] == first[1]["data"]
    status, body = await call(
        client, f"POST /rules/{payday}/trigger", key=TRIGGER, json={}, headers=key
    )
    assert (status, body["error"]["code"]) == (400, "IDEMPOTENCY_KEY_MISMATCH")
    clock.advance(2)  # a day after the first: forgotten, so a new run
    _, fresh = await call(
        client, f"POST /rules/{payday}/trigger", key=TRIGGER, json={}, headers=key
    )
    assert fresh["data"] != first[1]["data"]


@pytest.mark.parametrize(
    "case",
    [
        ("Vacation top-up", {}, {}, 403, "RULE_DEACTIVATED"),
        ("Round-ups (legacy)", {}, {}, 403, "INVALID_RULE"),
        ("Payday split", {"executeAmount": -1}, {}, 400, "INVALID_PARAMETERS"),
        ("Payday split", {"executeAmount": True}, {}, 400, "INVALID_PARAMETERS"),
        ("Payday split", {"simulation": "yes"}, {}, 400, "INVALID_PARAMETERS"),
        ("Payday split", [], {}, 400, "INVALID_PARAMETERS"),
        ("Payday split", {}, {"idempotency-key": "x" * 37}, 400, "INVALID_PARAMETERS"),
        ("Payday split", {}, {"idempotency-key": "bad key!"}, 400, "INVALID_PARAMETERS"),
    ],
)
async def test_trigger_refusals(
    client: Client, case: tuple[str, object, dict[str, str], int, str]
) -> None:
    rule_name, body, headers, status, code = case
    rule_id = (await rules(client))[rule_name]["id"]
    answer, error = await call(
        client, f"POST /rules/{rule_id}/trigger", key=TRIGGER, json=body, headers=headers
    )
    assert (answer, error["error"]["code"]) == (status, code)


async def test_trigger_unknown_rule_and_bad_json(client: Client) -> None:
    status, body = await call(client, f"POST /rules/{uuid.uuid4()}/trigger", key=TRIGGER, json={})
    assert (status, body["error"]["code"]) == (404, "RULE_NOT_FOUND")
    payday = (await rules(client))["Payday split"]["id"]
    response = await client.post(
        f"/platform/v1/rules/{payday}/trigger",
        data=b"{oops",
        headers={"Authorization": f"Bearer {TRIGGER}"},
    )
    assert response.status == 400


async def test_execution_filters(client: Client) -> None:
    listed = await rules(client)
    payday = listed["Payday split"]["id"]
    _, body = await call(client, f"GET /rules/{payday}/executions?executionMode=ALL")
    assert len(body["data"]["items"]) == 4
    _, body = await call(client, f"GET /rules/{payday}/executions?status=IN_PROGRESS")
    assert len(body["data"]["items"]) == 1
    _, body = await call(client, f"GET /rules/{payday}/executions?triggerType=SCHEDULED")
    assert body["data"]["items"] == []
    _, body = await call(
        client, f"GET /rules/{payday}/executions?from=2026-12-01T00:00:00Z&to=2027-01-14T00:00:00Z"
    )
    assert len(body["data"]["items"]) == 2
    top_up = listed["Vacation top-up"]["id"]
    _, body = await call(client, f"GET /rules/{top_up}/executions")
    [failed] = body["data"]["items"]
    assert failed["status"] == "FAILED"
    card = listed["Pay the Sapphire card"]["id"]
    _, body = await call(client, f"GET /rules/{card}/executions")
    _, detail = await call(
        client, f"GET /rules/{card}/executions/{body['data']['items'][-1]['id']}"
    )
    assert detail["data"]["triggerDetails"]["type"] == "SCHEDULED"
    status, body = await call(client, f"GET /rules/{payday}/executions/{failed['id']}")
    assert (status, body["error"]["code"]) == (404, "RULE_EXECUTION_NOT_FOUND")


# --- Control API, state, CLI, secrets ---------------------------------------------------------


async def test_control_api_keys(client: Client) -> None:
    status, body = await control(
        client, "POST", "/api_keys", {"key": "sk_test_new_key", "permissions": ["READ_RULES"]}
    )
    assert (status, body) == (200, {"permissions": ["READ_RULES"], "transfer_pairs": None})
    assert (await call(client, "GET /rules", key="sk_test_new_key"))[0] == 200
    assert (await call(client, "GET /accounts", key="sk_test_new_key"))[0] == 403
    assert (
        await control(client, "POST", "/api_keys", {"key": "sk_test_new_key", "revoked": True})
    )[1] == {"revoked": True}
    assert (await call(client, "GET /rules", key="sk_test_new_key"))[0] == 401
    status, body = await control(
        client,
        "POST",
        "/api_keys",
        {
            "key": "sk_test_mover",
            "permissions": ["MANUAL_TRANSFER"],
            "transfer_pairs": [
                {"source": GROCERIES, "target": pid(RENT), "max_amount_cents": 2500},
                {"source": RENT, "target": GROCERIES},
            ],
        },
    )
    assert (status, body["transfer_pairs"]) == (
        200,
        [
            {"source": pid(GROCERIES), "target": pid(RENT), "max_amount_cents": 2500},
            {"source": pid(RENT), "target": pid(GROCERIES), "max_amount_cents": None},
        ],
    )
    for bad in (
        {"key": " x"},
        {"key": "k", "permissions": ["FLY"]},
        {"key": "k", "permissions": "READ_RULES"},
        {"key": "k", "other": 1},
        {"key": "k", "permissions": [], "transfer_pairs": "all"},
        {"key": "k", "permissions": [], "transfer_pairs": [{"source": GROCERIES}]},
        {"key": "k", "permissions": [], "transfer_pairs": [{"source": "a", "to": "b"}]},
        {
            "key": "k",
            "permissions": [],
            "transfer_pairs": [{"source": "a", "target": "b", "max_amount_cents": 99}],
        },
    ):
        assert (await control(client, "POST", "/api_keys", bad))[0] == 400


async def test_control_transfers_and_rules(client: Client, simulator: Simulator) -> None:
    status, body = await control(
        client, "POST", "/transfers", {"amount_cents": 150000, "status": "PENDING"}
    )
    assert status == 201
    transfer_id = body["id"]
    _, seen = await call(client, f"GET /transfers/{transfer_id}")
    assert seen["data"]["direction"] == "MONEY_IN"
    assert seen["data"]["destination"]["id"] == pid(PAYCHECK)
    assert (
        await control(
            client,
            "PATCH",
            f"/transfers/{transfer_id}",
            {"status": "ERROR", "error_code": "PAYMENT_FAILED"},
        )
    )[0] == 200
    _, seen = await call(client, f"GET /transfers/{transfer_id}")
    assert (seen["data"]["status"], seen["data"]["errorCode"]) == ("ERROR", "PAYMENT_FAILED")
    status, body = await control(
        client,
        "POST",
        "/transfers",
        {
            "amount_cents": 2000,
            "direction": "MONEY_OUT",
            "source": GROCERIES,
            "external_party": "Coffee shop",
        },
    )
    _, seen = await call(client, f"GET /transfers/{body['id']}")
    assert seen["data"]["destination"]["name"] == "Coffee shop"
    assert seen["data"]["origin"] == "USER"
    for bad in (
        {},
        {"amount_cents": 0},
        {"amount_cents": 1, "status": "LOST"},
        {"amount_cents": 1, "source": "nope"},
    ):
        assert (await control(client, "POST", "/transfers", bad))[0] in {400, 404}
    assert (await control(client, "PATCH", f"/transfers/{uuid.uuid4()}", {"status": "COMPLETE"}))[
        0
    ] == 404
    top_up = next(
        rule for rule in simulator.platform.rules.values() if rule.name == "Vacation top-up"
    )
    assert (await control(client, "PATCH", f"/rules/{top_up.id}", {"enabled": True}))[0] == 200
    assert (await call(client, f"POST /rules/{top_up.id}/trigger", key=TRIGGER, json={}))[0] == 202
    assert (await control(client, "PATCH", f"/rules/{top_up.id}", {"enabled": "yes"}))[0] == 400
    assert (await control(client, "PATCH", f"/rules/{uuid.uuid4()}", {"enabled": True}))[0] == 404


async def test_state_and_reset(client: Client, simulator: Simulator) -> None:
    await call(client, "GET /accounts")
    await control(client, "POST", "/api_keys", {"key": KEY, "revoked": True})
    _, state = await control(client, "GET", "/state")
    platform = state["platform"]
    assert platform["api_keys"] == [
        {"permissions": ["READ_ACCOUNTS"], "transfer_pairs": None},
        {
            "permissions": sorted(READ_PERMISSIONS | {Permission.TRIGGER_RULES}),
            "transfer_pairs": None,
        },
    ]
    assert platform["transfers"] == len(simulator.platform.transfers)
    assert platform["transfers_in_progress"] == 5
    assert platform["transfers_awaiting_approval"] == 1
    assert platform["timing"] == {
        "in_flight_seconds": 1.0,
        "hidden_seconds": 1.0,
        "processing_seconds": 2.0,
        "settle_seconds": 5.0,
    }
    assert state["requests"] == {"GET /platform/v1/accounts": 1}
    _, state = await control(client, "POST", "/reset")
    assert len(state["platform"]["api_keys"]) == 3
    assert (await call(client, "GET /accounts"))[0] == 200


def test_api_key_specs() -> None:
    assert parse_api_key("sk_a") == ("sk_a", DEV_PERMISSIONS, DEV_TRANSFER_PAIRS)
    assert parse_api_key("sk_a:") == ("sk_a", frozenset(), None)
    assert parse_api_key("sk_a:read_accounts, TRIGGER_RULES") == (
        "sk_a",
        frozenset({Permission.READ_ACCOUNTS, Permission.TRIGGER_RULES}),
        None,
    )
    assert parse_api_key("sk_a:MANUAL_TRANSFER") == (
        "sk_a",
        frozenset({Permission.MANUAL_TRANSFER}),
        None,
    )
    assert parse_api_key(
        f"sk_a:READ_ACCOUNTS,MANUAL_TRANSFER=4410023>4410024@50000+{pid(GROCERIES)} > {pid(RENT)}"
    ) == (
        "sk_a",
        frozenset({Permission.READ_ACCOUNTS, Permission.MANUAL_TRANSFER}),
        (
            TransferPair(pid("4410023"), pid("4410024"), 50000),
            TransferPair(pid(GROCERIES), pid(RENT), None),
        ),
    )
    for bad in (
        "",
        ":READ_RULES",
        "sk a",
        "sk_a:FLY",
        "sk_a:READ_RULES=x>y",
        "sk_a:MANUAL_TRANSFER=x",
        "sk_a:MANUAL_TRANSFER=x>",
        "sk_a:MANUAL_TRANSFER=x>y@99",
        "sk_a:MANUAL_TRANSFER=x>y@ten",
    ):
        with pytest.raises(ValueError, match=r"API key|permission|pair|MANUAL_TRANSFER"):
            parse_api_key(bad)


def test_limits_and_keys_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimit(0)
    with pytest.raises(ValueError, match="at least one API key"):
        PlatformState(Bank(), api_keys={})
    assert error_code("Connection failed") == "CONNECTION_FAILED"
    assert error_code("!!!") == "UNKNOWN_ERROR"


def test_cli_platform_options(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args([])
    assert args.api_key == {DEFAULT_API_KEY: DEV_PERMISSIONS}
    assert args.transfer_pairs == {DEFAULT_API_KEY: DEV_TRANSFER_PAIRS}
    assert args.platform_rate_limit == 100
    args = parse_args(
        [
            "--api-key",
            "sk_test_a:READ_ACCOUNTS",
            "--api-key",
            "sk_test_b",
            "--platform-rate-limit",
            "5",
        ]
    )
    assert args.api_key == {"sk_test_a": {Permission.READ_ACCOUNTS}, "sk_test_b": DEV_PERMISSIONS}
    assert args.transfer_pairs == {"sk_test_a": None, "sk_test_b": DEV_TRANSFER_PAIRS}
    assert args.platform_rate_limit == 5
    for bad in (["--api-key", "sk_a:FLY"], ["--platform-rate-limit", "0"]):
        with pytest.raises(SystemExit):
            parse_args(bad)
    assert "sk_a" not in capsys.readouterr().err


def test_default_key_does_not_look_like_a_real_one() -> None:
    import re  # noqa: PLC0415

    assert not re.search(r"sk_[A-Za-z0-9]{16,}", DEFAULT_API_KEY)


async def test_keys_never_logged_nor_shown(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await call(client, "GET /accounts")
    await call(client, "GET /accounts", key="sk_test_wrong_key")
    await control(client, "POST", "/api_keys", {"key": "sk_test_added_key", "permissions": []})
    response = await client.get("/_simulator/state")
    text = await response.text() + caplog.text
    for key in (KEY, READER, TRIGGER, "sk_test_wrong_key", "sk_test_added_key"):
        assert key not in text
    assert "GET /platform/v1/accounts 200" in caplog.text
