"""Sequence's Remote API, as documented: ``POST /accounts`` with an access token.

Order of checks for a request (the real order is unknown; this one lets every fault be seen
by a client that is otherwise correct): method (405), scenario fault, access token (401),
JSON body (400), then the accounts.

Wire details (the project's API notes, section 1): the token arrives in
``x-sequence-access-token`` as ``Bearer <token>`` (a bare token is tolerated); success is
``{"message": "OK", "requestId": <uuid>, "data": {"accounts": [...]}}``; errors are a flat
``{"code", "message"}``; ``amountInDollars`` is a JSON float, null when ``error`` is set.
"""

import asyncio
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
import hmac
import json
import uuid

from aiohttp import hdrs, web

from .runtime import BUSINESS, HOUSEHOLD, SIMULATOR
from .scenarios import Fault, Settings
from .state import AccountKind, Bank, SimAccount

ACCESS_TOKEN_HEADER = "x-sequence-access-token"  # noqa: S105 - a header name, not a secret
ACCOUNTS_PATH = "/accounts"
ACCESS_TOKENS = web.AppKey("remote_api_access_tokens", dict[str, str])
"""Each valid access token and the beneficiary whose accounts it sees."""

LEGACY_TYPES: Mapping[AccountKind, str] = {
    AccountKind.POD: "Pod",
    AccountKind.INCOME_SOURCE: "Income Source",
    AccountKind.EXTERNAL_ACCOUNT: "Account",
}

BAD_GATEWAY_PAGE = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """The Remote API's flat error body."""
    return web.json_response({"code": code, "message": message}, status=status, headers=headers)


def invalid_token() -> web.Response:
    """401 for a missing, unknown or revoked token (the token is never echoed)."""
    return error_response(401, "INVALID_ACCESS_TOKEN", "Invalid or revoked access token")


def _rate_limited(settings: Settings) -> web.Response:
    return error_response(
        429,
        "TOO_MANY_REQUESTS",
        "Too many requests, please try again later",
        headers={hdrs.RETRY_AFTER: str(settings.retry_after)},
    )


def _server_error(_settings: Settings) -> web.Response:
    return error_response(500, "UNEXPECTED_ERROR", "An unexpected error occurred")


def _bad_gateway(_settings: Settings) -> web.Response:
    return web.Response(status=502, text=BAD_GATEWAY_PAGE, content_type="text/html")


FAULT_RESPONSES: Mapping[Fault, Callable[[Settings], web.Response]] = {
    Fault.TOKEN_REVOKED: lambda _settings: invalid_token(),
    Fault.RATE_LIMITED: _rate_limited,
    Fault.SERVER_ERROR: _server_error,
    Fault.BAD_GATEWAY_HTML: _bad_gateway,
}
"""Faults answered instead of the accounts; SLOW and MALFORMED change the success instead."""


def dollars(cents: int) -> float:
    """Cents as the float the real API sends (exact cents, e.g. 41206 -> 412.06)."""
    return float(Decimal(cents) / 100)


def account_json(bank: Bank, account: SimAccount) -> dict[str, object]:
    """One account in the Remote API's shape."""
    cents = bank.balance_cents(account)
    return {
        "id": account.id,
        "name": account.name,
        "type": LEGACY_TYPES[account.kind],
        "balance": {
            "amountInDollars": None if cents is None else dollars(cents),
            "error": account.error,
        },
    }


def presented_token(request: web.Request) -> str | None:
    """The token from the header, with an optional ``Bearer`` prefix removed."""
    value = request.headers.get(ACCESS_TOKEN_HEADER, "").strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


def beneficiary_of(request: web.Request) -> str | None:
    """The beneficiary whose accounts the request's token sees; None for no or an unknown token."""
    token = presented_token(request)
    if token is None:
        return None
    found = None
    for known, beneficiary in request.config_dict[ACCESS_TOKENS].items():
        if hmac.compare_digest(token.encode(), known.encode()):
            found = beneficiary
    return found


async def _has_json_object_body(request: web.Request) -> bool:
    try:
        body = json.loads(await request.read())
    except ValueError:  # not JSON, or not UTF-8
        return False
    return isinstance(body, dict)


async def post_accounts(request: web.Request) -> web.StreamResponse:
    """``POST /accounts``; any other method is 405."""
    if request.method != hdrs.METH_POST:
        return error_response(
            405,
            "METHOD_NOT_ALLOWED",
            f"{request.method} is not allowed; use POST",
            headers={hdrs.ALLOW: hdrs.METH_POST},
        )
    simulator = request.config_dict[SIMULATOR]
    fault = simulator.scenarios.next_fault()
    if fault is Fault.SLOW:
        await asyncio.sleep(simulator.scenarios.settings.slow_seconds)
    elif fault is not None and fault in FAULT_RESPONSES:
        return FAULT_RESPONSES[fault](simulator.scenarios.settings)
    beneficiary = beneficiary_of(request)
    if beneficiary is None:
        return invalid_token()
    if not await _has_json_object_body(request):
        return error_response(400, "INVALID_REQUEST", "The request body must be a JSON object")
    bank = simulator.banks()[beneficiary]
    payload = {
        "message": "OK",
        "requestId": str(uuid.uuid4()),
        "data": {"accounts": [account_json(bank, account) for account in bank.accounts()]},
    }
    if fault is Fault.MALFORMED:
        text = json.dumps(payload)
        return web.Response(text=text[: len(text) // 2], content_type="application/json")
    return web.json_response(payload)


def setup(
    app: web.Application, *, tokens: Iterable[str], business_tokens: Iterable[str] = ()
) -> None:
    """Add the Remote API's routes: which accounts each token sees."""
    household, business = frozenset(tokens), frozenset(business_tokens)
    if not household or any(not token or token != token.strip() for token in household | business):
        msg = "the Remote API needs at least one access token, without surrounding blanks"
        raise ValueError(msg)
    if household & business:
        msg = "a token sees one beneficiary: the same token is given for both"
        raise ValueError(msg)
    app[ACCESS_TOKENS] = dict.fromkeys(household, HOUSEHOLD) | dict.fromkeys(business, BUSINESS)
    app.router.add_route(hdrs.METH_ANY, ACCOUNTS_PATH, post_accounts)
