"""The simulator's Remote API rule triggers: secrets, both URL shapes, 429, idempotency, money."""

from collections.abc import Awaitable, Callable
import logging
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
import pytest

from tools.simulator.app import build_app
from tools.simulator.remote_rules import (
    DEV_BUSINESS_RULE_SECRET,
    DEV_RULE_SECRET,
    TRIGGER_WINDOW_SECONDS,
)
from tools.simulator.runtime import Simulator
from tools.simulator.state import Bank

pytestmark = pytest.mark.usefixtures("socket_enabled")

HOUSEHOLD_RULE, BUSINESS_RULE = "ru_10001", "ru_20001"
TAXES, VACATION = "4410025", "4410024"
PAYROLL_RESERVE, QUARTERLY_TAXES = "6620101", "6620102"

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
    return Simulator.create(Bank(seed=7, clock=clock))


@pytest.fixture
async def client(aiohttp_client: ClientFactory, simulator: Simulator) -> Client:
    return await aiohttp_client(build_app(simulator))


async def trigger(
    client: Client,
    rule_id: str = HOUSEHOLD_RULE,
    secret: str | None = DEV_RULE_SECRET,
    *,
    shape: str = "/remote-api/rules/{id}/trigger",
    body: bytes = b"{}",
    key: str | None = None,
) -> tuple[int, Any, dict[str, str]]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["x-sequence-signature"] = f"Bearer {secret}"
    if key is not None:
        headers["idempotency-key"] = key
    response = await client.post(shape.format(id=rule_id), data=body, headers=headers)
    return response.status, await response.json(content_type=None), dict(response.headers)


async def control(client: Client, method: str, path: str, body: object = None) -> tuple[int, Any]:
    response = await client.request(method, f"/_simulator{path}", json=body)
    return response.status, await response.json()


async def balances(client: Client, which: str = "accounts") -> dict[str, int | None]:
    _, state = await control(client, "GET", "/state")
    return {account["id"]: account["balance_cents"] for account in state[which]}


@pytest.mark.parametrize("shape", ["/remote-api/rules/{id}/trigger", "/rules/{id}/trigger"])
async def test_a_trigger_moves_the_households_money(
    client: Client, simulator: Simulator, shape: str
) -> None:
    before = await balances(client)
    status, body, _ = await trigger(client, shape=shape)
    assert status == 200
    assert body["code"] == "OK"
    assert body["message"] == f"Rule with id {HOUSEHOLD_RULE} has been triggered"
    assert isinstance(body["data"]["requestId"], str)
    after = await balances(client)
    assert after[TAXES] == before[TAXES] - 2500  # type: ignore[operator]
    assert after[VACATION] == before[VACATION] + 2500  # type: ignore[operator]
    [execution] = [
        item for item in simulator.platform.executions.values() if item.rule_id == HOUSEHOLD_RULE
    ]
    assert execution.trigger_type == "REMOTE_API"
    [transfer_id] = execution.transfer_ids
    assert simulator.platform.transfers[transfer_id].rule_id == HOUSEHOLD_RULE


async def test_a_trigger_moves_the_business_money(client: Client) -> None:
    before = await balances(client, "business_accounts")
    status, _, _ = await trigger(client, BUSINESS_RULE, DEV_BUSINESS_RULE_SECRET)
    assert status == 200
    after = await balances(client, "business_accounts")
    assert after[PAYROLL_RESERVE] == before[PAYROLL_RESERVE] - 15000  # type: ignore[operator]
    assert after[QUARTERLY_TAXES] == before[QUARTERLY_TAXES] + 15000  # type: ignore[operator]


async def test_a_business_rule_without_the_money_moves_nothing(client: Client) -> None:
    await control(client, "PATCH", f"/accounts/{PAYROLL_RESERVE}", {"balance_cents": 100})
    before = await balances(client, "business_accounts")
    assert (await trigger(client, BUSINESS_RULE, DEV_BUSINESS_RULE_SECRET))[0] == 200
    assert await balances(client, "business_accounts") == before


@pytest.mark.parametrize(
    ("rule_id", "secret", "status", "code"),
    [
        (HOUSEHOLD_RULE, "wrong-secret", 401, "INVALID_API_SECRET"),
        (HOUSEHOLD_RULE, None, 401, "INVALID_API_SECRET"),
        (HOUSEHOLD_RULE, DEV_BUSINESS_RULE_SECRET, 401, "INVALID_API_SECRET"),
        ("ru_99999", DEV_RULE_SECRET, 404, "RULE_NOT_FOUND"),
    ],
)
async def test_refusals_move_nothing(
    client: Client, rule_id: str, secret: str | None, status: int, code: str
) -> None:
    before = await balances(client)
    answer, body, _ = await trigger(client, rule_id, secret)
    assert (answer, body["code"]) == (status, code)
    assert await balances(client) == before


@pytest.mark.parametrize(
    ("body", "key"), [(b"[]", None), (b"{oops", None), (b"{}", "bad key"), (b"{}", "k" * 37)]
)
async def test_bad_requests(client: Client, body: bytes, key: str | None) -> None:
    status, answer, _ = await trigger(client, body=body, key=key)
    assert (status, answer["code"]) == (400, "INVALID_REQUEST")


async def test_a_repeat_within_a_minute_is_refused(client: Client, clock: FakeClock) -> None:
    assert (await trigger(client))[0] == 200
    moved = await balances(client)
    clock.advance(TRIGGER_WINDOW_SECONDS - 15)
    status, body, headers = await trigger(client)
    assert (status, body["code"], headers["Retry-After"]) == (429, "TOO_MANY_REQUESTS", "15")
    assert await balances(client) == moved
    clock.advance(15)
    assert (await trigger(client))[0] == 200


async def test_an_idempotency_key_runs_the_rule_once(client: Client, clock: FakeClock) -> None:
    status, first, _ = await trigger(client, key="payday-2027-01-15")
    assert status == 200
    moved = await balances(client)
    status, again, _ = await trigger(client, key="payday-2027-01-15")  # no 429 for a repeat
    assert (status, again["message"]) == (200, first["message"])
    assert await balances(client) == moved
    status, body, _ = await trigger(client, key="payday-2027-01-15", body=b'{"x": 1}')
    assert (status, body["code"]) == (400, "IDEMPOTENCY_KEY_MISMATCH")
    _, state = await control(client, "GET", "/state")
    assert {rule["id"]: rule["runs"] for rule in state["remote_rules"]}[HOUSEHOLD_RULE] == 1
    clock.advance(24 * 3600)
    assert (await trigger(client, key="payday-2027-01-15"))[0] == 200
    assert await balances(client) != moved


@pytest.mark.parametrize(
    ("scenario", "status"),
    [("server_error", 500), ("rate_limited", 429), ("bad_gateway_html", 502)],
)
async def test_scenario_faults_reach_triggers(
    client: Client, simulator: Simulator, scenario: str, status: int
) -> None:
    simulator.scenarios.activate(scenario)
    before = await balances(client)
    response = await client.post(
        f"/rules/{HOUSEHOLD_RULE}/trigger",
        data=b"{}",
        headers={"x-sequence-signature": f"Bearer {DEV_RULE_SECRET}"},
    )
    assert response.status == status
    simulator.scenarios.activate("ok")
    assert await balances(client) == before


async def test_a_revoked_token_is_not_a_secret_and_malformed_cuts_the_answer(
    client: Client, simulator: Simulator, clock: FakeClock
) -> None:
    simulator.scenarios.activate("token_revoked")
    assert (await trigger(client))[0] == 200
    clock.advance(TRIGGER_WINDOW_SECONDS)
    simulator.scenarios.activate("malformed")
    response = await client.post(
        f"/rules/{HOUSEHOLD_RULE}/trigger",
        data=b"{}",
        headers={"x-sequence-signature": DEV_RULE_SECRET},  # a bare secret is tolerated
    )
    assert response.status == 200
    assert (await response.text()).startswith('{"code"')
    simulator.scenarios.activate("ok")
    assert (await client.get(f"/rules/{HOUSEHOLD_RULE}/trigger")).status == 405


async def test_control_adds_rules_and_changes_secrets(client: Client) -> None:
    status, added = await control(
        client,
        "POST",
        "/remote_rules",
        {
            "name": "Coffee fund",
            "secret": "coffee-secret-1",
            "source": "4410021",
            "destination": VACATION,
            "amount_cents": 300,
        },
    )
    assert (status, added["trigger_paths"]) == (
        201,
        ["/remote-api/rules/ru_30003/trigger", "/rules/ru_30003/trigger"],
    )
    assert (await trigger(client, added["id"], "coffee-secret-1"))[0] == 200
    status, _ = await control(
        client, "PATCH", f"/remote_rules/{added['id']}", {"secret": "coffee-secret-2"}
    )
    assert status == 200
    assert (await trigger(client, added["id"], "coffee-secret-1"))[0] == 401
    _, business = await control(
        client,
        "POST",
        "/remote_rules",
        {
            "id": "ru_biz",
            "name": "Equipment",
            "secret": "s",
            "source": PAYROLL_RESERVE,
            "destination": "6620103",
            "amount_cents": 1000,
            "beneficiary": "business",
        },
    )
    assert business["id"] == "ru_biz"
    for bad, code in (
        ({"name": "x"}, 400),
        (
            {
                "name": "x",
                "secret": "a b",
                "source": TAXES,
                "destination": VACATION,
                "amount_cents": 100,
            },
            400,
        ),
        (
            {
                "name": "x",
                "secret": "s",
                "source": TAXES,
                "destination": VACATION,
                "amount_cents": 99,
            },
            400,
        ),
        (
            {
                "name": "x",
                "secret": "s",
                "source": PAYROLL_RESERVE,
                "destination": VACATION,
                "amount_cents": 100,
            },
            404,
        ),
        (
            {
                "id": "ru_biz",
                "name": "x",
                "secret": "s",
                "source": TAXES,
                "destination": VACATION,
                "amount_cents": 100,
            },
            400,
        ),
        ({"other": 1}, 400),
    ):
        assert (await control(client, "POST", "/remote_rules", bad))[0] == code
    assert (await control(client, "PATCH", "/remote_rules/ru_nope", {"name": "x"}))[0] == 404
    assert (await control(client, "PATCH", f"/remote_rules/{HOUSEHOLD_RULE}", {"id": "x"}))[
        0
    ] == 400


async def test_state_never_shows_a_secret_and_reset_forgets(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await trigger(client)
    await trigger(client, secret="wrong-secret-42")
    response = await client.get("/_simulator/state")
    text = await response.text() + caplog.text
    for secret in (DEV_RULE_SECRET, DEV_BUSINESS_RULE_SECRET, "wrong-secret-42"):
        assert secret not in text
    state = await response.json()
    assert state["remote_rules"][0] == {
        "id": HOUSEHOLD_RULE,
        "name": "Vacation boost",
        "beneficiary": "household",
        "trigger_paths": [
            f"/remote-api/rules/{HOUSEHOLD_RULE}/trigger",
            f"/rules/{HOUSEHOLD_RULE}/trigger",
        ],
        "runs": 1,
    }
    assert state["requests"]["POST /remote-api/rules/{id}/trigger"] == 2
    _, state = await control(client, "POST", "/reset")
    assert state["remote_rules"][0]["runs"] == 0
    assert (await trigger(client))[0] == 200  # the one-minute window is forgotten too
