"""Remote API rules: the trigger URL (the entry's host, a documented path) and the trigger."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
import logging
import re
import traceback
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.sequence.api.errors import (
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceOutcomeUnknownError,
    SequenceRateLimitError,
    SequenceRefusedError,
    SequenceRuleSecretError,
)
from custom_components.sequence.api.remote_rules import RemoteRuleTrigger, parse_trigger_url
from tests.api.conftest import ScriptedServers
from tests.conftest import refusing_port
from tools.simulator.app import build_app
from tools.simulator.remote_rules import DEV_RULE_SECRET
from tools.simulator.runtime import Simulator
from tools.simulator.state import Bank

pytestmark = pytest.mark.usefixtures("socket_enabled")

BASE = "https://api.getsequence.io"
LOCAL = "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("url", "base", "rule_id"),
    [
        (f"{BASE}/remote-api/rules/ru_12345/trigger", BASE, "ru_12345"),
        (f"{BASE}/rules/ru_12345/trigger", BASE, "ru_12345"),
        (f"  {BASE}/rules/ru_12345/trigger/\n", BASE, "ru_12345"),
        ("HTTPS://API.GetSequence.io/rules/ru_1/trigger", BASE, "ru_1"),
        ("https://api.getsequence.io:443/rules/ru_1/trigger", BASE, "ru_1"),
        (f"{LOCAL}/remote-api/rules/7f1c-22.a~b/trigger", LOCAL, "7f1c-22.a~b"),
        ("https://localhost:8443/rules/r/trigger", "https://localhost:8443", "r"),
    ],
)
def test_documented_shapes_on_the_entrys_host(url: str, base: str, rule_id: str) -> None:
    assert parse_trigger_url(url, base) == rule_id


@pytest.mark.parametrize(
    ("url", "base", "reason"),
    [
        ("http://api.getsequence.io/rules/ru_1/trigger", BASE, "scheme"),
        ("ftp://api.getsequence.io/rules/ru_1/trigger", BASE, "scheme"),
        ("api.getsequence.io/rules/ru_1/trigger", BASE, "scheme"),
        ("", BASE, "scheme"),
        ("https://127.0.0.1:8765/rules/ru_1/trigger", LOCAL, "scheme"),
        ("https://evil.example/rules/ru_1/trigger", BASE, "host"),
        ("https://api.getsequence.io.evil.example/rules/ru_1/trigger", BASE, "host"),
        ("https://api.getsequence.io:8443/rules/ru_1/trigger", BASE, "host"),
        ("https://api.getsequence.io:99999/rules/ru_1/trigger", BASE, "host"),
        ("https://api.getsequence.io:port/rules/ru_1/trigger", BASE, "host"),
        ("https://user:pw@api.getsequence.io/rules/ru_1/trigger", BASE, "host"),
        ("https://user@api.getsequence.io/rules/ru_1/trigger", BASE, "host"),
        ("http://127.0.0.1:9999/rules/ru_1/trigger", LOCAL, "host"),
        ("http://127.0.0.1/rules/ru_1/trigger", LOCAL, "host"),
        (f"{BASE}/accounts", BASE, "path"),
        (f"{BASE}/rules/ru_1", BASE, "path"),
        (f"{BASE}/rules//trigger", BASE, "path"),
        (f"{BASE}/rules/a/b/trigger", BASE, "path"),
        (f"{BASE}/rules/ru%201/trigger", BASE, "path"),
        (f"{BASE}/platform/v1/rules/ru_1/trigger", BASE, "path"),
        (f"{BASE}/remote-api/rules/ru_1/trigger?secret=x", BASE, "path"),
        (f"{BASE}/remote-api/rules/ru_1/trigger#x", BASE, "path"),
        (f"{BASE}/rules/{'r' * 129}/trigger", BASE, "path"),
    ],
)
def test_anything_else_says_what_is_wrong(url: str, base: str, reason: str) -> None:
    with pytest.raises(ValueError, match=rf"^{reason}$"):
        parse_trigger_url(url, base)


# --- Triggering a rule --------------------------------------------------------------------------

SECRET = "rule-secret-DO-NOT-LEAK-41c7"
KEY = "0d3c1f1e-5b43-4c1e-9d0a-6f1c5e2b7a90"
OK = {
    "code": "OK",
    "message": "Rule with id ru_12345 has been triggered",
    "data": {"requestId": "r"},
}


@dataclass
class FakeRemote:
    """Records every request, then answers with ``handler``."""

    handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        self.seen.append(
            (request.method, request.path, dict(request.headers), await request.read())
        )
        return await self.handler(request)


def answer(
    status: int = 200,
    body: object = OK,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]:
    async def handler(_request: web.BaseRequest) -> web.StreamResponse:
        if raw is not None:
            return web.Response(status=status, body=raw, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    return handler


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def remote() -> FakeRemote:
    return FakeRemote(answer())


@pytest.fixture
async def remote_url(aiohttp_raw_server: Any, remote: FakeRemote) -> str:
    server = await aiohttp_raw_server(remote)
    return f"http://127.0.0.1:{server.port}"


@pytest.mark.parametrize("path", ["/remote-api/rules/ru_12345/trigger", "/rules/ru_12345/trigger"])
async def test_trigger_posts_to_the_url_with_the_secret(
    session: aiohttp.ClientSession, remote: FakeRemote, remote_url: str, path: str
) -> None:
    trigger = RemoteRuleTrigger(session, f" {remote_url}{path} ", f"Bearer {SECRET}")
    assert await trigger.async_trigger(idempotency_key=KEY) is None
    [(method, seen_path, headers, body)] = remote.seen
    assert (method, seen_path, body) == ("POST", path, b"{}")
    assert headers["x-sequence-signature"] == f"Bearer {SECRET}"
    assert headers["idempotency-key"] == KEY
    assert headers["Content-Type"] == "application/json"
    assert "x-sequence-access-token" not in headers
    assert "Authorization" not in headers


OUTCOMES = [
    (answer(201, {"code": "OK"}), None, None),
    (answer(200, {}), None, None),
    (answer(401, {"code": "INVALID_API_SECRET", "message": SECRET}), SequenceRuleSecretError, None),
    (answer(403, {"code": "FORBIDDEN"}), SequenceRuleSecretError, None),
    (answer(401, raw=b""), SequenceRuleSecretError, None),
    (answer(200, {"code": "INVALID_API_SECRET"}), SequenceRuleSecretError, None),
    (answer(400, {"code": "INVALID_API_SECRET"}), SequenceRuleSecretError, None),
    (
        answer(429, {"code": "TOO_MANY_REQUESTS"}, headers={"Retry-After": "30"}),
        SequenceRateLimitError,
        None,
    ),
    (answer(200, {"code": "TOO_MANY_REQUESTS"}), SequenceRateLimitError, None),
    (
        answer(400, {"code": "INVALID_REQUEST", "message": "x"}),
        SequenceRefusedError,
        "INVALID_REQUEST",
    ),
    (answer(404, {"code": "RULE_NOT_FOUND"}), SequenceRefusedError, "RULE_NOT_FOUND"),
    (answer(404, raw=b"Not Found"), SequenceRefusedError, None),
    (answer(410, {"code": "lower case"}), SequenceRefusedError, None),
    (answer(500, {"code": "UNEXPECTED_ERROR"}), SequenceOutcomeUnknownError, None),
    (answer(502, raw=b"<html>502 Bad Gateway</html>"), SequenceOutcomeUnknownError, None),
    (answer(504, raw=b""), SequenceOutcomeUnknownError, None),
    (answer(200, {"code": "UNEXPECTED_ERROR"}), SequenceOutcomeUnknownError, None),
    (answer(200, raw=b""), SequenceOutcomeUnknownError, None),
    (answer(200, raw=b"<html>OK</html>"), SequenceOutcomeUnknownError, None),
    (answer(200, ["triggered"]), SequenceOutcomeUnknownError, None),
    (answer(302, raw=b"", headers={"Location": "/elsewhere"}), SequenceOutcomeUnknownError, None),
]


@pytest.mark.parametrize(("handler", "error", "code"), OUTCOMES)
async def test_what_each_answer_means(
    session: aiohttp.ClientSession,
    remote: FakeRemote,
    remote_url: str,
    handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]],
    error: type[SequenceError] | None,
    code: str | None,
) -> None:
    remote.handler = handler
    trigger = RemoteRuleTrigger(session, f"{remote_url}/rules/ru_1/trigger", SECRET)
    if error is None:
        await trigger.async_trigger(idempotency_key=KEY)
    else:
        with pytest.raises(error) as caught:
            await trigger.async_trigger(idempotency_key=KEY)
        assert type(caught.value) is error
        assert not isinstance(caught.value, SequenceAuthError)  # never the entry's credential
        assert caught.value.__context__ is None
        assert caught.value.__cause__ is None
        assert SECRET not in str(caught.value) + repr(caught.value)
        if isinstance(caught.value, SequenceRefusedError):
            assert caught.value.code == code
        if isinstance(caught.value, SequenceRateLimitError) and caught.value.retry_after:
            assert caught.value.retry_after == 30
    assert len(remote.seen) == 1  # never retried


RAW_PARTIAL = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 80\r\n\r\n{"


@pytest.mark.parametrize(
    ("raw", "stall", "message"),
    [
        (b"", False, "ServerDisconnectedError"),
        (RAW_PARTIAL, False, "ClientPayloadError"),
        (RAW_PARTIAL, True, "no complete answer came within 0.2 seconds"),
        (b"NOT HTTP\r\n\r\n", False, "its answer was not HTTP"),
    ],
)
async def test_a_lost_connection_is_an_unknown_outcome(
    session: aiohttp.ClientSession,
    tcp_server: ScriptedServers,
    raw: bytes,
    stall: bool,
    message: str,
) -> None:
    url = await tcp_server(raw, stall=stall)
    trigger = RemoteRuleTrigger(session, f"{url}/rules/ru_1/trigger", SECRET, request_timeout=0.2)
    with pytest.raises(SequenceOutcomeUnknownError, match=re.escape(message)) as caught:
        async with asyncio.timeout(3):
            await trigger.async_trigger(idempotency_key=KEY)
    assert caught.value.__context__ is None
    assert tcp_server.requests[url] == 1


async def test_an_answer_too_large_is_an_unknown_outcome(
    session: aiohttp.ClientSession, remote: FakeRemote, remote_url: str
) -> None:
    remote.handler = answer(200, raw=b" " * 100)
    trigger = RemoteRuleTrigger(
        session, f"{remote_url}/rules/ru_1/trigger", SECRET, max_response_bytes=50
    )
    with pytest.raises(SequenceOutcomeUnknownError, match="too large"):
        await trigger.async_trigger(idempotency_key=KEY)


async def test_a_connection_that_could_not_be_made_was_not_sent(
    session: aiohttp.ClientSession,
) -> None:
    with refusing_port() as port:
        trigger = RemoteRuleTrigger(session, f"http://127.0.0.1:{port}/rules/ru_1/trigger", SECRET)
        with pytest.raises(SequenceConnectionError) as caught:
            await trigger.async_trigger(idempotency_key=KEY)
    assert type(caught.value) is SequenceConnectionError
    assert caught.value.__context__ is None


@pytest.mark.parametrize("secret", ["", "  ", "Bearer ", "two words", "new\nline"])
async def test_a_secret_that_cannot_be_sent_is_refused_before_sending(
    session: aiohttp.ClientSession, remote: FakeRemote, remote_url: str, secret: str
) -> None:
    trigger = RemoteRuleTrigger(session, f"{remote_url}/rules/ru_1/trigger", secret)
    with pytest.raises(SequenceRuleSecretError, match="cannot be sent") as caught:
        await trigger.async_trigger(idempotency_key=KEY)
    assert caught.value.__context__ is None
    assert remote.seen == []


@pytest.mark.parametrize("key", ["", "k" * 37, "with space", "ü"])
async def test_an_unusable_idempotency_key_is_refused_before_sending(
    session: aiohttp.ClientSession, remote: FakeRemote, remote_url: str, key: str
) -> None:
    trigger = RemoteRuleTrigger(session, f"{remote_url}/rules/ru_1/trigger", SECRET)
    with pytest.raises(ValueError, match="idempotency key"):
        await trigger.async_trigger(idempotency_key=key)
    assert remote.seen == []


async def test_the_secret_is_nowhere_to_be_seen(
    session: aiohttp.ClientSession,
    remote: FakeRemote,
    remote_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"{remote_url}/remote-api/rules/ru_12345/trigger"
    trigger = RemoteRuleTrigger(session, url, SECRET)
    await trigger.async_trigger(idempotency_key=KEY)
    errors = []
    for handler in (
        answer(401, {"code": "INVALID_API_SECRET", "message": f"bad {SECRET}"}),
        answer(500, raw=SECRET.encode()),
        answer(200, raw=SECRET.encode()),
    ):
        remote.handler = handler
        with pytest.raises(SequenceError) as caught:
            await trigger.async_trigger(idempotency_key=KEY)
        errors.append(caught.value)
    ours = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.sequence")
    ]
    assert "POST /remote-api/rules/{id}/trigger answered HTTP 200 in" in ours[0]
    texts = [
        repr(trigger),
        repr(vars(trigger)) if hasattr(trigger, "__dict__") else "",
        caplog.text,
        *ours,
        *(str(err) + repr(err) + "".join(traceback.format_exception(err)) for err in errors),
    ]
    assert not [text for text in texts if SECRET in text]
    assert not [text for text in ours if "ru_12345" in text or "127.0.0.1" in text]


# --- Against the simulator (the realistic path) ---------------------------------------------------


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_the_simulators_rules(aiohttp_client: Any) -> None:
    """A trigger moves money; a second within a minute is refused; a wrong secret is the rule's."""
    clock = Clock()
    simulator = Simulator.create(Bank(seed=3, clock=clock))
    server = await aiohttp_client(build_app(simulator))
    base = str(server.make_url("")).rstrip("/")
    for path in ("/remote-api/rules/ru_10001/trigger", "/rules/ru_10001/trigger"):
        assert parse_trigger_url(f"{base}{path}", base) == "ru_10001"
    trigger = RemoteRuleTrigger(
        server.session, f"{base}/remote-api/rules/ru_10001/trigger", DEV_RULE_SECRET
    )
    await trigger.async_trigger(idempotency_key="first")
    await trigger.async_trigger(idempotency_key="first")  # the same request again: no 429
    assert simulator.remote_rules.runs["ru_10001"] == 1
    with pytest.raises(SequenceRateLimitError) as caught:
        await trigger.async_trigger(idempotency_key="second")
    assert caught.value.retry_after == 60
    with pytest.raises(SequenceRuleSecretError):
        await RemoteRuleTrigger(
            server.session, f"{base}/rules/ru_10001/trigger", "not-the-secret"
        ).async_trigger(idempotency_key="third")
    with pytest.raises(SequenceRefusedError) as gone:
        await RemoteRuleTrigger(
            server.session, f"{base}/rules/ru_404/trigger", DEV_RULE_SECRET
        ).async_trigger(idempotency_key="fourth")
    assert gone.value.code == "RULE_NOT_FOUND"
    clock.now += 60
    await trigger.async_trigger(idempotency_key="fifth")
    assert simulator.remote_rules.runs["ru_10001"] == 2
