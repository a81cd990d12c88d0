"""The simulator's own JSON control API under ``/_simulator/`` (no auth: loopback only).

- ``GET    /_simulator/state``          scenario, request counts per route, accounts (cents)
- ``POST   /_simulator/scenario``       ``{"scenario": NAME, ...params}``
- ``POST   /_simulator/accounts``       add ``{"name", "type"?, "id"?, "balance_cents"?, ...}``
  (to the household's accounts; ``"beneficiary": "business"`` adds to the business's)
- ``PATCH  /_simulator/accounts/{id}``  ``{"name"?, "balance_cents"?, "error"?, "drift_cents"?}``
- ``DELETE /_simulator/accounts/{id}``   (an id of either beneficiary)
- ``POST   /_simulator/remote_rules``   add a Remote API rule ``{"name", "secret", "source",
  "destination", "amount_cents", "id"?, "beneficiary"?}`` (201; its id and trigger paths)
- ``PATCH  /_simulator/remote_rules/{id}`` ``{"name"?, "secret"?}`` (a new secret: the old one
  is refused from now on)
- ``POST   /_simulator/reset``          as if freshly started (scenario ``ok``)

The Platform API's keys, transfers and rules have their own routes (``platform_control``).

Keys are snake_case and money is integer cents, whatever the simulated API's wire format.
Errors are ``{"error": TEXT}`` with 400 or 404. Tokens are never shown.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
import functools
import json

from aiohttp import web

from .params import InvalidParamsError, Params, integer, reject_unknown, text
from .platform_records import MINIMUM_TRANSFER_CENTS, SimAction
from .remote_rules import SimRemoteRule
from .runtime import HOUSEHOLD, SIMULATOR, Simulator
from .scenarios import SCENARIOS
from .state import (
    AccountKind,
    Bank,
    DuplicateAccountError,
    ExternalType,
    SimAccount,
    UnknownAccountError,
)

PREFIX = "/_simulator"

KIND_NAMES: Mapping[str, AccountKind] = {
    "pod": AccountKind.POD,
    "income source": AccountKind.INCOME_SOURCE,
    "income_source": AccountKind.INCOME_SOURCE,
    "account": AccountKind.EXTERNAL_ACCOUNT,
    "external_account": AccountKind.EXTERNAL_ACCOUNT,
}
"""Account types in either API's vocabulary (``"Income Source"`` or ``"INCOME_SOURCE"``)."""

ADD_PARAMS = frozenset(
    {
        "id",
        "name",
        "type",
        "balance_cents",
        "error",
        "drift_cents",
        "external_type",
        "institution",
        "beneficiary",
    }
)
PATCH_PARAMS = frozenset({"name", "balance_cents", "error", "drift_cents"})
REMOTE_RULE_PARAMS = frozenset(
    {"id", "name", "secret", "source", "destination", "amount_cents", "beneficiary"}
)
REMOTE_RULE_PATCH_PARAMS = frozenset({"name", "secret"})


def problem(status: int, message: str) -> web.Response:
    """The control API's error body ``{"error": TEXT}``."""
    return web.json_response({"error": message}, status=status)


async def read_body(request: web.Request) -> dict[str, object]:
    """The request's JSON object (an empty body is ``{}``), or ``InvalidParamsError``."""
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        msg = "the body must be a JSON object"
        raise InvalidParamsError(msg)
    return body


def _error_param(params: Params) -> str | None:
    value = params.get("error")
    if value is not None and not isinstance(value, str):
        msg = "error must be a string or null"
        raise InvalidParamsError(msg)
    return value


def _kind(params: Params) -> AccountKind:
    name = text(params, "type")
    if name is None:
        return AccountKind.POD
    try:
        return KIND_NAMES[name.lower()]
    except KeyError:
        msg = f"type must be one of: {', '.join(KIND_NAMES)}"
        raise InvalidParamsError(msg) from None


def _external_type(params: Params, kind: AccountKind) -> ExternalType | None:
    name = text(params, "external_type")
    if name is None:
        return ExternalType.DEPOSITORY if kind is AccountKind.EXTERNAL_ACCOUNT else None
    try:
        return ExternalType(name.upper())
    except ValueError:
        msg = f"external_type must be one of: {', '.join(ExternalType)}"
        raise InvalidParamsError(msg) from None


def _beneficiary(simulator: Simulator, params: Params) -> Bank:
    name = text(params, "beneficiary") or HOUSEHOLD
    banks = simulator.banks()
    if name not in banks:
        msg = f"beneficiary must be one of: {', '.join(banks)}"
        raise InvalidParamsError(msg)
    return banks[name]


def state_json(simulator: Simulator) -> dict[str, object]:
    """Everything the control API reports about the simulator.

    ``accounts`` are the household's (both APIs), ``business_accounts`` the business's.
    """
    bank = simulator.bank
    return {
        "scenario": simulator.scenarios.describe(),
        "scenarios": {name: scenario.description for name, scenario in SCENARIOS.items()},
        "requests": dict(sorted(simulator.requests.items())),
        "seed": bank.seed,
        "elapsed_seconds": bank.elapsed_seconds(),
        "accounts": [bank.describe(account) for account in bank.accounts()],
        "business_accounts": [
            simulator.business.describe(account) for account in simulator.business.accounts()
        ],
        "platform": simulator.platform.describe(),
        "remote_rules": simulator.remote_rules.describe(),
    }


type Handler = Callable[[web.Request], Awaitable[web.Response]]


def answers_problems(handler: Handler) -> Handler:
    """Turn a bad parameter into 400 and an unknown account into 404."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except InvalidParamsError as err:
            return problem(400, str(err))
        except DuplicateAccountError:
            return problem(400, "an account with that id already exists")
        except UnknownAccountError:
            return problem(404, "no account with that id")

    return wrapper


async def get_state(request: web.Request) -> web.Response:
    """``GET /_simulator/state``."""
    return web.json_response(state_json(request.config_dict[SIMULATOR]))


@answers_problems
async def post_scenario(request: web.Request) -> web.Response:
    """``POST /_simulator/scenario``: switch mode or apply a one-shot change."""
    simulator = request.config_dict[SIMULATOR]
    params = await read_body(request)
    name = text(params, "scenario")
    if name is None:
        msg = "scenario is required"
        raise InvalidParamsError(msg)
    del params["scenario"]
    result = simulator.scenarios.activate(name, params)
    return web.json_response({**result, "scenario": simulator.scenarios.describe()})


@answers_problems
async def post_account(request: web.Request) -> web.Response:
    """``POST /_simulator/accounts``: add an account at the end of a beneficiary's list."""
    simulator = request.config_dict[SIMULATOR]
    params = await read_body(request)
    reject_unknown(params, ADD_PARAMS, "adding an account")
    bank = _beneficiary(simulator, params)
    name = text(params, "name")
    if name is None:
        msg = "name is required"
        raise InvalidParamsError(msg)
    kind = _kind(params)
    balance = integer(params, "balance_cents") or 0
    account_id = text(params, "id") or bank.new_id()
    if simulator.holds(account_id):  # in either beneficiary's bank: ids are unique across both
        raise DuplicateAccountError(account_id)
    account = bank.add(
        SimAccount(
            id=account_id,
            name=name,
            kind=kind,
            base_cents=balance,
            overdrawable=balance < 0,
            drift_cents=integer(params, "drift_cents", minimum=0) or 0,
            error=_error_param(params),
            external_type=_external_type(params, kind),
            institution=text(params, "institution"),
        )
    )
    return web.json_response(bank.describe(account), status=201)


@answers_problems
async def patch_account(request: web.Request) -> web.Response:
    """``PATCH /_simulator/accounts/{id}``: rename, set the balance now, set or clear an error.

    Every parameter is checked before anything changes.
    """
    account_id = request.match_info["id"]
    bank = request.config_dict[SIMULATOR].bank_with(account_id)
    params = await read_body(request)
    reject_unknown(params, PATCH_PARAMS, "changing an account")
    if not params:
        msg = f"give at least one of: {', '.join(sorted(PATCH_PARAMS))}"
        raise InvalidParamsError(msg)
    name = text(params, "name")
    balance = integer(params, "balance_cents")
    drift = integer(params, "drift_cents", minimum=0)
    error = _error_param(params)
    if name is not None:
        bank.rename(account_id, name)
    if drift is not None:
        bank.set_drift(account_id, drift)
    if balance is not None:
        bank.set_balance(account_id, balance)
    if "error" in params:
        bank.set_error(account_id, error)
    return web.json_response(bank.describe(bank.get(account_id)))


@answers_problems
async def delete_account(request: web.Request) -> web.Response:
    """``DELETE /_simulator/accounts/{id}``."""
    account_id = request.match_info["id"]
    account = request.config_dict[SIMULATOR].bank_with(account_id).remove(account_id)
    return web.json_response({"removed": account.id})


def _secret(params: Params) -> str | None:
    secret = text(params, "secret")
    if secret is not None and (secret != secret.strip() or " " in secret):
        msg = "secret must be a non-empty string without blanks"
        raise InvalidParamsError(msg)
    return secret


@answers_problems
async def post_remote_rule(request: web.Request) -> web.Response:
    """``POST /_simulator/remote_rules``: a rule with a Remote API trigger (fixed amount)."""
    simulator = request.config_dict[SIMULATOR]
    params = await read_body(request)
    reject_unknown(params, REMOTE_RULE_PARAMS, "adding a Remote API rule")
    bank = _beneficiary(simulator, params)
    name, secret = text(params, "name"), _secret(params)
    source, destination = text(params, "source"), text(params, "destination")
    amount = integer(params, "amount_cents", minimum=MINIMUM_TRANSFER_CENTS)
    if name is None or secret is None or source is None or destination is None or amount is None:
        msg = "name, secret, source, destination and amount_cents are required"
        raise InvalidParamsError(msg)
    bank.get(source)  # UnknownAccountError -> 404: accounts of the rule's beneficiary
    bank.get(destination)
    rules = simulator.remote_rules
    rule_id = text(params, "id") or f"ru_{30001 + len(rules.rules)}"
    if rule_id in rules.rules or "/" in rule_id:
        msg = "id must be new and one path segment"
        raise InvalidParamsError(msg)
    rule = SimRemoteRule(
        id=rule_id,
        name=name,
        beneficiary=text(params, "beneficiary") or HOUSEHOLD,
        secret=secret,
        actions=(
            SimAction(kind="FIXED", source=source, destination=destination, amount_cents=amount),
        ),
    )
    rules.rules[rule.id] = rule
    return web.json_response({"id": rule.id, "trigger_paths": rule.trigger_paths()}, status=201)


@answers_problems
async def patch_remote_rule(request: web.Request) -> web.Response:
    """``PATCH /_simulator/remote_rules/{id}``: rename it, or give it a new secret."""
    rules = request.config_dict[SIMULATOR].remote_rules
    rule = rules.rules.get(request.match_info["id"])
    if rule is None:
        return problem(404, "no Remote API rule with that id")
    params = await read_body(request)
    reject_unknown(params, REMOTE_RULE_PATCH_PARAMS, "changing a Remote API rule")
    name, secret = text(params, "name"), _secret(params)
    rules.rules[rule.id] = replace(rule, name=name or rule.name, secret=secret or rule.secret)
    return web.json_response({"id": rule.id, "name": rules.rules[rule.id].name})


async def post_reset(request: web.Request) -> web.Response:
    """``POST /_simulator/reset``."""
    simulator = request.config_dict[SIMULATOR]
    simulator.reset()
    return web.json_response(state_json(simulator))


def setup(app: web.Application) -> None:
    """Add the control routes."""
    router = app.router
    router.add_get(f"{PREFIX}/state", get_state)
    router.add_post(f"{PREFIX}/scenario", post_scenario)
    router.add_post(f"{PREFIX}/accounts", post_account)
    router.add_patch(f"{PREFIX}/accounts/{{id}}", patch_account)
    router.add_delete(f"{PREFIX}/accounts/{{id}}", delete_account)
    router.add_post(f"{PREFIX}/remote_rules", post_remote_rule)
    router.add_patch(f"{PREFIX}/remote_rules/{{id}}", patch_remote_rule)
    router.add_post(f"{PREFIX}/reset", post_reset)
