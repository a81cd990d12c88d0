"""HTTP plumbing the API clients share: one exchange, secrets, capped bodies, strict JSON.

Nothing here puts a credential, a header or response text into a message.

:func:`async_exchange` is the only place that talks to ``aiohttp``: every request of every
client goes through it, so the timeout, the size cap, the refusal to follow redirects and the
meaning of each transport failure are the same everywhere. For a request that moves money
(``money=True``) a failure is called "not sent" only when the connection could not be made at
all (``aiohttp.ClientConnectorError``); anything after that (a timeout, a connection lost, an
answer that cannot be read) may have been carried out and is
:class:`~.errors.SequenceOutcomeUnknownError`.

JSON is decoded by orjson, the library Home Assistant itself uses (and requires, so the
integration declares nothing): it is several times faster than ``json`` and stricter.
"""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import logging
import re
import time
from typing import Final, NoReturn

import aiohttp
import orjson

from .errors import (
    SequenceConnectionError,
    SequenceError,
    SequenceOutcomeUnknownError,
    SequenceResponseError,
)

CHUNK_SIZE: Final = 64 * 1024
MISSING: Final = object()
"""Stands for a key absent from a JSON object (as opposed to a JSON ``null``)."""
NOT_JSON: Final = object()
"""What :func:`decode_json` returns for a body that is not JSON."""

IDEMPOTENCY_KEY: Final = re.compile(r"[A-Za-z0-9._:/|-]{1,36}")
"""An ``idempotency-key`` header value Sequence accepts."""
ERROR_CODE: Final = re.compile(r"[A-Z_]{1,64}")
"""What an error code of Sequence's looks like (anything else is not shown)."""
_DELTA_SECONDS: Final = re.compile(r"[0-9]{1,12}")
MAX_RETRY_AFTER: Final = 3600.0
"""The longest ``Retry-After`` heeded: Sequence's limits are per minute, and one odd header
(a proxy's, a date far ahead) must not silence a key's polls and actions for days."""
_JSON_TYPE_NAMES: Final = (  # bool before int: True is an int to Python, not to JSON
    (bool, "boolean"),
    (int | float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


_BEARER_PREFIX: Final = re.compile(r"bearer(?:\s+|$)", re.IGNORECASE)
_HEADER_SAFE: Final = re.compile(r"[\x21-\x7e]+")


def strip_bearer(raw: str) -> str:
    """The credential without surrounding whitespace and one pasted ``Bearer`` prefix."""
    credential = raw.strip()
    if match := _BEARER_PREFIX.match(credential):
        credential = credential[match.end() :]
    return credential


def normalize_credential(raw: str, noun: str) -> str:
    """Return a credential as it goes after ``Bearer `` in a header.

    Strips surrounding whitespace and one pasted ``Bearer`` prefix (any case, any spacing).

    Raises:
        ValueError: the credential is empty, or contains whitespace or characters that cannot
            be sent in an HTTP header. The message names ``noun``, never the credential.
    """
    credential = strip_bearer(raw)
    if not credential:
        msg = f"the {noun} is empty"
        raise ValueError(msg)
    if not _HEADER_SAFE.fullmatch(credential):
        msg = f"the {noun} contains spaces or characters that cannot be sent in a header"
        raise ValueError(msg)
    return credential


class Secret:
    """Holds a credential so that no ``repr``, ``vars()`` dump or traceback local shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        """Keep ``value``; only ``.value`` gives it back."""
        self.value = value

    def __repr__(self) -> str:
        """Never the value."""
        return "<redacted>"


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Read the body in chunks, refusing more than ``limit`` bytes whatever the headers say."""
    declared = response.content_length
    if declared is not None and declared > limit:
        _too_large(limit)
    body = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK_SIZE):
        body += chunk
        if len(body) > limit:
            _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> NoReturn:
    msg = f"response larger than {limit} bytes"
    raise SequenceResponseError(msg)


@dataclass(frozen=True, slots=True)
class Reply:
    """What came back: the status, the ``Retry-After`` header and the capped body."""

    status: int
    retry_after: str | None
    body: bytes


async def async_exchange(  # noqa: PLR0913 - keyword-only: what one request is made of
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    route: str,
    headers: Mapping[str, str],
    request_timeout: float,
    max_bytes: int,
    logger: logging.Logger,
    params: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    money: bool = False,
) -> Reply:
    """Send one request and read the whole answer within ``request_timeout`` seconds.

    ``route`` names the request in the debug log (``"GET /accounts/{id}"``: never an id, a
    query or a header). Redirects are not followed (the credential header would go wherever
    they point).

    Raises:
        SequenceConnectionError: the connection could not be made (nothing was sent); without
            ``money`` also a timeout, a lost connection or a body cut short.
        SequenceResponseError: (without ``money``) not HTTP, or a body over ``max_bytes``.
        SequenceOutcomeUnknownError: (``money``) the request may have reached Sequence, and no
            answer that can be read came back.
    """
    started = time.monotonic()
    failure: SequenceError
    try:
        async with (
            asyncio.timeout(request_timeout),
            session.request(
                method,
                url,
                params=list(params),
                data=body,
                headers=dict(headers),
                allow_redirects=False,
            ) as response,
        ):
            content = await read_capped(response, max_bytes)
            reply = Reply(response.status, response.headers.get("Retry-After"), content)
    except SequenceError as err:  # the body was too large
        failure = _unknown(f"its answer was too large to read ({err})") if money else err
    except TimeoutError:
        failure = _timed_out(request_timeout, money=money)
    except aiohttp.ClientConnectorError as err:  # refused, unresolvable, TLS: nothing left
        failure = SequenceConnectionError(f"connection to Sequence failed ({type(err).__name__})")
    except aiohttp.ClientResponseError as err:
        failure = (
            _unknown(f"its answer was not HTTP ({type(err).__name__})")
            if money
            else SequenceResponseError(
                f"Sequence sent an invalid HTTP response ({type(err).__name__})"
            )
        )
    except aiohttp.ClientError as err:
        failure = (
            _unknown(f"the connection failed after it was made ({type(err).__name__})")
            if money
            else SequenceConnectionError(f"connection to Sequence failed ({type(err).__name__})")
        )
    else:
        logger.debug(
            "%s answered HTTP %d in %.3f s", route, reply.status, time.monotonic() - started
        )
        return reply
    logger.debug("%s failed after %.3f s: %s", route, time.monotonic() - started, failure)
    # Raised here, outside the except blocks, so the aiohttp error is not its __context__.
    raise failure


def _timed_out(timeout: float, *, money: bool) -> SequenceError:
    if money:
        return _unknown(f"no complete answer came within {timeout:g} seconds")
    return SequenceConnectionError(f"no complete answer from Sequence within {timeout:g} seconds")


def _unknown(what: str) -> SequenceOutcomeUnknownError:
    return SequenceOutcomeUnknownError(
        f"the outcome is unknown ({what}): the request may have been carried out"
    )


def decode_json(body: bytes) -> object:
    """The decoded body, or ``NOT_JSON``.

    Not JSON to this function (orjson refuses all of it): ``NaN``, ``Infinity`` and numbers too
    large for a double; invalid UTF-8, lone surrogates, a byte-order mark, UTF-16 and UTF-32
    (JSON on the wire is UTF-8 without a BOM); nesting deeper than 1,024 levels. Integers beyond
    64 bits decode as floats, which the parsers refuse wherever a string or an integer belongs.
    """
    try:
        payload: object = orjson.loads(body)
    except orjson.JSONDecodeError:
        return NOT_JSON
    return payload


def wire_key(value: object) -> bytes | None:
    """A decoded value as canonical JSON bytes, or None when it has none.

    Equal keys mean equal JSON, types included (``true``, ``1`` and ``1.0`` differ, where
    Python's ``==`` says they are equal), so a value whose key did not change parses to what it
    parsed to before. Meant for what :func:`decode_json` returns (which always has a key).
    """
    try:
        wire = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return None
    # orjson's bytes keep its 1 KiB (or larger) buffer: an exact copy is kept instead.
    return memoryview(wire).tobytes()


def describe_non_json(body: bytes) -> str:
    """Say what kind of not-JSON the body is, without quoting any of it."""
    stripped = body.strip()
    if not stripped:
        return "the response body is empty"
    if stripped.startswith(b"<"):
        return "the response is HTML, not JSON"
    return "the response body is not valid JSON"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date.

    A date in the past gives 0, anything longer than ``MAX_RETRY_AFTER`` gives that. Absent or
    unparsable values give None.
    """
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except TypeError, ValueError, OverflowError, IndexError:
        return None
    if when.tzinfo is None:  # "-0000" means UTC with unknown origin
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - (now or datetime.now(UTC))).total_seconds()), MAX_RETRY_AFTER)


_JSON_TYPE_OF_CLASS: Final[dict[type, str]] = {
    type(None): "null",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}
"""What :func:`decode_json` returns, by exact class: one lookup instead of a chain of isinstance."""


def json_type(value: object) -> str:
    """The JSON type name of a decoded value (or ``"missing"``), never the value itself."""
    if (name := _JSON_TYPE_OF_CLASS.get(type(value))) is not None:
        return name
    if value is MISSING:
        return "missing"
    return next((name for kind, name in _JSON_TYPE_NAMES if isinstance(value, kind)), "unsupported")


def check_idempotency_key(key: str) -> None:
    """Refuse, before anything is sent, a key Sequence would not accept.

    Raises:
        ValueError: the key is not 1 to 36 of the characters Sequence allows.
    """
    if not IDEMPOTENCY_KEY.fullmatch(key):
        msg = "the idempotency key must be 1 to 36 of A-Z a-z 0-9 . _ : / | -"
        raise ValueError(msg)


def flat_error_code(payload: object) -> str | None:
    """The Remote API's flat error ``code``, when it looks like one (safe to show)."""
    if not isinstance(payload, dict):
        return None
    code = payload.get("code")
    return code if isinstance(code, str) and ERROR_CODE.fullmatch(code) else None
