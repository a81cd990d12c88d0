"""Actions that answer questions: transfers, one transfer, linked accounts' transactions, accounts.

``sequence.get_transfers``, ``sequence.get_transfer`` and ``sequence.get_external_transactions``
ask Sequence (an API-key entry's Platform API, through the key's request budget, like every
request); ``sequence.get_accounts`` answers from the last poll, without a request. All are
response-only and for administrators only (registered with the money actions, in
``async_setup``): they return financial detail beyond what the entities show. None returns an
account or routing number: the models hold none.

Times given are local time (a date is the whole day); times returned are local ISO 8601.
Amounts are strings with exact cents, as in the events.
"""

import asyncio
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
import math
from typing import Any, Final, Protocol

from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.service import async_get_config_entry, async_register_admin_service
from homeassistant.util import dt as dt_util
import probatio as vol

from .api import (
    Account,
    AccountKind,
    SequenceError,
    SequenceNotFoundError,
    SequenceRateLimitError,
    SequenceServerError,
    Transfer,
    TransferDirection,
)
from .api.models import ExternalTransaction
from .api.platform_parse import TRANSFER_STATUSES
from .const import DOMAIN
from .coordinator import SequenceConfigEntry
from .errors import action_error
from .texts import credential_kind

SERVICE_GET_TRANSFERS: Final = "get_transfers"
SERVICE_GET_TRANSFER: Final = "get_transfer"
SERVICE_GET_EXTERNAL_TRANSACTIONS: Final = "get_external_transactions"
SERVICE_GET_ACCOUNTS: Final = "get_accounts"
ATTR_ACCOUNT: Final = "account"
ATTR_START: Final = "start"
ATTR_END: Final = "end"
ATTR_STATUS: Final = "status"
ATTR_DIRECTION: Final = "direction"
ATTR_LIMIT: Final = "limit"
ATTR_TRANSFER_ID: Final = "transfer_id"
ATTR_NAME: Final = "name"

DIRECTIONS: Final = (
    TransferDirection.INCOMING,
    TransferDirection.OUTGOING,
    TransferDirection.INTERNAL,
)
"""The directions the ``direction`` filter takes (as the ``sequence_transfer`` event names them)."""
DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 500
EXTERNAL_HISTORY: Final = timedelta(days=90)
"""How far back Sequence serves linked accounts' transactions."""
NOT_FOUND_RETRY_DELAY: Final = 2.0
"""Seconds before asking again for a transfer Sequence did not find (it may be brand new)."""

LOOKUP_ERRORS: Final = (
    "needs_platform_api",
    "not_an_account",
    "not_a_linked_account",
    "invalid_window",
    "external_window_too_old",
    "transfer_not_found",
    "lookup_unavailable",
)
"""The exception keys of these actions (besides the texts they share with the others)."""


class LookupClient(Protocol):
    """What the look-ups need of the Platform API client."""

    async def async_get_transfers(  # noqa: PLR0913 - keyword-only filters, as the API has them
        self,
        *,
        since: datetime | None,
        account_ids: Iterable[str] | None = None,
        until: datetime | None = None,
        statuses: Iterable[str] | None = None,
        directions: Iterable[TransferDirection] | None = None,
        limit: int | None = None,
    ) -> tuple[Transfer, ...]:
        """Transfers of the accounts, newest first, never more than ``limit``."""
        ...

    async def async_get_transfer(self, transfer_id: str) -> Transfer:
        """``GET /transfers/{id}``."""
        ...

    async def async_get_external_transactions(
        self,
        *,
        account_ids: Iterable[str],
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> tuple[ExternalTransaction, ...]:
        """Transactions of linked accounts, newest first, never more than ``limit``."""
        ...


def point_in_time(value: object) -> date | datetime:
    """A date (a whole day) or a date and time, as given; text is read as either."""
    if isinstance(value, date):  # a datetime is a date too
        return value
    if isinstance(value, str):
        text = value.strip()
        if (day := dt_util.parse_date(text)) is not None:
            return day
        if (moment := dt_util.parse_datetime(text)) is not None:
            return moment
    msg = "expected a date (YYYY-MM-DD) or a date and time"
    raise vol.Invalid(msg)


def _local(moment: datetime) -> datetime:
    """A naive time is local time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt_util.get_default_time_zone())
    return moment


def window_start(value: date | datetime | None) -> datetime | None:
    """The first instant a start means: a date's local midnight."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _local(value)
    return dt_util.start_of_local_day(value)


def window_end(value: date | datetime | None) -> datetime | None:
    """The last instant an end means: a date's last microsecond, local time."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _local(value)
    return datetime.combine(value, time.max, tzinfo=dt_util.get_default_time_zone())


LIMIT: Final = vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_LIMIT))
WINDOW: Final = {
    vol.Optional(ATTR_START): point_in_time,
    vol.Optional(ATTR_END): point_in_time,
}
GET_TRANSFERS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_ACCOUNT): cv.string,
        **WINDOW,
        vol.Optional(ATTR_STATUS): vol.All(
            cv.ensure_list, [vol.All(cv.string, vol.Upper, vol.In(TRANSFER_STATUSES))]
        ),
        vol.Optional(ATTR_DIRECTION): vol.All(
            cv.ensure_list,
            [
                vol.All(
                    cv.string,
                    vol.Lower,
                    vol.In([direction.value for direction in DIRECTIONS]),
                    vol.Coerce(TransferDirection),
                )
            ],
        ),
        vol.Optional(ATTR_LIMIT, default=DEFAULT_LIMIT): LIMIT,
    }
)
GET_TRANSFER_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_TRANSFER_ID): vol.All(cv.string, vol.Strip, vol.Length(min=1)),
    }
)
GET_EXTERNAL_TRANSACTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_ACCOUNT): cv.string,
        **WINDOW,
        vol.Optional(ATTR_LIMIT, default=DEFAULT_LIMIT): LIMIT,
    }
)
GET_ACCOUNTS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_NAME): vol.All(cv.string, vol.Strip, vol.Length(min=1)),
    }
)


def async_setup_lookup_actions(hass: HomeAssistant) -> None:
    """Register the look-ups (once, from ``async_setup``), for administrators only."""
    for name, handler, schema in (
        (SERVICE_GET_TRANSFERS, _async_get_transfers, GET_TRANSFERS_SCHEMA),
        (SERVICE_GET_TRANSFER, _async_get_transfer, GET_TRANSFER_SCHEMA),
        (
            SERVICE_GET_EXTERNAL_TRANSACTIONS,
            _async_get_external_transactions,
            GET_EXTERNAL_TRANSACTIONS_SCHEMA,
        ),
        (SERVICE_GET_ACCOUNTS, _async_get_accounts, GET_ACCOUNTS_SCHEMA),
    ):
        async_register_admin_service(hass, DOMAIN, name, handler, schema, SupportsResponse.ONLY)


# --- The actions -------------------------------------------------------------------------------


async def _async_get_transfers(call: ServiceCall) -> ServiceResponse:
    """The transfers of one account, or of every account the entry includes, newest first."""
    entry = _entry(call)
    client = _client(entry)
    since, until = _window(call)
    if ATTR_ACCOUNT in call.data:
        account_ids: tuple[str, ...] = (_account(call, entry).id,)
    else:
        account_ids = tuple(entry.runtime_data.coordinator.data.accounts)
    limit: int = call.data[ATTR_LIMIT]
    if not account_ids:
        return {"transfers": []}
    try:
        transfers = await client.async_get_transfers(
            since=since,
            until=until,
            account_ids=account_ids,
            statuses=tuple(call.data.get(ATTR_STATUS, ())) or None,
            directions=tuple(call.data.get(ATTR_DIRECTION, ())) or None,
            limit=limit,
        )
    except SequenceError as err:
        raise lookup_error(err, credential_kind(entry)) from err
    newest_first = sorted(transfers, key=lambda item: (item.created_at, item.id), reverse=True)
    return {"transfers": [transfer_data(transfer) for transfer in newest_first[:limit]]}


async def _async_get_transfer(call: ServiceCall) -> ServiceResponse:
    """One transfer; a 404 is asked again once (a transfer made a moment ago may not show yet)."""
    entry = _entry(call)
    client = _client(entry)
    transfer_id: str = call.data[ATTR_TRANSFER_ID]
    for attempt in range(2):
        try:
            transfer = await client.async_get_transfer(transfer_id)
        except SequenceNotFoundError:
            if attempt == 0:
                await asyncio.sleep(NOT_FOUND_RETRY_DELAY)
            continue
        except SequenceError as err:
            raise lookup_error(err, credential_kind(entry)) from err
        return {"transfer": transfer_data(transfer)}
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="transfer_not_found",
        translation_placeholders={"transfer_id": transfer_id},
    )


async def _async_get_external_transactions(call: ServiceCall) -> ServiceResponse:
    """A linked account's transactions, newest first."""
    entry = _entry(call)
    client = _client(entry)
    account = _account(call, entry)
    if account.kind is not AccountKind.EXTERNAL:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_linked_account",
            translation_placeholders={"name": account.name},
        )
    since, until = _window(call)
    oldest = dt_util.start_of_local_day(dt_util.now() - EXTERNAL_HISTORY)
    if since is not None and since < oldest:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="external_window_too_old",
            translation_placeholders={"days": str(EXTERNAL_HISTORY.days)},
        )
    limit: int = call.data[ATTR_LIMIT]
    try:
        transactions = await client.async_get_external_transactions(
            account_ids=(account.id,), since=since, until=until, limit=limit
        )
    except SequenceError as err:
        raise lookup_error(err, credential_kind(entry)) from err
    newest_first = sorted(transactions, key=lambda item: (item.date, item.id), reverse=True)
    return {"transactions": [transaction_data(item) for item in newest_first[:limit]]}


async def _async_get_accounts(call: ServiceCall) -> ServiceResponse:
    """The entry's accounts (those its options include) as of the last poll; no request."""
    entry = _entry(call)
    coordinator = entry.runtime_data.coordinator
    if not coordinator.last_update_success:
        raise action_error(coordinator.last_error, credential_kind(entry))
    accounts: Sequence[Account] = list(coordinator.data.accounts.values())
    if (name := call.data.get(ATTR_NAME)) is not None:
        accounts = accounts_named(accounts, name)
    return {"accounts": [account_data(account) for account in accounts]}


# --- Resolving what a call names ---------------------------------------------------------------


def _entry(call: ServiceCall) -> SequenceConfigEntry:
    """The loaded Sequence entry the call names (Home Assistant's translated errors otherwise)."""
    entry: SequenceConfigEntry = async_get_config_entry(
        call.hass, DOMAIN, call.data[ATTR_CONFIG_ENTRY_ID]
    )
    return entry


def _client(entry: SequenceConfigEntry) -> LookupClient:
    """The entry's Platform API client; an access-token entry has none."""
    if (client := entry.runtime_data.lookup_client) is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="needs_platform_api",
            translation_placeholders={"title": entry.title},
        )
    return client


def _account(call: ServiceCall, entry: SequenceConfigEntry) -> Account:
    """The account whose device the call names: one of the entry's, in its last poll."""
    device = dr.async_get(call.hass).async_get(call.data[ATTR_ACCOUNT])
    account = None
    if device is not None and device.config_entry_id == entry.entry_id:
        prefix = f"{entry.unique_id}:"
        accounts = entry.runtime_data.coordinator.data.accounts
        account = next(
            (
                accounts[identifier.removeprefix(prefix)]
                for domain, identifier in device.identifiers
                if domain == DOMAIN
                and identifier.startswith(prefix)
                and identifier.removeprefix(prefix) in accounts
            ),
            None,
        )
    if account is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_an_account",
            translation_placeholders={"title": entry.title},
        )
    return account


def _window(call: ServiceCall) -> tuple[datetime | None, datetime | None]:
    """The call's start and end as aware instants; the start must not be after the end."""
    since = window_start(call.data.get(ATTR_START))
    until = window_end(call.data.get(ATTR_END))
    if since is not None and until is not None and since > until:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="invalid_window")
    return since, until


def accounts_named(accounts: Iterable[Account], name: str) -> list[Account]:
    """The accounts called ``name`` (any case); else the only one whose name contains it."""
    wanted = name.casefold()
    candidates = list(accounts)
    exact = [account for account in candidates if account.name.casefold() == wanted]
    if exact:
        return exact
    containing = [account for account in candidates if wanted in account.name.casefold()]
    return containing if len(containing) == 1 else []


def lookup_error(err: SequenceError, credential: str) -> HomeAssistantError:
    """The translated error of a failed look-up: when to try again, or what to fix."""
    if isinstance(err, SequenceRateLimitError):
        if err.retry_after is None:
            return HomeAssistantError(
                translation_domain=DOMAIN, translation_key="money_rate_limited_later"
            )
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="money_rate_limited",
            translation_placeholders={"seconds": str(max(1, math.ceil(err.retry_after)))},
        )
    if isinstance(err, SequenceServerError):
        return HomeAssistantError(translation_domain=DOMAIN, translation_key="lookup_unavailable")
    return action_error(err, credential)


# --- What the answers hold ---------------------------------------------------------------------


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else dt_util.as_local(moment).isoformat()


def transfer_data(transfer: Transfer) -> dict[str, Any]:
    """A transfer as the actions answer it: ids and names of its accounts, never numbers."""
    return {
        "id": transfer.id,
        "amount": _money(transfer.amount),
        "currency": "USD",
        "direction": transfer.direction.value,
        "status": transfer.status,
        "origin": transfer.origin,
        "rule_id": transfer.rule_id,
        "rule_execution_id": transfer.rule_execution_id,
        "error_code": transfer.error_code,
        "created_at": _time(transfer.created_at),
        "completed_at": _time(transfer.completed_at),
        "source_account_id": transfer.source_id,
        "source_account_name": transfer.source_name,
        "destination_account_id": transfer.destination_id,
        "destination_account_name": transfer.destination_name,
    }


def transaction_data(transaction: ExternalTransaction) -> dict[str, Any]:
    """A linked account's transaction as ``get_external_transactions`` answers it."""
    return {
        "id": transaction.id,
        "account_id": transaction.account_id,
        "amount": _money(transaction.amount),
        "currency": "USD",
        "direction": transaction.direction.value,
        "status": transaction.status,
        "description": transaction.description,
        "date": _time(transaction.date),
    }


def account_data(account: Account) -> dict[str, Any]:
    """An account as ``get_accounts`` answers it (the facts its sensors show)."""
    return {
        "id": account.id,
        "name": account.name,
        "kind": account.kind.value,
        "type": account.type_name,
        "debt": account.is_liability,
        "institution": account.institution_name,
        "balance": _money(account.balance),
        "available_balance": _money(account.available_balance),
        "currency": "USD",
        "balance_error": account.balance_error,
        "balance_updated_at": _time(account.balance_updated_at),
        "savings_target": _money(account.savings_target),
    }
