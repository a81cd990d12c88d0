"""Control routes for the Platform API's state (under ``/_simulator/``, snake_case, cents).

- ``POST  /_simulator/api_keys``        ``{"key", "permissions": [...], "transfer_pairs"?:
  [{"source", "target", "max_amount_cents"?}]}`` adds or changes a key (no ``transfer_pairs``:
  ``MANUAL_TRANSFER`` allows any pair); ``{"key", "revoked": true}`` removes it. The answer
  never repeats the key.
- ``POST  /_simulator/transfers``       ``{"amount_cents", "direction"?, "origin"?, "source"?,
  "destination"?, "status"?, "external_party"?}`` records a transfer now (201, its UUID);
  accounts by Remote API id (default: a paycheck into the Income Source).
- ``PATCH /_simulator/transfers/{id}``  ``{"status", "error_code"?}`` changes its status now (a
  live transfer that moved money and fails before it completed gives it back).
- ``PATCH /_simulator/rules/{id}``      ``{"enabled"?, "supported"?, "deleted"?}`` (booleans).
- ``POST  /_simulator/timing``          ``{"in_flight_seconds"?, "hidden_seconds"?,
  "processing_seconds"?, "settle_seconds"?}``: how money requests unfold from now on.
- ``POST  /_simulator/external_transactions`` ``{"account", "amount_cents", "direction"?,
  "status"?, "description"?}``: a line on a linked account now (201, its UUID).
"""

from dataclasses import asdict

from aiohttp import web

from .control import answers_problems, problem, read_body
from .params import InvalidParamsError, Params, integer, reject_unknown, seconds, text
from .platform_api import (
    DIRECTIONS,
    EXTERNAL_DIRECTIONS,
    EXTERNAL_STATUSES,
    ORIGINS,
    TRANSFER_STATUSES,
)
from .platform_records import (
    MINIMUM_TRANSFER_CENTS,
    Permission,
    SimExternalTransaction,
    SimTransfer,
    TransferPair,
)
from .runtime import SIMULATOR
from .state import AccountKind

PREFIX = "/_simulator"
KEY_PARAMS = frozenset({"key", "permissions", "revoked", "transfer_pairs"})
PAIR_PARAMS = frozenset({"source", "target", "max_amount_cents"})
RULE_PARAMS = frozenset({"enabled", "supported", "deleted"})
TIMING_PARAMS = frozenset(
    {"in_flight_seconds", "hidden_seconds", "processing_seconds", "settle_seconds"}
)
EXTERNAL_PARAMS = frozenset({"account", "amount_cents", "direction", "status", "description"})
TRANSFER_PARAMS = frozenset(
    {"amount_cents", "direction", "origin", "source", "destination", "status", "external_party"}
)
STATUS_PARAMS = frozenset({"status", "error_code"})


def _one_of(params: Params, key: str, choices: tuple[str, ...], default: str) -> str:
    value = text(params, key) or default
    if value not in choices:
        msg = f"{key} must be one of: {', '.join(choices)}"
        raise InvalidParamsError(msg)
    return value


def _permissions(params: Params) -> frozenset[Permission]:
    names = params.get("permissions")
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        msg = "permissions must be a list of permission names"
        raise InvalidParamsError(msg)
    try:
        return frozenset(Permission(name) for name in names)
    except ValueError:
        msg = f"permissions must be among: {', '.join(Permission)}"
        raise InvalidParamsError(msg) from None


@answers_problems
async def post_api_key(request: web.Request) -> web.Response:
    """Add, change or revoke a Platform API key."""
    platform = request.config_dict[SIMULATOR].platform
    params = await read_body(request)
    reject_unknown(params, KEY_PARAMS, "an API key change")
    key = text(params, "key")
    if key is None or key != key.strip() or " " in key:
        msg = "key must be a non-empty string without blanks"
        raise InvalidParamsError(msg)
    if params.get("revoked") is True:
        revoked = platform.api_keys.pop(key, None) is not None
        return web.json_response({"revoked": revoked})
    permissions = _permissions(params)
    pairs = _pairs(params.get("transfer_pairs"))
    platform.api_keys[key] = permissions
    platform.transfer_pairs[key] = pairs
    return web.json_response(
        {
            "permissions": sorted(permissions),
            "transfer_pairs": None if pairs is None else [pair.describe() for pair in pairs],
        }
    )


def _pairs(raw: object) -> tuple[TransferPair, ...] | None:
    """``MANUAL_TRANSFER`` pairs (accounts by either API's id); None allows any pair."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        msg = "transfer_pairs must be a list of {source, target, max_amount_cents?}"
        raise InvalidParamsError(msg)
    pairs = []
    for item in raw:
        reject_unknown(item, PAIR_PARAMS, "a transfer pair")
        source, target = text(item, "source"), text(item, "target")
        if source is None or target is None:
            msg = "a transfer pair needs a source and a target"
            raise InvalidParamsError(msg)
        cap = integer(item, "max_amount_cents", minimum=MINIMUM_TRANSFER_CENTS)
        pairs.append(TransferPair.of(source, target, cap))
    return tuple(pairs)


def _account(request: web.Request, params: Params, key: str, default: str | None) -> str | None:
    account_id = text(params, key) or default
    if account_id is not None:
        request.config_dict[SIMULATOR].bank.get(account_id)  # UnknownAccountError -> 404
    return account_id


def _income_source(request: web.Request) -> str | None:
    bank = request.config_dict[SIMULATOR].bank
    return next(
        (account.id for account in bank.accounts() if account.kind is AccountKind.INCOME_SOURCE),
        None,
    )


@answers_problems
async def post_transfer(request: web.Request) -> web.Response:
    """Record a transfer that happens now (e.g. a paycheck arriving)."""
    simulator = request.config_dict[SIMULATOR]
    params = await read_body(request)
    reject_unknown(params, TRANSFER_PARAMS, "adding a transfer")
    amount = integer(params, "amount_cents", minimum=1)
    if amount is None:
        msg = "amount_cents is required"
        raise InvalidParamsError(msg)
    direction = _one_of(params, "direction", DIRECTIONS, "MONEY_IN")
    incoming = direction == "MONEY_IN"
    platform = simulator.platform
    transfer = platform.add_transfer(
        SimTransfer(
            id=platform.next_id("transfer"),
            amount_cents=amount,
            direction=direction,
            origin=_one_of(params, "origin", ORIGINS, "DIRECT_DEPOSIT" if incoming else "USER"),
            source=_account(request, params, "source", None),
            destination=_account(
                request, params, "destination", _income_source(request) if incoming else None
            ),
            created_at=simulator.bank.now(),
            status=_one_of(params, "status", TRANSFER_STATUSES, "COMPLETE"),
            external_party=text(params, "external_party"),
        )
    )
    return web.json_response({"id": transfer.id}, status=201)


@answers_problems
async def patch_transfer(request: web.Request) -> web.Response:
    """Change a transfer's status now (settling, failing or cancelling it)."""
    platform = request.config_dict[SIMULATOR].platform
    transfer_id = request.match_info["id"]
    if transfer_id not in platform.transfers:
        return problem(404, "no transfer with that id")
    params = await read_body(request)
    reject_unknown(params, STATUS_PARAMS, "changing a transfer")
    status = _one_of(params, "status", TRANSFER_STATUSES, "")
    platform.set_transfer_status(transfer_id, status, text(params, "error_code"))
    return web.json_response({"id": transfer_id, "status": status})


@answers_problems
async def patch_rule(request: web.Request) -> web.Response:
    """Enable or disable a rule, make it unsupported, delete it (or undo any of it)."""
    platform = request.config_dict[SIMULATOR].platform
    rule_id = request.match_info["id"]
    if rule_id not in platform.rules:
        return problem(404, "no rule with that id")
    params = await read_body(request)
    reject_unknown(params, RULE_PARAMS, "changing a rule")
    changes = {name: params.get(name) for name in RULE_PARAMS if name in params}
    if not changes or not all(isinstance(value, bool) for value in changes.values()):
        msg = f"give some of {', '.join(sorted(RULE_PARAMS))}, each true or false"
        raise InvalidParamsError(msg)
    rule = platform.set_rule(
        rule_id,
        enabled=_flag(changes, "enabled"),
        supported=_flag(changes, "supported"),
        deleted=_flag(changes, "deleted"),
    )
    return web.json_response(
        {
            "id": rule_id,
            "enabled": rule.enabled,
            "supported": rule.supported,
            "deleted": rule.deleted_at is not None,
        }
    )


def _flag(changes: dict[str, object], name: str) -> bool | None:
    value = changes.get(name)
    return value if isinstance(value, bool) else None


@answers_problems
async def post_timing(request: web.Request) -> web.Response:
    """Change how money requests unfold (in seconds of the simulator's clock)."""
    timing = request.config_dict[SIMULATOR].platform.timing
    params = await read_body(request)
    reject_unknown(params, TIMING_PARAMS, "changing the timing")
    changes = {name: seconds(params, name) for name in TIMING_PARAMS}
    for name, value in changes.items():
        if value is not None:
            setattr(timing, name, value)
    return web.json_response(asdict(timing))


@answers_problems
async def post_external_transaction(request: web.Request) -> web.Response:
    """Add a line to a linked account now (e.g. a purchase on the card)."""
    simulator = request.config_dict[SIMULATOR]
    params = await read_body(request)
    reject_unknown(params, EXTERNAL_PARAMS, "adding an external transaction")
    account_id = text(params, "account")
    amount = integer(params, "amount_cents", minimum=1)
    if account_id is None or amount is None:
        msg = "account and amount_cents are required"
        raise InvalidParamsError(msg)
    account = simulator.bank.get(account_id)  # UnknownAccountError -> 404
    if account.kind is not AccountKind.EXTERNAL_ACCOUNT:
        msg = "account must be a linked external account"
        raise InvalidParamsError(msg)
    platform = simulator.platform
    item = platform.add_external(
        SimExternalTransaction(
            id=platform.next_id("external"),
            account=account_id,
            amount_cents=amount,
            direction=_one_of(params, "direction", EXTERNAL_DIRECTIONS, "MONEY_OUT"),
            status=_one_of(params, "status", EXTERNAL_STATUSES, "PENDING"),
            description=text(params, "description") or "",
            date=simulator.bank.now(),
        )
    )
    return web.json_response({"id": item.id}, status=201)


def setup(app: web.Application) -> None:
    """Add the Platform API's control routes."""
    router = app.router
    router.add_post(f"{PREFIX}/api_keys", post_api_key)
    router.add_post(f"{PREFIX}/transfers", post_transfer)
    router.add_patch(f"{PREFIX}/transfers/{{id}}", patch_transfer)
    router.add_patch(f"{PREFIX}/rules/{{id}}", patch_rule)
    router.add_post(f"{PREFIX}/timing", post_timing)
    router.add_post(f"{PREFIX}/external_transactions", post_external_transaction)
