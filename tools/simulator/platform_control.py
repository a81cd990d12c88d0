"""Control routes for the Platform API's state (under ``/_simulator/``, snake_case, cents).

- ``POST  /_simulator/api_keys``        ``{"key", "permissions": [...]}`` adds or changes a key;
  ``{"key", "revoked": true}`` removes it. The answer never repeats the key.
- ``POST  /_simulator/transfers``       ``{"amount_cents", "direction"?, "origin"?, "source"?,
  "destination"?, "status"?, "external_party"?}`` records a transfer now (201, its UUID);
  accounts by Remote API id (default: a paycheck into the Income Source).
- ``PATCH /_simulator/transfers/{id}``  ``{"status", "error_code"?}`` changes its status now.
- ``PATCH /_simulator/rules/{id}``      ``{"enabled": bool}``.
"""

from aiohttp import web

from .control import answers_problems, problem, read_body
from .params import InvalidParamsError, Params, integer, reject_unknown, text
from .platform_api import DIRECTIONS, ORIGINS, TRANSFER_STATUSES
from .platform_records import Permission, SimTransfer
from .runtime import SIMULATOR
from .state import AccountKind

PREFIX = "/_simulator"
KEY_PARAMS = frozenset({"key", "permissions", "revoked"})
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
    platform.api_keys[key] = permissions
    return web.json_response({"permissions": sorted(permissions)})


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
    """Enable or disable a rule."""
    platform = request.config_dict[SIMULATOR].platform
    rule_id = request.match_info["id"]
    if rule_id not in platform.rules:
        return problem(404, "no rule with that id")
    params = await read_body(request)
    reject_unknown(params, frozenset({"enabled"}), "changing a rule")
    enabled = params.get("enabled")
    if not isinstance(enabled, bool):
        msg = "enabled must be true or false"
        raise InvalidParamsError(msg)
    platform.set_rule_enabled(rule_id, enabled=enabled)
    return web.json_response({"id": rule_id, "enabled": enabled})


def setup(app: web.Application) -> None:
    """Add the Platform API's control routes."""
    router = app.router
    router.add_post(f"{PREFIX}/api_keys", post_api_key)
    router.add_post(f"{PREFIX}/transfers", post_transfer)
    router.add_patch(f"{PREFIX}/transfers/{{id}}", patch_transfer)
    router.add_patch(f"{PREFIX}/rules/{{id}}", patch_rule)
