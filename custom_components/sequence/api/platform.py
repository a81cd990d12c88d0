"""Client for Sequence's Platform API v1 (``/platform/v1``) with an API key (``sk_...``).

Guarantees the rest of the integration relies on (the same as the Remote API client's):

* One ``asyncio.timeout`` covers each whole exchange, reading the body included; the body is
  read in chunks up to a size cap. Waiting for the request budget is not part of that timeout.
* Every failure is one of the errors in :mod:`.errors`. Messages are fixed text plus safe facts
  (HTTP status, an upper-case Sequence error code, a permission name, the path of a field with
  the wrong shape, an aiohttp exception's class name); never the key, headers, query strings or
  response text, and they are raised outside ``except`` blocks so that no aiohttp error (whose
  ``repr`` holds the request headers) is their ``__cause__`` or ``__context__``.
* Redirects are not followed: the ``Authorization`` header would go wherever they point.
* ``routingNumber`` and ``bankAccountNumber`` are dropped at parse time (:mod:`.platform_parse`).
* Logging is at debug level only: the route template (no ids, no query), status, elapsed time.
* The two requests that move money (``POST /rules/{id}/trigger``, ``POST /transfers``) send JSON
  and an ``idempotency-key`` (checked before anything is sent), and are never retried. Their
  failures say whether money may have moved: only the ``Retry-After`` block, the limiter and a
  connection that could not be made (:mod:`.transport`) mean "not sent"; a definite refusal is
  :class:`SequenceRefusedError` (or a permission, auth, conflict or rate-limit error); a timeout
  or a lost connection after connecting, any 5xx and a 2xx that cannot be read are
  :class:`SequenceOutcomeUnknownError`.

Request budget (Sequence allows 100 requests per minute per key): a full poll is one
``GET /accounts`` per 100 accounts plus one ``GET /accounts/{id}`` per account. Every request
goes through the key's :class:`.limiter.RequestBudget` (by default 4 in flight, 60 started per
minute), which the client is given and shares with every other client of the same key. A 429 is
raised at once as :class:`SequenceRateLimitError` with its ``Retry-After``, and until that delay
has passed no client of the budget sends anything: each raises the same error; the caller
decides when to come back.
"""

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import batched
import logging
import re
from typing import Any, Final, Literal, Protocol
from urllib.parse import quote

import aiohttp
import orjson

from .errors import (
    SequenceAuthError,
    SequenceConflictError,
    SequenceError,
    SequenceNotFoundError,
    SequenceOutcomeUnknownError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceRefusedError,
    SequenceResponseError,
    SequenceServerError,
)
from .limiter import RequestBudget
from .models import (
    Account,
    AccountsSnapshot,
    ExternalTransaction,
    Permission,
    PermissionCheck,
    Rule,
    RuleExecution,
    RuleSummary,
    Transfer,
    TransferDirection,
)
from .platform_parse import (
    DIRECTIONS,
    FIELD_PATHS,
    TRANSFER_STATUSES,
    DetailBatch,
    parse_account_detail,
    parse_account_page,
    parse_execution_started,
    parse_external_transaction_page,
    parse_page,
    parse_rule_detail,
    parse_rule_execution,
    parse_rule_page,
    parse_transfer_detail,
    parse_transfer_page,
)
from .transport import (
    ERROR_CODE,
    NOT_JSON,
    Reply,
    Secret,
    async_exchange,
    check_idempotency_key,
    decode_json,
    describe_non_json,
    normalize_credential,
    parse_retry_after,
    strip_bearer,
)

_LOGGER = logging.getLogger(__name__)

type CredentialKind = Literal["api_key", "access_token"]
type Params = Sequence[tuple[str, str]]

DEFAULT_BASE_URL: Final = "https://api.getsequence.io/platform/v1"
API_KEY_PREFIX: Final = "sk_"
PAGE_SIZE: Final = 100
"""The largest page the API serves."""
MAX_PAGES: Final = 100
"""A list longer than this many pages is refused rather than followed forever."""
TRANSFER_ACCOUNT_BATCH: Final = 50
"""Account ids per ``GET /transfers`` request, to keep the URL short (about 2.5 kB)."""

ROUTE_PERMISSIONS: Final = {
    "GET /accounts": Permission.READ_ACCOUNTS,
    "GET /accounts/{id}": Permission.READ_ACCOUNTS,
    "GET /transfers": Permission.READ_TRANSFERS,
    "GET /transfers/{id}": Permission.READ_TRANSFERS,
    "GET /external-transactions": Permission.READ_TRANSFERS,
    "GET /rules": Permission.READ_RULES,
    "GET /rules/{id}": Permission.READ_RULES,
    "GET /rules/{ruleId}/executions/{id}": Permission.READ_RULES,
    "POST /rules/{id}/trigger": Permission.TRIGGER_RULES,
    "POST /transfers": Permission.MANUAL_TRANSFER,
}
"""Every route this client calls and the permission it needs (the spec's ``x-required-scope``)."""
"""What Sequence accepts as an ``idempotency-key`` (the spec's pattern and length)."""
ACCESS_DENIED: Final = "ACCESS_DENIED"
DIRECTION_NAMES: Final = {direction: name for name, direction in DIRECTIONS.items()}
"""The wire name of each direction a transfer list can be filtered on."""


class Identified(Protocol):
    """An item of a list endpoint: what paging counts and sorting breaks ties by."""

    @property
    def id(self) -> str:
        """Sequence's id of the item."""
        ...


_PERMISSION_NAME: Final = re.compile(r"\b(" + "|".join(Permission) + r")\b")


def normalize_api_key(raw: str) -> str:
    """Return the API key as it goes after ``Bearer `` in the ``Authorization`` header.

    Raises:
        ValueError: the key is empty or cannot be sent in a header (see
            :func:`.transport.normalize_credential`). The message never contains the key.
    """
    return normalize_credential(raw, "API key")


def detect_credential_kind(raw: str) -> CredentialKind:
    """Guess which of Sequence's APIs a pasted credential belongs to.

    The heuristic: after stripping whitespace and one ``Bearer `` prefix, a credential that
    starts with ``sk_`` (the documented prefix of Platform API keys, ``Bearer sk_...``) is an
    ``"api_key"``; anything else is taken for a Remote API ``"access_token"``, whose format
    Sequence does not document. A wrong guess is cheap to catch: each credential is then
    validated against its API, and the other API refuses it with 401.
    """
    return "api_key" if strip_bearer(raw).startswith(API_KEY_PREFIX) else "access_token"


def _format_timestamp(when: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as the spec's examples write it."""
    if when.tzinfo is None:
        msg = "since and until must be timezone-aware"
        raise ValueError(msg)
    return when.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class SequencePlatformClient:
    """Sequence's Platform API v1: accounts, balances, transfers, bank lines, rules; money moves.

    Takes the caller's shared ``aiohttp.ClientSession`` and never closes it, and the key's
    :class:`RequestBudget`: give every client of one key the same budget, so that together
    they stay within Sequence's limit and all sit out a ``Retry-After``. Without one, the
    client gets a budget of its own.
    """

    __slots__ = (
        "_api_key",
        "_base_url",
        "_budget",
        "_details",
        "_max_response_bytes",
        "_request_timeout",
        "_session",
    )

    def __init__(  # noqa: PLR0913 - keyword-only, with safe defaults
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        budget: RequestBudget | None = None,
        request_timeout: float = 30.0,
        max_response_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        """Keep the session, the normalized key, the budget and the limits.

        Raises:
            ValueError: the key is unusable (see :func:`normalize_api_key`), or a limit is not
                positive.
        """
        if not request_timeout > 0:
            msg = "request_timeout must be a positive number of seconds"
            raise ValueError(msg)
        if max_response_bytes < 1:
            msg = "max_response_bytes must be positive"
            raise ValueError(msg)
        self._session = session
        self._api_key = Secret(normalize_api_key(api_key))
        self._base_url = base_url.rstrip("/")
        self._budget = budget or RequestBudget()
        self._request_timeout = request_timeout
        self._max_response_bytes = max_response_bytes
        self._details: DetailBatch | None = None
        """The last complete poll's details, reused where Sequence sent the same data."""

    def __repr__(self) -> str:
        """Show the base URL only."""
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    async def async_list_accounts(self) -> tuple[Account, ...]:
        """Every account the key can read, without balances (``GET /accounts``, 100 a page).

        The list endpoint carries no balances: the returned accounts have ``balance`` None and
        only the summary facts (name, kind, external type, liability flag, institution).
        Deleted accounts are left out. Costs one request per 100 accounts.
        """
        accounts: dict[str, Account] = {}
        for account in await self._paginate("GET /accounts", "/accounts", (), parse_account_page):
            accounts.setdefault(account.id, account)  # offset paging may repeat an item
        _LOGGER.debug("Sequence listed %d accounts", len(accounts))
        return tuple(accounts.values())

    async def async_get_account(self, account_id: str) -> Account:
        """One account with its balance (``GET /accounts/{id}``), one request.

        Raises:
            SequenceNotFoundError: no such account for this key, or it is deleted.
        """
        account = await self._async_detail(account_id, None)
        if account is None:
            msg = "the account is deleted"
            raise SequenceNotFoundError(msg)
        return account

    async def async_get_accounts(
        self, *, account_ids: Iterable[str] | None = None
    ) -> AccountsSnapshot:
        """Every account with its balance: the list, then one detail request per account.

        With ``account_ids`` the list is skipped (the caller refreshes it less often) and only
        those accounts are fetched. Accounts that turn out deleted or gone (404) between the
        list and the detail are left out. Details are fetched concurrently, at most
        the budget's in-flight cap at a time and paced by its window; the first failure cancels the
        rest and is raised.
        """
        if account_ids is None:
            ids = [account.id for account in await self.async_list_accounts()]
        else:
            ids = list(dict.fromkeys(account_ids))
        batch = DetailBatch(self._details.known if self._details else {})
        details = await _gather_all(self._async_detail(account_id, batch) for account_id in ids)
        self._details = batch
        shapes = batch.shapes
        accounts = {account.id: account for account in details if account is not None}
        _LOGGER.debug("Sequence returned %d of %d accounts", len(accounts), len(ids))
        return AccountsSnapshot(
            accounts=accounts, field_shapes={path: dict(shapes[path]) for path in FIELD_PATHS}
        )

    async def async_get_transfers(  # noqa: PLR0913 - keyword-only filters, all optional
        self,
        *,
        since: datetime | None,
        account_ids: Iterable[str] | None = None,
        until: datetime | None = None,
        statuses: Iterable[str] | None = None,
        directions: Iterable[TransferDirection] | None = None,
        limit: int | None = None,
    ) -> tuple[Transfer, ...]:
        """Live transfers in or out of the accounts, newest first (``GET /transfers``).

        ``GET /transfers`` requires account ids (``accountIds``, 50 per request here); without
        ``account_ids`` the account list is fetched first. ``since`` and ``until`` (aware)
        become the ``from`` and ``to`` filters (creation time, both inclusive); None leaves
        that end open. ``statuses`` (Sequence's, e.g. ``PENDING_APPROVAL``) and ``directions``
        keep only those; the API filters on one of each per request, so several cost one
        request stream each. A transfer between two accounts of different batches is returned
        once.

        ``limit``: at most that many, the newest. Each request stream stops paging once it has
        given ``limit`` transfers, since none after them can be among the newest ``limit``;
        None reads everything (pages of 100, at most ``MAX_PAGES`` per stream).

        Raises:
            ValueError: a naive ``since`` or ``until``, ``limit`` below 1, a status Sequence
                does not have, or ``TransferDirection.UNKNOWN``.
        """
        _check_limit(limit)
        window = _window(since, until)
        status_filters = _choices(statuses, TRANSFER_STATUSES, "status")
        direction_filters = _choices(
            None if directions is None else [_wire_direction(item) for item in directions],
            DIRECTION_NAMES.values(),
            "direction",
        )
        if account_ids is None:
            ids = [account.id for account in await self.async_list_accounts()]
        else:
            ids = list(dict.fromkeys(account_ids))
        transfers: dict[str, Transfer] = {}
        for batch in batched(ids, TRANSFER_ACCOUNT_BATCH, strict=False):
            for status in status_filters:
                for direction in direction_filters:
                    params = [("accountIds", account_id) for account_id in batch] + window
                    if status is not None:
                        params.append(("status", status))
                    if direction is not None:
                        params.append(("direction", direction))
                    for transfer in await self._paginate(
                        "GET /transfers", "/transfers", params, parse_transfer_page, limit
                    ):
                        transfers.setdefault(transfer.id, transfer)
        return _newest(transfers.values(), limit, lambda item: item.created_at)

    async def async_get_transfer(self, transfer_id: str) -> Transfer:
        """One transfer and its status now (``GET /transfers/{id}``, ``READ_TRANSFERS``).

        Raises:
            SequenceNotFoundError: no such transfer for this key (right after a transfer was
                created Sequence may not know it yet: an early 404 is transient).
        """
        payload = await self._request("GET /transfers/{id}", f"/transfers/{_segment(transfer_id)}")
        transfer = parse_transfer_detail(payload)
        if transfer.id != transfer_id:
            msg = "unexpected Platform API response: data.id is not the transfer asked for"
            raise SequenceResponseError(msg)
        return transfer

    async def async_create_transfer(  # noqa: PLR0913 - keyword-only, as the API has them
        self,
        *,
        source_id: str,
        destination_id: str,
        amount_cents: int,
        description: str | None,
        simulation: bool,
        idempotency_key: str,
    ) -> Transfer:
        """Move money between two accounts (``POST /transfers``, ``MANUAL_TRANSFER``; 201).

        ``simulation`` asks Sequence to check the transfer without moving anything (the answer
        has ``simulated`` set). ``description`` (at most 10 letters, digits and spaces: it goes
        on bank statements) is left out when None. The request carries ``idempotency_key``:
        sending the same body with the same key again is answered with the first transfer,
        never a second one. Never retried by the client.

        Raises:
            ValueError: the idempotency key is not one Sequence accepts (nothing was sent).
            SequenceOutcomeUnknownError, SequenceConflictError, SequenceRefusedError,
            SequencePermissionError, SequenceAuthError, SequenceRateLimitError,
            SequenceConnectionError: see :meth:`_post`.
        """
        body: dict[str, object] = {
            "sourceAccountId": source_id,
            "destinationAccountId": destination_id,
            "amountInCents": amount_cents,
        }
        if description is not None:
            body["description"] = description
        body["simulation"] = simulation
        return await self._post(
            "POST /transfers", "/transfers", body, idempotency_key, parse_transfer_detail
        )

    async def async_get_external_transactions(
        self,
        *,
        account_ids: Iterable[str],
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 50,
    ) -> tuple[ExternalTransaction, ...]:
        """Transactions of linked external accounts, newest first (``GET /external-transactions``).

        ``account_ids`` (50 per request) must be external accounts; ``since`` and ``until``
        (aware) filter on the transaction date, both inclusive. ``limit``: at most that many,
        the newest (paging stops once they are certain); None reads everything. No account
        ids, no request: an empty tuple. Needs ``READ_TRANSFERS``.

        Raises:
            ValueError: a naive ``since`` or ``until``, or ``limit`` below 1.
        """
        _check_limit(limit)
        window = _window(since, until)
        found: dict[str, ExternalTransaction] = {}
        for batch in batched(dict.fromkeys(account_ids), TRANSFER_ACCOUNT_BATCH, strict=False):
            params = [("accountIds", account_id) for account_id in batch] + window
            for item in await self._paginate(
                "GET /external-transactions",
                "/external-transactions",
                params,
                parse_external_transaction_page,
                limit,
            ):
                found.setdefault(item.id, item)
        return _newest(found.values(), limit, lambda item: item.date)

    # --- Rules

    async def async_list_rules(self) -> tuple[RuleSummary, ...]:
        """Every rule the key may read, deleted ones included (``GET /rules``, all pages).

        Needs ``READ_RULES`` (a :class:`SequencePermissionError` otherwise). Costs one request
        per 100 rules.
        """
        rules: dict[str, RuleSummary] = {}
        for rule in await self._paginate("GET /rules", "/rules", (), parse_rule_page):
            rules.setdefault(rule.id, rule)  # offset paging may repeat an item
        return tuple(rules.values())

    async def async_get_rule(self, rule_id: str) -> Rule:
        """One rule with its trigger (``GET /rules/{id}``, ``READ_RULES``): its schedule.

        Raises:
            SequenceNotFoundError: no such rule for this key.
            SequenceResponseError: the rule cannot be described by the API (403
                ``INVALID_RULE``: its summary says ``supported`` False), or another answer.
        """
        payload = await self._request("GET /rules/{id}", f"/rules/{_segment(rule_id)}")
        rule = parse_rule_detail(payload)
        if rule.summary.id != rule_id:
            msg = "unexpected Platform API response: data.id is not the rule asked for"
            raise SequenceResponseError(msg)
        return rule

    async def async_trigger_rule(
        self,
        rule_id: str,
        *,
        idempotency_key: str,
        simulation: bool,
        execute_amount_cents: int | None = None,
    ) -> str:
        """Run a rule now (``POST /rules/{id}/trigger``, ``TRIGGER_RULES``; 202): the execution id.

        ``simulation`` runs it without moving anything; ``execute_amount_cents`` becomes
        ``executeAmount`` (it drives percentage actions, never fixed amounts), left out when
        None. The request carries ``idempotency_key``: the same body with the same key again
        is answered with the first execution. Never retried by the client. Follow the
        execution with :meth:`async_get_rule_execution`.

        Raises:
            ValueError: the idempotency key is not one Sequence accepts (nothing was sent).
            SequenceRefusedError: ``RULE_DEACTIVATED``, ``INVALID_RULE`` (403), a deleted rule
                (404), ``IDEMPOTENCY_KEY_MISMATCH`` (400), ...
            SequenceOutcomeUnknownError, SequenceConflictError, SequencePermissionError,
            SequenceAuthError, SequenceRateLimitError, SequenceConnectionError: see
            :meth:`_post`.
        """
        body: dict[str, object] = {"simulation": simulation}
        if execute_amount_cents is not None:
            body["executeAmount"] = execute_amount_cents
        return await self._post(
            "POST /rules/{id}/trigger",
            f"/rules/{_segment(rule_id)}/trigger",
            body,
            idempotency_key,
            parse_execution_started,
        )

    async def async_get_rule_execution(self, rule_id: str, execution_id: str) -> RuleExecution:
        """One execution of a rule (``GET /rules/{ruleId}/executions/{id}``, ``READ_RULES``).

        Raises:
            SequenceNotFoundError: no such execution (right after a trigger Sequence may not
                know it yet: an early 404 is transient).
        """
        payload = await self._request(
            "GET /rules/{ruleId}/executions/{id}",
            f"/rules/{_segment(rule_id)}/executions/{_segment(execution_id)}",
        )
        execution = parse_rule_execution(payload)
        if execution.id != execution_id:
            msg = "unexpected Platform API response: data.id is not the execution asked for"
            raise SequenceResponseError(msg)
        return execution

    async def async_check_permissions(self) -> PermissionCheck:
        """Validate the key and find which read permissions it holds: at most three requests.

        1. ``GET /accounts?pageSize=1``: ``READ_ACCOUNTS`` (and the key itself: a 401 raises
           :class:`SequenceAuthError`).
        2. ``GET /rules?pageSize=1``: ``READ_RULES``.
        3. ``GET /transfers?accountIds=<the first account>&pageSize=1``: ``READ_TRANSFERS``;
           without a readable account this one is ``unverified``.

        A 403 marks a permission ``missing``; any other failure is raised.
        """
        granted: set[Permission] = set()
        missing: set[Permission] = set()
        one = [("page", "1"), ("pageSize", "1")]
        accounts = await self._probe("GET /accounts", "/accounts", one, parse_account_page)
        rules = await self._probe("GET /rules", "/rules", one, parse_page)
        for permission, items in (
            (Permission.READ_ACCOUNTS, accounts),
            (Permission.READ_RULES, rules),
        ):
            (granted if items is not None else missing).add(permission)
        if not accounts:
            return PermissionCheck(
                granted=frozenset(granted),
                missing=frozenset(missing),
                unverified=frozenset({Permission.READ_TRANSFERS}),
            )
        transfers = [("accountIds", accounts[0].id), *one]
        readable = await self._probe("GET /transfers", "/transfers", transfers, parse_transfer_page)
        (granted if readable is not None else missing).add(Permission.READ_TRANSFERS)
        return PermissionCheck(granted=frozenset(granted), missing=frozenset(missing))

    async def _probe[T](
        self,
        route: str,
        path: str,
        params: Params,
        parse: Callable[[object, int], tuple[list[T], bool]],
    ) -> list[T] | None:
        """The first page's items, or None when the key lacks the route's permission."""
        try:
            payload = await self._request(route, path, params)
        except SequencePermissionError:
            return None
        return parse(payload, 1)[0]

    async def _async_detail(self, account_id: str, batch: DetailBatch | None) -> Account | None:
        """The account's detail; None when it is deleted or gone (404)."""
        path = f"/accounts/{_segment(account_id)}"
        try:
            payload = await self._request("GET /accounts/{id}", path)
        except SequenceNotFoundError:
            if batch is None:
                raise
            return None
        account = parse_account_detail(payload) if batch is None else batch.parse(payload)
        if account is not None and account.id != account_id:
            msg = "unexpected Platform API response: data.id is not the account asked for"
            raise SequenceResponseError(msg)
        return account

    async def _paginate[T: Identified](
        self,
        route: str,
        path: str,
        params: Params,
        parse: Callable[[object, int], tuple[list[T], bool]],
        limit: int | None = None,
    ) -> list[T]:
        """The items of a list endpoint, following ``hasNextPage`` (at most ``MAX_PAGES``).

        With ``limit``, only until that many distinct items came (the list is newest first, so
        later pages hold none of the newest ``limit``).
        """
        items: list[T] = []
        seen: set[str] = set()
        size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit)
        for page in range(1, MAX_PAGES + 1):
            paging = [("page", str(page)), ("pageSize", str(size))]
            page_items, has_next = parse(await self._request(route, path, [*params, *paging]), page)
            items.extend(page_items)
            seen.update(item.id for item in page_items)
            if not has_next or (limit is not None and len(seen) >= limit):
                return items
        msg = f"unexpected Platform API response: more than {MAX_PAGES} pages"
        raise SequenceResponseError(msg)

    async def _request(self, route: str, path: str, params: Params = ()) -> object:
        """One GET within the key's budget; the decoded 2xx body."""
        reply = await self._send(route, path, params=params)
        payload, delay = self._read(reply)
        if not 200 <= reply.status < 300:  # noqa: PLR2004 - the 2xx range
            raise _error_for(reply.status, payload, route, delay)
        if payload is NOT_JSON:
            raise SequenceResponseError(describe_non_json(reply.body))
        return payload

    async def _post[T](
        self,
        route: str,
        path: str,
        body: Mapping[str, object],
        idempotency_key: str,
        parse: Callable[[object], T],
    ) -> T:
        """One money POST within the key's budget, never retried; what ``parse`` reads of it.

        Raises:
            ValueError: the idempotency key is not one Sequence accepts (nothing was sent).
            SequenceOutcomeUnknownError: it may have been carried out and no readable answer
                came: a timeout or a lost connection, a 5xx, a 2xx that cannot be read.
            SequenceConflictError: 409, the same key is still being processed.
            SequenceRefusedError: a definite refusal (400, a 403 other than ``ACCESS_DENIED``,
                404, another 4xx).
            SequencePermissionError: 403 ``ACCESS_DENIED``.
            SequenceAuthError: 401.
            SequenceRateLimitError: 429, or (nothing sent) a ``Retry-After`` is running.
            SequenceConnectionError: the connection could not be made (nothing was sent).
        """
        check_idempotency_key(idempotency_key)
        reply = await self._send(
            route,
            path,
            body=orjson.dumps(body),
            headers={"Content-Type": "application/json", "idempotency-key": idempotency_key},
        )
        payload, delay = self._read(reply)
        if not 200 <= reply.status < 300:  # noqa: PLR2004 - the 2xx range
            raise _money_error_for(reply.status, payload, route, delay)
        unreadable: str
        if payload is NOT_JSON:
            unreadable = describe_non_json(reply.body)
        else:
            try:
                return parse(payload)
            except SequenceResponseError as err:
                unreadable = str(err)
        # Accepted, but what was created cannot be read: the caller must not assume nothing ran.
        msg = (
            f"the outcome is unknown (Sequence answered HTTP {reply.status}, but {unreadable}): "
            "the request may have been carried out"
        )
        raise SequenceOutcomeUnknownError(msg)

    async def _send(
        self,
        route: str,
        path: str,
        *,
        params: Params = (),
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """One exchange within the key's budget (a POST is a money request)."""
        money = body is not None
        async with self._budget.slot():
            return await async_exchange(
                self._session,
                "POST" if money else "GET",
                f"{self._base_url}{path}",
                route=route,
                headers={
                    "Authorization": f"Bearer {self._api_key.value}",
                    "Accept": "application/json",
                    **(headers or {}),
                },
                params=params,
                body=body,
                money=money,
                request_timeout=self._request_timeout,
                max_bytes=self._max_response_bytes,
                logger=_LOGGER,
            )

    def _read(self, reply: Reply) -> tuple[object, float | None]:
        """The decoded body and the ``Retry-After`` delay; a 429 blocks the whole budget."""
        delay = parse_retry_after(reply.retry_after)
        if reply.status == 429:  # noqa: PLR2004 - the HTTP status is the clearest name
            self._budget.block(delay)
        return decode_json(reply.body), delay


async def _gather_all[T](coroutines: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run the coroutines concurrently; on the first failure cancel the others and raise it."""
    tasks = [asyncio.create_task(coroutine) for coroutine in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _segment(value: str) -> str:
    """An id as one path segment (escaped: ids are opaque)."""
    return quote(value, safe="")


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        msg = "limit must be at least 1"
        raise ValueError(msg)


def _window(since: datetime | None, until: datetime | None) -> list[tuple[str, str]]:
    """The ``from`` and ``to`` parameters of a time window (either end may be open)."""
    params = []
    if since is not None:
        params.append(("from", _format_timestamp(since)))
    if until is not None:
        params.append(("to", _format_timestamp(until)))
    return params


def _choices(wanted: Iterable[str] | None, allowed: Iterable[str], name: str) -> list[str | None]:
    """Each value to filter on, one request stream each; ``[None]`` (no filter) for none."""
    values: list[str | None] = list(dict.fromkeys(wanted or ()))
    known = set(allowed)
    if not set(values) <= known:
        msg = f"{name} must be among: {', '.join(sorted(known))}"
        raise ValueError(msg)
    return values or [None]


def _wire_direction(direction: TransferDirection) -> str:
    try:
        return DIRECTION_NAMES[direction]
    except KeyError:
        msg = f"cannot filter on the {direction} direction"
        raise ValueError(msg) from None


def _newest[T: Identified](
    items: Iterable[T], limit: int | None, when: Callable[[T], datetime]
) -> tuple[T, ...]:
    """Newest first (ties by id, for a stable order), at most ``limit``."""
    ordered = sorted(items, key=lambda item: (when(item), item.id), reverse=True)
    return tuple(ordered if limit is None else ordered[:limit])


def _error_body(payload: object) -> tuple[str | None, str | None]:
    """Sequence's upper-case error code (safe to show) and message (never shown) of an error."""
    if not isinstance(payload, dict) or not isinstance(error := payload.get("error"), dict):
        return None, None
    raw_code, raw_message = error.get("code"), error.get("message")
    code = raw_code if isinstance(raw_code, str) and ERROR_CODE.fullmatch(raw_code) else None
    return code, raw_message if isinstance(raw_message, str) else None


def _error_for(
    status: int, payload: object, route: str, retry_after: float | None
) -> SequenceError:
    """The error a non-2xx answer means, from its status and ``{"error": {code, message}}``.

    401: the key. 403 ``ACCESS_DENIED``: a permission. 429: rate limited. 5xx: an outage.
    Anything else (400, 404, 405, a redirect, another 403 code, ...) is a response error: the
    request this version sends is no longer what Sequence accepts.
    """
    code, message = _error_body(payload)
    detail = f"HTTP {status}, {code}" if code else f"HTTP {status}"
    if status == 401:  # noqa: PLR2004
        return SequenceAuthError(f"Sequence refused the API key ({detail})")
    if status == 403 and code in {None, ACCESS_DENIED}:  # noqa: PLR2004
        named = _PERMISSION_NAME.search(message or "")
        permission = Permission(named.group(1)) if named else ROUTE_PERMISSIONS[route]
        return SequencePermissionError(
            f"the API key lacks the {permission} permission ({detail})", permission=permission
        )
    if status == 404:  # noqa: PLR2004
        return SequenceNotFoundError(f"Sequence found no such resource ({detail})")
    if status == 429:  # noqa: PLR2004
        return SequenceRateLimitError(
            f"Sequence is rate limiting requests ({detail})", retry_after=retry_after
        )
    if 500 <= status <= 599:  # noqa: PLR2004 - the 5xx range
        return SequenceServerError(f"Sequence is unavailable ({detail})", retry_after=retry_after)
    return SequenceResponseError(f"Sequence answered {detail}")


def _money_error_for(
    status: int, payload: object, route: str, retry_after: float | None
) -> SequenceError:
    """The error a non-2xx answer to a money POST means.

    Only what says for certain that nothing ran is a refusal: 400, 404 and the other 4xx
    (:class:`SequenceRefusedError`), 401, 403, 409, 429. A 5xx (a gateway may answer 502 or
    504 after Sequence did the work) or anything else is an unknown outcome.
    """
    code, _message = _error_body(payload)
    detail = f"HTTP {status}, {code}" if code else f"HTTP {status}"
    if status in {401, 429} or (status == 403 and code in {None, ACCESS_DENIED}):  # noqa: PLR2004
        return _error_for(status, payload, route, retry_after)
    if status == 409:  # noqa: PLR2004
        return SequenceConflictError(
            f"a request with this idempotency key is still in progress ({detail})", code=code
        )
    if 400 <= status <= 499:  # noqa: PLR2004 - the 4xx range
        return SequenceRefusedError(f"Sequence refused the request ({detail})", code=code)
    return SequenceOutcomeUnknownError(
        f"the outcome is unknown (Sequence answered {detail}): "
        "the request may have been carried out"
    )
