"""The look-up actions: filters, paging and limits, the answers' fields, every error translated."""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
import json
from typing import Any
from unittest.mock import AsyncMock, MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import device_registry as dr
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sequence.api import (
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceResponseError,
    SequenceServerError,
    Transfer,
    TransferDirection,
)
from custom_components.sequence.api.models import ExternalTransaction, cents_to_dollars
from custom_components.sequence.const import DOMAIN
from custom_components.sequence.lookups import (
    MAX_LIMIT,
    accounts_named,
    point_in_time,
    window_end,
    window_start,
)

from .conftest import (
    EMERGENCY_FUND_ID,
    PAYCHECK_ID,
    PLATFORM_ANCHOR_ID,
    load_payload,
    load_platform_accounts,
)

GROCERIES_ID = "0b1e8c6a-1111-4c1b-9f7e-000000000001"
CHECKING_ID = "0b1e8c6a-1111-4c1b-9f7e-000000000004"
PLATFORM_ENTRY_ID = "01JSEQUENCETESTENTRYPLATFORM"  # conftest's api_key_entry_with()
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)  # conftest's START
PAGE = 100
STATUSES = ("COMPLETE", "PENDING", "PENDING_APPROVAL", "ERROR")
DIRECTIONS = (TransferDirection.INTERNAL, TransferDirection.INCOMING, TransferDirection.OUTGOING)


def history(count: int) -> list[Transfer]:
    """``count`` transfers, one every three hours back from now, of every direction and status."""
    parties = (
        (PAYCHECK_ID, "Paycheck", GROCERIES_ID, "Groceries"),
        (None, None, PAYCHECK_ID, "Paycheck"),
        (GROCERIES_ID, "Groceries", None, None),
        (GROCERIES_ID, "Groceries", EMERGENCY_FUND_ID, "Emergency Fund"),
    )
    made = []
    for index in range(count):
        source_id, source_name, destination_id, destination_name = parties[index % len(parties)]
        created = NOW - timedelta(hours=3 * index)
        status = STATUSES[index % len(STATUSES)]
        made.append(
            Transfer(
                id=f"t-{index:03d}",
                status=status,
                direction=DIRECTIONS[index % len(DIRECTIONS)],
                direction_name="as sent",
                origin="RULE" if index % 2 else "USER",
                amount=cents_to_dollars(100 * index + 5),
                created_at=created,
                completed_at=created + timedelta(minutes=5) if status == "COMPLETE" else None,
                source_id=source_id,
                source_name=source_name,
                destination_id=destination_id,
                destination_name=destination_name,
                rule_id="rule-1" if index % 2 else None,
                rule_execution_id=f"exec-{index}" if index % 2 else None,
            )
        )
    return made


def transactions(count: int) -> list[ExternalTransaction]:
    return [
        ExternalTransaction(
            id=f"x-{index:03d}",
            account_id=CHECKING_ID,
            amount=Decimal("42.00") + index,
            direction=TransferDirection.OUTGOING if index % 2 else TransferDirection.INCOMING,
            status="PENDING" if index == 0 else "COMPLETE",
            description=f"Shop {index}",
            date=NOW - timedelta(days=index),
        )
        for index in range(count)
    ]


@dataclass
class FakeActivity:
    """Sequence's activity endpoints, served 100 items a page as Sequence serves them."""

    transfers: list[Transfer] = field(default_factory=lambda: history(250))
    transactions: list[ExternalTransaction] = field(default_factory=lambda: transactions(7))
    pages: int = 0
    """Pages read so far."""
    not_found: int = 0
    """How many of the next transfer reads answer 404."""

    def _pages[T](self, items: list[T], limit: int | None) -> tuple[T, ...]:
        """Read page after page until the limit is reached (or the items end)."""
        found: list[T] = []
        for start in range(0, max(len(items), 1), PAGE):
            self.pages += 1
            found.extend(items[start : start + PAGE])
            if limit is not None and len(found) >= limit:
                break
        return tuple(found[:limit])

    async def get_transfers(
        self,
        *,
        since: datetime | None,
        account_ids: Iterable[str] | None = None,
        until: datetime | None = None,
        statuses: Iterable[str] | None = None,
        directions: Iterable[TransferDirection] | None = None,
        limit: int | None = None,
    ) -> tuple[Transfer, ...]:
        ids = set(account_ids or ())
        wanted_statuses = None if statuses is None else set(statuses)
        wanted_directions = None if directions is None else set(directions)
        matching = [
            transfer
            for transfer in sorted(self.transfers, key=lambda t: t.created_at, reverse=True)
            if ({transfer.source_id, transfer.destination_id} & ids)
            and (since is None or transfer.created_at >= since)
            and (until is None or transfer.created_at <= until)
            and (wanted_statuses is None or transfer.status in wanted_statuses)
            and (wanted_directions is None or transfer.direction in wanted_directions)
        ]
        return self._pages(matching, limit)

    async def get_transfer(self, transfer_id: str) -> Transfer:
        if self.not_found:
            self.not_found -= 1
            msg = "Sequence found no such resource (HTTP 404, TRANSFER_NOT_FOUND)"
            raise SequenceNotFoundError(msg)
        return next(transfer for transfer in self.transfers if transfer.id == transfer_id)

    async def get_external_transactions(
        self,
        *,
        account_ids: Iterable[str],
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> tuple[ExternalTransaction, ...]:
        ids = set(account_ids)
        matching = [
            item
            for item in self.transactions
            if item.account_id in ids
            and (since is None or item.date >= since)
            and (until is None or item.date <= until)
        ]
        return self._pages(matching, limit)


@pytest.fixture
def fake_activity() -> FakeActivity:
    return FakeActivity()


@pytest.fixture
def lookup_client(mock_platform_client: MagicMock, fake_activity: FakeActivity) -> MagicMock:
    """The Platform client with the activity endpoints (explicit: autospec does not know them)."""
    client = mock_platform_client
    client.async_get_transfers = AsyncMock(side_effect=fake_activity.get_transfers)
    client.async_get_transfer = AsyncMock(side_effect=fake_activity.get_transfer)
    client.async_get_external_transactions = AsyncMock(
        side_effect=fake_activity.get_external_transactions
    )
    return client


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    lookup_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> MockConfigEntry:
    platform_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(platform_config_entry.entry_id)
    await hass.async_block_till_done()
    return platform_config_entry


def account_device(hass: HomeAssistant, account_id: str) -> str:
    identifier = (DOMAIN, f"{PLATFORM_ANCHOR_ID}:{account_id}")
    device = dr.async_get(hass).async_get_device_by_identifier(identifier, PLATFORM_ENTRY_ID)
    assert device is not None
    return device.id


async def ask(hass: HomeAssistant, service: str, data: dict[str, Any], **kwargs: Any) -> Any:
    response = await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True, **kwargs
    )
    assert response is not None
    # What a script gets must be plain JSON (no Decimal, datetime or enum).
    return json.loads(json.dumps(response))


# --- sequence.get_transfers ---------------------------------------------------------------------


async def test_transfers_newest_first_with_every_field(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock
) -> None:
    answer = await ask(hass, "get_transfers", {"config_entry_id": entry.entry_id, "limit": 3})
    assert [transfer["id"] for transfer in answer["transfers"]] == ["t-000", "t-001", "t-002"]
    assert answer["transfers"][1] == {
        "id": "t-001",
        "amount": "1.05",
        "currency": "USD",
        "direction": "incoming",
        "status": "PENDING",
        "origin": "RULE",
        "rule_id": "rule-1",
        "rule_execution_id": "exec-1",
        "error_code": None,
        "created_at": "2026-11-21T01:00:00-08:00",  # local time (the tests' US/Pacific)
        "completed_at": None,
        "source_account_id": None,
        "source_account_name": None,
        "destination_account_id": PAYCHECK_ID,
        "destination_account_name": "Paycheck",
    }
    assert answer["transfers"][0]["completed_at"] == "2026-11-21T04:05:00-08:00"
    kwargs = lookup_client.async_get_transfers.call_args.kwargs
    assert kwargs == {
        "since": None,
        "until": None,
        "account_ids": tuple(account.id for account in load_platform_accounts()),
        "statuses": None,
        "directions": None,
        "limit": 3,
    }


async def test_transfers_filtered_by_account_status_direction_and_days(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock
) -> None:
    answer = await ask(
        hass,
        "get_transfers",
        {
            "config_entry_id": entry.entry_id,
            "account": account_device(hass, GROCERIES_ID),
            "status": ["complete", "PENDING_APPROVAL"],
            "direction": "internal",
            "start": "2026-11-10",
            "end": date(2026, 11, 19),
        },
    )
    kwargs = lookup_client.async_get_transfers.call_args.kwargs
    assert kwargs["account_ids"] == (GROCERIES_ID,)
    assert kwargs["statuses"] == ("COMPLETE", "PENDING_APPROVAL")
    assert kwargs["directions"] == (TransferDirection.INTERNAL,)
    # Whole local days: from the start's midnight to the end's last microsecond.
    assert kwargs["since"].isoformat() == "2026-11-10T00:00:00-08:00"
    assert kwargs["until"].isoformat() == "2026-11-19T23:59:59.999999-08:00"
    found = answer["transfers"]
    assert found
    for transfer in found:
        assert GROCERIES_ID in {transfer["source_account_id"], transfer["destination_account_id"]}
        assert transfer["status"] in {"COMPLETE", "PENDING_APPROVAL"}
        assert transfer["direction"] == "internal"
        assert "2026-11-10T00:00:00-08:00" <= transfer["created_at"] <= "2026-11-19T23:59:59-08:00"
    created = [transfer["created_at"] for transfer in found]
    assert created == sorted(created, reverse=True)


async def test_times_without_a_zone_are_local_and_with_one_are_kept(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock
) -> None:
    await ask(
        hass,
        "get_transfers",
        {
            "config_entry_id": entry.entry_id,
            "start": "2026-11-20 08:30",
            "end": "2026-11-21T10:00:00+00:00",
        },
    )
    kwargs = lookup_client.async_get_transfers.call_args.kwargs
    assert kwargs["since"].isoformat() == "2026-11-20T08:30:00-08:00"
    assert kwargs["until"] == datetime(2026, 11, 21, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("limit", "expected", "pages"),
    [(None, 50, 1), (1, 1, 1), (100, 100, 1), (150, 150, 2), (MAX_LIMIT, 250, 3)],
)
async def test_paged_through_sequence_up_to_the_limit(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    fake_activity: FakeActivity,
    limit: int | None,
    expected: int,
    pages: int,
) -> None:
    data: dict[str, Any] = {"config_entry_id": entry.entry_id}
    if limit is not None:
        data["limit"] = limit
    answer = await ask(hass, "get_transfers", data)
    assert len(answer["transfers"]) == expected
    assert fake_activity.pages == pages  # no page read beyond the one that reached the limit
    assert answer["transfers"][0]["id"] == "t-000"


async def test_never_more_than_the_limit_whatever_the_client_returns(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock
) -> None:
    lookup_client.async_get_transfers.side_effect = None
    lookup_client.async_get_transfers.return_value = tuple(reversed(history(10)))
    answer = await ask(hass, "get_transfers", {"config_entry_id": entry.entry_id, "limit": 4})
    assert [transfer["id"] for transfer in answer["transfers"]] == [
        "t-000",
        "t-001",
        "t-002",
        "t-003",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        {"limit": 0},
        {"limit": MAX_LIMIT + 1},
        {"status": ["SETTLED"]},
        {"direction": ["unknown"]},
        {"start": "next tuesday"},
        {"end": 12},
    ],
)
async def test_invalid_filters_are_refused_before_asking(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock, bad: dict[str, Any]
) -> None:
    with pytest.raises(vol.Invalid):
        await ask(hass, "get_transfers", {"config_entry_id": entry.entry_id} | bad)
    lookup_client.async_get_transfers.assert_not_awaited()


async def test_a_start_after_the_end_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock
) -> None:
    with pytest.raises(ServiceValidationError) as raised:
        await ask(
            hass,
            "get_transfers",
            {"config_entry_id": entry.entry_id, "start": "2026-11-20", "end": "2026-11-19"},
        )
    assert raised.value.translation_key == "invalid_window"
    assert str(raised.value) == "The start is after the end. Give a start before the end"
    lookup_client.async_get_transfers.assert_not_awaited()


async def test_no_accounts_no_request(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock
) -> None:
    coordinator = entry.runtime_data.coordinator
    with patch.object(coordinator, "data", replace(coordinator.data, accounts={})):
        answer = await ask(hass, "get_transfers", {"config_entry_id": entry.entry_id})
    assert answer == {"transfers": []}
    lookup_client.async_get_transfers.assert_not_awaited()


async def test_an_account_must_be_one_of_the_entrys(
    hass: HomeAssistant, entry: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    hub = device_registry.async_get_device_by_identifier(
        (DOMAIN, PLATFORM_ANCHOR_ID), entry.entry_id
    )
    assert hub is not None
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    foreign = device_registry.async_get_or_create(
        config_entry_id=other.entry_id, identifiers={(DOMAIN, f"{PLATFORM_ANCHOR_ID}:x")}
    )
    for device_id in ("no-such-device", hub.id, foreign.id):
        with pytest.raises(ServiceValidationError) as raised:
            await ask(
                hass, "get_transfers", {"config_entry_id": entry.entry_id, "account": device_id}
            )
        assert raised.value.translation_key == "not_an_account"
        assert str(raised.value) == (
            "This device is not an account of the Sequence entry Sequence (API key). Pick the "
            "device of one of its Pods, Income Sources or linked accounts"
        )


# --- sequence.get_transfer ----------------------------------------------------------------------


async def test_one_transfer(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock
) -> None:
    answer = await ask(
        hass, "get_transfer", {"config_entry_id": entry.entry_id, "transfer_id": " t-003 "}
    )
    assert answer["transfer"]["id"] == "t-003"
    assert answer["transfer"]["status"] == "ERROR"
    lookup_client.async_get_transfer.assert_awaited_once_with("t-003")


async def test_a_transfer_not_found_at_first_is_asked_again_once(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    lookup_client: MagicMock,
    fake_activity: FakeActivity,
) -> None:
    fake_activity.not_found = 1
    with patch("custom_components.sequence.lookups.asyncio.sleep") as sleep:
        answer = await ask(
            hass, "get_transfer", {"config_entry_id": entry.entry_id, "transfer_id": "t-002"}
        )
    assert answer["transfer"]["id"] == "t-002"
    sleep.assert_awaited_once_with(2.0)
    assert lookup_client.async_get_transfer.await_count == 2


async def test_a_transfer_not_found_twice_is_not_found(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    lookup_client: MagicMock,
    fake_activity: FakeActivity,
) -> None:
    fake_activity.not_found = 5
    with (
        patch("custom_components.sequence.lookups.asyncio.sleep") as sleep,
        pytest.raises(ServiceValidationError) as raised,
    ):
        await ask(hass, "get_transfer", {"config_entry_id": entry.entry_id, "transfer_id": "t-9"})
    assert raised.value.translation_key == "transfer_not_found"
    assert str(raised.value).startswith("Sequence has no transfer t-9 that this API key may read")
    assert sleep.await_count == 1
    assert lookup_client.async_get_transfer.await_count == 2


# --- sequence.get_external_transactions ---------------------------------------------------------


async def test_a_linked_accounts_transactions(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock
) -> None:
    answer = await ask(
        hass,
        "get_external_transactions",
        {
            "config_entry_id": entry.entry_id,
            "account": account_device(hass, CHECKING_ID),
            "start": "2026-11-17",
            "limit": 3,
        },
    )
    assert answer["transactions"] == [
        {
            "id": "x-000",
            "account_id": CHECKING_ID,
            "amount": "42.00",
            "currency": "USD",
            "direction": "incoming",
            "status": "PENDING",
            "description": "Shop 0",
            "date": "2026-11-21T04:00:00-08:00",
        },
        {
            "id": "x-001",
            "account_id": CHECKING_ID,
            "amount": "43.00",
            "currency": "USD",
            "direction": "outgoing",
            "status": "COMPLETE",
            "description": "Shop 1",
            "date": "2026-11-20T04:00:00-08:00",
        },
        {
            "id": "x-002",
            "account_id": CHECKING_ID,
            "amount": "44.00",
            "currency": "USD",
            "direction": "incoming",
            "status": "COMPLETE",
            "description": "Shop 2",
            "date": "2026-11-19T04:00:00-08:00",
        },
    ]
    kwargs = lookup_client.async_get_external_transactions.call_args.kwargs
    assert kwargs["account_ids"] == (CHECKING_ID,)
    assert kwargs["since"].isoformat() == "2026-11-17T00:00:00-08:00"
    assert kwargs["until"] is None
    assert kwargs["limit"] == 3


async def test_never_more_transactions_than_the_limit(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock
) -> None:
    lookup_client.async_get_external_transactions.side_effect = None
    lookup_client.async_get_external_transactions.return_value = tuple(transactions(9))
    answer = await ask(
        hass,
        "get_external_transactions",
        {"config_entry_id": entry.entry_id, "account": account_device(hass, CHECKING_ID)},
    )
    assert len(answer["transactions"]) == 9  # the default limit is 50
    answer = await ask(
        hass,
        "get_external_transactions",
        {
            "config_entry_id": entry.entry_id,
            "account": account_device(hass, CHECKING_ID),
            "limit": 2,
        },
    )
    assert [item["id"] for item in answer["transactions"]] == ["x-000", "x-001"]


async def test_only_a_linked_account_has_transactions(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock
) -> None:
    with pytest.raises(ServiceValidationError) as raised:
        await ask(
            hass,
            "get_external_transactions",
            {"config_entry_id": entry.entry_id, "account": account_device(hass, GROCERIES_ID)},
        )
    assert raised.value.translation_key == "not_a_linked_account"
    assert str(raised.value).startswith("Groceries is not a linked account.")
    lookup_client.async_get_external_transactions.assert_not_awaited()


async def test_transactions_go_back_90_days_at_most(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock
) -> None:
    checking = account_device(hass, CHECKING_ID)
    data = {"config_entry_id": entry.entry_id, "account": checking}
    await ask(hass, "get_external_transactions", data | {"start": "2026-08-23"})  # 90 days back
    with pytest.raises(ServiceValidationError) as raised:
        await ask(hass, "get_external_transactions", data | {"start": "2026-08-22"})
    assert raised.value.translation_key == "external_window_too_old"
    assert str(raised.value) == (
        "Sequence keeps linked accounts' transactions for 90 days. Give a start within the last "
        "90 days"
    )
    assert lookup_client.async_get_external_transactions.await_count == 1


# --- sequence.get_accounts ----------------------------------------------------------------------


async def test_every_account_from_the_last_poll_without_a_request(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock
) -> None:
    polled = lookup_client.async_get_accounts.await_count
    answer = await ask(hass, "get_accounts", {"config_entry_id": entry.entry_id})
    assert lookup_client.async_get_accounts.await_count == polled
    assert [account["name"] for account in answer["accounts"]] == [
        "Groceries",
        "Emergency Fund",
        "Paycheck",
        "Everyday Checking",
        "Visa 9921",
        "Brokerage",
    ]
    by_name = {account["name"]: account for account in answer["accounts"]}
    assert by_name["Emergency Fund"] == {
        "id": EMERGENCY_FUND_ID,
        "name": "Emergency Fund",
        "kind": "pod",
        "type": "POD",
        "debt": False,
        "institution": None,
        "balance": "2500.00",
        "available_balance": None,
        "currency": "USD",
        "balance_error": None,
        "balance_updated_at": "2026-11-20T22:00:00-08:00",
        "savings_target": "10000.00",
    }
    assert by_name["Visa 9921"]["debt"] is True
    assert by_name["Brokerage"]["balance"] is None


async def test_no_account_or_routing_number_in_any_answer(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    numbers = {
        value
        for detail in load_payload("platform_accounts.json")["accounts"]
        for key in ("routingNumber", "bankAccountNumber")
        if (value := detail.get(key))
    }
    assert numbers
    checking = account_device(hass, CHECKING_ID)
    answers = [
        await ask(hass, "get_accounts", {"config_entry_id": entry.entry_id}),
        await ask(hass, "get_transfers", {"config_entry_id": entry.entry_id, "limit": MAX_LIMIT}),
        await ask(
            hass, "get_transfer", {"config_entry_id": entry.entry_id, "transfer_id": "t-000"}
        ),
        await ask(
            hass,
            "get_external_transactions",
            {"config_entry_id": entry.entry_id, "account": checking},
        ),
    ]
    text = json.dumps(answers)
    assert not [number for number in numbers if number in text]


@pytest.mark.parametrize(
    ("name", "found"),
    [
        ("groceries", ["Groceries"]),  # the exact name, in any case
        ("  EMERGENCY FUND ", ["Emergency Fund"]),
        ("fund", ["Emergency Fund"]),  # the only one containing it
        ("c", []),  # several contain it: none
        ("Savings", []),
    ],
)
async def test_an_account_by_name(
    hass: HomeAssistant, entry: MockConfigEntry, name: str, found: list[str]
) -> None:
    answer = await ask(hass, "get_accounts", {"config_entry_id": entry.entry_id, "name": name})
    assert [account["name"] for account in answer["accounts"]] == found


def test_an_exact_name_wins_over_names_containing_it() -> None:
    accounts = load_platform_accounts()
    rent = replace(accounts[0], id="a", name="Rent")
    rent_reserve = replace(accounts[0], id="b", name="Rent reserve")
    assert accounts_named([rent_reserve, rent], "RENT") == [rent]
    assert accounts_named([rent_reserve], "rent") == [rent_reserve]


async def test_accounts_with_an_access_token_too(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    answer = await ask(
        hass, "get_accounts", {"config_entry_id": init_integration.entry_id, "name": "groceries"}
    )
    [groceries] = answer["accounts"]
    assert groceries["kind"] == "pod"
    assert groceries["balance"] == "412.06"
    assert groceries["savings_target"] is None
    assert groceries["balance_updated_at"] is None


async def test_no_accounts_while_sequence_cannot_be_read(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    lookup_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    lookup_client.async_get_accounts.side_effect = SequenceServerError("down")
    frozen_start.tick(timedelta(hours=6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as raised:
        await ask(hass, "get_accounts", {"config_entry_id": entry.entry_id})
    assert raised.value.translation_key == "unavailable"
    assert str(raised.value) == "Sequence is unavailable; retrying"


# --- What every look-up shares ------------------------------------------------------------------


def request(service: str, entry: MockConfigEntry, hass: HomeAssistant) -> dict[str, Any]:
    data: dict[str, Any] = {"config_entry_id": entry.entry_id}
    if service == "get_transfer":
        data["transfer_id"] = "t-001"
    if service == "get_external_transactions":
        data["account"] = account_device(hass, CHECKING_ID)
    return data


REQUESTS = {
    "get_transfers": "async_get_transfers",
    "get_transfer": "async_get_transfer",
    "get_external_transactions": "async_get_external_transactions",
}


@pytest.mark.parametrize("service", REQUESTS)
@pytest.mark.parametrize(
    ("error", "key", "message"),
    [
        (
            SequencePermissionError("x", permission="READ_TRANSFERS"),
            "permission_not_granted",
            (
                "This needs the READ_TRANSFERS permission, which the API key does not have. Add "
                "it to the key in Sequence (Settings, API Keys), then try again"
            ),
        ),
        (
            SequenceAuthError("x"),
            "invalid_auth_api_key",
            "Sequence refused the stored API key; reauthenticate the integration with a new one",
        ),
        (
            SequenceRateLimitError("x", retry_after=12.2),
            "money_rate_limited",
            "Sequence is rate limiting requests, so nothing was sent. Try again in 13 seconds",
        ),
        (
            SequenceRateLimitError("x", retry_after=None),
            "money_rate_limited_later",
            None,
        ),
        (
            SequenceServerError("x"),
            "lookup_unavailable",
            (
                "Sequence is unavailable (an outage on its side), so it could not answer. Try "
                "again later"
            ),
        ),
        (SequenceConnectionError("x"), "cannot_connect", "Could not reach Sequence"),
        (
            SequenceResponseError("x"),
            "unexpected_response",
            "Sequence answered with something this integration does not understand",
        ),
    ],
)
async def test_every_failure_is_translated(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    lookup_client: MagicMock,
    service: str,
    error: SequenceError,
    key: str,
    message: str | None,
) -> None:
    getattr(lookup_client, REQUESTS[service]).side_effect = error
    with pytest.raises(HomeAssistantError) as raised:
        await ask(hass, service, request(service, entry, hass))
    assert raised.value.translation_key == key
    assert str(raised.value) != key  # a text, not the bare key
    if message is not None:
        assert str(raised.value) == message
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)  # never a reauth


@pytest.mark.parametrize("service", REQUESTS)
async def test_an_access_token_entry_cannot_ask(
    hass: HomeAssistant, init_integration: MockConfigEntry, service: str
) -> None:
    data: dict[str, Any] = {"config_entry_id": init_integration.entry_id}
    if service == "get_transfer":
        data["transfer_id"] = "t-001"
    if service == "get_external_transactions":
        data["account"] = "any-device"  # refused before the device is looked at
    with pytest.raises(ServiceValidationError) as raised:
        await ask(hass, service, data)
    assert raised.value.translation_key == "needs_platform_api"
    assert str(raised.value) == (
        "The Sequence entry Sequence has no API key. This action asks Sequence's Platform API, "
        "which needs one: pick an entry set up with an API key"
    )


@pytest.mark.parametrize("service", [*REQUESTS, "get_accounts"])
async def test_an_entry_that_is_not_loaded_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry, lookup_client: MagicMock, service: str
) -> None:
    data = request(service, entry, hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as raised:
        await ask(hass, service, data)
    assert raised.value.translation_key == "service_config_entry_not_loaded"
    for method in REQUESTS.values():
        getattr(lookup_client, method).assert_not_awaited()


@pytest.mark.parametrize("service", [*REQUESTS, "get_accounts"])
async def test_admins_only(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    lookup_client: MagicMock,
    hass_read_only_user: User,
    hass_admin_user: User,
    service: str,
) -> None:
    data = request(service, entry, hass)
    with pytest.raises(Unauthorized):
        await ask(hass, service, data, context=Context(user_id=hass_read_only_user.id))
    for method in REQUESTS.values():
        getattr(lookup_client, method).assert_not_awaited()
    assert await ask(hass, service, data, context=Context(user_id=hass_admin_user.id))


@pytest.mark.parametrize("service", [*REQUESTS, "get_accounts"])
async def test_the_response_is_required(
    hass: HomeAssistant, entry: MockConfigEntry, service: str
) -> None:
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, service, request(service, entry, hass), blocking=True
        )


# --- Reading times ------------------------------------------------------------------------------


def test_a_time_is_a_date_or_a_date_and_time() -> None:
    assert point_in_time("2026-11-05") == date(2026, 11, 5)
    naive = datetime(2026, 11, 5, 10)  # noqa: DTZ001 - as given, read as local time later
    assert point_in_time(" 2026-11-05 10:00 ") == naive
    assert point_in_time(date(2026, 11, 5)) == date(2026, 11, 5)
    moment = datetime(2026, 11, 5, 10, tzinfo=UTC)
    assert point_in_time(moment) is moment
    for bad in ("2026-02-30", "soon", 20261105, None):
        with pytest.raises(vol.Invalid):
            point_in_time(bad)


async def test_a_day_is_a_whole_local_day_across_a_daylight_saving_change(
    hass: HomeAssistant,
) -> None:
    """Nov 1, 2026 has 25 hours in US/Pacific: it ends at 23:59:59 PST, 25 hours after it began."""
    day = date(2026, 11, 1)
    start, end = window_start(day), window_end(day)
    assert start is not None
    assert end is not None
    assert start.isoformat() == "2026-11-01T00:00:00-07:00"
    assert end.isoformat() == "2026-11-01T23:59:59.999999-08:00"
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25, microseconds=-1)
    await hass.config.async_set_time_zone("Asia/Tokyo")
    start = window_start(day)
    assert start is not None
    assert start.isoformat() == "2026-11-01T00:00:00+09:00"
    assert window_start(None) is None
    assert window_end(None) is None
