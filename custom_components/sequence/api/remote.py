"""Client for Sequence's Remote API: ``POST /accounts`` with a personal access token.

Guarantees the rest of the integration relies on:

* One ``asyncio.timeout`` covers the whole exchange, reading the body included, and the body
  is read in chunks up to a size cap.
* Every failure is one of the errors in :mod:`.errors`. Their messages are fixed text plus safe
  facts (HTTP status, an upper-case Sequence error code, the path of a field with the wrong
  shape, an aiohttp exception's class name). They never contain the token, the request
  headers or response text (a response may echo the token), and they are raised outside the
  ``except`` blocks so that neither ``__cause__`` nor ``__context__`` holds an aiohttp error:
  ``repr(ClientResponseError)`` contains the request headers, token included.
* Redirects are not followed: the token header would be sent to wherever the redirect points.
* Logging is at debug level only: status code, elapsed time, number of accounts.
"""

from collections import Counter
from decimal import Decimal
import logging
import math
from typing import Final, NoReturn, cast

import aiohttp

from .errors import (
    SequenceAuthError,
    SequenceRateLimitError,
    SequenceResponseError,
    SequenceServerError,
)
from .models import Account, AccountKind, AccountsSnapshot, readable_balance_error, to_cents
from .transport import (
    MISSING,
    NOT_JSON,
    Reply,
    Secret,
    async_exchange,
    decode_json,
    describe_non_json,
    flat_error_code,
    json_type,
    normalize_credential,
    parse_retry_after,
    wire_key,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://api.getsequence.io"
TOKEN_HEADER: Final = "x-sequence-access-token"  # noqa: S105 - a header name, not a secret

FIELD_PATHS: Final = ("id", "name", "type", "balance", "balance.amountInDollars", "balance.error")
"""The wire fields counted in ``AccountsSnapshot.field_shapes``, in this order."""

MAX_ABS_DOLLARS: Final = Decimal(10) ** 15
"""Balances at or beyond this many dollars are rejected as nonsense (and would not fit
``to_cents``' 28-digit precision much further up)."""

_AUTH_ERROR_CODES: Final = frozenset({"INVALID_ACCESS_TOKEN", "INVALID_API_SECRET"})
_SERVER_ERROR_CODE: Final = "UNEXPECTED_ERROR"
"""Sequence's code for a failure on its side (documented with the 5xx statuses)."""
_KINDS: Final = {
    "Pod": AccountKind.POD,
    "Income Source": AccountKind.INCOME_SOURCE,
    "Account": AccountKind.EXTERNAL,
}


def normalize_token(raw: str) -> str:
    """Return the access token as it goes after ``Bearer `` in the header.

    Raises:
        ValueError: the token is empty or cannot be sent in a header (see
            :func:`.transport.normalize_credential`). The message never contains the token.
    """
    return normalize_credential(raw, "access token")


def parse_accounts_payload(payload: object) -> AccountsSnapshot:
    """Turn a decoded ``POST /accounts`` body into an :class:`AccountsSnapshot`.

    ``payload`` is what :func:`.transport.decode_json` returns, so JSON numbers arrive as
    ``int`` or ``float``. A float is converted to ``Decimal`` once, through its shortest
    round-tripping text (``Decimal(repr(value))``): the JSON ``412.06`` becomes exactly
    ``Decimal("412.06")``, never the binary neighbour ``412.05999...``, and is then rounded to
    cents (half-even). Booleans are not numbers; NaN, infinities and magnitudes of
    ``MAX_ABS_DOLLARS`` or more are rejected.

    The documented envelope is the contract: ``{"data": {"accounts": [...]}}``, with optional
    ``message``, ``requestId`` and ``data.errors`` (a list). Per account:

    * ``id``: a non-empty string, or an integer (converted to a string; ids are opaque).
    * ``name``: a string; when null, missing or blank the account is named ``"Account <id>"``
      so that it stays visible rather than failing the whole poll.
    * ``type``: ``"Pod"``, ``"Income Source"`` or ``"Account"``; any other string gives
      ``AccountKind.UNKNOWN`` with the raw text kept in ``type_name``; null or missing gives
      ``UNKNOWN`` with ``type_name`` ``""``.
    * ``balance``: an object, or null/missing for no balance. ``amountInDollars`` is a number,
      or null/missing for no balance; ``error`` is a string, or null/missing (blank text counts
      as no error).

    Anything else raises :class:`SequenceResponseError` naming the offending field, e.g.
    ``"data.accounts[2].id is missing"``; the older ``data.balances`` shape is reported as such
    instead of yielding zero accounts. Accounts keep the API's order.

    ``field_shapes`` counts, for each of ``FIELD_PATHS``, the JSON types seen (``"string"``,
    ``"number"``, ``"null"``, ``"missing"``, ...); the ``balance.*`` paths are counted only for
    accounts whose ``balance`` is an object.
    """
    return _parse_in_order(_raw_accounts(payload))


type ShapeSignature = tuple[str | None, ...]
"""The JSON types of one account's ``FIELD_PATHS`` (None where a path is not counted)."""


class AccountsParser:
    """Parses successive ``POST /accounts`` bodies, as :func:`parse_accounts_payload` does.

    An account whose wire data is the same as in the previous body keeps its previous model (no
    new ``Decimal``, no new ``Account``), and a body whose accounts are all the same returns the
    previous snapshot itself, so that a poll where nothing changed costs little more than
    decoding the body. "The same" is judged by :func:`.transport.wire_key` (canonical JSON, types
    included), so a reused model is exactly what parsing again would give.
    """

    __slots__ = ("_known", "_snapshot", "_wire")

    def __init__(self) -> None:
        """Start with nothing known."""
        self._wire: bytes | None = None
        self._known: dict[bytes, tuple[Account, ShapeSignature]] = {}
        self._snapshot: AccountsSnapshot | None = None

    def parse(self, payload: object) -> AccountsSnapshot:
        """The snapshot of a decoded body (see :func:`parse_accounts_payload`)."""
        raw_accounts = _raw_accounts(payload)
        wire = wire_key(raw_accounts)
        if wire is None:  # not decoded JSON: nothing to compare, parse it all
            return _parse_in_order(raw_accounts)
        if wire == self._wire and self._snapshot is not None:
            return self._snapshot
        # The list has a key, so each account has one.
        keys = cast("list[bytes]", [wire_key(raw) for raw in raw_accounts])
        previous = self._known
        try:
            parsed = [
                previous.get(key) or _parse_account(raw, f"data.accounts[{index}]")
                for index, (key, raw) in enumerate(zip(keys, raw_accounts, strict=True))
            ]
        except SequenceResponseError:
            parsed = []  # the first error in the API's order is raised below
        accounts = {account.id: account for account, _ in parsed}
        if len(accounts) != len(raw_accounts):  # an error, or an id repeated
            return _parse_in_order(raw_accounts)  # raises what parsing in order meets first
        snapshot = AccountsSnapshot(
            accounts=accounts,
            field_shapes=_field_shapes(Counter(signature for _, signature in parsed)),
        )
        self._wire, self._known, self._snapshot = (
            wire,
            dict(zip(keys, parsed, strict=True)),
            snapshot,
        )
        return snapshot


def _parse_in_order(raw_accounts: list[object]) -> AccountsSnapshot:
    """Parse every account in the API's order, raising the first problem met."""
    signatures: Counter[ShapeSignature] = Counter()
    accounts: dict[str, Account] = {}
    for index, raw in enumerate(raw_accounts):
        account, signature = _parse_account(raw, f"data.accounts[{index}]")
        if account.id in accounts:
            _shape_error(f"data.accounts[{index}].id repeats an earlier account's id")
        accounts[account.id] = account
        signatures[signature] += 1
    return AccountsSnapshot(accounts=accounts, field_shapes=_field_shapes(signatures))


def _raw_accounts(payload: object) -> list[object]:
    """``data.accounts`` of a body whose envelope is the documented one."""
    if not isinstance(payload, dict):
        _shape_error(f"the response is {json_type(payload)}, not an object")
    if "data" not in payload:
        _shape_error("data is missing")
    data = payload["data"]
    if not isinstance(data, dict):
        _shape_error(f"data is {json_type(data)}, not an object")
    if "accounts" not in data:
        if "balances" in data:
            _shape_error("unexpected shape: data.balances without data.accounts")
        _shape_error("data.accounts is missing")
    raw_accounts = data["accounts"]
    if not isinstance(raw_accounts, list):
        _shape_error(f"data.accounts is {json_type(raw_accounts)}, not an array")
    errors = data.get("errors")
    if errors is not None and not isinstance(errors, list):
        _shape_error(f"data.errors is {json_type(errors)}, not an array")
    return raw_accounts


def _field_shapes(signatures: Counter[ShapeSignature]) -> dict[str, dict[str, int]]:
    shapes: dict[str, Counter[str]] = {path: Counter() for path in FIELD_PATHS}
    for signature, count in signatures.items():
        for path, kind in zip(FIELD_PATHS, signature, strict=True):
            if kind is not None:
                shapes[path][kind] += count
    return {path: dict(shapes[path]) for path in FIELD_PATHS}


class SequenceRemoteClient:
    """Reads accounts and balances through Sequence's Remote API.

    Takes the caller's shared ``aiohttp.ClientSession`` and never closes it.
    """

    __slots__ = (
        "_base_url",
        "_max_response_bytes",
        "_parser",
        "_request_timeout",
        "_session",
        "_token",
    )

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        request_timeout: float = 30.0,
        max_response_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        """Keep the session and the normalized token.

        Raises:
            ValueError: the token is unusable (see :func:`normalize_token`), or the timeout or
                size cap is not positive.
        """
        if not request_timeout > 0:
            msg = "request_timeout must be a positive number of seconds"
            raise ValueError(msg)
        if max_response_bytes < 1:
            msg = "max_response_bytes must be positive"
            raise ValueError(msg)
        self._session = session
        self._token = Secret(normalize_token(token))
        self._base_url = base_url
        self._request_timeout = request_timeout
        self._max_response_bytes = max_response_bytes
        self._parser = AccountsParser()

    def __repr__(self) -> str:
        """Show the base URL only."""
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    async def async_get_accounts(self) -> AccountsSnapshot:
        """Fetch every account the token can see, with balances.

        Raises:
            SequenceAuthError: the token was refused.
            SequenceRateLimitError: Sequence answered 429.
            SequenceServerError: a 5xx, or Sequence's ``UNEXPECTED_ERROR`` code (an outage).
            SequenceConnectionError: timeout, or no usable connection to Sequence.
            SequenceResponseError: any other status, or a body that is not the documented JSON.
        """
        reply = await self._async_post("/accounts")
        payload = decode_json(reply.body)
        _raise_for_status(reply.status, reply.retry_after, payload)
        if payload is NOT_JSON:
            raise SequenceResponseError(describe_non_json(reply.body))
        snapshot = self._parser.parse(payload)
        _LOGGER.debug("Sequence returned %d accounts", len(snapshot.accounts))
        return snapshot

    async def _async_post(self, path: str) -> Reply:
        """POST ``{}`` to ``path``; the answer (status, ``Retry-After``, capped body)."""
        headers = {
            TOKEN_HEADER: f"Bearer {self._token.value}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        return await async_exchange(
            self._session,
            "POST",
            f"{self._base_url.rstrip('/')}{path}",
            route=f"POST {path}",
            headers=headers,
            body=b"{}",
            request_timeout=self._request_timeout,
            max_bytes=self._max_response_bytes,
            logger=_LOGGER,
        )


def _raise_for_status(status: int, retry_after: str | None, payload: object) -> None:
    """Raise the error a non-success answer (or a success carrying an error code) means.

    401/403 or an auth code: the token. 429: rate limited. 5xx or ``UNEXPECTED_ERROR``: an
    outage. Any other non-2xx (400, 404, 405, a redirect, ...): the request this version sends
    is no longer what Sequence accepts, which is a response error like an unreadable body.
    """
    code = flat_error_code(payload)
    detail = f"HTTP {status}, {code}" if code else f"HTTP {status}"
    if status in {401, 403} or code in _AUTH_ERROR_CODES:
        msg = f"Sequence refused the access token ({detail})"
        raise SequenceAuthError(msg)
    if status == 429:  # noqa: PLR2004 - the HTTP status is the clearest name
        msg = f"Sequence is rate limiting requests ({detail})"
        raise SequenceRateLimitError(msg, retry_after=parse_retry_after(retry_after))
    if 500 <= status <= 599 or code == _SERVER_ERROR_CODE:  # noqa: PLR2004 - the 5xx range
        msg = f"Sequence is unavailable ({detail})"
        raise SequenceServerError(msg, retry_after=parse_retry_after(retry_after))
    if not 200 <= status < 300:  # noqa: PLR2004 - the 2xx range
        msg = f"Sequence answered {detail}"
        raise SequenceResponseError(msg)


def _shape_error(reason: str) -> NoReturn:
    msg = f"invalid accounts response: {reason}"
    raise SequenceResponseError(msg)


def _parse_account(raw: object, where: str) -> tuple[Account, ShapeSignature]:
    if not isinstance(raw, dict):
        _shape_error(f"{where} is {json_type(raw)}, not an object")
    raw_id = raw.get("id", MISSING)
    raw_name = raw.get("name", MISSING)
    raw_type = raw.get("type", MISSING)
    raw_balance = raw.get("balance", MISSING)
    account_id = _parse_id(raw_id, f"{where}.id")
    kind, type_name = _parse_type(raw_type, f"{where}.type")
    balance, balance_error, balance_shapes = _parse_balance(raw_balance, f"{where}.balance")
    account = Account(
        id=account_id,
        name=_parse_name(raw_name, f"{where}.name") or f"Account {account_id}",
        kind=kind,
        type_name=type_name,
        balance=balance,
        balance_error=balance_error,
    )
    shapes = (json_type(raw_id), json_type(raw_name), json_type(raw_type), json_type(raw_balance))
    return account, shapes + balance_shapes


def _parse_id(value: object, where: str) -> str:
    if value is MISSING:
        _shape_error(f"{where} is missing")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        _shape_error(f"{where} is {json_type(value)}, not a string")
    if not value.strip():
        _shape_error(f"{where} is empty")
    return value


def _optional_string(value: object, where: str) -> str | None:
    """A string, or None for null/missing; any other type is a shape error."""
    if value is None or value is MISSING:
        return None
    if not isinstance(value, str):
        _shape_error(f"{where} is {json_type(value)}, not a string")
    return value


def _parse_name(value: object, where: str) -> str | None:
    name = _optional_string(value, where)
    return name if name and name.strip() else None


def _parse_type(value: object, where: str) -> tuple[AccountKind, str]:
    type_name = _optional_string(value, where) or ""
    return _KINDS.get(type_name, AccountKind.UNKNOWN), type_name


def _parse_balance(
    value: object, where: str
) -> tuple[Decimal | None, str | None, tuple[str | None, str | None]]:
    """Amount, error text, and their JSON types (counted only when the balance is an object)."""
    if value is None or value is MISSING:
        return None, None, (None, None)
    if not isinstance(value, dict):
        _shape_error(f"{where} is {json_type(value)}, not an object")
    amount = value.get("amountInDollars", MISSING)
    error = value.get("error", MISSING)
    return (
        _parse_dollars(amount, f"{where}.amountInDollars"),
        readable_balance_error(_optional_string(error, f"{where}.error")),
        (json_type(amount), json_type(error)),
    )


def _parse_dollars(value: object, where: str) -> Decimal | None:
    if value is None or value is MISSING:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        _shape_error(f"{where} is {json_type(value)}, not a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            _shape_error(f"{where} is not a finite number")
        amount = Decimal(repr(value))
    else:
        amount = Decimal(value)
    if abs(amount) >= MAX_ABS_DOLLARS:
        _shape_error(f"{where} is out of range")
    cents = to_cents(amount)
    return cents or cents.copy_abs()  # no "-0.00"
