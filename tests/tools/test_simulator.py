"""The Sequence simulator (tools/simulator): wire format, scenarios, control API, drift, CLI."""

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
import json
import logging
from pathlib import Path
import re
import signal
import socket
import sys
import time
from typing import Any
import uuid

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient, make_mocked_request
from homeassistant.util import slugify
from hypothesis import given, strategies as st
import pytest

from tools.simulator.__main__ import is_loopback, main, parse_args, serve, url
from tools.simulator.app import DEFAULT_BUSINESS_TOKEN, DEFAULT_TOKEN, build_app, observe
from tools.simulator.params import InvalidParamsError
from tools.simulator.runtime import Simulator
from tools.simulator.scenarios import SCENARIO_NAMES, ScenarioController, Settings
from tools.simulator.state import (
    BUSINESS_FIRST_NUMBER,
    DRIFT_KNOT_SECONDS,
    AccountKind,
    Bank,
    ExternalType,
    SimAccount,
    business_accounts,
    drift_offset_cents,
    seed_accounts,
)

# Home Assistant's plugin blocks sockets; the simulator is a real server on 127.0.0.1, which
# pytest-socket's host allow-list (127.0.0.1 only) still permits once sockets are enabled.
pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-live-5f2a9c0e77d1"
HEADER = "x-sequence-access-token"
LISTENING = re.compile(r"^Sequence simulator listening on (http://\S+) \(scenario: (\w+)\)$")

type ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
type Client = TestClient[Any, Any]


class FakeClock:
    """Simulated time, moved by the test."""

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
    return Simulator.create(Bank(seed=7, clock=clock))


@pytest.fixture
async def client(aiohttp_client: ClientFactory, simulator: Simulator) -> Client:
    return await aiohttp_client(build_app(simulator, tokens=[TOKEN]))


async def fetch(
    client: Client, *, token: str | None = f"Bearer {TOKEN}", body: bytes = b"{}"
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers[HEADER] = token
    response = await client.post("/accounts", data=body, headers=headers)
    return response.status, await response.json()


async def accounts_by_name(client: Client) -> dict[str, dict[str, Any]]:
    status, body = await fetch(client)
    assert status == 200
    return {account["name"]: account for account in body["data"]["accounts"]}


async def control(client: Client, method: str, path: str, body: object = None) -> tuple[int, Any]:
    response = await client.request(method, f"/_simulator{path}", json=body)
    return response.status, await response.json()


async def set_scenario(client: Client, name: str, /, **params: object) -> Any:
    status, body = await control(client, "POST", "/scenario", {"scenario": name, **params})
    assert status == 200, body
    return body


# --- The Remote API's wire format ---------------------------------------------------------------


async def test_envelope_and_field_types(client: Client) -> None:
    status, body = await fetch(client)
    assert status == 200
    assert set(body) == {"message", "requestId", "data"}
    assert body["message"] == "OK"
    uuid.UUID(body["requestId"])
    assert set(body["data"]) == {"accounts"}
    accounts = body["data"]["accounts"]
    assert len(accounts) == len(seed_accounts())
    assert len({account["id"] for account in accounts}) == len(accounts)
    for account in accounts:
        assert set(account) == {"id", "name", "type", "balance"}
        assert isinstance(account["id"], str)
        assert isinstance(account["name"], str)
        assert account["type"] in {"Pod", "Income Source", "Account"}
        assert set(account["balance"]) == {"amountInDollars", "error"}
        amount, error = account["balance"]["amountInDollars"], account["balance"]["error"]
        if error is None:
            assert type(amount) is float  # a JSON number with a fraction, as Sequence sends
            assert Decimal(str(amount)) == Decimal(str(amount)).quantize(Decimal("0.01"))
        else:
            assert amount is None
            assert isinstance(error, str)


async def test_seeded_beneficiary(client: Client) -> None:
    accounts = await accounts_by_name(client)
    pods = {name for name, account in accounts.items() if account["type"] == "Pod"}
    assert {"Groceries", "Rent", "Emergency Fund", "Vacation", "Taxes"} <= pods
    assert accounts["Paycheck"]["type"] == "Income Source"
    assert accounts["Groceries"]["balance"] == {"amountInDollars": 412.06, "error": None}
    externals = [account for account in accounts.values() if account["type"] == "Account"]
    assert len(externals) == 4
    card = accounts["Sapphire Visa 4417"]["balance"]["amountInDollars"]
    assert card > 0  # debt shows as a positive balance on the legacy API
    assert accounts["Brokerage 9921"]["balance"] == {
        "amountInDollars": None,
        "error": "Connection failed",
    }


def test_seeded_accounts_keep_platform_facts() -> None:
    accounts = {account.name: account for account in seed_accounts()}
    card = accounts["Sapphire Visa 4417"]
    assert card.external_type is ExternalType.LIABILITY
    assert card.liability is not None
    assert card.institution == "Chase"
    assert accounts["Vacation"].savings_target_cents == 300000
    assert uuid.UUID(card.platform_id).version == 5
    assert card.platform_id == seed_accounts()[8].platform_id


@pytest.mark.parametrize("token", [f"Bearer {TOKEN}", TOKEN, f"bearer  {TOKEN} "])
async def test_token_with_or_without_bearer(client: Client, token: str) -> None:
    status, _ = await fetch(client, token=token)
    assert status == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_other_methods_are_405(client: Client, method: str) -> None:
    response = await client.request(method, "/accounts", headers={HEADER: TOKEN})
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert set(await response.json()) == {"code", "message"}


@pytest.mark.parametrize(
    "token", [None, "", "Bearer ", "Bearer wrong-token", "wrong-token", "sk_live_platform_key"]
)
async def test_missing_or_wrong_token_is_401(client: Client, token: str | None) -> None:
    status, body = await fetch(client, token=token)
    assert status == 401
    assert body == {"code": "INVALID_ACCESS_TOKEN", "message": body["message"]}
    assert isinstance(body["message"], str)


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'"{}"', b"\xff\xfe", b'{"a":'])
async def test_body_must_be_a_json_object(client: Client, body: bytes) -> None:
    status, answer = await fetch(client, body=body)
    assert status == 400
    assert answer["code"] == "INVALID_REQUEST"
    assert set(answer) == {"code", "message"}


async def test_several_tokens(aiohttp_client: ClientFactory, simulator: Simulator) -> None:
    one, two = "token-one", "token-two"
    client = await aiohttp_client(build_app(simulator, tokens=[one, two]))
    assert (await fetch(client, token=two))[0] == 200
    assert (await fetch(client, token=one))[0] == 200
    assert (await fetch(client, token=f"Bearer {DEFAULT_TOKEN}"))[0] == 401


@pytest.mark.parametrize("tokens", [[], [""], [" padded "]])
def test_build_app_needs_usable_tokens(simulator: Simulator, tokens: list[str]) -> None:
    with pytest.raises(ValueError, match="access token"):
        build_app(simulator, tokens=tokens)


# --- The second beneficiary: a small business ----------------------------------------------------

BUSINESS_TOKEN = "tok-business-8e31"


@pytest.fixture
async def business_client(aiohttp_client: ClientFactory, simulator: Simulator) -> Client:
    return await aiohttp_client(
        build_app(simulator, tokens=[TOKEN], business_tokens=[BUSINESS_TOKEN])
    )


async def test_a_business_token_sees_the_business_only(business_client: Client) -> None:
    """Another beneficiary: its own accounts, no name or id shared with the household's."""
    household = await accounts_by_name(business_client)
    status, body = await fetch(business_client, token=f"Bearer {BUSINESS_TOKEN}")
    assert status == 200
    business = {account["name"]: account for account in body["data"]["accounts"]}
    assert [account.name for account in business_accounts()] == list(business)
    assert not business.keys() & household.keys()
    assert not {a["id"] for a in business.values()} & {a["id"] for a in household.values()}
    assert business["Client Payments"]["type"] == "Income Source"
    assert business["Amex Business 1008"]["balance"]["amountInDollars"] > 0  # owed
    assert business["Payroll Reserve"]["balance"] == {"amountInDollars": 6425.0, "error": None}
    assert all(account["balance"]["error"] is None for account in business.values())


def test_no_slug_of_a_business_account_is_a_households() -> None:
    """Entity ids come from account names: the two beneficiaries' never clash in a demo."""
    household = {slugify(account.name) for account in seed_accounts()}
    business = {slugify(account.name) for account in business_accounts()}
    assert not household & business
    assert len(business) == len(business_accounts())


async def test_business_balances_drift_on_the_same_clock(
    business_client: Client, simulator: Simulator, clock: FakeClock
) -> None:
    assert simulator.business.clock is simulator.bank.clock
    before = balances(simulator.business)
    clock.advance(3 * DRIFT_KNOT_SECONDS)
    assert balances(simulator.business) != before


async def test_scenario_faults_reach_business_tokens(business_client: Client) -> None:
    await set_scenario(business_client, "server_error", times=1)
    assert (await fetch(business_client, token=BUSINESS_TOKEN))[0] == 500
    assert (await fetch(business_client, token=BUSINESS_TOKEN))[0] == 200


def test_a_token_sees_one_beneficiary(simulator: Simulator) -> None:
    with pytest.raises(ValueError, match="one beneficiary"):
        build_app(simulator, tokens=["same"], business_tokens=["same"])
    with pytest.raises(ValueError, match="access token"):
        build_app(simulator, tokens=["t"], business_tokens=[" padded"])


async def test_control_api_reaches_the_business(
    business_client: Client, simulator: Simulator
) -> None:
    """State lists it; an account is added to it when asked, changed and removed by id."""
    _, state = await control(business_client, "GET", "/state")
    assert [a["name"] for a in state["business_accounts"]] == [
        account.name for account in business_accounts()
    ]
    status, added = await control(
        business_client, "POST", "/accounts", {"name": "Travel", "beneficiary": "business"}
    )
    assert status == 201
    assert int(added["id"]) >= BUSINESS_FIRST_NUMBER
    assert simulator.business.get(added["id"]).name == "Travel"
    status, renamed = await control(
        business_client, "PATCH", "/accounts/6620101", {"name": "Payroll"}
    )
    assert (status, renamed["name"]) == (200, "Payroll")
    assert await control(business_client, "DELETE", "/accounts/acc-c2d8") == (
        200,
        {"removed": "acc-c2d8"},
    )
    _, body = await fetch(business_client, token=BUSINESS_TOKEN)
    names = [account["name"] for account in body["data"]["accounts"]]
    assert "Payroll" in names
    assert "Travel" in names
    assert "Amex Business 1008" not in names
    assert "Groceries" in await accounts_by_name(business_client)  # the household is untouched
    _, state = await control(business_client, "POST", "/reset")
    assert [a["name"] for a in state["business_accounts"]] == [
        account.name for account in business_accounts()
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "A", "beneficiary": "nobody"}, "beneficiary must be one of: household, business"),
        ({"name": "A", "id": "6620101"}, "already exists"),  # a business id, to the household
        ({"name": "A", "id": "4410021", "beneficiary": "business"}, "already exists"),
    ],
)
async def test_bad_business_add_requests(
    business_client: Client, body: object, message: str
) -> None:
    status, answer = await control(business_client, "POST", "/accounts", body)
    assert status == 400
    assert message in answer["error"]


# --- Scenarios --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "status", "code"),
    [
        ("token_revoked", 401, "INVALID_ACCESS_TOKEN"),
        ("rate_limited", 429, "TOO_MANY_REQUESTS"),
        ("server_error", 500, "UNEXPECTED_ERROR"),
    ],
)
async def test_error_scenarios(client: Client, scenario: str, status: int, code: str) -> None:
    await set_scenario(client, scenario)
    for _ in range(2):  # stays until switched
        answer = await fetch(client)
        assert answer[0] == status
        assert set(answer[1]) == {"code", "message"}
        assert answer[1]["code"] == code
    await set_scenario(client, "ok")
    assert (await fetch(client))[0] == 200


async def test_rate_limited_retry_after(client: Client) -> None:
    await set_scenario(client, "rate_limited")
    response = await client.post("/accounts", data=b"{}", headers={HEADER: TOKEN})
    assert response.headers["Retry-After"] == "30"
    await set_scenario(client, "rate_limited", retry_after=7)
    response = await client.post("/accounts", data=b"{}", headers={HEADER: TOKEN})
    assert response.status == 429
    assert response.headers["Retry-After"] == "7"


async def test_retry_after_from_settings(aiohttp_client: ClientFactory, clock: FakeClock) -> None:
    bank = Bank(clock=clock)
    simulator = Simulator.create(bank, Settings(retry_after=120, slow_seconds=0.0))
    simulator.scenarios.activate("rate_limited")
    client = await aiohttp_client(build_app(simulator))
    response = await client.post("/accounts", data=b"{}", headers={HEADER: DEFAULT_TOKEN})
    assert response.headers["Retry-After"] == "120"


async def test_bad_gateway_is_html(client: Client) -> None:
    await set_scenario(client, "bad_gateway_html")
    response = await client.post("/accounts", data=b"{}", headers={HEADER: TOKEN})
    assert response.status == 502
    assert response.content_type == "text/html"
    assert "502 Bad Gateway" in await response.text()


async def test_slow_answers_correctly_but_late(client: Client) -> None:
    await set_scenario(client, "slow", slow_seconds=0.05)
    started = time.monotonic()
    status, body = await fetch(client)
    assert time.monotonic() - started >= 0.05
    assert status == 200
    assert body["data"]["accounts"]


async def test_malformed_is_not_json(client: Client) -> None:
    await set_scenario(client, "malformed")
    response = await client.post("/accounts", data=b"{}", headers={HEADER: TOKEN})
    assert response.status == 200
    assert response.content_type == "application/json"
    text = await response.text()
    assert text.startswith('{"message": "OK"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


async def test_faults_for_a_number_of_requests(client: Client) -> None:
    body = await set_scenario(client, "server_error", times=2)
    assert body["scenario"]["remaining"] == 2
    assert [(await fetch(client))[0] for _ in range(3)] == [500, 500, 200]
    _, state = await control(client, "GET", "/state")
    assert state["scenario"]["name"] == "ok"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"scenario": "flood"}, "unknown scenario"),
        ({}, "scenario is required"),
        ({"scenario": "ok", "retry_after": 3}, "takes no parameter"),
        ({"scenario": "rate_limited", "retry_after": -1}, "retry_after"),
        ({"scenario": "rate_limited", "retry_after": True}, "retry_after"),
        ({"scenario": "slow", "slow_seconds": "soon"}, "slow_seconds"),
        ({"scenario": "server_error", "times": 0}, "times"),
        ({"scenario": "account_removed", "id": "nope"}, "no account"),
        ({"scenario": "account_renamed", "name": ""}, "name"),
        ({"scenario": "account_added", "id": "4410021"}, "already exists"),
        ([], "JSON object"),
    ],
)
async def test_bad_scenario_requests(client: Client, body: object, message: str) -> None:
    status, answer = await control(client, "POST", "/scenario", body)
    assert status == 400
    assert message in answer["error"]
    _, state = await control(client, "GET", "/state")
    assert state["scenario"]["name"] == "ok"
    assert len(state["accounts"]) == len(seed_accounts())


async def test_control_body_must_be_json(client: Client) -> None:
    response = await client.post("/_simulator/scenario", data=b"{oops")
    assert response.status == 400
    assert "JSON object" in (await response.json())["error"]


def test_scenarios_are_listed_once() -> None:
    assert SCENARIO_NAMES == (
        "ok",
        "token_revoked",
        "rate_limited",
        "server_error",
        "bad_gateway_html",
        "slow",
        "malformed",
        "account_added",
        "account_removed",
        "account_renamed",
    )


def test_mutation_needs_an_account(clock: FakeClock) -> None:
    bank = Bank(clock=clock)
    for account in bank.accounts():
        bank.remove(account.id)
    controller = ScenarioController(bank)
    with pytest.raises(InvalidParamsError, match="no accounts"):
        controller.activate("account_renamed")


# --- Account changes: by scenario and by control endpoint ----------------------------------------


async def test_account_added_by_scenario(client: Client) -> None:
    body = await set_scenario(client, "account_added")
    assert body["scenario"]["name"] == "ok"
    added = body["added"]
    accounts = await accounts_by_name(client)
    assert accounts[added["name"]]["type"] == "Pod"
    assert accounts[added["name"]]["balance"]["amountInDollars"] == 25.0
    second = await set_scenario(client, "account_added", name="Gifts", balance_cents=-150)
    assert second["added"]["id"] != added["id"]
    assert (await accounts_by_name(client))["Gifts"]["balance"]["amountInDollars"] == -1.5


async def test_account_removed_by_scenario(client: Client) -> None:
    body = await set_scenario(client, "account_removed")
    assert body["removed"]["name"] == "Brokerage 9921"  # default: the last one
    await set_scenario(client, "account_removed", id="4410021")
    accounts = await accounts_by_name(client)
    assert "Brokerage 9921" not in accounts
    assert "Groceries" not in accounts
    assert len(accounts) == len(seed_accounts()) - 2


async def test_account_renamed_by_scenario(client: Client) -> None:
    body = await set_scenario(client, "account_renamed")
    assert body["old_name"] == "Groceries"
    await set_scenario(client, "account_renamed", id="4410022", name="Mortgage")
    _, answer = await fetch(client)
    names = [account["name"] for account in answer["data"]["accounts"]]
    assert names[:2] == ["Groceries (renamed)", "Mortgage"]  # same ids, same order


async def test_add_account_by_control(client: Client) -> None:
    status, added = await control(
        client, "POST", "/accounts", {"name": "Amex 1008", "type": "Account", "balance_cents": 9}
    )
    assert status == 201
    assert added["kind"] == "EXTERNAL_ACCOUNT"
    status, income = await control(
        client, "POST", "/accounts", {"name": "Side gig", "type": "INCOME_SOURCE", "id": "x-1"}
    )
    assert status == 201
    assert income["id"] == "x-1"
    _, body = await fetch(client)
    last_two = body["data"]["accounts"][-2:]
    assert last_two == [
        {
            "id": added["id"],
            "name": "Amex 1008",
            "type": "Account",
            "balance": {"amountInDollars": 0.09, "error": None},
        },
        {
            "id": "x-1",
            "name": "Side gig",
            "type": "Income Source",
            "balance": {"amountInDollars": 0.0, "error": None},
        },
    ]


async def test_add_account_with_error_and_platform_facts(
    client: Client, simulator: Simulator
) -> None:
    status, added = await control(
        client,
        "POST",
        "/accounts",
        {
            "name": "Student Loan",
            "type": "account",
            "external_type": "liability",
            "institution": "Nelnet",
            "error": "Login required",
            "drift_cents": 100,
        },
    )
    assert status == 201
    assert added["balance_cents"] is None
    account = simulator.bank.get(added["id"])
    assert account.external_type is ExternalType.LIABILITY
    assert account.institution == "Nelnet"
    _, pod = await control(client, "POST", "/accounts", {"name": "Plain"})
    assert simulator.bank.get(pod["id"]).kind is AccountKind.POD
    assert simulator.bank.get(pod["id"]).external_type is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name is required"),
        ({"name": "A", "type": "Loan"}, "type must be one of"),
        ({"name": "A", "type": "Account", "external_type": "CRYPTO"}, "external_type"),
        ({"name": "A", "balance_cents": 1.5}, "balance_cents"),
        ({"name": "A", "drift_cents": -1}, "drift_cents"),
        ({"name": "A", "error": 3}, "error must be"),
        ({"name": "A", "colour": "red"}, "takes no parameter 'colour'"),
        ({"name": "A", "id": "4410021"}, "already exists"),
    ],
)
async def test_bad_add_requests(client: Client, body: object, message: str) -> None:
    status, answer = await control(client, "POST", "/accounts", body)
    assert status == 400
    assert message in answer["error"]


async def test_patch_account(client: Client) -> None:
    status, changed = await control(
        client, "PATCH", "/accounts/4410021", {"name": "Food", "balance_cents": 100001}
    )
    assert status == 200
    assert changed["name"] == "Food"
    assert (await accounts_by_name(client))["Food"]["balance"]["amountInDollars"] == 1000.01
    await control(client, "PATCH", "/accounts/4410021", {"error": "Connection failed"})
    assert (await accounts_by_name(client))["Food"]["balance"] == {
        "amountInDollars": None,
        "error": "Connection failed",
    }
    await control(client, "PATCH", "/accounts/4410021", {"error": None, "drift_cents": 0})
    assert (await accounts_by_name(client))["Food"]["balance"] == {
        "amountInDollars": 1000.01,
        "error": None,
    }


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/accounts/nope", {"name": "X"}, 404, "no account"),
        ("/accounts/4410021", {}, 400, "give at least one of"),
        ("/accounts/4410021", {"name": "X", "balance_cents": "12"}, 400, "balance_cents"),
        ("/accounts/4410021", {"name": "X", "id": "y"}, 400, "takes no parameter 'id'"),
    ],
)
async def test_bad_patch_changes_nothing(
    client: Client, path: str, body: object, status: int, message: str
) -> None:
    answer = await control(client, "PATCH", path, body)
    assert answer[0] == status
    assert message in answer[1]["error"]
    assert "Groceries" in await accounts_by_name(client)


async def test_delete_account(client: Client) -> None:
    assert await control(client, "DELETE", "/accounts/acc-9a02") == (200, {"removed": "acc-9a02"})
    assert "Sapphire Visa 4417" not in await accounts_by_name(client)
    status, answer = await control(client, "DELETE", "/accounts/acc-9a02")
    assert status == 404
    assert answer == {"error": "no account with that id"}


async def test_state_counts_requests_per_route(client: Client) -> None:
    await fetch(client)
    await fetch(client, token=None)
    await client.get("/accounts")
    await client.get("/nowhere")
    await control(client, "POST", "/scenario", {"scenario": "ok"})
    status, state = await control(client, "GET", "/state")
    assert status == 200
    assert state["requests"] == {"GET (no route)": 1, "GET /accounts": 1, "POST /accounts": 2}
    assert state["scenario"] == {
        "name": "ok",
        "remaining": None,
        "retry_after": 30,
        "slow_seconds": 12.0,
    }
    assert set(state["scenarios"]) == set(SCENARIO_NAMES)
    assert state["seed"] == 7
    groceries = state["accounts"][0]
    assert groceries == {
        "id": "4410021",
        "name": "Groceries",
        "kind": "POD",
        "balance_cents": 41206,
        "error": None,
        "drift_cents": 6000,
    }


async def test_reset(client: Client, clock: FakeClock) -> None:
    await set_scenario(client, "rate_limited", retry_after=1)
    await control(client, "DELETE", "/accounts/4410021")
    await control(client, "POST", "/accounts", {"name": "Extra"})
    clock.advance(5 * DRIFT_KNOT_SECONDS)
    await fetch(client)
    status, state = await control(client, "POST", "/_simulator/reset".removeprefix("/_simulator"))
    assert status == 200
    assert state["scenario"]["name"] == "ok"
    assert state["scenario"]["retry_after"] == 30
    assert state["requests"] == {}
    assert state["elapsed_seconds"] == 0
    assert [account["name"] for account in state["accounts"]] == [
        account.name for account in seed_accounts()
    ]
    assert state["accounts"][0]["balance_cents"] == 41206


# --- Drift ------------------------------------------------------------------------------------


def balances(bank: Bank) -> dict[str, int | None]:
    return {account.id: bank.balance_cents(account) for account in bank.accounts()}


def test_drift_moves_balances_over_simulated_time(clock: FakeClock) -> None:
    bank = Bank(seed=7, clock=clock)
    start = balances(bank)
    assert start["4410021"] == 41206
    clock.advance(30)  # within the first minute nothing moves
    assert balances(bank) == start
    clock.advance(3 * DRIFT_KNOT_SECONDS)
    later = balances(bank)
    moved = [account_id for account_id in start if later[account_id] != start[account_id]]
    assert len(moved) >= 5
    assert later["4410007"] == 0  # the Paycheck does not drift
    assert later["acc-77e1"] is None  # an errored balance stays unknown
    for account in bank.accounts():
        value = later[account.id]
        assert value is None or type(value) is int
        if value is not None:
            assert abs(value - account.base_cents) <= account.drift_cents
            assert value >= 0


def test_drift_is_deterministic_for_a_seed() -> None:
    def run(seed: int) -> list[dict[str, int | None]]:
        clock = FakeClock()
        bank = Bank(seed=seed, clock=clock)
        snapshots = []
        for _ in range(6):
            clock.advance(1234.5)
            snapshots.append(balances(bank))
        return snapshots

    assert run(3) == run(3)
    assert run(3) != run(4)


async def test_drift_over_http(client: Client, clock: FakeClock) -> None:
    before = await accounts_by_name(client)
    clock.advance(2.5 * DRIFT_KNOT_SECONDS)
    after = await accounts_by_name(client)
    assert before["Groceries"] != after["Groceries"]
    amount = after["Groceries"]["balance"]["amountInDollars"]
    assert Decimal(str(amount)) == Decimal(str(amount)).quantize(Decimal("0.01"))


@given(
    seed=st.integers(),
    account_id=st.text(max_size=12),
    elapsed=st.floats(min_value=-1e3, max_value=1e9),
    amplitude=st.integers(min_value=0, max_value=10**7),
)
def test_drift_offset_is_bounded_integer(
    seed: int, account_id: str, elapsed: float, amplitude: int
) -> None:
    offset = drift_offset_cents(seed, account_id, elapsed, amplitude)
    assert type(offset) is int
    assert abs(offset) <= amplitude
    assert offset == drift_offset_cents(seed, account_id, elapsed, amplitude)


def test_set_balance_holds_now_and_keeps_drifting(clock: FakeClock) -> None:
    bank = Bank(seed=7, clock=clock)
    clock.advance(1.5 * DRIFT_KNOT_SECONDS)
    bank.set_balance("acc-3c19", 500)
    assert bank.balance_cents(bank.get("acc-3c19")) == 500
    clock.advance(7 * DRIFT_KNOT_SECONDS)
    assert bank.balance_cents(bank.get("acc-3c19")) >= 0  # type: ignore[operator]
    bank.set_balance("acc-3c19", -2000)  # an overdraft may drift on below zero
    assert bank.get("acc-3c19").overdrawable
    assert bank.balance_cents(bank.get("acc-3c19")) == -2000


def test_clock_going_backwards_is_time_zero(clock: FakeClock) -> None:
    bank = Bank(clock=clock)
    clock.advance(-100)
    assert bank.elapsed_seconds() == 0
    assert balances(bank)["4410021"] == 41206


# --- Synthetic accounts (--accounts N) ----------------------------------------------------------


async def test_extra_accounts(aiohttp_client: ClientFactory, clock: FakeClock) -> None:
    bank = Bank(seed=7, extra_accounts=42, clock=clock)
    client = await aiohttp_client(build_app(Simulator.create(bank)))
    status, body = await fetch(client, token=DEFAULT_TOKEN)
    assert status == 200
    accounts = body["data"]["accounts"]
    assert len(accounts) == len(seed_accounts()) + 42
    assert len({account["id"] for account in accounts}) == len(accounts)
    synthetic = accounts[len(seed_accounts()) :]
    assert [account["name"] for account in synthetic[:2]] == ["Pod 0001", "Pod 0002"]
    assert synthetic[-1]["name"] == "Pod 0042"
    assert all(account["type"] == "Pod" for account in synthetic)
    assert all(type(account["balance"]["amountInDollars"]) is float for account in synthetic)
    new_id = bank.new_id()
    assert new_id not in {account["id"] for account in accounts}
    assert Bank(seed=7, extra_accounts=42, clock=clock).accounts() == bank.accounts()


def test_new_ids_skip_taken_ones(clock: FakeClock) -> None:
    bank = Bank(clock=clock)
    first = bank.new_id()
    bank.add(SimAccount(id=str(int(first) + 1), name="Taken", kind=AccountKind.POD, base_cents=0))
    assert bank.new_id() == str(int(first) + 2)


def test_negative_extra_accounts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Bank(extra_accounts=-1)


# --- CLI --------------------------------------------------------------------------------------


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m tools.simulator")
    for option in (
        "--host",
        "--allow-remote",
        "--port",
        "--token",
        "--business-token",
        "--scenario",
        "--seed",
        "--accounts",
        "--retry-after",
        "--slow-seconds",
    ):
        assert option in out


def test_cli_defaults() -> None:
    args = parse_args([])
    assert (args.host, args.port, args.token, args.business_token, args.scenario) == (
        "127.0.0.1",
        8765,
        [DEFAULT_TOKEN],
        [DEFAULT_BUSINESS_TOKEN],
        "ok",
    )
    assert parse_args(["--token", "a", "--token", "b"]).token == ["a", "b"]
    assert parse_args(["--business-token", "c"]).business_token == ["c"]
    assert parse_args(["--accounts", "42"]).accounts == 42
    args = parse_args(["--slow-seconds", "0.5", "--retry-after", "3", "--seed", "9"])
    assert (args.slow_seconds, args.retry_after, args.seed) == (0.5, 3, 9)


@pytest.mark.parametrize(
    "argv",
    [
        ["--host", "0.0.0.0"],  # noqa: S104 - the point: it must be refused
        ["--host", "example.com"],
        ["--port", "-1"],
        ["--accounts", "-3"],
        ["--accounts", "100001"],
        ["--slow-seconds", "nan"],
        ["--scenario", "flood"],
        ["--token", ""],
        ["--token", " spaced"],
        ["--business-token", ""],
        ["--token", "same", "--business-token", "same"],
    ],
)
def test_cli_refuses(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_cli_allows_remote_when_asked() -> None:
    args = parse_args(["--host", "0.0.0.0", "--allow-remote"])  # noqa: S104
    assert args.host == "0.0.0.0"  # noqa: S104


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("0.0.0.0", False),  # noqa: S104 - checked, not bound
        ("192.168.1.2", False),
        ("sequence.local", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_url() -> None:
    assert url("127.0.0.1", 8765) == "http://127.0.0.1:8765"
    assert url("::1", 80) == "http://[::1]:80"


def test_cli_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port)]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


async def test_serve_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    stop = asyncio.Event()
    args = parse_args(["--port", "0", "--token", TOKEN, "--scenario", "server_error"])
    task = asyncio.create_task(serve(args, stop=stop))
    out = ""
    for _ in range(200):
        await asyncio.sleep(0.01)
        out += capsys.readouterr().out
        if match := LISTENING.match(out.strip()):
            break
    assert match, out
    assert match.group(2) == "server_error"
    async with (
        ClientSession() as session,
        session.post(f"{match.group(1)}/accounts", json={}, headers={HEADER: TOKEN}) as response,
    ):
        assert response.status == 500
    stop.set()
    assert await asyncio.wait_for(task, timeout=5) == 0
    assert "Sequence simulator stopped" in capsys.readouterr().err


async def test_cancelled_request_is_logged(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    request = make_mocked_request("POST", "/accounts", app=build_app(simulator))

    async def cancelled(_request: web.Request) -> web.StreamResponse:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await observe(request, cancelled)
    assert "POST /accounts cancelled" in caplog.text


async def test_cli_subprocess_serves_and_stops_cleanly() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tools.simulator",
        "--port",
        "0",
        "--token",
        TOKEN,
        "--scenario",
        "account_added",
        "--accounts",
        "3",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=15)).decode()
        match = LISTENING.match(line.strip())
        assert match, line
        base, scenario = match.groups()
        assert scenario == "ok"  # a one-shot scenario has been applied
        async with ClientSession() as session:
            async with session.post(
                f"{base}/accounts", json={}, headers={HEADER: f"Bearer {TOKEN}"}
            ) as response:
                assert response.status == 200
                body = await response.json()
            async with session.get(f"{base}/_simulator/state") as response:
                state = await response.text()
        assert len(body["data"]["accounts"]) == len(seed_accounts()) + 3 + 1
        assert TOKEN not in state
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    log = err.decode()
    assert "POST /accounts 200" in log
    assert "Sequence simulator stopped" in log
    assert TOKEN not in log + out.decode() + line


# --- Secrets ----------------------------------------------------------------------------------


async def test_token_never_logged_nor_shown(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await fetch(client)
    await fetch(client, token=TOKEN)
    await fetch(client, token=f"Bearer {TOKEN}x")
    await client.get("/accounts", headers={HEADER: TOKEN})
    for scenario in ("token_revoked", "rate_limited", "malformed", "ok"):
        await set_scenario(client, scenario)
        await client.post("/accounts", data=b"{}", headers={HEADER: TOKEN})
    response = await client.get("/_simulator/state")
    assert TOKEN not in await response.text()
    assert "POST /accounts 200" in caplog.text
    assert "POST /accounts 401" in caplog.text
    assert TOKEN not in caplog.text
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
