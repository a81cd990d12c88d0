"""The Platform client's rule and transfer requests at the HTTP level: what is sent, what it means.

Real servers on 127.0.0.1. A money POST carries JSON and an ``idempotency-key`` and is sent at
most once; its failures are told apart by whether it may have been carried out: only a
connection that could not be made, or the key's ``Retry-After`` block, is "not sent".
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
import logging
import re
import traceback
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient
import pytest

from custom_components.sequence.api import (
    Permission,
    SequenceAuthError,
    SequenceConflictError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequenceOutcomeUnknownError,
    SequencePermissionError,
    SequencePlatformClient,
    SequenceRateLimitError,
    SequenceRefusedError,
    SequenceResponseError,
    SequenceServerError,
    Transfer,
)
from custom_components.sequence.api.limiter import RequestBudget
from custom_components.sequence.api.models import RuleExecutionStatus, ScheduleType
from tests.api.conftest import ScriptedServers
from tests.api.platform_server import (
    PREFIX,
    FakePlatform,
    envelope,
    error,
    execution,
    rule_summary,
    transfer,
)
from tests.conftest import refusing_port

pytestmark = pytest.mark.usefixtures("socket_enabled")

KEY = "sk_test_money_key_7e1d"
"""Distinctive, so a leak into any text is easy to spot."""
RULE = "7c0f3a52-2222-4c1b-9f7e-00000000000a"
SOURCE = "0b1e8c6a-1111-4c1b-9f7e-000000000002"
DESTINATION = "0b1e8c6a-1111-4c1b-9f7e-000000000004"
IDEMPOTENCY_KEY = "5e0c3a9e-6b1f-4d55-9a44-3c2f7d1e8b10"

type ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
type Client = TestClient[Any, Any]
type MoneyCall = Callable[[SequencePlatformClient], Awaitable[object]]


@pytest.fixture
def fake() -> FakePlatform:
    platform = FakePlatform()
    platform.rules[RULE] = rule_summary(RULE)
    return platform


@pytest.fixture
async def server(aiohttp_client: ClientFactory, fake: FakePlatform) -> Client:
    return await aiohttp_client(fake.app())


def make_client(
    server: Client, budget: RequestBudget | None = None, **options: Any
) -> SequencePlatformClient:
    return SequencePlatformClient(
        server.session,
        f"Bearer {KEY}",
        base_url=str(server.make_url(PREFIX)),
        budget=budget or RequestBudget(),
        **options,
    )


def on_url(session: ClientSession, base_url: str, **options: Any) -> SequencePlatformClient:
    return SequencePlatformClient(session, KEY, base_url=base_url, **options)


def respond(
    status: int,
    body: object = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(_request: web.Request) -> web.StreamResponse:
        if raw is not None:
            return web.Response(status=status, body=raw, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    return handler


async def trigger(client: SequencePlatformClient) -> str:
    return await client.async_trigger_rule(RULE, idempotency_key=IDEMPOTENCY_KEY, simulation=False)


async def create(client: SequencePlatformClient) -> Transfer:
    return await client.async_create_transfer(
        source_id=SOURCE,
        destination_id=DESTINATION,
        amount_cents=5000,
        description="Vacation",
        simulation=False,
        idempotency_key=IDEMPOTENCY_KEY,
    )


@dataclass(frozen=True, slots=True)
class Money:
    """One money POST: how to make it, where it goes, the permission it needs."""

    call: MoneyCall
    path: str
    permission: Permission


MONEY_CALLS = [
    pytest.param(
        Money(trigger, f"{PREFIX}/rules/{RULE}/trigger", Permission.TRIGGER_RULES), id="trigger"
    ),
    pytest.param(Money(create, f"{PREFIX}/transfers", Permission.MANUAL_TRANSFER), id="transfer"),
]


# --- Rules ------------------------------------------------------------------------------------


async def test_list_rules_reads_every_page(server: Client, fake: FakePlatform) -> None:
    fake.rules = {
        f"rule-{index:03d}": rule_summary(
            f"rule-{index:03d}",
            f"Rule {index}",
            status="DISABLED" if index == 7 else "ENABLED",
            isSupported=index != 8,
            deletedAt="2026-11-01T00:00:00Z" if index == 9 else None,
        )
        for index in range(150)
    }
    rules = await make_client(server).async_list_rules()
    assert len(rules) == 150
    assert [query["page"] for path, query, _ in fake.requests] == [["1"], ["2"]]
    assert {query["pageSize"][0] for _, query, _ in fake.requests} == {"100"}
    by_id = {rule.id: rule for rule in rules}
    assert by_id["rule-007"].enabled is False
    assert by_id["rule-008"].supported is False
    assert by_id["rule-009"].deleted is True
    assert by_id["rule-010"].name == "Rule 10"


async def test_list_rules_keeps_a_repeated_item_once(server: Client, fake: FakePlatform) -> None:
    async def repeating(request: web.Request) -> web.StreamResponse:
        page = int(request.query["page"])
        return web.json_response(
            envelope(
                {
                    "items": [rule_summary(RULE)],
                    "pagination": {"page": page, "pageSize": 100, "hasNextPage": page == 1},
                }
            )
        )

    fake.overrides[f"{PREFIX}/rules"] = repeating
    assert [rule.id for rule in await make_client(server).async_list_rules()] == [RULE]


async def test_list_rules_without_read_rules(server: Client, fake: FakePlatform) -> None:
    fake.overrides[f"{PREFIX}/rules"] = respond(403, {"error": {"code": "ACCESS_DENIED"}})
    with pytest.raises(SequencePermissionError) as caught:
        await make_client(server).async_list_rules()
    assert caught.value.permission is Permission.READ_RULES


async def test_get_rule_with_its_schedule(server: Client, fake: FakePlatform) -> None:
    rule = await make_client(server).async_get_rule(RULE)
    assert rule.summary.id == RULE
    assert rule.trigger_type == "SCHEDULED"
    assert rule.schedule is not None
    assert rule.schedule.schedule_type == ScheduleType.MONTHLY
    assert rule.schedule.start == datetime(2026, 1, 15, 14, tzinfo=UTC)
    assert fake.requests[-1][0] == f"{PREFIX}/rules/{RULE}"


@pytest.mark.parametrize(
    ("answer", "error_type", "message"),
    [
        (error(404, "RULE_NOT_FOUND"), SequenceNotFoundError, "HTTP 404"),
        (error(403, "INVALID_RULE"), SequenceResponseError, "HTTP 403, INVALID_RULE"),
        (
            web.json_response(envelope({**rule_summary("another"), "trigger": {"type": "MANUAL"}})),
            SequenceResponseError,
            "data.id is not the rule asked for",
        ),
    ],
)
async def test_get_rule_failures(
    server: Client,
    fake: FakePlatform,
    answer: web.Response,
    error_type: type[SequenceError],
    message: str,
) -> None:
    async def reply(_request: web.Request) -> web.StreamResponse:
        return answer

    fake.overrides[f"{PREFIX}/rules/{RULE}"] = reply
    with pytest.raises(error_type, match=re.escape(message)):
        await make_client(server).async_get_rule(RULE)


async def test_ids_are_one_escaped_path_segment(server: Client, fake: FakePlatform) -> None:
    client = make_client(server)
    with pytest.raises(SequenceNotFoundError):
        await client.async_get_rule("a/b?c")
    with pytest.raises(SequenceRefusedError):
        await client.async_trigger_rule("a/b", idempotency_key="k", simulation=True)
    with pytest.raises(SequenceNotFoundError):
        await client.async_get_rule_execution("a/b", "c/d")
    with pytest.raises(SequenceNotFoundError):
        await client.async_get_transfer("e/f")
    assert [path for path, _, _ in fake.requests] == [
        f"{PREFIX}/rules/a/b?c",
        f"{PREFIX}/rules/a/b/trigger",
        f"{PREFIX}/rules/a/b/executions/c/d",
        f"{PREFIX}/transfers/e/f",
    ]
    assert fake.raw_paths == [
        f"{PREFIX}/rules/a%2Fb%3Fc",
        f"{PREFIX}/rules/a%2Fb/trigger",
        f"{PREFIX}/rules/a%2Fb/executions/c%2Fd",
        f"{PREFIX}/transfers/e%2Ff",
    ]


async def test_trigger_sends_json_and_the_idempotency_key(
    server: Client, fake: FakePlatform
) -> None:
    client = make_client(server)
    live = await client.async_trigger_rule(RULE, idempotency_key=IDEMPOTENCY_KEY, simulation=False)
    dry = await client.async_trigger_rule(
        RULE, idempotency_key="dry-run:1", simulation=True, execute_amount_cents=150000
    )
    assert (live, dry) == ("ex-0001", "ex-0002")
    first, second = fake.posts
    assert first.path == second.path == f"{PREFIX}/rules/{RULE}/trigger"
    assert first.json() == {"simulation": False}
    assert second.json() == {"simulation": True, "executeAmount": 150000}
    assert first.headers["idempotency-key"] == IDEMPOTENCY_KEY
    assert second.headers["idempotency-key"] == "dry-run:1"
    for posted in fake.posts:
        assert posted.headers["Content-Type"] == "application/json"
        assert posted.headers["Authorization"] == f"Bearer {KEY}"
        assert posted.headers["Accept"] == "application/json"


async def test_an_execution_is_followed_by_its_id(server: Client, fake: FakePlatform) -> None:
    client = make_client(server)
    execution_id = await trigger(client)
    followed = await client.async_get_rule_execution(RULE, execution_id)
    assert (followed.id, followed.rule_id, followed.status) == (execution_id, RULE, "IN_PROGRESS")
    assert followed.simulated is False
    fake.executions[execution_id] = execution(
        execution_id,
        RULE,
        RuleExecutionStatus.PARTIAL,
        transfersCompleted=2,
        transfersFailed=1,
        transfersPending=0,
        transferIds=["t1", "t2", "t3"],
    )
    done = await client.async_get_rule_execution(RULE, execution_id)
    assert (done.status, done.transfers_completed, done.transfers_failed) == ("PARTIAL", 2, 1)
    assert done.transfer_ids == ("t1", "t2", "t3")
    assert fake.requests[-1][0] == f"{PREFIX}/rules/{RULE}/executions/{execution_id}"


async def test_an_execution_that_is_not_there_yet(server: Client, fake: FakePlatform) -> None:
    client = make_client(server)
    with pytest.raises(SequenceNotFoundError):
        await client.async_get_rule_execution(RULE, "ex-0042")
    fake.executions["ex-0042"] = execution("ex-0043", RULE)
    with pytest.raises(SequenceResponseError, match="not the execution asked for"):
        await client.async_get_rule_execution(RULE, "ex-0042")


# --- Transfers --------------------------------------------------------------------------------


async def test_create_transfer_sends_the_documented_body(
    server: Client, fake: FakePlatform
) -> None:
    client = make_client(server)
    simulated = await client.async_create_transfer(
        source_id=SOURCE,
        destination_id=DESTINATION,
        amount_cents=12345,
        description=None,
        simulation=True,
        idempotency_key="sim:" + IDEMPOTENCY_KEY[:32],
    )
    live = await create(client)
    first, second = fake.posts
    assert first.json() == {
        "sourceAccountId": SOURCE,
        "destinationAccountId": DESTINATION,
        "amountInCents": 12345,
        "simulation": True,
    }
    assert second.json() == {
        "sourceAccountId": SOURCE,
        "destinationAccountId": DESTINATION,
        "amountInCents": 5000,
        "description": "Vacation",
        "simulation": False,
    }
    assert first.headers["idempotency-key"] == "sim:" + IDEMPOTENCY_KEY[:32]
    assert second.headers["idempotency-key"] == IDEMPOTENCY_KEY
    assert simulated.simulated is True
    assert simulated.amount == Decimal("123.45")
    assert (simulated.source_id, simulated.destination_id) == (SOURCE, DESTINATION)
    assert live.simulated is False
    assert live.status == "PROCESSING"


async def test_get_transfer(server: Client, fake: FakePlatform) -> None:
    client = make_client(server)
    created = await create(client)
    fake.transfers[-1] |= {"status": "COMPLETE", "completedAt": "2026-11-21T12:00:04Z"}
    followed = await client.async_get_transfer(created.id)
    assert followed.status == "COMPLETE"
    assert followed.completed_at == datetime(2026, 11, 21, 12, 0, 4, tzinfo=UTC)
    assert fake.requests[-1][0] == f"{PREFIX}/transfers/{followed.id}"


async def test_get_transfer_failures(server: Client, fake: FakePlatform) -> None:
    client = make_client(server)
    with pytest.raises(SequenceNotFoundError):
        await client.async_get_transfer("tr-0001")
    fake.transfers.append(transfer("tr-0002", SOURCE, DESTINATION))
    fake.overrides[f"{PREFIX}/transfers/tr-0001"] = respond(
        200, envelope(transfer("tr-0002", SOURCE, DESTINATION))
    )
    with pytest.raises(SequenceResponseError, match="not the transfer asked for"):
        await client.async_get_transfer("tr-0001")
    fake.overrides[f"{PREFIX}/transfers/tr-0001"] = respond(
        403, {"error": {"code": "ACCESS_DENIED", "message": "x"}}
    )
    with pytest.raises(SequencePermissionError) as caught:
        await client.async_get_transfer("tr-0001")
    assert caught.value.permission is Permission.READ_TRANSFERS


# --- What a money POST's answer means ------------------------------------------------------------


def problem(status: int, code: str | None) -> dict[str, Any] | None:
    return None if code is None else {"error": {"code": code, "message": f"not for {KEY}"}}


DEFINITE = [
    (400, "IDEMPOTENCY_KEY_MISMATCH", SequenceRefusedError),
    (400, "MAXIMUM_AMOUNT_EXCEEDED", SequenceRefusedError),
    (400, "INVALID_PARAMETERS", SequenceRefusedError),
    (400, "INSUFFICIENT_FUNDS", SequenceRefusedError),
    (400, None, SequenceRefusedError),
    (403, "RULE_DEACTIVATED", SequenceRefusedError),
    (403, "INVALID_RULE", SequenceRefusedError),
    (404, "RULE_NOT_FOUND", SequenceRefusedError),
    (404, None, SequenceRefusedError),
    (405, None, SequenceRefusedError),
    (422, "lower-case", SequenceRefusedError),
    (409, "RULE_EXECUTION_IN_PROGRESS", SequenceConflictError),
    (409, "TRANSFER_IN_PROGRESS", SequenceConflictError),
    (409, None, SequenceConflictError),
    (401, "UNAUTHORIZED", SequenceAuthError),
    (403, "ACCESS_DENIED", SequencePermissionError),
    (403, None, SequencePermissionError),
    (429, "RATE_LIMIT_EXCEEDED", SequenceRateLimitError),
]


@pytest.mark.parametrize("money", MONEY_CALLS)
@pytest.mark.parametrize(("status", "code", "error_type"), DEFINITE)
async def test_definite_answers(
    server: Client,
    fake: FakePlatform,
    money: Money,
    status: int,
    code: str | None,
    error_type: type[SequenceError],
) -> None:
    """Refusals keep Sequence's code (when it looks like one); nothing is retried."""
    fake.overrides[money.path] = respond(status, problem(status, code))
    with pytest.raises(SequenceError) as caught:
        await money.call(make_client(server))
    err = caught.value
    assert type(err) is error_type
    assert not isinstance(err, SequenceOutcomeUnknownError)
    shown = code if code and code.isupper() else None
    if isinstance(err, SequenceRefusedError | SequenceConflictError):
        assert err.code == shown
    if isinstance(err, SequencePermissionError):
        assert err.permission is money.permission
    assert f"HTTP {status}" in str(err)
    assert err.__cause__ is None
    assert err.__context__ is None
    assert len(fake.posts) == 1


UNKNOWN_BODIES = {
    "no-body": b"",
    "json": b'{"error": {"code": "UNEXPECTED_ERROR", "message": "boom"}}',
    "html": b"<html><body>502 Bad Gateway</body></html>",
}


@pytest.mark.parametrize("money", MONEY_CALLS)
@pytest.mark.parametrize("status", [500, 502, 503, 504, 599, 302, 307])
@pytest.mark.parametrize("raw", UNKNOWN_BODIES.values(), ids=UNKNOWN_BODIES.keys())
async def test_a_5xx_or_a_redirect_is_an_unknown_outcome(
    server: Client,
    fake: FakePlatform,
    money: Money,
    status: int,
    raw: bytes,
) -> None:
    """A gateway may answer 502 or 504 after Sequence did the work: never "it failed"."""
    fake.overrides[money.path] = respond(status, raw=raw, headers={"Location": "/elsewhere"})
    with pytest.raises(SequenceOutcomeUnknownError, match="may have been carried out") as caught:
        await money.call(make_client(server))
    assert not isinstance(caught.value, SequenceConnectionError | SequenceServerError)
    assert caught.value.__context__ is None
    assert len(fake.posts) == 1
    assert [path for path, _, _ in fake.requests].count("/elsewhere") == 0


UNREADABLE_2XX = {
    "empty": b"",
    "html": b"<html>OK</html>",
    "truncated": b'{"data": {"executionId": "ex',
    "array": b"[]",
    "no-envelope": b'{"executionId": "ex-1"}',
    "wrong-shape": b'{"data": {"id": 5}, "requestId": "r"}',
}


@pytest.mark.parametrize("money", MONEY_CALLS)
@pytest.mark.parametrize("status", [200, 201, 202])
@pytest.mark.parametrize("raw", UNREADABLE_2XX.values(), ids=UNREADABLE_2XX.keys())
async def test_an_accepted_request_whose_answer_cannot_be_read(
    server: Client,
    fake: FakePlatform,
    money: Money,
    status: int,
    raw: bytes,
) -> None:
    fake.overrides[money.path] = respond(status, raw=raw)
    with pytest.raises(
        SequenceOutcomeUnknownError, match=rf"answered HTTP {status}, but"
    ) as caught:
        await money.call(make_client(server))
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None
    assert len(fake.posts) == 1


@pytest.mark.parametrize("money", MONEY_CALLS)
async def test_an_answer_too_large_to_read(
    server: Client, fake: FakePlatform, money: Money
) -> None:
    fake.overrides[money.path] = respond(201, raw=b" " * 2000)
    with pytest.raises(SequenceOutcomeUnknownError, match="too large") as caught:
        await money.call(make_client(server, max_response_bytes=1000))
    assert caught.value.__context__ is None


RAW_PARTIAL = (
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    b'{"data": {"executionId": "'
)


@pytest.mark.parametrize("money", MONEY_CALLS)
@pytest.mark.parametrize(
    ("raw", "stall", "message"),
    [
        (b"", False, "ServerDisconnectedError"),
        (RAW_PARTIAL, False, "ClientPayloadError"),
        (RAW_PARTIAL, True, "no complete answer came within 0.2 seconds"),
        (b"HTTP/1.1 202 Accepted\r\n", True, "no complete answer came within 0.2 seconds"),
        (b"NOT HTTP AT ALL\r\n\r\n", False, "its answer was not HTTP"),
    ],
    ids=["disconnected", "body-cut-short", "timeout-mid-body", "timeout-in-headers", "not-http"],
)
async def test_a_connection_lost_after_it_was_made(
    tcp_server: ScriptedServers,
    money: Money,
    raw: bytes,
    stall: bool,
    message: str,
) -> None:
    """The request reached Sequence (the server read all of it): the outcome is unknown."""
    url = await tcp_server(raw, stall=stall)
    async with ClientSession() as session:
        # A short timeout only where the server stalls: elsewhere a busy machine must not win
        # the race against the failure being tested.
        client = on_url(session, url, request_timeout=0.2 if stall else 5)
        with pytest.raises(SequenceOutcomeUnknownError, match=re.escape(message)) as caught:
            async with asyncio.timeout(10):
                await money.call(client)
    assert caught.value.__context__ is None
    assert tcp_server.requests[url] == 1  # read once, never sent again


@pytest.mark.parametrize("money", MONEY_CALLS)
async def test_a_connection_that_could_not_be_made_was_not_sent(money: Money) -> None:
    with refusing_port() as port:
        async with ClientSession() as session:
            with pytest.raises(SequenceConnectionError) as caught:
                await money.call(on_url(session, f"http://127.0.0.1:{port}"))
    assert type(caught.value) is SequenceConnectionError
    assert str(caught.value) == "connection to Sequence failed (ClientConnectorError)"
    assert caught.value.__context__ is None


@pytest.mark.parametrize("money", MONEY_CALLS)
async def test_a_rate_limit_blocks_the_key_and_nothing_more_is_sent(
    server: Client, fake: FakePlatform, money: Money
) -> None:
    budget = RequestBudget()
    fake.overrides[money.path] = respond(
        429,
        {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "slow"}},
        headers={"Retry-After": "42"},
    )
    with pytest.raises(SequenceRateLimitError) as caught:
        await money.call(make_client(server, budget))
    assert caught.value.retry_after == 42
    del fake.overrides[money.path]
    other = make_client(server, budget)  # another client of the same key
    with pytest.raises(SequenceRateLimitError, match="waiting out Sequence's rate limit"):
        await money.call(other)
    assert len(fake.posts) == 1


@pytest.mark.parametrize("money", MONEY_CALLS)
async def test_a_post_waits_for_the_budget_like_any_request(
    server: Client, fake: FakePlatform, money: Money
) -> None:
    fake.delay = 0.2
    budget = RequestBudget(max_concurrency=1)
    client = make_client(server, budget)
    await asyncio.gather(money.call(client), client.async_list_rules(), money.call(client))
    assert fake.max_in_flight == 1


@pytest.mark.parametrize(
    "key", ["", "k" * 37, "has space", "ünïcode", "semi;colon", "new\nline", "tab\tkey"]
)
async def test_an_unusable_idempotency_key_is_refused_before_sending(
    server: Client, fake: FakePlatform, key: str
) -> None:
    client = make_client(server)
    with pytest.raises(ValueError, match="idempotency key must be 1 to 36"):
        await client.async_trigger_rule(RULE, idempotency_key=key, simulation=True)
    with pytest.raises(ValueError, match="idempotency key must be 1 to 36"):
        await client.async_create_transfer(
            source_id=SOURCE,
            destination_id=DESTINATION,
            amount_cents=100,
            description=None,
            simulation=True,
            idempotency_key=key,
        )
    assert fake.requests == []


@pytest.mark.parametrize("key", ["a", "k" * 36, "A-Z.a_z:0/9|x", IDEMPOTENCY_KEY])
async def test_every_key_sequence_accepts_is_sent_as_it_is(
    server: Client, fake: FakePlatform, key: str
) -> None:
    client = make_client(server)
    await client.async_trigger_rule(RULE, idempotency_key=key, simulation=True)
    await client.async_create_transfer(
        source_id=SOURCE,
        destination_id=DESTINATION,
        amount_cents=100,
        description="",
        simulation=True,
        idempotency_key=key,
    )
    assert [posted.headers["idempotency-key"] for posted in fake.posts] == [key, key]
    assert fake.posts[1].json()["description"] == ""


async def test_no_secret_in_any_message_or_log(
    server: Client,
    fake: FakePlatform,
    tcp_server: ScriptedServers,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The key appears in no error (text, repr, traceback, attributes), repr or log record."""
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    answers = [
        respond(status, {"error": {"code": code, "message": f"{KEY} {KEY}"}})
        for status, code in (
            (400, "MAXIMUM_AMOUNT_EXCEEDED"),
            (403, "ACCESS_DENIED"),
            (403, "RULE_DEACTIVATED"),
            (409, "TRANSFER_IN_PROGRESS"),
            (401, "UNAUTHORIZED"),
            (500, "UNEXPECTED_ERROR"),
        )
    ]
    answers.append(respond(201, raw=KEY.encode()))
    for answer in answers:
        for path in (f"{PREFIX}/transfers", f"{PREFIX}/rules/{RULE}/trigger"):
            fake.overrides[path] = answer
        for call in (trigger, create):
            with pytest.raises(SequenceError) as caught:
                await call(make_client(server))
            errors.append(caught.value)
    url = await tcp_server(b"")
    async with ClientSession() as session:
        with pytest.raises(SequenceOutcomeUnknownError) as lost:
            await trigger(on_url(session, url))
    errors.append(lost.value)
    ours = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.sequence")
    )
    texts = [
        caplog.text,
        repr(make_client(server)),
        *(
            str(err) + repr(err) + repr(vars(err)) + "".join(traceback.format_exception(err))
            for err in errors
        ),
    ]
    assert not [text for text in texts if KEY in text]
    assert "POST /transfers answered HTTP 201" in ours
    assert "POST /rules/{id}/trigger failed after" in ours
    assert RULE not in ours  # routes, never ids
