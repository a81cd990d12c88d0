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

Request budget (Sequence allows 100 requests per minute per key): a full poll is one
``GET /accounts`` per 100 accounts plus one ``GET /accounts/{id}`` per account. Every request
goes through the key's :class:`.limiter.RequestBudget` (by default 4 in flight, 60 started per
minute), which the client is given and shares with every other client of the same key. A 429 is
raised at once as :class:`SequenceRateLimitError` with its ``Retry-After``, and until that delay
has passed no client of the budget sends anything: each raises the same error; the caller
decides when to come back.
"""

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import UTC, datetime
from itertools import batched
import logging
import re
import time
from typing import Any, Final, Literal
from urllib.parse import quote

import aiohttp

from .errors import (
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceResponseError,
    SequenceServerError,
)
from .limiter import RequestBudget
from .models import Account, AccountsSnapshot, Permission, PermissionCheck, Transfer
from .platform_parse import (
    FIELD_PATHS,
    DetailBatch,
    parse_account_detail,
    parse_account_page,
    parse_page,
    parse_transfer_page,
)
from .transport import (
    NOT_JSON,
    Secret,
    decode_json,
    describe_non_json,
    normalize_credential,
    parse_retry_after,
    read_capped,
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
    "GET /rules": Permission.READ_RULES,
}
"""Every route this client calls and the permission it needs (the spec's ``x-required-scope``)."""

_ERROR_CODE: Final = re.compile(r"[A-Z_]{1,64}")
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
        msg = "since must be timezone-aware"
        raise ValueError(msg)
    return when.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class SequencePlatformClient:
    """Reads accounts, balances and transfers through Sequence's Platform API v1.

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

    async def async_get_transfers(
        self, *, since: datetime | None, account_ids: Iterable[str] | None = None
    ) -> tuple[Transfer, ...]:
        """Transfers in or out of the accounts, created at or after ``since``, newest first.

        ``GET /transfers`` requires account ids (``accountIds``, 50 per request here); without
        ``account_ids`` the account list is fetched first. ``since`` (aware) becomes the
        ``from`` filter; None reads the whole history. Pages of 100 are followed; a transfer
        between two accounts of different batches is returned once. Only live transfers are
        returned (the API's default ``executionMode``).

        Raises:
            ValueError: ``since`` is a naive datetime.
        """
        params: list[tuple[str, str]] = []
        if since is not None:
            params.append(("from", _format_timestamp(since)))
        if account_ids is None:
            ids = [account.id for account in await self.async_list_accounts()]
        else:
            ids = list(dict.fromkeys(account_ids))
        transfers: dict[str, Transfer] = {}
        for batch in batched(ids, TRANSFER_ACCOUNT_BATCH, strict=False):
            batch_params = [("accountIds", account_id) for account_id in batch] + params
            for transfer in await self._paginate(
                "GET /transfers", "/transfers", batch_params, parse_transfer_page
            ):
                transfers.setdefault(transfer.id, transfer)
        return tuple(
            sorted(transfers.values(), key=lambda item: (item.created_at, item.id), reverse=True)
        )

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
        path = f"/accounts/{quote(account_id, safe='')}"
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

    async def _paginate[T](
        self,
        route: str,
        path: str,
        params: Params,
        parse: Callable[[object, int], tuple[list[T], bool]],
    ) -> list[T]:
        """Every item of a list endpoint, following ``hasNextPage`` (at most ``MAX_PAGES``)."""
        items: list[T] = []
        for page in range(1, MAX_PAGES + 1):
            paging = [("page", str(page)), ("pageSize", str(PAGE_SIZE))]
            page_items, has_next = parse(await self._request(route, path, [*params, *paging]), page)
            items.extend(page_items)
            if not has_next:
                return items
        msg = f"unexpected Platform API response: more than {MAX_PAGES} pages"
        raise SequenceResponseError(msg)

    async def _request(self, route: str, path: str, params: Params = ()) -> object:
        """One GET within the key's budget; the decoded 2xx body."""
        async with self._budget.slot():
            status, retry_after, body = await self._exchange(route, path, params)
        payload = decode_json(body)
        delay = parse_retry_after(retry_after)
        if status == 429:  # noqa: PLR2004 - the HTTP status is the clearest name
            self._budget.block(delay)
        if not 200 <= status < 300:  # noqa: PLR2004 - the 2xx range
            raise _error_for(status, payload, route, delay)
        if payload is NOT_JSON:
            raise SequenceResponseError(describe_non_json(body))
        return payload

    async def _exchange(
        self, route: str, path: str, params: Params
    ) -> tuple[int, str | None, bytes]:
        """GET ``path``; return the status, ``Retry-After`` and the capped body."""
        headers = {"Authorization": f"Bearer {self._api_key.value}", "Accept": "application/json"}
        url = f"{self._base_url}{path}"
        started = time.monotonic()
        failure: SequenceError
        try:
            async with (
                asyncio.timeout(self._request_timeout),
                self._session.get(
                    url, params=list(params), headers=headers, allow_redirects=False
                ) as resp,
            ):
                body = await read_capped(resp, self._max_response_bytes)
                result = resp.status, resp.headers.get("Retry-After"), body
        except TimeoutError:
            failure = SequenceConnectionError(
                f"Sequence did not answer within {self._request_timeout:g} seconds"
            )
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as err:
            failure = SequenceConnectionError(f"could not reach Sequence ({type(err).__name__})")
        except aiohttp.ClientResponseError as err:
            failure = SequenceResponseError(
                f"Sequence sent an invalid HTTP response ({type(err).__name__})"
            )
        except aiohttp.ClientError as err:
            failure = SequenceConnectionError(f"could not reach Sequence ({type(err).__name__})")
        else:
            _LOGGER.debug(
                "%s answered HTTP %d in %.3f s", route, result[0], time.monotonic() - started
            )
            return result
        _LOGGER.debug("%s failed after %.3f s: %s", route, time.monotonic() - started, failure)
        # Raised here, outside the except blocks, so the aiohttp error is not its __context__.
        raise failure


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


def _error_for(
    status: int, payload: object, route: str, retry_after: float | None
) -> SequenceError:
    """The error a non-2xx answer means, from its status and ``{"error": {code, message}}``.

    401: the key. 403 ``ACCESS_DENIED``: a permission. 429: rate limited. 5xx: an outage.
    Anything else (400, 404, 405, a redirect, another 403 code, ...) is a response error: the
    request this version sends is no longer what Sequence accepts.
    """
    code: str | None = None
    message: str | None = None
    if isinstance(payload, dict) and isinstance(error := payload.get("error"), dict):
        raw_code, raw_message = error.get("code"), error.get("message")
        code = raw_code if isinstance(raw_code, str) and _ERROR_CODE.fullmatch(raw_code) else None
        message = raw_message if isinstance(raw_message, str) else None
    detail = f"HTTP {status}, {code}" if code else f"HTTP {status}"
    if status == 401:  # noqa: PLR2004
        return SequenceAuthError(f"Sequence refused the API key ({detail})")
    if status == 403 and code in {None, "ACCESS_DENIED"}:  # noqa: PLR2004
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
