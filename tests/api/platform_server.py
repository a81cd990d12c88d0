"""A scriptable Platform API on 127.0.0.1 for the client's HTTP-level tests.

Answers ``GET /platform/v1/accounts`` (paged summaries), ``/accounts/{id}`` (details with fake
unmasked routing and account numbers) and ``/transfers`` (filtered by ``accountIds``, paged),
counts requests and the largest number in flight, and lets a test replace any path's answer.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
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
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            override = self.overrides.get(request.path)
            if override is not None:
                return await override(request)
            return self.answer(request)
        finally:
            self.in_flight -= 1

    def answer(self, request: web.Request) -> web.Response:
        """The default behaviour of each route."""
        path = request.path
        if path == f"{PREFIX}/accounts":
            return web.json_response(
                page_of([summary(detail) for detail in self.accounts.values()], request)
            )
        if path.startswith(f"{PREFIX}/accounts/"):
            detail = self.accounts.get(path.removeprefix(f"{PREFIX}/accounts/"))
            if detail is None:
                return error(404, "ACCOUNT_NOT_FOUND")
            return web.json_response(envelope(detail))
        if path == f"{PREFIX}/transfers":
            wanted = set(request.query.getall("accountIds"))
            since = request.query.get("from")
            items = [
                item
                for item in self.transfers
                if {(item["source"] or {}).get("id"), (item["destination"] or {}).get("id")}
                & wanted
                and (since is None or item["createdAt"] >= since)
            ]
            return web.json_response(page_of(items, request))
        return web.Response(status=404, text="404: Not Found")

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


def error(
    status: int, code: str, message: str = "nope", headers: dict[str, str] | None = None
) -> web.Response:
    """The error envelope."""
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )
