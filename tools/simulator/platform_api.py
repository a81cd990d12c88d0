"""Sequence's Platform API v1, per its OpenAPI file, as a sub-application at ``/platform/v1``.

Order of checks for a request: route (an unknown path or method is a plain-text 404, as the
API documents), scenario fault (``token_revoked`` is 401 ``UNAUTHORIZED``, ``rate_limited`` 429
``RATE_LIMIT_EXCEEDED``, ...), API key (401), the per-key rate limit (429 with ``Retry-After``),
the route's permission (403 ``ACCESS_DENIED``), parameters (400 ``INVALID_PARAMETERS``), then
the resource (404 ``*_NOT_FOUND``). Success is ``{"data": ..., "requestId": "req_..."}``; lists
page with ``page``/``pageSize`` (default 10, at most 100) and say ``hasNextPage``.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
import functools
import hmac
import json
import re
import uuid

from aiohttp import hdrs, web

from . import platform_wire as wire
from .idempotency import IdempotencyMismatchError, InFlightError, fingerprint, valid_key
from .platform_records import MINIMUM_TRANSFER_CENTS, Permission, SimTransfer
from .platform_state import (
    PlatformState,
    RuleNotTriggerableError,
    TransferRefusedError,
    TransferRequest,
)
from .remote_api import BAD_GATEWAY_PAGE
from .runtime import SIMULATOR
from .scenarios import Fault, Settings
from .state import AccountKind, SimAccount, platform_id_of

PREFIX = "/platform/v1"
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
DESCRIPTION = re.compile(r"[a-zA-Z0-9 ]{0,10}")
"""A transfer's ``description``: an ACH label, at most 10 letters, digits and spaces."""
TRANSFER_STATUSES = (
    "PENDING_APPROVAL",
    "PROCESSING",
    "PENDING",
    "COMPLETE",
    "INCOMPLETE",
    "ERROR",
    "CANCELLED",
)
DIRECTIONS = ("MONEY_IN", "MONEY_OUT", "INTERNAL")
ORIGINS = (
    "DIRECT_DEPOSIT",
    "CHECK_DEPOSIT",
    "CASHBACK",
    "USER_PULL",
    "RULE",
    "USER",
    "EXTERNAL_PULL",
)
EXTERNAL_DIRECTIONS = ("MONEY_IN", "MONEY_OUT")
EXTERNAL_STATUSES = ("PENDING", "COMPLETE")
EXECUTION_MODES = ("ALL", "LIVE", "SIMULATION")
EXECUTION_STATUSES = ("EXECUTED", "PARTIAL", "IN_PROGRESS", "FAILED")
TRIGGER_TYPES = ("MANUAL", "SEQUENCE_API", "SCHEDULED", "ON_FUNDS_TRANSFERRED", "REMOTE_API")

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
type Json = dict[str, object]


class BadParameterError(ValueError):
    """A query parameter or body field the API would refuse (400 ``INVALID_PARAMETERS``)."""


def ok(data: object, status: int = 200) -> web.Response:
    """The success envelope."""
    return web.json_response(
        {"data": data, "requestId": f"req_{uuid.uuid4().hex[:16]}"}, status=status
    )


def problem(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """The error envelope ``{"error": {"code", "message"}}``."""
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


def unauthorized() -> web.Response:
    """401 for a missing, unknown or revoked key (never echoed)."""
    return problem(401, "UNAUTHORIZED", "Unauthorized")


def rate_limited(retry_after: int) -> web.Response:
    """429 with the seconds until the key's window resets."""
    return problem(
        429,
        "RATE_LIMIT_EXCEEDED",
        "Rate limit exceeded. Maximum 100 requests per minute per token.",
        headers={hdrs.RETRY_AFTER: str(retry_after)},
    )


def _not_found(code: str, what: str) -> web.Response:
    return problem(404, code, f"{what} does not exist or you don't have access to it")


FAULT_RESPONSES: Mapping[Fault, Callable[[Settings], web.Response]] = {
    Fault.TOKEN_REVOKED: lambda _settings: unauthorized(),
    Fault.RATE_LIMITED: lambda settings: rate_limited(settings.retry_after),
    Fault.SERVER_ERROR: lambda _settings: problem(
        500, "UNEXPECTED_ERROR", "An unexpected error occurred"
    ),
    Fault.BAD_GATEWAY_HTML: lambda _settings: web.Response(
        status=502, text=BAD_GATEWAY_PAGE, content_type="text/html"
    ),
}


def presented_key(request: web.Request) -> str | None:
    """The key from ``Authorization: Bearer <key>`` (the scheme in any case)."""
    scheme, _, key = request.headers.get(hdrs.AUTHORIZATION, "").strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def _permissions(platform: PlatformState, key: str | None) -> frozenset[Permission] | None:
    if key is None:
        return None
    for known, permissions in platform.api_keys.items():
        if hmac.compare_digest(key.encode(), known.encode()):
            return permissions
    return None


def _state(request: web.Request) -> PlatformState:
    return request.config_dict[SIMULATOR].platform


async def _refusal(request: web.Request) -> tuple[web.Response | None, Fault | None]:
    """A fault, key or rate-limit answer that replaces the handler's, and the fault in force."""
    simulator = request.config_dict[SIMULATOR]
    fault = simulator.scenarios.next_fault()
    if fault is Fault.SLOW:
        await asyncio.sleep(simulator.scenarios.settings.slow_seconds)
    elif fault is not None and fault in FAULT_RESPONSES:
        return FAULT_RESPONSES[fault](simulator.scenarios.settings), fault
    key = presented_key(request)
    if key is None or _permissions(simulator.platform, key) is None:
        return unauthorized(), fault
    retry_after = simulator.platform.rate_limit.hit(key, simulator.bank.now())
    if retry_after is not None:
        return rate_limited(retry_after), fault
    return None, fault


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Route, fault, key, rate limit; then the handler, with bad parameters as 400."""
    if request.match_info.http_exception is not None:
        return web.Response(status=404, text="404: Not Found")
    refusal, fault = await _refusal(request)
    if refusal is not None:
        return refusal
    try:
        response = await handler(request)
    except BadParameterError as err:
        return problem(400, "INVALID_PARAMETERS", str(err))
    if fault is Fault.MALFORMED and isinstance(response, web.Response) and response.text:
        text = response.text
        return web.Response(text=text[: len(text) // 2], content_type="application/json")
    return response


def requires(permission: Permission) -> Callable[[Handler], Handler]:
    """403 ``ACCESS_DENIED`` unless the request's key holds ``permission``."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            granted = _permissions(_state(request), presented_key(request)) or frozenset()
            if permission not in granted:
                return problem(
                    403,
                    "ACCESS_DENIED",
                    "API key does not have required permissions to access this resource",
                )
            return await handler(request)

        return checked

    return decorate


# --- Parameters -------------------------------------------------------------------------------


def _integer(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        msg = f"{name} must be an integer from {low} to {high}"
        raise BadParameterError(msg)
    return int(raw)


def _choice(
    request: web.Request, name: str, choices: Iterable[str], default: str | None = None
) -> str | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    allowed = tuple(choices)
    if raw not in allowed:
        msg = f"{name} must be one of: {', '.join(allowed)}"
        raise BadParameterError(msg)
    return raw


def _moment(request: web.Request, name: str) -> float | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        msg = f"{name} must be an RFC 3339 date-time with an offset"
        raise BadParameterError(msg)
    return when.timestamp()


def _page(request: web.Request, items: list[Json]) -> Json:
    page = _integer(request, "page", 1, 1, 10**9)
    size = _integer(request, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    start = (page - 1) * size
    return {
        "items": items[start : start + size],
        "pagination": {"page": page, "pageSize": size, "hasNextPage": len(items) > start + size},
    }


# --- Accounts ---------------------------------------------------------------------------------


@requires(Permission.READ_ACCOUNTS)
async def list_accounts(request: web.Request) -> web.Response:
    """``GET /accounts``: summaries, active ones unless ``state=ALL``."""
    platform = _state(request)
    kind = _choice(request, "type", [kind.value for kind in AccountKind])
    everything = _choice(request, "state", ("ACTIVE", "ALL"), "ACTIVE") == "ALL"
    listed: list[tuple[SimAccount, float | None]] = [
        (account, None) for account in platform.bank.accounts()
    ]
    if everything:
        listed += list(platform.bank.removed.values())
    items = [
        wire.account_summary(platform, account, removed_at)
        for account, removed_at in listed
        if kind is None or account.kind.value == kind
    ]
    return ok(_page(request, items))


@requires(Permission.READ_ACCOUNTS)
async def get_account(request: web.Request) -> web.Response:
    """``GET /accounts/{id}``: the full account with its balance."""
    platform = _state(request)
    found = platform.find_account(request.match_info["id"])
    if found is None:
        return _not_found("ACCOUNT_NOT_FOUND", "Account")
    return ok(wire.account_detail(platform, *found))


# --- Transfers --------------------------------------------------------------------------------


def _transfer_filter(request: web.Request) -> Callable[[SimTransfer], bool]:
    """The filters ``GET /transfers`` and ``GET /accounts/{id}/transfers`` share."""
    direction = _choice(request, "direction", DIRECTIONS)
    status = _choice(request, "status", TRANSFER_STATUSES)
    mode = _choice(request, "executionMode", EXECUTION_MODES, "LIVE")
    origin = _choice(request, "origin", ORIGINS)
    since, until = _moment(request, "from"), _moment(request, "to")
    execution_id = request.query.get("rule_execution_id")
    now = _state(request).bank.now()

    def keep(item: SimTransfer) -> bool:
        return (
            (direction is None or item.direction == direction)
            and (status is None or item.status_at(now) == status)
            and (mode in {"ALL", item.execution_mode})
            and (origin is None or item.origin == origin)
            and (since is None or item.created_at >= since)
            and (until is None or item.created_at <= until)
            and (execution_id is None or item.rule_execution_id == execution_id)
        )

    return keep


def _ends(item: SimTransfer) -> tuple[str | None, str | None]:
    return (
        None if item.source is None else platform_id_of(item.source),
        None if item.destination is None else platform_id_of(item.destination),
    )


def _transfer_page(request: web.Request, matches: Callable[[SimTransfer], bool]) -> web.Response:
    platform = _state(request)
    keep = _transfer_filter(request)
    chosen = [item for item in platform.transfers.values() if matches(item) and keep(item)]
    chosen.sort(key=lambda item: (item.created_at, item.id), reverse=True)
    return ok(_page(request, [wire.transfer(platform, item) for item in chosen]))


@requires(Permission.READ_TRANSFERS)
async def list_transfers(request: web.Request) -> web.Response:
    """``GET /transfers?accountIds=...``: transfers touching any of the accounts, newest first."""
    wanted = set(_account_ids(request))
    return _transfer_page(request, lambda item: bool(wanted.intersection(_ends(item))))


def _account_ids(request: web.Request) -> list[str]:
    """``accountIds`` (or ``accountIds[]``): required, UUIDs."""
    ids = request.query.getall("accountIds", []) + request.query.getall("accountIds[]", [])
    if not ids:
        msg = "accountIds is required"
        raise BadParameterError(msg)
    for account_id in ids:
        try:
            uuid.UUID(account_id)
        except ValueError:
            msg = "accountIds must be UUIDs"
            raise BadParameterError(msg) from None
    return ids


@requires(Permission.READ_TRANSFERS)
async def list_account_transfers(request: web.Request) -> web.Response:
    """``GET /accounts/{accountId}/transfers``: by role ``source``, ``destination``, ``either``."""
    account_id = request.match_info["accountId"]
    role = _choice(request, "accountRole", ("source", "destination", "either"), "either")

    def matches(item: SimTransfer) -> bool:
        source, destination = _ends(item)
        return (role != "destination" and source == account_id) or (
            role != "source" and destination == account_id
        )

    return _transfer_page(request, matches)


@requires(Permission.READ_TRANSFERS)
async def get_transfer(request: web.Request) -> web.Response:
    """``GET /transfers/{id}``."""
    platform = _state(request)
    item = platform.transfers.get(request.match_info["id"])
    if item is None or not platform.visible(item):
        return _not_found("TRANSFER_NOT_FOUND", "Transfer")
    return ok(wire.transfer(platform, item))


# --- Rules ------------------------------------------------------------------------------------


@requires(Permission.READ_RULES)
async def list_rules(request: web.Request) -> web.Response:
    """``GET /rules``, optionally only rules moving money out of ``sourceId``."""
    platform = _state(request)
    source = request.query.get("sourceId")
    items = [
        wire.rule_summary(rule)
        for rule in platform.rules.values()
        if source is None or any(platform_id_of(action.source) == source for action in rule.actions)
    ]
    return ok(_page(request, items))


@requires(Permission.READ_RULES)
async def get_rule(request: web.Request) -> web.Response:
    """``GET /rules/{id}``; a rule this API version cannot express is 403 ``INVALID_RULE``."""
    platform = _state(request)
    rule = platform.rules.get(request.match_info["id"])
    if rule is None or rule.deleted_at is not None:
        return _not_found("RULE_NOT_FOUND", "Rule")
    if not rule.supported:
        return problem(403, "INVALID_RULE", "This rule cannot be represented by the API")
    return ok(wire.rule(platform, rule))


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not valid_key(key):
        msg = "idempotency-key must be 1 to 36 of A-Z a-z 0-9 . _ : / | -"
        raise BadParameterError(msg)
    return key


async def _json_object(request: web.Request) -> dict[str, object]:
    """The request's body, a JSON object (an empty body is ``{}``)."""
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        msg = "the body must be a JSON object"
        raise BadParameterError(msg)
    return body


async def _trigger_body(request: web.Request) -> tuple[int | None, bool, str]:
    """``executeAmount``, ``simulation`` and a fingerprint of the body."""
    body = await _json_object(request)
    amount = body.get("executeAmount")
    if amount is not None and (
        isinstance(amount, bool) or not isinstance(amount, int) or amount < 0
    ):
        msg = "executeAmount must be a non-negative integer (cents)"
        raise BadParameterError(msg)
    simulation = body.get("simulation", False)
    if not isinstance(simulation, bool):
        msg = "simulation must be a boolean"
        raise BadParameterError(msg)
    return amount, simulation, fingerprint(body)


@requires(Permission.TRIGGER_RULES)
async def trigger_rule(request: web.Request) -> web.Response:
    """``POST /rules/{id}/trigger``: 202 with the ``executionId`` to poll."""
    platform = _state(request)
    rule = platform.rules.get(request.match_info["id"])
    if rule is None:
        return _not_found("RULE_NOT_FOUND", "Rule")
    idempotency_key = _idempotency_key(request)
    amount, simulation, fingerprint = await _trigger_body(request)
    try:
        execution = platform.trigger(
            rule,
            execute_amount=amount,
            simulation=simulation,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
    except RuleNotTriggerableError as err:
        message = "This rule is deactivated and cannot be triggered using the API"
        if err.code == "INVALID_RULE":
            message = "This rule cannot be triggered using the API"
        return problem(403, err.code, message)
    except IdempotencyMismatchError:
        return _mismatch()
    except InFlightError:
        return problem(
            409,
            "RULE_EXECUTION_IN_PROGRESS",
            "A rule execution with the same idempotency key is already in progress. Retry shortly.",
        )
    return ok({"executionId": execution.id}, status=202)


def _mismatch() -> web.Response:
    return problem(
        400,
        "IDEMPOTENCY_KEY_MISMATCH",
        "Idempotency-Key was already used with a different request body. "
        "Use a fresh key for new operations.",
    )


@requires(Permission.READ_RULES)
async def list_executions(request: web.Request) -> web.Response:
    """``GET /rules/{ruleId}/executions``, newest first."""
    platform = _state(request)
    rule_id = request.match_info["ruleId"]
    status = _choice(request, "status", EXECUTION_STATUSES)
    trigger_type = _choice(request, "triggerType", TRIGGER_TYPES)
    mode = _choice(request, "executionMode", EXECUTION_MODES, "LIVE")
    since, until = _moment(request, "from"), _moment(request, "to")
    summaries = [
        wire.execution_summary(platform, item)
        for item in sorted(
            platform.executions.values(), key=lambda item: item.created_at, reverse=True
        )
        if item.rule_id == rule_id
        and (trigger_type is None or item.trigger_type == trigger_type)
        and (mode in {"ALL", item.execution_mode})
        and (since is None or item.created_at >= since)
        and (until is None or item.created_at <= until)
    ]
    items = [summary for summary in summaries if status is None or summary["status"] == status]
    return ok(_page(request, items))


@requires(Permission.READ_RULES)
async def get_execution(request: web.Request) -> web.Response:
    """``GET /rules/{ruleId}/executions/{id}``."""
    platform = _state(request)
    item = platform.executions.get(request.match_info["id"])
    if item is None or item.rule_id != request.match_info["ruleId"] or not platform.visible(item):
        return _not_found("RULE_EXECUTION_NOT_FOUND", "Rule execution")
    return ok(wire.execution(platform, item))


# --- Moving money and the linked accounts' lines -----------------------------------------------


def _transfer_request(body: dict[str, object]) -> TransferRequest:
    """A ``CreateTransferRequest``, or 400 ``INVALID_PARAMETERS`` saying what is wrong."""
    source, destination = body.get("sourceAccountId"), body.get("destinationAccountId")
    amount, description = body.get("amountInCents"), body.get("description")
    simulation = body.get("simulation", False)
    problem_text = None
    if not isinstance(source, str) or not isinstance(destination, str):
        problem_text = "sourceAccountId and destinationAccountId are required strings"
    elif isinstance(amount, bool) or not isinstance(amount, int):
        problem_text = "amountInCents must be an integer"
    elif amount < MINIMUM_TRANSFER_CENTS:
        problem_text = f"amountInCents must be at least {MINIMUM_TRANSFER_CENTS} ($1.00)"
    elif description is not None and (
        not isinstance(description, str) or not DESCRIPTION.fullmatch(description)
    ):
        problem_text = "description is at most 10 letters, digits and spaces"
    elif not isinstance(simulation, bool):
        problem_text = "simulation must be a boolean"
    else:
        return TransferRequest(
            source=source,
            destination=destination,
            amount_cents=amount,
            description=description,
            simulation=simulation,
        )
    raise BadParameterError(problem_text)


@requires(Permission.MANUAL_TRANSFER)
async def create_transfer(request: web.Request) -> web.Response:
    """``POST /transfers``: 201 with the transfer, live or simulated."""
    platform = _state(request)
    idempotency_key = _idempotency_key(request)
    body = await _json_object(request)
    transfer_request = _transfer_request(body)
    try:
        transfer = platform.create_transfer(
            presented_key(request) or "",
            transfer_request,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint(body),
        )
    except TransferRefusedError as err:
        return problem(err.status, err.code, err.message)
    except IdempotencyMismatchError:
        return _mismatch()
    except InFlightError:
        return problem(
            409,
            "TRANSFER_IN_PROGRESS",
            "A transfer with the same idempotency key is already in progress. Retry shortly.",
        )
    return ok(wire.transfer(platform, transfer), status=201)


@requires(Permission.READ_TRANSFERS)
async def list_external_transactions(request: web.Request) -> web.Response:
    """``GET /external-transactions?accountIds=...``: the accounts' lines, newest first."""
    platform = _state(request)
    wanted = set(_account_ids(request))
    direction = _choice(request, "direction", EXTERNAL_DIRECTIONS)
    status = _choice(request, "status", EXTERNAL_STATUSES)
    since, until = _moment(request, "from"), _moment(request, "to")
    chosen = sorted(
        (
            item
            for item in platform.external.values()
            if platform_id_of(item.account) in wanted
            and (direction is None or item.direction == direction)
            and (status is None or item.status == status)
            and (since is None or item.date >= since)
            and (until is None or item.date <= until)
        ),
        key=lambda item: (item.date, item.id),
        reverse=True,
    )
    return ok(_page(request, [wire.external_transaction(item) for item in chosen]))


def setup(app: web.Application) -> None:
    """Mount the Platform API under ``PREFIX``; its state is the simulator's ``platform``."""
    platform_app = web.Application(middlewares=[guard])
    router = platform_app.router
    router.add_get("/accounts", list_accounts)
    router.add_get("/accounts/{id}", get_account)
    router.add_get("/accounts/{accountId}/transfers", list_account_transfers)
    router.add_get("/transfers", list_transfers)
    router.add_post("/transfers", create_transfer)
    router.add_get("/transfers/{id}", get_transfer)
    router.add_get("/external-transactions", list_external_transactions)
    router.add_get("/rules", list_rules)
    router.add_get("/rules/{id}", get_rule)
    router.add_post("/rules/{id}/trigger", trigger_rule)
    router.add_get("/rules/{ruleId}/executions", list_executions)
    router.add_get("/rules/{ruleId}/executions/{id}", get_execution)
    app.add_subapp(PREFIX, platform_app)
