"""The simulator's Platform API and the client's requests, against the OpenAPI description.

Every exchange goes over a real socket on 127.0.0.1 and is recorded by a middleware, then the
request is checked against its operation (path, query parameters and their schemas, headers,
body) and the response against the documented response (status, headers, JSON schema).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
import pytest

from custom_components.sequence.api.errors import (
    SequenceAuthError,
    SequenceConflictError,
    SequenceNotFoundError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceRefusedError,
    SequenceResponseError,
)
from custom_components.sequence.api.models import (
    Permission as ClientPermission,
    Transfer,
    TransferDirection,
)
from custom_components.sequence.api.platform import ROUTE_PERMISSIONS, SequencePlatformClient
from tests.contract.openapi import (
    SPEC,
    SPEC_PATH,
    find_operation,
    request_errors,
    response_errors,
)
from tools.simulator.app import build_app
from tools.simulator.platform_records import (
    DEV_PERMISSIONS,
    DEV_TRANSFER_PAIRS,
    READ_PERMISSIONS,
    Permission,
)
from tools.simulator.runtime import Simulator
from tools.simulator.state import Bank, platform_id_of

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = Path(__file__).resolve().parents[2]

KEY = "sk_test_contract_key"
NO_RULES_KEY = "sk_test_accounts_only"
TRIGGER_KEY = "sk_test_trigger_key"
NOTHING_KEY = "sk_test_nothing"
MONEY_KEY = "sk_test_money_key"
"""The development key's grant: every read, TRIGGER_RULES, MANUAL_TRANSFER with its pairs."""
EMERGENCY_FUND, VACATION, RENT, CHECKING = (
    platform_id_of(account) for account in ("4410023", "4410024", "4410022", "acc-3c19")
)

type ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
type Client = TestClient[Any, Any]


@dataclass(frozen=True, slots=True)
class Exchange:
    method: str
    path: str
    query: dict[str, list[str]]
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes


class Recorder:
    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        body = await request.read()
        response = await handler(request)
        assert isinstance(response, web.Response)
        assert isinstance(response.body, bytes)
        self.exchanges.append(
            Exchange(
                method=request.method,
                path=request.path,
                query={key: request.query.getall(key) for key in set(request.query.keys())},
                request_headers=dict(request.headers),
                request_body=body,
                status=response.status,
                response_headers=dict(response.headers),
                response_body=response.body,
            )
        )
        return response

    def platform(self) -> list[Exchange]:
        return [item for item in self.exchanges if item.path.startswith("/platform/v1/")]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def simulator(clock: Clock) -> Simulator:
    return Simulator.create(
        Bank(seed=3, clock=clock),
        api_keys={
            KEY: READ_PERMISSIONS,
            NO_RULES_KEY: frozenset({Permission.READ_ACCOUNTS}),
            TRIGGER_KEY: READ_PERMISSIONS | {Permission.TRIGGER_RULES},
            NOTHING_KEY: frozenset(),
            MONEY_KEY: DEV_PERMISSIONS,
        },
        transfer_pairs={MONEY_KEY: DEV_TRANSFER_PAIRS},
    )


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(aiohttp_client: ClientFactory, simulator: Simulator, recorder: Recorder) -> Client:
    app = build_app(simulator)
    app.middlewares.append(recorder.middleware)
    return await aiohttp_client(app)


def platform_client(client: Client, key: str = KEY) -> SequencePlatformClient:
    return SequencePlatformClient(
        client.session, key, base_url=str(client.make_url("/platform/v1"))
    )


def assert_conforms(exchanges: list[Exchange], *, requests: bool = True) -> None:
    assert exchanges
    problems = []
    for item in exchanges:
        where = f"{item.method} {item.path} -> {item.status}"
        if requests:
            problems += [
                f"{where}: request {problem}"
                for problem in request_errors(
                    item.method, item.path, item.query, item.request_headers, item.request_body
                )
            ]
        problems += [
            f"{where}: response {problem}"
            for problem in response_errors(
                item.method, item.path, item.status, item.response_headers, item.response_body
            )
        ]
    assert not problems, "\n".join(problems)


# --- The client's requests and what the simulator answers them --------------------------------


async def test_client_success_paths(
    client: Client, recorder: Recorder, simulator: Simulator, clock: Clock
) -> None:
    api = platform_client(client, MONEY_KEY)
    snapshot = await api.async_get_accounts()
    ids = list(snapshot.accounts)
    await api.async_get_accounts(account_ids=ids[:3])
    await api.async_get_account(ids[0])
    start = datetime.fromtimestamp(simulator.bank.now(), UTC)
    await api.async_get_transfers(since=start - timedelta(days=20))
    await api.async_get_transfers(since=None, account_ids=ids)
    await api.async_get_transfers(
        since=start - timedelta(days=30),
        until=start,
        statuses=["COMPLETE", "PENDING_APPROVAL"],
        directions=[TransferDirection.INTERNAL, TransferDirection.OUTGOING],
        limit=150,
    )
    lines = await api.async_get_external_transactions(
        account_ids=[CHECKING], since=start - timedelta(days=60), until=start, limit=110
    )
    assert len(lines) == 110
    await api.async_check_permissions()
    rules = {rule.name: rule for rule in await api.async_list_rules()}
    await api.async_get_rule(rules["Pay the Sapphire card"].id)
    allowance = rules["Weekly allowance"].id
    dry_run = await api.async_trigger_rule(
        allowance, idempotency_key="contract-dry-run", simulation=True, execute_amount_cents=5000
    )
    live = await api.async_trigger_rule(
        allowance, idempotency_key="contract-live", simulation=False
    )
    simulated = await api.async_create_transfer(
        source_id=EMERGENCY_FUND,
        destination_id=VACATION,
        amount_cents=5000,
        description="Trip",
        simulation=True,
        idempotency_key="contract-simulated",
    )
    created = await api.async_create_transfer(
        source_id=EMERGENCY_FUND,
        destination_id=VACATION,
        amount_cents=5000,
        description=None,
        simulation=False,
        idempotency_key="contract-transfer",
    )
    assert simulated.simulated is True
    assert created.simulated is False
    clock.now += 5  # visible, and settled
    for execution_id in (dry_run, live):
        assert (await api.async_get_rule_execution(allowance, execution_id)).status == "EXECUTED"
    assert (await api.async_get_transfer(created.id)).status == "COMPLETE"
    exchanges = recorder.platform()
    assert {item.status for item in exchanges} == {200, 201, 202}
    routes = {
        f"{item.method} {find_operation(item.method, item.path)[0].template}" for item in exchanges
    }
    assert routes == set(ROUTE_PERMISSIONS)
    assert_conforms(exchanges)


async def test_client_error_paths(client: Client, recorder: Recorder) -> None:
    with pytest.raises(SequenceAuthError):
        await platform_client(client, "sk_test_unknown").async_list_accounts()
    with pytest.raises(SequencePermissionError):
        await platform_client(client, NOTHING_KEY).async_list_accounts()
    with pytest.raises(SequencePermissionError):
        await platform_client(client, NO_RULES_KEY).async_get_transfers(since=None)
    with pytest.raises(SequenceNotFoundError):
        await platform_client(client).async_get_account("6f0c1a54-0000-4000-8000-000000000000")
    await platform_client(client, NO_RULES_KEY).async_check_permissions()
    exchanges = recorder.platform()
    assert {item.status for item in exchanges} == {200, 401, 403, 404}
    assert_conforms(exchanges)


async def test_client_money_refusals(client: Client, recorder: Recorder) -> None:
    api = platform_client(client, MONEY_KEY)
    rules = {rule.name: rule.id for rule in await api.async_list_rules()}

    async def transfer(destination: str, cents: int, key: str) -> Transfer:
        return await api.async_create_transfer(
            source_id=EMERGENCY_FUND,
            destination_id=destination,
            amount_cents=cents,
            description=None,
            simulation=True,
            idempotency_key=key,
        )

    with pytest.raises(SequencePermissionError) as denied:
        await transfer(RENT, 5000, "pair-not-allowed")
    assert denied.value.permission is ClientPermission.MANUAL_TRANSFER
    with pytest.raises(SequenceRefusedError) as refused:
        await transfer(VACATION, 50001, "over-the-pair-max")
    assert refused.value.code == "MAXIMUM_AMOUNT_EXCEEDED"
    created = await transfer(VACATION, 5000, "once")
    with pytest.raises(SequenceConflictError) as conflict:
        await transfer(VACATION, 5000, "once")
    assert conflict.value.code == "TRANSFER_IN_PROGRESS"
    with pytest.raises(SequenceRefusedError) as mismatch:
        await transfer(VACATION, 6000, "once")
    assert mismatch.value.code == "IDEMPOTENCY_KEY_MISMATCH"
    with pytest.raises(SequenceNotFoundError):
        await api.async_get_transfer(created.id)  # just created: Sequence lags
    for name, code in (
        ("Vacation top-up", "RULE_DEACTIVATED"),
        ("Round-ups (legacy)", "INVALID_RULE"),
    ):
        with pytest.raises(SequenceRefusedError) as rule_refused:
            await api.async_trigger_rule(rules[name], idempotency_key="r", simulation=True)
        assert rule_refused.value.code == code
    with pytest.raises(SequenceRefusedError) as gone:
        await api.async_trigger_rule(
            "6f0c1a54-0000-4000-8000-000000000000", idempotency_key="r", simulation=True
        )
    assert gone.value.code == "RULE_NOT_FOUND"
    await api.async_trigger_rule(rules["Payday split"], idempotency_key="twice", simulation=True)
    with pytest.raises(SequenceConflictError) as running:
        await api.async_trigger_rule(
            rules["Payday split"], idempotency_key="twice", simulation=True
        )
    assert running.value.code == "RULE_EXECUTION_IN_PROGRESS"
    with pytest.raises(SequencePermissionError) as no_trigger:
        await platform_client(client).async_trigger_rule(
            rules["Payday split"], idempotency_key="k", simulation=True
        )
    assert no_trigger.value.permission is ClientPermission.TRIGGER_RULES
    with pytest.raises(SequenceResponseError, match="INVALID_RULE"):
        await api.async_get_rule(rules["Round-ups (legacy)"])
    exchanges = recorder.platform()
    assert {item.status for item in exchanges} == {200, 201, 202, 400, 403, 404, 409}
    assert_conforms(exchanges)


async def test_client_rate_limited_by_the_simulator(
    client: Client, recorder: Recorder, simulator: Simulator
) -> None:
    simulator.platform.rate_limit.limit = 2
    api = platform_client(client)
    with pytest.raises(SequenceRateLimitError) as caught:
        await api.async_get_accounts()
    assert caught.value.retry_after == 60
    assert recorder.platform()[-1].status == 429
    assert_conforms(recorder.platform())


async def test_scenario_faults_keep_the_error_envelope(
    client: Client, recorder: Recorder, simulator: Simulator
) -> None:
    for scenario, error in (
        ("token_revoked", SequenceAuthError),
        ("rate_limited", SequenceRateLimitError),
    ):
        simulator.scenarios.activate(scenario)
        with pytest.raises(error):
            await platform_client(client).async_list_accounts()
    simulator.scenarios.activate("ok")
    assert [item.status for item in recorder.platform()] == [401, 429]
    assert_conforms(recorder.platform())


# sha256 of shared/reference/sequence-platform-v1.openapi.json as of 2026-11-21. When Sequence's
# file changes, copy it here and update the hash: the contract tests then run against the new spec.
SPEC_SHA256 = "a1d0607112cc844297d9ec290c07800d824f84abc6b91c338a10b1b6b22ec5fe"


def test_vendored_spec_is_the_reviewed_copy() -> None:
    """The copy beside the tests is byte for byte the reviewed Sequence file."""
    assert hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest() == SPEC_SHA256


def test_route_permissions_are_the_specs_required_scopes() -> None:
    for route, permission in ROUTE_PERMISSIONS.items():
        method, path = route.split(" ")
        operation = SPEC["paths"][path][method.lower()]
        assert operation["x-required-scope"] == permission.value, route


# --- Every simulated operation, answered as documented ----------------------------------------


async def fetch(
    client: Client,
    route: str,
    *,
    key: str | None = KEY,
    json: object = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    method, path = route.split(" ", 1)
    all_headers = dict(headers or {})
    if key is not None:
        all_headers["Authorization"] = f"Bearer {key}"
    response = await client.request(method, f"/platform/v1{path}", json=json, headers=all_headers)
    return response.status, await response.json(content_type=None)


async def test_every_operation_and_error(
    client: Client, recorder: Recorder, simulator: Simulator, clock: Clock
) -> None:
    simulator.platform.rate_limit.limit = 10_000  # the 429 has a test of its own
    _, accounts = await fetch(client, "GET /accounts?pageSize=100")
    account_ids = [item["id"] for item in accounts["data"]["items"]]
    simulator.bank.remove(simulator.bank.accounts()[-1].id)
    _, rules = await fetch(client, "GET /rules?pageSize=100")
    rule_ids = [item["id"] for item in rules["data"]["items"]]
    history = list(simulator.platform.transfers)
    transfer_ids = history[:20] + history[-20:]  # the oldest and the newest, in flight too
    missing = "6f0c1a54-0000-4000-8000-000000000000"

    for path in (
        "/accounts",
        "/accounts?page=2&pageSize=3",
        "/accounts?state=ALL&type=EXTERNAL_ACCOUNT",
        f"/transfers?accountIds={account_ids[0]}&accountIds={account_ids[5]}&executionMode=ALL",
        f"/transfers?accountIds={account_ids[5]}&from=2027-01-01T00:00:00Z&direction=MONEY_IN",
        f"/accounts/{account_ids[0]}/transfers?accountRole=source&pageSize=2",
        f"/transfers/{missing}",
        "/rules?pageSize=2&page=2",
        f"/rules/{missing}",
        f"/accounts/{missing}",
        f"/rules/{rule_ids[0]}/executions/{missing}",
    ):
        await fetch(client, f"GET {path}")
    for account_id in account_ids:
        await fetch(client, f"GET /accounts/{account_id}")
    for transfer_id in transfer_ids:
        await fetch(client, f"GET /transfers/{transfer_id}")
    for rule_id in rule_ids:
        await fetch(client, f"GET /rules/{rule_id}")
        _, executions = await fetch(client, f"GET /rules/{rule_id}/executions?executionMode=ALL")
        for execution in executions["data"]["items"]:
            await fetch(client, f"GET /rules/{rule_id}/executions/{execution['id']}")
    by_name = {item["name"]: item["id"] for item in rules["data"]["items"]}
    payday, paused = by_name["Payday split"], by_name["Vacation top-up"]
    legacy = by_name["Round-ups (legacy)"]
    trigger = f"/rules/{payday}/trigger"
    once = {"idempotency-key": "0d3c1f1e-5b43-4c1e-9d0a-6f1c5e2b7a90"}
    await fetch(client, f"POST {trigger}", key=TRIGGER_KEY, json={}, headers=once)
    await fetch(client, f"POST {trigger}", key=TRIGGER_KEY, json={}, headers=once)  # 409
    await fetch(client, f"POST {trigger}", key=TRIGGER_KEY, json={"simulation": True}, headers=once)
    clock.now += 5
    await fetch(client, f"POST {trigger}", key=TRIGGER_KEY, json={}, headers=once)  # replayed
    await fetch(
        client,
        f"POST {trigger}",
        key=TRIGGER_KEY,
        json={"executeAmount": 150000, "simulation": True},
    )
    await fetch(client, f"POST {trigger}", key=TRIGGER_KEY, json={"executeAmount": -1})
    await fetch(client, f"POST /rules/{paused}/trigger", key=TRIGGER_KEY, json={})
    await fetch(client, f"POST /rules/{legacy}/trigger", key=TRIGGER_KEY, json={})
    await fetch(client, f"POST /rules/{missing}/trigger", key=TRIGGER_KEY, json={})
    await fetch(client, f"POST {trigger}", json={})
    await fetch(client, "GET /accounts", key=None)
    await fetch(client, "GET /rules", key=NO_RULES_KEY)
    await fetch(client, f"GET /accounts/{account_ids[0]}", key=NOTHING_KEY)
    move = {"sourceAccountId": EMERGENCY_FUND, "destinationAccountId": VACATION}
    for body, key in (
        ({**move, "amountInCents": 5000, "description": "Trip"}, MONEY_KEY),
        ({**move, "amountInCents": 5000, "simulation": True}, MONEY_KEY),
        ({**move, "amountInCents": 99}, MONEY_KEY),
        ({**move, "amountInCents": 50001}, MONEY_KEY),
        ({**move, "destinationAccountId": RENT, "amountInCents": 500}, MONEY_KEY),
        ({**move, "amountInCents": 500}, KEY),
    ):
        await fetch(client, "POST /transfers", key=key, json=body, headers=once)
        clock.now += 2
    await fetch(client, "POST /transfers", key=MONEY_KEY, json=body, headers=once)  # 409
    for path in (
        f"/external-transactions?accountIds={CHECKING}&pageSize=100&page=2",
        (
            f"/external-transactions?accountIds[]={CHECKING}&status=PENDING&direction=MONEY_OUT"
            "&from=2027-01-01T00:00:00Z&to=2027-02-01T00:00:00%2B00:00"
        ),
    ):
        await fetch(client, f"GET {path}", key=MONEY_KEY)
    await fetch(client, f"GET /external-transactions?accountIds={CHECKING}", key=NO_RULES_KEY)

    exchanges = recorder.platform()
    statuses = {item.status for item in exchanges}
    assert statuses == {200, 201, 202, 400, 401, 403, 404, 409}
    assert_conforms(exchanges, requests=False)
    # Every simulated operation was exercised (the card transactions and audit logs are not).
    seen = {
        (item.method.lower(), find_operation(item.method, item.path)[0].template)
        for item in exchanges
    }
    assert seen == {
        ("get", "/accounts"),
        ("get", "/accounts/{id}"),
        ("get", "/accounts/{accountId}/transfers"),
        ("get", "/transfers"),
        ("get", "/transfers/{id}"),
        ("get", "/rules"),
        ("get", "/rules/{id}"),
        ("post", "/rules/{id}/trigger"),
        ("get", "/rules/{ruleId}/executions"),
        ("get", "/rules/{ruleId}/executions/{id}"),
        ("post", "/transfers"),
        ("get", "/external-transactions"),
    }


async def test_rate_limit_response_is_documented(
    client: Client, recorder: Recorder, simulator: Simulator
) -> None:
    simulator.platform.rate_limit.limit = 1
    assert (await fetch(client, "GET /rules"))[0] == 200
    status, body = await fetch(client, "GET /rules")
    assert status == 429
    assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(recorder.exchanges[-1].response_headers["Retry-After"]) == 60
    assert_conforms(recorder.platform(), requests=False)


def test_the_checker_catches_what_the_spec_forbids() -> None:
    """The contract checks are not vacuous: wrong requests and bodies are reported."""
    headers = {"Authorization": "Bearer sk_x"}
    assert request_errors("GET", "/platform/v1/accounts", {"pageSize": ["500"]}, headers, b"")
    assert request_errors("GET", "/platform/v1/accounts", {"limit": ["5"]}, headers, b"")
    assert request_errors("GET", "/platform/v1/accounts", {}, {}, b"")
    assert request_errors("GET", "/platform/v1/transfers", {}, headers, b"")
    assert request_errors("GET", "/platform/v1/accounts/not-a-uuid", {}, headers, b"")
    assert request_errors("GET", "/platform/v1/accounts", {}, headers, b"{}")
    assert request_errors("DELETE", "/platform/v1/accounts", {}, headers, b"")
    json_type = {"Content-Type": "application/json"}
    assert response_errors("GET", "/platform/v1/accounts", 200, json_type, b'{"data": {}}')
    assert response_errors("GET", "/platform/v1/accounts", 500, json_type, b"{}")
    assert response_errors("GET", "/platform/v1/accounts", 401, json_type, b'{"code": "X"}')
    assert response_errors(
        "GET", "/platform/v1/rules", 429, json_type, b'{"error": {"code": "A", "message": "b"}}'
    )
    assert not request_errors(
        "GET",
        "/platform/v1/transfers",
        {"accountIds": ["c7a7f26f-2ca5-4ae5-825a-70260591247c"], "from": ["2026-04-19T18:19:12Z"]},
        headers,
        b"",
    )
