"""Sequence's Remote API: ``POST /accounts`` with an access token, rule triggers with a secret.

Order of checks for a request (the real order is unknown; this one lets every fault be seen
by a client that is otherwise correct): method (405), scenario fault, access token (401),
JSON body (400), then the accounts.

A rule trigger, ``POST /remote-api/rules/{id}/trigger`` or ``POST /rules/{id}/trigger``: the
scenario's fault (``token_revoked`` aside: no token is sent), the rule (404
``RULE_NOT_FOUND``), its secret in ``x-sequence-signature: Bearer <secret>`` (401
``INVALID_API_SECRET``), a JSON object body and a valid ``idempotency-key`` (400
``INVALID_REQUEST``), the key's memory (a repeat answers as the first did; another body is 400
``IDEMPOTENCY_KEY_MISMATCH``), then the rule's last run (429 ``TOO_MANY_REQUESTS`` within a
minute). Success: ``{"code": "OK", "message": "Rule with id <id> has been triggered", "data":
{"requestId"}}``.

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

from .idempotency import IdempotencyMismatchError, fingerprint, valid_key
from .remote_rules import TRIGGER_PATHS, SimRemoteRule, TooSoonError
from .runtime import BUSINESS, HOUSEHOLD, SIMULATOR
from .scenarios import Fault, Settings
from .state import AccountKind, Bank, SimAccount

ACCESS_TOKEN_HEADER = "x-sequence-access-token"  # noqa: S105 - a header name, not a secret
SIGNATURE_HEADER = "x-sequence-signature"
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


def presented_token(request: web.Request, header: str = ACCESS_TOKEN_HEADER) -> str | None:
    """The token (or secret) from ``header``, with an optional ``Bearer`` prefix removed."""
    value = request.headers.get(header, "").strip()
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


async def trigger_rule(request: web.Request) -> web.StreamResponse:
    """``POST <trigger URL>``: run a rule with its secret."""
    simulator = request.config_dict[SIMULATOR]
    fault = simulator.scenarios.next_fault()
    if fault is Fault.SLOW:
        await asyncio.sleep(simulator.scenarios.settings.slow_seconds)
    elif fault is not None and fault is not Fault.TOKEN_REVOKED and fault in FAULT_RESPONSES:
        return FAULT_RESPONSES[fault](simulator.scenarios.settings)
    checked = await _checked_trigger(request)
    if isinstance(checked, web.Response):
        return checked
    rule, key, body = checked
    try:
        simulator.remote_rules.trigger(
            rule,
            idempotency_key=key,
            fingerprint=fingerprint(body),
            run=simulator.run_remote_rule,
        )
    except IdempotencyMismatchError:
        return error_response(
            400,
            "IDEMPOTENCY_KEY_MISMATCH",
            "Idempotency-Key was already used with a different request body",
        )
    except TooSoonError as err:
        return error_response(
            429,
            "TOO_MANY_REQUESTS",
            "This rule was triggered too recently, please try again later",
            headers={hdrs.RETRY_AFTER: str(err.retry_after)},
        )
    payload = {
        "code": "OK",
        "message": f"Rule with id {rule.id} has been triggered",
        "data": {"requestId": str(uuid.uuid4())},
    }
    if fault is Fault.MALFORMED:
        text = json.dumps(payload)
        return web.Response(text=text[: len(text) // 2], content_type="application/json")
    return web.json_response(payload)


async def _checked_trigger(
    request: web.Request,
) -> tuple[SimRemoteRule, str | None, dict[str, object]] | web.Response:
    """The rule, the idempotency key and the body; or the refusal of a request that lacks one."""
    rules = request.config_dict[SIMULATOR].remote_rules
    rule = rules.rules.get(request.match_info["id"])
    if rule is None:
        return error_response(404, "RULE_NOT_FOUND", "No rule with this id")
    if not rules.signed(rule, presented_token(request, SIGNATURE_HEADER)):
        return error_response(401, "INVALID_API_SECRET", "Invalid API secret")
    try:
        body = json.loads(await request.read())
    except ValueError:
        body = None
    key = request.headers.get("idempotency-key")
    if not isinstance(body, dict) or (key is not None and not valid_key(key)):
        return error_response(
            400, "INVALID_REQUEST", "The body must be a JSON object, the idempotency-key valid"
        )
    return rule, key, body


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
    for path in TRIGGER_PATHS:
        app.router.add_post(path, trigger_rule)
