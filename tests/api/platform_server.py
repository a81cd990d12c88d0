"""A scriptable Platform API on 127.0.0.1 for the client's HTTP-level tests.

Answers ``GET /platform/v1/accounts`` (paged summaries), ``/accounts/{id}`` (details with fake
unmasked routing and account numbers), ``/transfers`` (filtered by ``accountIds``, ``from``,
``to``, ``status`` and ``direction``, paged), ``/transfers/{id}``, ``/external-transactions``,
``/rules`` (paged), ``/rules/{id}``, ``/rules/{id}/executions/{id}``, and the money POSTs
``/rules/{id}/trigger`` (202) and ``/transfers`` (201); counts requests and the largest number
in flight, records every POST (headers and body), and lets a test replace any path's answer.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
import json
from typing import Any

from aiohttp import web

type Json = dict[str, Any]
type Override = Callable[[web.Request], Awaitable[web.StreamResponse]]

PREFIX = "/platform/v1"
ROUTING_NUMBER = "026013673"
"""Every fake account's routing number: distinctive, so a leak is easy to find."""


def bank_account_number(index: int) -> str:
    """A distinctive fake unmasked account number."""
    return f"99887766{index:08d}"


def account_detail(
    account_id: str,
    name: str = "Groceries",
    *,
    type_name: str = "POD",
    cents: int | None = 41206,
    external_type: str | None = None,
    institution: str | None = None,
    deleted_at: str | None = None,
    balance: Json | None = None,
    index: int = 0,
) -> Json:
    """A full ``Account`` as the API sends it (balance per ``cents`` unless ``balance``)."""
    return {
        "id": account_id,
        "name": name,
        "type": type_name,
        "description": None,
        "externalAccountType": external_type,
        "beneficiaryName": "Jordan Example",
        "institutionName": institution,
        "canBeSource": True,
        "canBeDestination": True,
        "linkedAccount": None,
        "createdAt": "2024-01-15T10:00:00Z",
        "updatedAt": "2024-01-15T10:00:00Z",
        "deletedAt": deleted_at,
        "routingNumber": ROUTING_NUMBER,
        "bankAccountNumber": bank_account_number(index),
        "balance": balance
        if balance is not None
        else {
            "balanceInCents": cents,
            "availableBalanceInCents": cents,
            "lastStatementBalanceInCents": None,
            "lastStatementDate": None,
            "nextPaymentMinimumInCents": None,
            "nextPaymentDueDate": None,
            "balanceLastUpdatedAt": "2026-11-20T06:00:00Z",
            "error": None,
            "interestRatePercentage": None,
            "originalLoanAmountInCents": None,
        },
        "savingsTargetInCents": None,
    }


SUMMARY_DROPS = ("routingNumber", "bankAccountNumber", "balance", "savingsTargetInCents")


def summary(detail: Json) -> Json:
    """The ``AccountSummary`` of a detail."""
    return {key: value for key, value in detail.items() if key not in SUMMARY_DROPS}


def transfer(transfer_id: str, source: str | None, destination: str | None, **changes: Any) -> Json:
    """A ``Transfer`` between two account ids (None for an outside party)."""
    body: Json = {
        "id": transfer_id,
        "amountInCents": 100000,
        "direction": "INTERNAL",
        "origin": "RULE",
        "source": None
        if source is None
        else {"id": source, "name": f"Account {source}", "type": "POD", "isDeleted": False},
        "destination": None
        if destination is None
        else {
            "id": destination,
            "name": f"Account {destination}",
            "type": "POD",
            "isDeleted": False,
        },
        "status": "COMPLETE",
        "executionMode": "LIVE",
        "ruleId": "551ff9b6-ddf1-4110-b611-1b11044b72d4",
        "ruleExecutionId": "4306b3e8-6e77-4c08-ab0b-bb33654af44c",
        "errorCode": None,
        "createdAt": "2026-11-01T09:15:00Z",
        "completedAt": "2026-11-01T09:15:04Z",
    }
    return body | changes


def rule_summary(rule_id: str, name: str = "Payday split", **changes: Any) -> Json:
    """A ``RuleSummary``."""
    return {
        "id": rule_id,
        "name": name,
        "description": None,
        "status": "ENABLED",
        "isSupported": True,
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "deletedAt": None,
    } | changes


def rule_detail(rule_id: str, trigger: Json | None = None) -> Json:
    """A full ``Rule`` (scheduled monthly unless ``trigger``)."""
    summary = rule_summary(rule_id)
    del summary["isSupported"]
    return summary | {
        "trigger": trigger
        or {
            "type": "SCHEDULED",
            "scheduleType": "MONTHLY",
            "startDate": "2026-01-15T14:00:00Z",
            "accountId": None,
        },
        "steps": [],
    }


def execution(execution_id: str, rule_id: str, status: str = "IN_PROGRESS", **changes: Any) -> Json:
    """A ``RuleExecution``."""
    return {
        "id": execution_id,
        "ruleId": rule_id,
        "status": status,
        "executionMode": "LIVE",
        "createdAt": "2026-11-21T12:00:00Z",
        "triggerDetails": {"type": "SEQUENCE_API", "amountInCents": None},
        "stepIndexMatched": 0,
        "conditionsNotMet": False,
        "transfersAttempted": 1,
        "transfersCompleted": 0,
        "transfersFailed": 0,
        "transfersPending": 1,
        "transferIds": [],
        "errorMessage": None,
        "nextAttemptAt": None,
    } | changes


def external_transaction(transaction_id: str, account_id: str, **changes: Any) -> Json:
    """An ``ExternalTransaction``."""
    return {
        "id": transaction_id,
        "accountId": account_id,
        "amountInCents": 4200,
        "direction": "MONEY_OUT",
        "status": "COMPLETE",
        "description": "Spotify",
        "transactionDate": "2026-11-20T00:00:00Z",
    } | changes


@dataclass(frozen=True, slots=True)
class Posted:
    """One POST the server received."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body, decoded."""
        return json.loads(self.body)


def envelope(data: object) -> Json:
    """The success envelope."""
    return {"data": data, "requestId": "req-test"}


def page_of(items: list[Json], request: web.Request) -> Json:
    """One page of ``items`` per the request's ``page``/``pageSize``."""
    page = int(request.query.get("page", "1"))
    size = int(request.query.get("pageSize", "10"))
    start = (page - 1) * size
    return envelope(
        {
            "items": items[start : start + size],
            "pagination": {
                "page": page,
                "pageSize": size,
                "hasNextPage": len(items) > start + size,
            },
        }
    )


class FakePlatform:
    """The server's state and what it has seen."""

    def __init__(self) -> None:
        self.accounts: dict[str, Json] = {}
        self.transfers: list[Json] = []
        self.external: list[Json] = []
        self.rules: dict[str, Json] = {}
        self.executions: dict[str, Json] = {}
        self.posts: list[Posted] = []
        self.raw_paths: list[str] = []
        """Each request's path as sent (escapes kept)."""
        self.overrides: dict[str, Override] = {}
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self.counts: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0

    def add_accounts(self, count: int) -> list[str]:
        """``count`` Pods with ids ``acct-0001``..., balances 1.00, 2.00, ..."""
        ids = []
        for index in range(1, count + 1):
            account_id = f"acct-{index:04d}"
            self.accounts[account_id] = account_detail(
                account_id, f"Pod {index}", cents=index * 100, index=index
            )
            ids.append(account_id)
        return ids

    def route(self, path: str) -> str:
        """The route a path belongs to, for counting."""
        if path.startswith(f"{PREFIX}/accounts/"):
            return "detail"
        return path.removeprefix(PREFIX)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Record, track concurrency, then answer."""
        self.requests.append(
            (
                request.path,
                {key: request.query.getall(key) for key in set(request.query.keys())},
                dict(request.headers),
            )
        )
        self.counts[self.route(request.path)] += 1
        self.raw_paths.append(request.raw_path)
        if request.method == "POST":
            self.posts.append(Posted(request.path, dict(request.headers), await request.read()))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            override = self.overrides.get(request.path)
            if override is not None:
                return await override(request)
            if request.method == "POST":
                return self.answer_post(request)
            return self.answer(request)
        finally:
            self.in_flight -= 1

    def answer(self, request: web.Request) -> web.Response:
        """The default behaviour of each route, by the path's first segment."""
        _, collection, *rest = request.path.removeprefix(PREFIX).split("/")
        routes = {
            "accounts": self.answer_accounts,
            "transfers": self.answer_transfers,
            "external-transactions": self.answer_external,
            "rules": self.answer_rules,
        }
        answer = routes.get(collection)
        if answer is None:
            return web.Response(status=404, text="404: Not Found")
        return answer(request, rest)

    def answer_accounts(self, request: web.Request, rest: list[str]) -> web.Response:
        """The list of summaries, or one detail (``/accounts/{id}``)."""
        if not rest:
            return web.json_response(
                page_of([summary(detail) for detail in self.accounts.values()], request)
            )
        detail = self.accounts.get(request.path.removeprefix(f"{PREFIX}/accounts/"))
        if detail is None:
            return error(404, "ACCOUNT_NOT_FOUND")
        return web.json_response(envelope(detail))

    def answer_transfers(self, request: web.Request, rest: list[str]) -> web.Response:
        """The filtered list, or one transfer (``/transfers/{id}``)."""
        if rest:
            found = [item for item in self.transfers if item["id"] == rest[0]]
            if not found:
                return error(404, "TRANSFER_NOT_FOUND")
            return web.json_response(envelope(found[0]))
        wanted = set(request.query.getall("accountIds"))
        items = [
            item
            for item in self.transfers
            if {(item["source"] or {}).get("id"), (item["destination"] or {}).get("id")} & wanted
            and within(item["createdAt"], request)
            and request.query.get("status", item["status"]) == item["status"]
            and request.query.get("direction", item["direction"]) == item["direction"]
        ]
        return web.json_response(page_of(newest(items, "createdAt"), request))

    def answer_external(self, request: web.Request, _rest: list[str]) -> web.Response:
        """External transactions of the ``accountIds``, filtered by date."""
        wanted = set(request.query.getall("accountIds"))
        items = [
            item
            for item in self.external
            if item["accountId"] in wanted and within(item["transactionDate"], request)
        ]
        return web.json_response(page_of(newest(items, "transactionDate"), request))

    def answer_rules(self, request: web.Request, rest: list[str]) -> web.Response:
        """The list, one rule (``/rules/{id}``) or one execution (``.../executions/{id}``)."""
        if not rest:
            return web.json_response(page_of(list(self.rules.values()), request))
        if len(rest) == 1:
            if rest[0] not in self.rules:
                return error(404, "RULE_NOT_FOUND")
            return web.json_response(envelope(rule_detail(rest[0])))
        found = self.executions.get(rest[-1])
        if found is None or found["ruleId"] != rest[0]:
            return error(404, "RULE_EXECUTION_NOT_FOUND")
        return web.json_response(envelope(found))

    def answer_post(self, request: web.Request) -> web.Response:
        """The money POSTs: a trigger starts an execution, a transfer is created."""
        path = request.path
        posted = self.posts[-1].json()
        if path == f"{PREFIX}/transfers":
            number = len(self.transfers) + 1
            created = transfer(
                f"tr-{number:04d}",
                posted["sourceAccountId"],
                posted["destinationAccountId"],
                amountInCents=posted["amountInCents"],
                origin="USER",
                status="PROCESSING",
                executionMode="SIMULATION" if posted.get("simulation") else "LIVE",
                ruleId=None,
                ruleExecutionId=None,
                completedAt=None,
            )
            self.transfers.append(created)
            return web.json_response(envelope(created), status=201)
        rule_id = path.removeprefix(f"{PREFIX}/rules/").removesuffix("/trigger")
        if rule_id not in self.rules:
            return error(404, "RULE_NOT_FOUND")
        execution_id = f"ex-{len(self.executions) + 1:04d}"
        self.executions[execution_id] = execution(
            execution_id,
            rule_id,
            executionMode="SIMULATION" if posted.get("simulation") else "LIVE",
        )
        return web.json_response(envelope({"executionId": execution_id}), status=202)

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


def within(when: str, request: web.Request) -> bool:
    """``from`` <= ``when`` <= ``to``, compared as times."""
    moment = datetime.fromisoformat(when)
    since, until = request.query.get("from"), request.query.get("to")
    return (since is None or moment >= datetime.fromisoformat(since)) and (
        until is None or moment <= datetime.fromisoformat(until)
    )


def newest(items: list[Json], key: str) -> list[Json]:
    """Newest first, as the API orders its lists."""
    return sorted(items, key=lambda item: item[key], reverse=True)


def error(
    status: int, code: str, message: str = "nope", headers: dict[str, str] | None = None
) -> web.Response:
    """The error envelope."""
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )
