"""Tests for the Remote API client, at the HTTP level against real servers on 127.0.0.1."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
import gzip
import json
import logging
from pathlib import Path
import traceback
from typing import Any

import aiohttp
from aiohttp import web
from hypothesis import HealthCheck, given, settings, strategies as st
from multidict import CIMultiDictProxy
import pytest

from custom_components.sequence.api import (
    DEFAULT_BASE_URL,
    Account,
    AccountKind,
    AccountsSnapshot,
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceRateLimitError,
    SequenceRemoteClient,
    SequenceResponseError,
    SequenceServerError,
    normalize_token,
    parse_accounts_payload,
)
from custom_components.sequence.api.remote import AccountsParser
from custom_components.sequence.api.transport import NOT_JSON, decode_json, parse_retry_after
from tests.api.conftest import ScriptedServers
from tests.conftest import refusing_port

pytestmark = pytest.mark.usefixtures("socket_enabled")

TOKEN = "tok_DO_NOT_LEAK_4d1c8e"
FIXTURES = Path(__file__).parent.parent / "fixtures"
GOOD: dict[str, Any] = json.loads((FIXTURES / "remote_accounts.json").read_text())

type Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
type ClientFactory = Callable[..., Awaitable[SequenceRemoteClient]]


def reply(status: int = 200, body: object = GOOD, headers: dict[str, str] | None = None) -> Handler:
    """A handler answering ``body``: bytes and text as they are, anything else as JSON."""
    if isinstance(body, str):
        raw = body.encode()
    elif isinstance(body, bytes):
        raw = body
    else:
        raw = json.dumps(body).encode()

    async def handler(_request: web.BaseRequest) -> web.StreamResponse:
        return web.Response(status=status, body=raw, headers=headers)

    return handler


async def slow_headers(_request: web.BaseRequest) -> web.StreamResponse:
    await asyncio.sleep(5)
    return web.Response()  # never reached: the client gives up first


async def chunked_flood(request: web.BaseRequest) -> web.StreamResponse:
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    for _ in range(10):
        await response.write(f"{TOKEN},".encode() * 20)
    await response.write_eof()
    return response


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query_string: str
    headers: CIMultiDictProxy[str]
    body: bytes


@dataclass
class FakeSequence:
    """Records every request, then answers with ``handler``."""

    handler: Handler = field(default_factory=reply)
    requests: list[Seen] = field(default_factory=list)

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        self.requests.append(
            Seen(
                request.method,
                request.path,
                request.query_string,
                request.headers,
                await request.read(),
            )
        )
        return await self.handler(request)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def fake() -> FakeSequence:
    return FakeSequence()


@pytest.fixture
async def fake_url(aiohttp_raw_server: Any, fake: FakeSequence) -> str:
    server = await aiohttp_raw_server(fake)
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture
def make_client(session: aiohttp.ClientSession, fake_url: str) -> ClientFactory:
    async def make(token: str = TOKEN, **kwargs: Any) -> SequenceRemoteClient:
        kwargs.setdefault("base_url", fake_url)
        kwargs.setdefault("request_timeout", 5)
        return SequenceRemoteClient(session, token, **kwargs)

    return make


# --- normalize_token -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        TOKEN,
        f"  {TOKEN}\n",
        f"Bearer {TOKEN}",
        f"bearer   {TOKEN}",
        f"BEARER\t{TOKEN}",
        f" \tBearer {TOKEN} \r\n",
    ],
)
def test_normalize_token(raw: str) -> None:
    assert normalize_token(raw) == TOKEN


def test_normalize_token_keeps_bearer_without_separator() -> None:
    assert normalize_token("BearerToken_1") == "BearerToken_1"


@pytest.mark.parametrize(
    "raw", ["", "   ", "Bearer", "bearer  \t", "tok en", "tok\nen", "tök", "Bearer a b"]
)
def test_normalize_token_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="access token") as info:
        normalize_token(raw)
    assert raw.strip() == "" or raw.strip() not in str(info.value)


# --- constructing the client -----------------------------------------------------------------


async def test_repr_shows_the_base_url_only(session: aiohttp.ClientSession) -> None:
    client = SequenceRemoteClient(session, f"Bearer {TOKEN}")
    assert repr(client) == f"SequenceRemoteClient(base_url='{DEFAULT_BASE_URL}')"
    assert repr(client._token) == "<redacted>"
    assert client._token.value == TOKEN


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"request_timeout": 0}, "request_timeout"),
        ({"request_timeout": -1.0}, "request_timeout"),
        ({"request_timeout": float("nan")}, "request_timeout"),
        ({"max_response_bytes": 0}, "max_response_bytes"),
    ],
)
async def test_client_rejects_bad_limits(
    session: aiohttp.ClientSession, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        SequenceRemoteClient(session, TOKEN, **kwargs)


async def test_client_rejects_empty_token(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="empty"):
        SequenceRemoteClient(session, " Bearer ")


# --- the request -----------------------------------------------------------------------------


@pytest.mark.parametrize("token", [TOKEN, f"  Bearer {TOKEN}\n", f"bearer\t{TOKEN}"])
@pytest.mark.parametrize("trailing_slash", ["", "/"])
async def test_request(
    make_client: ClientFactory,
    fake: FakeSequence,
    fake_url: str,
    token: str,
    trailing_slash: str,
) -> None:
    client = await make_client(token, base_url=fake_url + trailing_slash)
    await client.async_get_accounts()

    [seen] = fake.requests
    assert seen.method == "POST"
    assert seen.path == "/accounts"
    assert seen.query_string == ""
    assert seen.headers.getall("x-sequence-access-token") == [f"Bearer {TOKEN}"]
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "application/json"
    assert json.loads(seen.body) == {}


async def test_good_response(make_client: ClientFactory) -> None:
    client = await make_client()
    snapshot = await client.async_get_accounts()

    assert list(snapshot.accounts) == ["4410021", "4410007", "acc-77e1"]
    assert snapshot.accounts["4410021"] == Account(
        id="4410021",
        name="Groceries",
        kind=AccountKind.POD,
        type_name="Pod",
        balance=Decimal("412.06"),
    )
    assert snapshot.accounts["4410007"].kind is AccountKind.INCOME_SOURCE
    assert str(snapshot.accounts["4410007"].balance) == "0.00"
    visa = snapshot.accounts["acc-77e1"]
    assert (visa.kind, visa.balance, visa.balance_error) == (
        AccountKind.EXTERNAL,
        None,
        "Connection failed",
    )


async def test_an_unchanged_body_gives_the_previous_snapshot(
    make_client: ClientFactory, fake: FakeSequence
) -> None:
    client = await make_client()
    first = await client.async_get_accounts()
    fake.handler = reply(body={**GOOD, "requestId": "another"})
    assert await client.async_get_accounts() is first

    changed = json.loads(json.dumps(GOOD))
    changed["data"]["accounts"][0]["balance"]["amountInDollars"] = 412.07
    fake.handler = reply(body=changed)
    second = await client.async_get_accounts()
    assert second.accounts["4410021"].balance == Decimal("412.07")
    assert second.accounts["4410007"] is first.accounts["4410007"]
    assert second.accounts["acc-77e1"] is first.accounts["acc-77e1"]


def integration_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the integration's own loggers wrote: each record's message and any traceback."""
    formatter = logging.Formatter()
    return [
        record.getMessage()
        + (formatter.formatException(record.exc_info) if record.exc_info else "")
        for record in caplog.records
        if f"{record.name}.".startswith("custom_components.sequence.")
    ]


async def test_success_logs_no_account_data(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await make_client()
    await client.async_get_accounts()

    ours = integration_log(caplog)
    assert any("answered HTTP 200 in" in message for message in ours)
    assert "Sequence returned 3 accounts" in ours
    # Names, ids and the balance in each form it could be written (the float, Decimal, cents),
    # looked for only in what the integration wrote: the rest of the log holds random ports.
    account_data = ("Groceries", "Paycheck", "Visa", "4410021", "acc-77e1", "412.06", "41206")
    assert not [secret for secret in account_data for text in ours if secret in text]
    assert TOKEN not in caplog.text


async def test_redirect_is_not_followed(make_client: ClientFactory, fake: FakeSequence) -> None:
    fake.handler = reply(307, b"", {"Location": "/elsewhere"})
    client = await make_client()
    with pytest.raises(SequenceResponseError, match=r"^Sequence answered HTTP 307$"):
        await client.async_get_accounts()
    assert [seen.path for seen in fake.requests] == ["/accounts"]


@pytest.mark.parametrize("slack", [0, 1])
async def test_body_exactly_at_the_cap_is_accepted(make_client: ClientFactory, slack: int) -> None:
    size = len(json.dumps(GOOD).encode())
    client = await make_client(max_response_bytes=size - 1 + slack)
    if slack:
        assert len((await client.async_get_accounts()).accounts) == 3
    else:
        with pytest.raises(SequenceResponseError, match=f"larger than {size - 1} bytes"):
            await client.async_get_accounts()


# --- every failure: mapped to the right error, and the token never leaks ----------------------


@dataclass(frozen=True)
class Failure:
    """How to make the client fail: a handler of the fake, bare TCP bytes, or no server."""

    handler: Handler | None = None
    raw: bytes | None = None
    stall: bool = False
    refused: bool = False
    request_timeout: float = 5
    max_response_bytes: int = 4 * 1024 * 1024


def echo(code: str) -> dict[str, str]:
    """A flat error body that repeats the token, as a careless server might."""
    return {"code": code, "message": f"token {TOKEN} was not accepted"}


HTML = f"<!DOCTYPE html><html><body>502 Bad Gateway {TOKEN}</body></html>"
TRUNCATED = json.dumps(GOOD)[:60]
RAW_PARTIAL = (  # headers promising 500 bytes, then fewer
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    + TRUNCATED.encode()
)
WRONG_TYPES = {
    "data": {"accounts": [{"id": TOKEN, "name": TOKEN, "balance": {"amountInDollars": TOKEN}}]}
}

FAILURES = [
    pytest.param(
        Failure(reply(401, echo("INVALID_ACCESS_TOKEN"))),
        SequenceAuthError,
        "Sequence refused the access token (HTTP 401, INVALID_ACCESS_TOKEN)",
        id="401-invalid-access-token",
    ),
    pytest.param(
        Failure(reply(403, b"")),
        SequenceAuthError,
        "Sequence refused the access token (HTTP 403)",
        id="403-empty",
    ),
    pytest.param(
        Failure(reply(400, echo("INVALID_API_SECRET"))),
        SequenceAuthError,
        "Sequence refused the access token (HTTP 400, INVALID_API_SECRET)",
        id="400-invalid-api-secret",
    ),
    pytest.param(
        Failure(reply(200, echo("INVALID_ACCESS_TOKEN"))),
        SequenceAuthError,
        "Sequence refused the access token (HTTP 200, INVALID_ACCESS_TOKEN)",
        id="200-invalid-access-token",
    ),
    pytest.param(
        Failure(reply(429, echo("TOO_MANY_REQUESTS"), {"Retry-After": TOKEN})),
        SequenceRateLimitError,
        "Sequence is rate limiting requests (HTTP 429, TOO_MANY_REQUESTS)",
        id="429",
    ),
    pytest.param(
        Failure(reply(500, echo("UNEXPECTED_ERROR"))),
        SequenceServerError,
        "Sequence is unavailable (HTTP 500, UNEXPECTED_ERROR)",
        id="500-unexpected-error",
    ),
    pytest.param(
        Failure(reply(500, echo(TOKEN))),
        SequenceServerError,
        "Sequence is unavailable (HTTP 500)",
        id="500-code-echoes-token",
    ),
    pytest.param(
        Failure(reply(500, echo("A" * 65))),
        SequenceServerError,
        "Sequence is unavailable (HTTP 500)",
        id="500-code-too-long",
    ),
    pytest.param(
        Failure(reply(502, HTML, {"Content-Type": "text/html"})),
        SequenceServerError,
        "Sequence is unavailable (HTTP 502)",
        id="502-html",
    ),
    pytest.param(
        Failure(reply(400, echo("INVALID_REQUEST"))),
        SequenceResponseError,
        "Sequence answered HTTP 400, INVALID_REQUEST",
        id="400-invalid-request",
    ),
    pytest.param(
        Failure(reply(405, b"")),
        SequenceResponseError,
        "Sequence answered HTTP 405",
        id="405",
    ),
    pytest.param(
        Failure(reply(200, b"")),
        SequenceResponseError,
        "the response body is empty",
        id="200-empty",
    ),
    pytest.param(
        Failure(reply(204, b"")),
        SequenceResponseError,
        "the response body is empty",
        id="204",
    ),
    pytest.param(
        Failure(reply(200, " \r\n ")),
        SequenceResponseError,
        "the response body is empty",
        id="200-whitespace",
    ),
    pytest.param(
        Failure(reply(200, HTML, {"Content-Type": "text/html"})),
        SequenceResponseError,
        "the response is HTML, not JSON",
        id="200-html",
    ),
    pytest.param(
        Failure(reply(200, TRUNCATED)),
        SequenceResponseError,
        "the response body is not valid JSON",
        id="200-truncated-json",
    ),
    pytest.param(
        Failure(reply(200, f"token={TOKEN}")),
        SequenceResponseError,
        "the response body is not valid JSON",
        id="200-text",
    ),
    pytest.param(
        Failure(reply(200, '{"data": {"accounts": []}, "x": NaN}')),
        SequenceResponseError,
        "the response body is not valid JSON",
        id="200-nan",
    ),
    pytest.param(
        Failure(reply(200, b'{"data": "\xff\xfe"}')),
        SequenceResponseError,
        "the response body is not valid JSON",
        id="200-not-utf8",
    ),
    pytest.param(
        Failure(reply(200, "[" * 200_000)),
        SequenceResponseError,
        "the response body is not valid JSON",
        id="200-deeply-nested",
    ),
    pytest.param(
        Failure(reply(200, [TOKEN])),
        SequenceResponseError,
        "invalid accounts response: the response is array, not an object",
        id="200-array",
    ),
    pytest.param(
        Failure(reply(200, {"data": {"balances": [412.06, TOKEN]}})),
        SequenceResponseError,
        "invalid accounts response: unexpected shape: data.balances without data.accounts",
        id="200-legacy-balances",
    ),
    pytest.param(
        Failure(reply(200, WRONG_TYPES)),
        SequenceResponseError,
        "invalid accounts response: data.accounts[0].balance.amountInDollars is string, "
        "not a number",
        id="200-wrong-types",
    ),
    pytest.param(
        Failure(
            reply(200, {"data": {"accounts": [], "padding": TOKEN * 100}}), max_response_bytes=1000
        ),
        SequenceResponseError,
        "response larger than 1000 bytes",
        id="huge-content-length",
    ),
    pytest.param(
        Failure(chunked_flood, max_response_bytes=1000),
        SequenceResponseError,
        "response larger than 1000 bytes",
        id="huge-chunked",
    ),
    pytest.param(
        Failure(
            reply(200, gzip.compress(b" " * 100_000), {"Content-Encoding": "gzip"}),
            max_response_bytes=1000,
        ),
        SequenceResponseError,
        "response larger than 1000 bytes",
        id="huge-once-decompressed",
    ),
    pytest.param(
        Failure(slow_headers, request_timeout=0.2),
        SequenceConnectionError,
        "no complete answer from Sequence within 0.2 seconds",
        id="timeout-before-headers",
    ),
    pytest.param(
        Failure(raw=RAW_PARTIAL, stall=True, request_timeout=0.2),
        SequenceConnectionError,
        "no complete answer from Sequence within 0.2 seconds",
        id="timeout-mid-body",
    ),
    pytest.param(
        Failure(refused=True),
        SequenceConnectionError,
        "connection to Sequence failed (ClientConnectorError)",
        id="connection-refused",
    ),
    pytest.param(
        Failure(raw=b""),
        SequenceConnectionError,
        "connection to Sequence failed (ServerDisconnectedError)",
        id="server-disconnected",
    ),
    pytest.param(
        Failure(raw=RAW_PARTIAL),
        SequenceConnectionError,
        "connection to Sequence failed (ClientPayloadError)",
        id="body-cut-short",
    ),
    pytest.param(
        Failure(raw=f"NOT-HTTP {TOKEN}\r\n\r\n".encode()),
        SequenceResponseError,
        "Sequence sent an invalid HTTP response (ClientResponseError)",
        id="not-http",
    ),
]


@pytest.fixture
def refused_port() -> Iterator[int]:
    with refusing_port() as port:
        yield port


@pytest.fixture
async def failing_client(
    request: pytest.FixtureRequest,
    session: aiohttp.ClientSession,
    fake: FakeSequence,
    fake_url: str,
    tcp_server: ScriptedServers,
) -> SequenceRemoteClient:
    failure: Failure = request.param
    if failure.handler is not None:
        fake.handler = failure.handler
        base_url = fake_url
    elif failure.raw is not None:
        base_url = await tcp_server(failure.raw, stall=failure.stall)
    else:
        base_url = f"http://127.0.0.1:{request.getfixturevalue('refused_port')}"
    return SequenceRemoteClient(
        session,
        f"Bearer {TOKEN}",
        base_url=base_url,
        request_timeout=failure.request_timeout,
        max_response_bytes=failure.max_response_bytes,
    )


@pytest.mark.parametrize(
    ("failing_client", "error", "message"), FAILURES, indirect=["failing_client"]
)
async def test_failure_is_mapped(
    failing_client: SequenceRemoteClient, error: type[SequenceError], message: str
) -> None:
    with pytest.raises(SequenceError) as info:
        async with asyncio.timeout(3):  # timeouts must be the client's, not the server's
            await failing_client.async_get_accounts()
    assert type(info.value) is error
    assert str(info.value) == message
    assert info.value.__cause__ is None
    assert info.value.__context__ is None


@pytest.mark.parametrize(
    ("failing_client", "error", "message"), FAILURES, indirect=["failing_client"]
)
async def test_token_never_leaks(
    failing_client: SequenceRemoteClient,
    error: type[SequenceError],
    message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(error) as info:
        async with asyncio.timeout(3):
            await failing_client.async_get_accounts()

    exposed = [
        str(info.value),
        repr(info.value),
        "".join(traceback.format_exception(info.value)),
        repr(vars(info.value)),
        repr(failing_client),
        caplog.text,
        *(repr(record.args) for record in caplog.records),
    ]
    assert not [text for text in exposed if TOKEN in text]
    assert any(
        "failed after" in r.getMessage() or "answered HTTP" in r.getMessage()
        for r in caplog.records
    )


async def test_not_http_error_would_have_leaked_the_token(
    session: aiohttp.ClientSession, tcp_server: ScriptedServers
) -> None:
    """Why errors are never chained: aiohttp's own error carries the request headers."""
    base_url = await tcp_server(b"NOT-HTTP\r\n\r\n")
    with pytest.raises(aiohttp.ClientResponseError) as info:
        await session.post(
            f"{base_url}/accounts", data=b"{}", headers={"x-sequence-access-token": TOKEN}
        )
    assert TOKEN in repr(info.value)


async def test_invalid_base_url(session: aiohttp.ClientSession) -> None:
    client = SequenceRemoteClient(session, TOKEN, base_url="not a url")
    with pytest.raises(SequenceConnectionError, match=r"\(InvalidUrlClientError\)$") as info:
        await client.async_get_accounts()
    assert info.value.__context__ is None


# --- Outages are not API changes ----------------------------------------------------------------

OUTAGE_BODIES = {
    "no-body": b"",
    "json": echo("UNEXPECTED_ERROR"),
    "json-other-code": echo("SERVICE_DOWN"),
    "html": HTML,
}


@pytest.mark.parametrize("status", [500, 501, 502, 503, 504, 520, 599])
@pytest.mark.parametrize("body", OUTAGE_BODIES.values(), ids=OUTAGE_BODIES.keys())
async def test_every_5xx_is_an_outage(
    make_client: ClientFactory, fake: FakeSequence, status: int, body: object
) -> None:
    fake.handler = reply(status, body)
    client = await make_client()
    with pytest.raises(SequenceServerError) as info:
        await client.async_get_accounts()
    assert str(info.value).startswith(f"Sequence is unavailable (HTTP {status}")
    assert isinstance(info.value, SequenceConnectionError)
    assert not isinstance(info.value, SequenceResponseError)
    assert info.value.retry_after is None


async def test_an_outage_keeps_its_retry_after(
    make_client: ClientFactory, fake: FakeSequence
) -> None:
    fake.handler = reply(503, b"", {"Retry-After": "120"})
    client = await make_client()
    with pytest.raises(SequenceServerError) as info:
        await client.async_get_accounts()
    assert info.value.retry_after == 120


@pytest.mark.parametrize("status", [200, 400])
async def test_unexpected_error_code_is_an_outage_whatever_the_status(
    make_client: ClientFactory, fake: FakeSequence, status: int
) -> None:
    """Sequence documents UNEXPECTED_ERROR as its own failure: the code wins, as auth codes do."""
    fake.handler = reply(status, echo("UNEXPECTED_ERROR"))
    client = await make_client()
    with pytest.raises(SequenceServerError, match=rf"\(HTTP {status}, UNEXPECTED_ERROR\)$"):
        await client.async_get_accounts()


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, echo("INVALID_REQUEST")), (404, b""), (404, HTML), (405, b""), (302, b""), (600, b"")],
)
async def test_other_statuses_are_api_changes_not_outages(
    make_client: ClientFactory, fake: FakeSequence, status: int, body: object
) -> None:
    """What this version sends is fixed: a 4xx (or a redirect) means Sequence moved on."""
    fake.handler = reply(status, body)
    client = await make_client()
    with pytest.raises(SequenceResponseError, match=rf"^Sequence answered HTTP {status}"):
        await client.async_get_accounts()


# --- 429 and Retry-After ---------------------------------------------------------------------


def http_date(delta: timedelta) -> str:
    return format_datetime(datetime.now(UTC) + delta, usegmt=True)


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [
        (lambda: "30", 30, 30),
        (lambda: " 0 ", 0, 0),
        # An HTTP date is written when the test runs, not when it is collected: with xdist the
        # two can be minutes apart on a busy machine.
        (lambda: http_date(timedelta(minutes=10)), 400, 600),
        (lambda: http_date(-timedelta(minutes=10)), 0, 0),
    ],
    ids=["seconds", "zero", "date-ahead", "date-past"],
)
async def test_rate_limited_with_retry_after(
    make_client: ClientFactory,
    fake: FakeSequence,
    retry_after: Callable[[], str],
    low: float,
    high: float,
) -> None:
    fake.handler = reply(429, echo("TOO_MANY_REQUESTS"), {"Retry-After": retry_after()})
    client = await make_client()
    with pytest.raises(SequenceRateLimitError) as info:
        await client.async_get_accounts()
    assert info.value.retry_after is not None
    assert low <= info.value.retry_after <= high


@pytest.mark.parametrize("headers", [None, {"Retry-After": "soon"}, {"Retry-After": "-5"}])
async def test_rate_limited_without_usable_retry_after(
    make_client: ClientFactory, fake: FakeSequence, headers: dict[str, str] | None
) -> None:
    fake.handler = reply(429, b"", headers)
    client = await make_client()
    with pytest.raises(SequenceRateLimitError, match=r"\(HTTP 429\)$") as info:
        await client.async_get_accounts()
    assert info.value.retry_after is None


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("120", 120.0),
        ("Sun, 01 Mar 2026 12:01:30 GMT", 90.0),
        ("Sun, 01 Mar 2026 12:01:30 -0000", 90.0),  # no zone information: read as UTC
        ("Sun, 01 Mar 2026 13:01:30 +0100", 90.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),
        ("1.5", None),
        ("", None),
        ("9" * 40, None),
        ("Sun, 41 Mar 2026 12:01:30 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@settings(
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.text())
def test_parse_retry_after_never_raises(value: str) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or seconds >= 0


# --- parse_accounts_payload ------------------------------------------------------------------


def envelope(*accounts: object) -> dict[str, object]:
    return {"message": "OK", "requestId": "r-1", "data": {"accounts": list(accounts)}}


def test_parse_fixture() -> None:
    snapshot = parse_accounts_payload(GOOD)
    assert [account.name for account in snapshot.accounts.values()] == [
        "Groceries",
        "Paycheck",
        "Visa 9921",
    ]
    assert snapshot.field_shapes == {
        "id": {"string": 3},
        "name": {"string": 3},
        "type": {"string": 3},
        "balance": {"object": 3},
        "balance.amountInDollars": {"number": 2, "null": 1},
        "balance.error": {"null": 2, "string": 1},
    }


def wire(payload: object) -> object:
    """``payload`` as the client sees it: encoded, then decoded."""
    return decode_json(json.dumps(payload).encode())


def test_parser_keeps_the_models_of_unchanged_accounts() -> None:
    parser = AccountsParser()
    first = parser.parse(wire(GOOD))
    assert parser.parse(wire(GOOD)) is first  # nothing changed: the same snapshot

    changed = json.loads(json.dumps(GOOD))
    changed["data"]["accounts"][1]["name"] = "Salary"
    second = parser.parse(wire(changed))
    assert second is not first
    assert second == parse_accounts_payload(changed)
    assert second.accounts["4410021"] is first.accounts["4410021"]
    assert second.accounts["acc-77e1"] is first.accounts["acc-77e1"]
    assert second.accounts["4410007"].name == "Salary"
    # Only the previous body counts: the first one's Paycheck is forgotten.
    assert parser.parse(wire(GOOD)).accounts["4410007"] is not first.accounts["4410007"]


@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [
        (
            {"id": "1", "balance": {"amountInDollars": 1}},
            {"id": "1", "balance": {"amountInDollars": True}},
            "data.accounts[0].balance.amountInDollars is boolean, not a number",
        ),
        (
            {"id": 1, "balance": {"amountInDollars": 0}},
            {"id": 1.0, "balance": {"amountInDollars": 0}},
            "data.accounts[0].id is number, not a string",
        ),
        (
            {"id": "1", "balance": {"amountInDollars": 0}},
            {"id": "1", "balance": {"amountInDollars": False}},
            "data.accounts[0].balance.amountInDollars is boolean, not a number",
        ),
    ],
)
def test_parser_reuse_sees_json_types(before: object, after: object, reason: str) -> None:
    """Python says True == 1 == 1.0; JSON (and this parser) does not."""
    parser = AccountsParser()
    parser.parse(wire(envelope(before)))
    with pytest.raises(SequenceResponseError) as info:
        parser.parse(wire(envelope(after)))
    assert str(info.value) == f"invalid accounts response: {reason}"


def test_parser_counts_shapes_of_reused_accounts() -> None:
    parser = AccountsParser()
    parser.parse(wire(GOOD))
    grown = json.loads(json.dumps(GOOD))
    grown["data"]["accounts"].append({"id": "x", "name": None, "balance": None})
    assert parser.parse(wire(grown)).field_shapes == {
        "id": {"string": 4},
        "name": {"string": 3, "null": 1},
        "type": {"string": 3, "missing": 1},
        "balance": {"object": 3, "null": 1},
        "balance.amountInDollars": {"number": 2, "null": 1},
        "balance.error": {"null": 2, "string": 1},
    }


def test_parser_takes_python_values_that_json_cannot_hold() -> None:
    """Callers with Python data (not decoded JSON) still get a parse, just no reuse."""
    parser = AccountsParser()
    payload = envelope({"id": "1", "note": 2**70})
    first = parser.parse(payload)
    second = parser.parse(payload)
    assert second == first
    assert second is not first


def test_parser_refuses_a_repeated_account_it_knows() -> None:
    parser = AccountsParser()
    parser.parse(wire(envelope({"id": "1"})))
    with pytest.raises(SequenceResponseError, match=r"accounts\[1\].id repeats"):
        parser.parse(wire(envelope({"id": "1"}, {"id": "1"})))


def test_parse_keeps_api_order() -> None:
    snapshot = parse_accounts_payload(envelope({"id": "b"}, {"id": "a"}, {"id": "c"}))
    assert list(snapshot.accounts) == ["b", "a", "c"]


def test_parse_no_accounts() -> None:
    snapshot = parse_accounts_payload({"data": {"accounts": [], "errors": None}})
    assert snapshot == AccountsSnapshot(
        accounts={},
        field_shapes={
            "id": {},
            "name": {},
            "type": {},
            "balance": {},
            "balance.amountInDollars": {},
            "balance.error": {},
        },
    )


def test_parse_tolerates_data_errors_list() -> None:
    payload = {"data": {"accounts": [{"id": "1"}], "errors": [{"anything": True}]}}
    assert list(parse_accounts_payload(payload).accounts) == ["1"]


def test_parse_minimal_account() -> None:
    snapshot = parse_accounts_payload(envelope({"id": 42}))
    assert snapshot.accounts == {
        "42": Account(
            id="42",
            name="Account 42",
            kind=AccountKind.UNKNOWN,
            type_name="",
            balance=None,
            balance_error=None,
        )
    }
    assert snapshot.field_shapes["id"] == {"number": 1}
    assert snapshot.field_shapes["name"] == {"missing": 1}
    assert snapshot.field_shapes["balance.amountInDollars"] == {}


@pytest.mark.parametrize("name", [None, "", "   "])
def test_parse_name_fallback(name: str | None) -> None:
    snapshot = parse_accounts_payload(envelope({"id": "7", "name": name}))
    assert snapshot.accounts["7"].name == "Account 7"


@pytest.mark.parametrize(
    ("type_value", "kind", "type_name"),
    [
        ("Pod", AccountKind.POD, "Pod"),
        ("Income Source", AccountKind.INCOME_SOURCE, "Income Source"),
        ("Account", AccountKind.EXTERNAL, "Account"),
        ("Credit Card", AccountKind.UNKNOWN, "Credit Card"),
        ("pod", AccountKind.UNKNOWN, "pod"),
        (None, AccountKind.UNKNOWN, ""),
    ],
)
def test_parse_type(type_value: str | None, kind: AccountKind, type_name: str) -> None:
    account = parse_accounts_payload(envelope({"id": "1", "type": type_value})).accounts["1"]
    assert (account.kind, account.type_name) == (kind, type_name)


@pytest.mark.parametrize(
    ("balance", "amount", "error"),
    [
        (None, None, None),
        ({}, None, None),
        ({"amountInDollars": None, "error": None}, None, None),
        ({"amountInDollars": 5, "error": ""}, Decimal("5.00"), None),
        ({"amountInDollars": None, "error": "Connection failed"}, None, "Connection failed"),
        ({"amountInDollars": 1.5, "error": "Stale"}, Decimal("1.50"), "Stale"),
        ({"amountInDollars": None, "error": " NOT_FOUND "}, None, "Not found"),
    ],
)
def test_parse_balance(
    balance: dict[str, object] | None, amount: Decimal | None, error: str | None
) -> None:
    account = parse_accounts_payload(envelope({"id": "1", "balance": balance})).accounts["1"]
    assert (account.balance, account.balance_error) == (amount, error)


@pytest.mark.parametrize(
    ("json_number", "expected"),
    [
        ("412.06", "412.06"),
        ("-412.06", "-412.06"),
        ("0.30000000000000004", "0.30"),  # 0.1 + 0.2
        ("1e-7", "0.00"),
        ("-0.0", "0.00"),
        ("-0.001", "0.00"),
        ("1.005", "1.00"),  # half-even on the shortest text
        ("1.015", "1.02"),  # Decimal(1.015) would be 1.01499... and round down
        ("2.675", "2.68"),  # likewise 2.67499...
        ("0.125", "0.12"),
        ("12", "12.00"),
        ("-250", "-250.00"),
        ("123456789012.34", "123456789012.34"),
        ("999999999999999", "999999999999999.00"),
        ("9999999999999.99", "9999999999999.99"),
    ],
)
def test_parse_amount_rounding(json_number: str, expected: str) -> None:
    wire = '{"data": {"accounts": [{"id": "1", "balance": {"amountInDollars": NUMBER}}]}}'
    payload = json.loads(wire.replace("NUMBER", json_number))
    balance = parse_accounts_payload(payload).accounts["1"].balance
    assert str(balance) == expected


def test_parse_sum_of_floats() -> None:
    balance = (
        parse_accounts_payload(envelope({"id": "1", "balance": {"amountInDollars": 0.1 + 0.2}}))
        .accounts["1"]
        .balance
    )
    assert balance == Decimal("0.30")


@settings(
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.decimals(min_value="-9999999999999.99", max_value="9999999999999.99", places=2))
def test_cents_survive_a_trip_through_a_json_float(cents: Decimal) -> None:
    wire = json.loads(
        json.dumps(envelope({"id": "1", "balance": {"amountInDollars": float(cents)}}))
    )
    assert parse_accounts_payload(wire).accounts["1"].balance == cents


def account_at(index: int, account: object) -> dict[str, object]:
    return envelope(*[{"id": f"ok-{n}"} for n in range(index)], account)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([], "the response is array, not an object"),
        (None, "the response is null, not an object"),
        ("OK", "the response is string, not an object"),
        ({}, "data is missing"),
        ({"code": "OK", "message": "fine"}, "data is missing"),
        ({"data": None}, "data is null, not an object"),
        ({"data": []}, "data is array, not an object"),
        ({"data": {}}, "data.accounts is missing"),
        ({"data": {"balances": [1.0]}}, "unexpected shape: data.balances without data.accounts"),
        ({"data": {"accounts": {}}}, "data.accounts is object, not an array"),
        ({"data": {"accounts": None}}, "data.accounts is null, not an array"),
        ({"data": {"accounts": [], "errors": "x"}}, "data.errors is string, not an array"),
        (envelope(5), "data.accounts[0] is number, not an object"),
        (envelope([]), "data.accounts[0] is array, not an object"),
        (account_at(2, {}), "data.accounts[2].id is missing"),
        (envelope({"id": None}), "data.accounts[0].id is null, not a string"),
        (envelope({"id": ""}), "data.accounts[0].id is empty"),
        (envelope({"id": " "}), "data.accounts[0].id is empty"),
        (envelope({"id": True}), "data.accounts[0].id is boolean, not a string"),
        (envelope({"id": 1.5}), "data.accounts[0].id is number, not a string"),
        (envelope({"id": {"v": 1}}), "data.accounts[0].id is object, not a string"),
        (envelope({"id": Decimal(1)}), "data.accounts[0].id is unsupported, not a string"),
        (envelope({"id": "1"}, {"id": "1"}), "data.accounts[1].id repeats an earlier account's id"),
        (envelope({"id": 1}, {"id": "1"}), "data.accounts[1].id repeats an earlier account's id"),
        (envelope({"id": "1", "name": 5}), "data.accounts[0].name is number, not a string"),
        (envelope({"id": "1", "type": []}), "data.accounts[0].type is array, not a string"),
        (
            envelope({"id": "1", "balance": "12"}),
            "data.accounts[0].balance is string, not an object",
        ),
        (
            envelope({"id": "1", "balance": 12.5}),
            "data.accounts[0].balance is number, not an object",
        ),
        (
            envelope({"id": "1", "balance": {"amountInDollars": "412.06"}}),
            "data.accounts[0].balance.amountInDollars is string, not a number",
        ),
        (
            envelope({"id": "1", "balance": {"amountInDollars": True}}),
            "data.accounts[0].balance.amountInDollars is boolean, not a number",
        ),
        (
            envelope({"id": "1", "balance": {"amountInDollars": float("inf")}}),
            "data.accounts[0].balance.amountInDollars is not a finite number",
        ),
        (
            envelope({"id": "1", "balance": {"amountInDollars": float("nan")}}),
            "data.accounts[0].balance.amountInDollars is not a finite number",
        ),
        (
            envelope({"id": "1", "balance": {"amountInDollars": 1e15}}),
            "data.accounts[0].balance.amountInDollars is out of range",
        ),
        (
            envelope({"id": "1", "balance": {"amountInDollars": -(10**20)}}),
            "data.accounts[0].balance.amountInDollars is out of range",
        ),
        (
            envelope({"id": "1", "balance": {"amountInDollars": 1, "error": 5}}),
            "data.accounts[0].balance.error is number, not a string",
        ),
    ],
)
def test_parse_rejects(payload: object, reason: str) -> None:
    with pytest.raises(SequenceResponseError) as info:
        parse_accounts_payload(payload)
    assert str(info.value) == f"invalid accounts response: {reason}"


# --- parse_accounts_payload never fails in another way ---------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
numbers = st.integers() | st.floats(allow_nan=False)
balances = json_values | st.fixed_dictionaries(
    {},
    optional={
        "amountInDollars": st.none() | numbers | json_values,
        "error": st.none() | st.text() | json_values,
    },
)
accounts = json_values | st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=3) | st.integers(-3, 3) | json_values,
        "name": st.none() | st.text() | json_values,
        "type": st.sampled_from(["Pod", "Income Source", "Account"]) | json_values,
        "balance": st.none() | balances,
    },
)
envelopes = st.fixed_dictionaries(
    {
        "data": st.fixed_dictionaries(
            {"accounts": st.lists(accounts, max_size=5)},
            optional={"errors": st.none() | json_values},
        )
    },
    optional={"message": json_values, "requestId": json_values},
)


def check_parse(payload: object) -> None:
    try:
        snapshot = parse_accounts_payload(payload)
    except SequenceResponseError:
        return
    assert isinstance(payload, dict)
    count = len(payload["data"]["accounts"])
    assert len(snapshot.accounts) == count
    for path in ("id", "name", "type", "balance"):
        assert sum(snapshot.field_shapes[path].values()) == count
    for account in snapshot.accounts.values():
        assert account.name
        assert account.balance is None or account.balance.as_tuple().exponent == -2


@settings(
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(json_values)
def test_parse_any_json(payload: object) -> None:
    check_parse(payload)


@settings(
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(envelopes)
def test_parse_any_envelope(payload: object) -> None:
    check_parse(payload)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(accounts, min_size=1, max_size=6), st.data())
def test_parser_gives_what_a_fresh_parse_gives(pool: list[object], data: st.DataObject) -> None:
    """Whatever the previous bodies were, reusing models never changes a parse's outcome."""
    parser = AccountsParser()
    for _ in range(4):
        chosen = data.draw(st.lists(st.sampled_from(pool), max_size=5))
        payload = wire(envelope(*chosen))
        if payload is NOT_JSON:  # an infinity
            continue
        try:
            expected: AccountsSnapshot | str = parse_accounts_payload(payload)
        except SequenceResponseError as err:
            expected = str(err)
        try:
            got: AccountsSnapshot | str = parser.parse(payload)
        except SequenceResponseError as err:
            got = str(err)
        assert got == expected
