"""Transfers: refusals first, a simulation before anything live, amounts reserved, followed."""

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_LOGBOOK_ENTRY
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.sequence.api import (
    SequenceConflictError,
    SequenceConnectionError,
    SequenceError,
    SequenceOutcomeUnknownError,
    SequencePermissionError,
    SequenceRefusedError,
    Transfer,
)
from custom_components.sequence.const import (
    CONF_ACTIVITY,
    DOMAIN,
    EVENT_MONEY_ACTION,
    EVENT_RULE_EXECUTED,
    EVENT_TRANSFER,
)
from custom_components.sequence.guard import derive_idempotency_key
from custom_components.sequence.ledger import AttemptStatus, MoneyLedger
from custom_components.sequence.transfers import derive_simulation_key

from .conftest import (
    EMERGENCY_FUND_ID,
    PAYCHECK_ID,
    ROUTE_SUBENTRY_ID,
    RULE_SUBENTRY_ID,
    FakeSequence,
    MoneySetup,
    add_subentry_device,
    call_action,
    load_transfers,
    route_subentry,
    rule_subentry,
    setup_money,
)


async def transfer(hass: HomeAssistant, money: MoneySetup, **data: Any) -> dict[str, Any]:
    context = data.pop("context", None)
    return await call_action(
        hass, "transfer", {"route": money.route_device, **data}, context=context
    )


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def ledger_of(money: MoneySetup) -> MoneyLedger:
    return money.entry.runtime_data.money.ledger


def answering(fake: FakeSequence, **changes: Any) -> Any:
    """``create_transfer`` answering as the fake does, with ``changes`` to the transfer."""

    async def create(**kwargs: Any) -> Transfer:
        return replace(await fake.create_transfer(**kwargs), **changes)

    return create


def live_only(fake: FakeSequence, **changes: Any) -> Any:
    """``create_transfer`` answering live requests with ``changes`` (simulations as usual)."""

    async def create(**kwargs: Any) -> Transfer:
        answer = await fake.create_transfer(**kwargs)
        return answer if kwargs["simulation"] else replace(answer, **changes)

    return create


# --- A transfer, from the simulation to its settlement --------------------------------------------


async def test_simulated_first_then_made_reserved_and_followed(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    told = async_capture_events(hass, EVENT_TRANSFER)
    logbook = async_capture_events(hass, EVENT_LOGBOOK_ENTRY)
    context = Context()
    response = await transfer(
        hass, platform_money, amount="25.5", description="Savings", context=context
    )
    assert response == {
        "transfer_id": "transfer-2",
        "status": "PROCESSING",
        "amount": "25.50",
        "simulated": False,
        "source_account_id": PAYCHECK_ID,
        "destination_account_id": EMERGENCY_FUND_ID,
    }
    key = derive_idempotency_key(context.id, ROUTE_SUBENTRY_ID)
    body = {
        "kind": "create_transfer",
        "source_id": PAYCHECK_ID,
        "destination_id": EMERGENCY_FUND_ID,
        "amount_cents": 2550,
        "description": "Savings",
    }
    assert platform_money.fake.requests == [
        {**body, "simulation": True, "key": derive_simulation_key(key)},
        {**body, "simulation": False, "key": key},
    ]
    ledger = ledger_of(platform_money)
    assert ledger.moved_today_cents(ROUTE_SUBENTRY_ID) == 2550
    assert ledger.find(ROUTE_SUBENTRY_ID, key).status is AttemptStatus.SENT
    assert ledger.last_outcome(ROUTE_SUBENTRY_ID).result == "processing"
    assert [(e.data["outcome"], e.data["simulated"], e.data["transfer_id"]) for e in audit] == [
        ("simulated", True, "sim-1"),
        ("sent", False, "transfer-2"),
    ]
    assert audit[0].data["idempotency_key"] == derive_simulation_key(key)
    assert [e.data["message"] for e in logbook] == [
        "simulated a transfer of $25.50; no money moved",
        "sent a transfer of $25.50",
    ]
    assert told[0].data == {
        "config_entry_id": platform_money.entry.entry_id,
        "transfer_id": "transfer-2",
        "direction": "internal",
        "amount": "25.50",
        "currency": "USD",
        "status": "PROCESSING",
        "previous_status": None,
        "origin": "USER",
        "rule_id": None,
        "created_at": "2026-11-21T12:00:00+00:00",
    }
    polls = platform_money.client.async_get_accounts.await_count
    platform_money.fake.transfer_statuses[:] = ["PROCESSING", "PENDING", "COMPLETE"]
    await tick(hass, frozen_start, 2)
    assert len(told) == 1  # no change, nothing told
    await tick(hass, frozen_start, 5)
    assert ledger.last_outcome(ROUTE_SUBENTRY_ID).result == "pending"
    await tick(hass, frozen_start, 15)
    assert [(e.data["previous_status"], e.data["status"]) for e in told] == [
        (None, "PROCESSING"),
        ("PROCESSING", "PENDING"),
        ("PENDING", "COMPLETE"),
    ]
    assert told[1].context.id == context.id
    assert ledger.find(ROUTE_SUBENTRY_ID, key).status is AttemptStatus.SUCCEEDED
    assert ledger.last_outcome(ROUTE_SUBENTRY_ID).result == "complete"
    assert ledger.moved_today_cents(ROUTE_SUBENTRY_ID) == 2550
    assert ledger.follows() == []
    assert audit[-1].data["outcome"] == "succeeded"
    assert logbook[-1].data["message"] == "moved $25.50"
    assert platform_money.client.async_get_accounts.await_count == polls + 1  # balances follow


async def test_the_routes_description_is_the_default(
    hass: HomeAssistant,
    platform_money_entry: MockConfigEntry,
    money_client: MagicMock,
    fake_sequence: FakeSequence,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=platform_money_entry.title,
        unique_id=platform_money_entry.unique_id,
        data=dict(platform_money_entry.data),
        subentries_data=[rule_subentry(remote=False), route_subentry(description="Vacation")],
    )
    money = await setup_money(hass, entry, fake_sequence, money_client)
    await transfer(hass, money, amount=10)
    await transfer(hass, money, amount=10, description="", context=Context())
    assert [r["description"] for r in fake_sequence.requests] == ["Vacation"] * 2 + [None] * 2


async def test_simulate_stops_after_the_simulation(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    told = async_capture_events(hass, EVENT_TRANSFER)
    context = Context()
    response = await transfer(hass, platform_money, amount=50, simulate=True, context=context)
    assert response == {
        "transfer_id": "sim-1",
        "status": "COMPLETE",
        "amount": "50.00",
        "simulated": True,
        "source_account_id": PAYCHECK_ID,
        "destination_account_id": EMERGENCY_FUND_ID,
    }
    [request] = platform_money.fake.requests
    assert request["simulation"] is True
    assert request["key"] == derive_idempotency_key(context.id, ROUTE_SUBENTRY_ID, "simulation")
    ledger = ledger_of(platform_money)
    assert ledger.moved_today_cents(ROUTE_SUBENTRY_ID) == 0
    assert ledger.last_outcome(ROUTE_SUBENTRY_ID).result == "simulated"
    assert [e.data["outcome"] for e in audit] == ["simulated"]
    assert told == []


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        (SequencePermissionError("x"), "transfer_permission_missing"),
        (SequenceRefusedError("x", code="MAXIMUM_AMOUNT_EXCEEDED"), "transfer_over_key_maximum"),
        (SequenceRefusedError("x", code="INSUFFICIENT_FUNDS"), "insufficient_funds"),
        (SequenceOutcomeUnknownError("x"), "simulation_unanswered"),
        (SequenceConflictError("x"), "transfer_in_progress"),
        ({"status": "INCOMPLETE", "error_code": "INSUFFICIENT_FUNDS"}, "insufficient_funds"),
        ({"status": "ERROR", "error_code": "PAYMENT_FAILED"}, "transfer_simulation_failed"),
    ],
)
@pytest.mark.parametrize("simulate", [False, True])
async def test_a_refused_simulation_ends_the_call_with_nothing_live(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    answer: Exception | dict[str, str],
    key: str,
    simulate: bool,
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    create = platform_money.client.async_create_transfer
    if isinstance(answer, Exception):
        create.side_effect = answer
    else:
        create.side_effect = answering(platform_money.fake, **answer)
    with pytest.raises(HomeAssistantError) as raised:
        await transfer(hass, platform_money, amount=20, simulate=simulate)
    assert raised.value.translation_key == key
    assert [call.kwargs["simulation"] for call in create.await_args_list] == [True]
    assert ledger_of(platform_money).moved_today_cents(ROUTE_SUBENTRY_ID) == 0
    assert [(e.data["outcome"], e.data["simulated"], e.data["reason"]) for e in audit] == [
        ("failed", True, key)
    ]


async def test_a_simulation_answered_live_counts_and_says_to_check(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    """Sequence answering a simulation with a live transfer: money may be moving."""
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    create = platform_money.client.async_create_transfer
    create.side_effect = answering(platform_money.fake, simulated=False)
    with pytest.raises(HomeAssistantError) as raised:
        await transfer(hass, platform_money, amount=20, idempotency_key="k-1")
    assert raised.value.translation_key == "transfer_result_unknown"
    assert create.await_count == 1  # nothing more was sent
    ledger = ledger_of(platform_money)
    assert ledger.moved_today_cents(ROUTE_SUBENTRY_ID) == 2000
    assert [(e.data["outcome"], e.data["simulated"]) for e in audit] == [("unknown", False)]


# --- Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        ({"amount": "10.001"}, "invalid_amount", "at most two decimals"),
        ({"amount": "0.99"}, "transfer_minimum", "Sequence moves at least $1.00 per transfer"),
        ({"amount": 10, "description": "Eleven char"}, "invalid_description", "at most 10"),
        ({"amount": 10, "description": "Rent!"}, "invalid_description", "letters, digits"),
        ({"amount": 10, "idempotency_key": "no spaces"}, "invalid_idempotency_key", "36"),
        ({"amount": "50.01"}, "transfer_over_maximum", "maximum of $50.00 per transfer"),
    ],
)
async def test_invalid_transfers_are_refused_before_any_request(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    data: dict[str, Any],
    key: str,
    message: str,
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, platform_money, **data)
    assert raised.value.translation_key == key
    assert message in str(raised.value)
    assert platform_money.fake.requests == []
    assert [(e.data["outcome"], e.data["reason"]) for e in audit] == [("refused", key)]


async def test_the_daily_maximum(hass: HomeAssistant, platform_money: MoneySetup) -> None:
    await transfer(hass, platform_money, amount=50)
    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, platform_money, amount="30.01", context=Context())
    assert str(raised.value) == (
        "The amount is over what is left of this route's daily maximum of $80.00 "
        "($30.00 left today)"
    )
    await transfer(hass, platform_money, amount=30, context=Context())
    assert sum(r["amount_cents"] for r in platform_money.fake.live("create_transfer")) == 8000


async def test_concurrent_transfers_never_exceed_the_day(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    results = await asyncio.gather(
        *(transfer(hass, platform_money, amount=30, context=Context()) for _ in range(6)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, ServiceValidationError)]
    assert len(refused) == 4
    assert {error.translation_key for error in refused} == {"transfer_over_daily_maximum"}
    live = platform_money.fake.live("create_transfer")
    assert sum(request["amount_cents"] for request in live) == 6000
    simulated = {r["key"] for r in platform_money.fake.requests if r["simulation"]}
    assert {derive_simulation_key(request["key"]) for request in live} <= simulated


async def test_an_access_token_cannot_transfer(
    hass: HomeAssistant,
    remote_money_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    remote_trigger: MagicMock,
    fake_sequence: FakeSequence,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=remote_money_entry.title,
        unique_id=remote_money_entry.unique_id,
        data=dict(remote_money_entry.data),
        subentries_data=[rule_subentry(remote=True), route_subentry()],
    )
    money = await setup_money(hass, entry, fake_sequence, remote_trigger)
    with pytest.raises(ServiceValidationError) as raised:
        await transfer(hass, money, amount=10)
    assert raised.value.translation_key == "not_a_route"


# --- Failed live requests and how transfers end ---------------------------------------------------


@pytest.mark.parametrize(
    ("error", "key", "status", "moved"),
    [
        (SequenceOutcomeUnknownError("x"), "transfer_result_unknown", AttemptStatus.UNKNOWN,
         2000),
        (SequenceConnectionError("x"), "money_not_sent", AttemptStatus.RELEASED, 0),
        (SequenceRefusedError("x", code="INSUFFICIENT_FUNDS"), "insufficient_funds",
         AttemptStatus.RELEASED, 0),
        (SequenceConflictError("x"), "transfer_in_progress", AttemptStatus.UNKNOWN, 2000),
    ],
)  # fmt: skip
async def test_a_failed_live_transfer(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    frozen_start: FrozenDateTimeFactory,
    error: SequenceError,
    key: str,
    status: AttemptStatus,
    moved: int,
) -> None:
    async def create(**kwargs: Any) -> Transfer:
        if not kwargs["simulation"]:
            raise error
        return await platform_money.fake.create_transfer(**kwargs)

    platform_money.client.async_create_transfer.side_effect = create
    with pytest.raises(HomeAssistantError) as raised:
        await transfer(hass, platform_money, amount=20, idempotency_key="k-1")
    assert raised.value.translation_key == key
    ledger = ledger_of(platform_money)
    assert ledger.find(ROUTE_SUBENTRY_ID, "k-1").status is status
    assert ledger.moved_today_cents(ROUTE_SUBENTRY_ID) == moved
    await tick(hass, frozen_start, 3600)
    assert platform_money.client.async_create_transfer.await_count == 2  # never sent again


async def test_an_unknown_result_says_what_to_do(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    platform_money.client.async_create_transfer.side_effect = _live_raises(
        platform_money.fake, SequenceOutcomeUnknownError("x")
    )
    with pytest.raises(HomeAssistantError) as raised:
        await transfer(hass, platform_money, amount=20, idempotency_key="payday-1")
    assert str(raised.value) == (
        "Result unknown: check Sequence before moving money again; calling again with the same "
        "idempotency key is safe (payday-1)"
    )


def _live_raises(fake: FakeSequence, error: Exception, *, times: int = 1) -> Any:
    left = [times]

    async def create(**kwargs: Any) -> Transfer:
        if not kwargs["simulation"] and left[0]:
            left[0] -= 1
            raise error
        return await fake.create_transfer(**kwargs)

    return create


async def test_calling_again_with_the_key_moves_money_once(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    platform_money.client.async_create_transfer.side_effect = _live_raises(
        platform_money.fake, SequenceOutcomeUnknownError("x")
    )
    with pytest.raises(HomeAssistantError):
        await transfer(hass, platform_money, amount=50, idempotency_key="k-1")
    # At the daily maximum's edge: the repeat needs no new share, so it is not refused.
    response = await transfer(hass, platform_money, amount=50, idempotency_key="k-1")
    assert response["status"] == "PROCESSING"
    ledger = ledger_of(platform_money)
    assert ledger.moved_today_cents(ROUTE_SUBENTRY_ID) == 5000
    assert ledger.find(ROUTE_SUBENTRY_ID, "k-1").status is AttemptStatus.SENT
    assert {r["key"] for r in platform_money.fake.live("create_transfer")} == {"k-1"}


async def test_a_completed_transfer_is_answered_again_without_a_request(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    await transfer(hass, platform_money, amount=20, idempotency_key="k-1")
    platform_money.fake.transfer_statuses[:] = ["COMPLETE"]
    await tick(hass, frozen_start, 2)
    requests = len(platform_money.fake.requests)
    # The poll after completion sweeps devices that are not accounts' away; until the
    # subentries work makes the sweep spare them, the route's device is registered again.
    route = add_subentry_device(hass, platform_money.entry, ROUTE_SUBENTRY_ID)
    response = await call_action(
        hass, "transfer", {"route": route, "amount": 20, "idempotency_key": "k-1"}
    )
    assert response == {
        "transfer_id": "transfer-2",
        "status": "COMPLETE",
        "amount": "20.00",
        "simulated": False,
        "source_account_id": PAYCHECK_ID,
        "destination_account_id": EMERGENCY_FUND_ID,
    }
    assert len(platform_money.fake.requests) == requests
    assert audit[-1].data["outcome"] == "succeeded"


@pytest.mark.parametrize(
    ("status", "error_code", "reason"),
    [
        ("ERROR", "PAYMENT_FAILED", "transfer_failed"),
        ("CANCELLED", None, "transfer_failed"),
        ("INCOMPLETE", "INSUFFICIENT_FUNDS", "insufficient_funds"),
    ],
)
async def test_a_transfer_that_moved_nothing_gives_its_amount_back(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    frozen_start: FrozenDateTimeFactory,
    status: str,
    error_code: str | None,
    reason: str,
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    logbook = async_capture_events(hass, EVENT_LOGBOOK_ENTRY)
    await transfer(hass, platform_money, amount=20, idempotency_key="k-1")
    get = platform_money.client.async_get_transfer

    async def ended(transfer_id: str) -> Transfer:
        return replace(
            await platform_money.fake.get_transfer(transfer_id),
            status=status,
            error_code=error_code,
        )

    get.side_effect = ended
    await tick(hass, frozen_start, 2)
    ledger = ledger_of(platform_money)
    assert ledger.find(ROUTE_SUBENTRY_ID, "k-1").status is AttemptStatus.RELEASED
    assert ledger.moved_today_cents(ROUTE_SUBENTRY_ID) == 0
    assert ledger.last_outcome(ROUTE_SUBENTRY_ID).result == status.lower()
    assert (audit[-1].data["outcome"], audit[-1].data["reason"]) == ("failed", reason)
    if reason == "transfer_failed":
        assert logbook[-1].data["message"] == (
            f"transfer of $20.00 failed: The transfer ended as {status}: no money moved"
        )


@pytest.mark.parametrize(("status", "settled"), [("COMPLETE", True), ("ERROR", False)])
async def test_a_transfer_settled_at_once(
    hass: HomeAssistant, platform_money: MoneySetup, status: str, settled: bool
) -> None:
    polls = platform_money.client.async_get_accounts.await_count
    platform_money.client.async_create_transfer.side_effect = live_only(
        platform_money.fake, status=status
    )
    response = await transfer(hass, platform_money, amount=20, idempotency_key="k-1")
    await hass.async_block_till_done()
    assert response["status"] == status
    ledger = ledger_of(platform_money)
    attempt = ledger.find(ROUTE_SUBENTRY_ID, "k-1")
    assert attempt.status is (AttemptStatus.SUCCEEDED if settled else AttemptStatus.RELEASED)
    assert ledger.follows() == []
    assert platform_money.client.async_get_accounts.await_count == polls + settled


async def test_a_status_this_version_does_not_know_is_followed_on(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    await transfer(hass, platform_money, amount=20)
    platform_money.fake.transfer_statuses[:] = ["QUEUED_SOMEWHERE", "COMPLETE"]
    await tick(hass, frozen_start, 2)
    assert ledger_of(platform_money).last_outcome(ROUTE_SUBENTRY_ID).result == "unknown"
    await tick(hass, frozen_start, 5)
    assert ledger_of(platform_money).last_outcome(ROUTE_SUBENTRY_ID).result == "complete"


async def test_a_transfer_that_cannot_be_followed_keeps_its_amount(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    await transfer(hass, platform_money, amount=20, idempotency_key="k-1")
    platform_money.client.async_get_transfer.side_effect = SequencePermissionError("x")
    await tick(hass, frozen_start, 2)
    ledger = ledger_of(platform_money)
    assert ledger.find(ROUTE_SUBENTRY_ID, "k-1").status is AttemptStatus.UNKNOWN
    assert ledger.moved_today_cents(ROUTE_SUBENTRY_ID) == 2000
    assert ledger.last_outcome(ROUTE_SUBENTRY_ID).result == "unknown"
    assert (audit[-1].data["outcome"], audit[-1].data["reason"]) == (
        "unknown",
        "transfer_result_unknown",
    )


async def test_a_transfer_is_followed_for_a_day(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    await transfer(hass, platform_money, amount=20, idempotency_key="k-1")
    platform_money.client.async_get_transfer.side_effect = _failing_then(
        platform_money.fake, SequenceConnectionError("x")
    )
    for seconds in (2, 5, 15, 30, 60):
        await tick(hass, frozen_start, seconds)
    for _ in range(24 * 12):
        await tick(hass, frozen_start, 300)
    ledger = ledger_of(platform_money)
    assert ledger.follows() == []
    assert ledger.find(ROUTE_SUBENTRY_ID, "k-1").status is AttemptStatus.UNKNOWN
    looks = platform_money.client.async_get_transfer.await_count
    await tick(hass, frozen_start, 3600)
    assert platform_money.client.async_get_transfer.await_count == looks


def _failing_then(fake: FakeSequence, error: Exception) -> Any:
    """Answers once (still processing), then fails with ``error`` forever."""
    answered = [False]

    async def get(transfer_id: str) -> Transfer:
        if answered[0]:
            raise error
        answered[0] = True
        return await fake.get_transfer(transfer_id)

    return get


async def test_a_removed_route_is_no_longer_followed(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    await transfer(hass, platform_money, amount=20)
    hass.config_entries.async_remove_subentry(platform_money.entry, ROUTE_SUBENTRY_ID)
    await hass.async_block_till_done()
    await tick(hass, frozen_start, 2)
    assert platform_money.client.async_get_transfer.await_count == 0


async def test_a_restart_resumes_both_follows(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    told = async_capture_events(hass, EVENT_TRANSFER)
    executed = async_capture_events(hass, EVENT_RULE_EXECUTED)
    await transfer(hass, platform_money, amount=20)
    await call_action(hass, "trigger_rule", {"rule": platform_money.rule_device})
    platform_money.fake.transfer_statuses[:] = ["PENDING"]
    await tick(hass, frozen_start, 2)
    entry = platform_money.entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    platform_money.fake.transfer_statuses[:] = ["PENDING", "COMPLETE"]
    platform_money.fake.execution_statuses[:] = ["EXECUTED"]
    await tick(hass, frozen_start, 2)
    assert [(e.data["previous_status"], e.data["status"]) for e in told] == [
        (None, "PROCESSING"),
        ("PROCESSING", "PENDING"),  # the status seen before the restart is not told again
    ]
    await tick(hass, frozen_start, 5)
    assert told[-1].data["status"] == "COMPLETE"
    assert [e.data["execution_id"] for e in executed] == ["exec-1"]
    assert ledger_of(platform_money).follows() == []


async def test_a_restart_after_a_newer_action_tells_the_status_again(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    """The sensors show a newer simulation: the status of the one followed is not known."""
    told = async_capture_events(hass, EVENT_TRANSFER)
    await transfer(hass, platform_money, amount=20)
    await transfer(hass, platform_money, amount=20, simulate=True, context=Context())
    entry = platform_money.entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await tick(hass, frozen_start, 2)
    assert [e.data["previous_status"] for e in told] == [None, None]


# --- Activity and followed transfers share what they have told ----------------------------------


async def test_activity_and_a_follow_never_tell_a_status_twice(
    hass: HomeAssistant,
    platform_money_entry: MockConfigEntry,
    money_client: MagicMock,
    fake_sequence: FakeSequence,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=platform_money_entry.title,
        unique_id=platform_money_entry.unique_id,
        data=dict(platform_money_entry.data),
        options={CONF_ACTIVITY: True},
        subentries_data=[route_subentry()],
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    route = add_subentry_device(hass, entry, ROUTE_SUBENTRY_ID)
    told = async_capture_events(hass, EVENT_TRANSFER)
    await call_action(hass, "transfer", {"route": route, "amount": 20})
    made = fake_sequence._transfers["transfer-2"]
    # Activity's next poll sees it as the follow told it: nothing new.
    money_client.async_get_transfers.return_value = (made, *load_transfers())
    await entry.runtime_data.activity.async_refresh()
    assert [e.data["status"] for e in told] == ["PROCESSING"]
    # Activity sees it settle first; the follow then has nothing new to tell.
    money_client.async_get_transfers.return_value = (
        replace(made, status="COMPLETE"),
        *load_transfers(),
    )
    await entry.runtime_data.activity.async_refresh()
    fake_sequence.transfer_statuses[:] = ["COMPLETE"]
    await tick(hass, frozen_start, 2)
    assert [e.data["status"] for e in told] == ["PROCESSING", "COMPLETE"]
    assert entry.runtime_data.money.ledger.follows() == []


async def test_rule_follows_are_left_to_the_rule_runner(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    await call_action(hass, "trigger_rule", {"rule": platform_money.rule_device})
    entry = platform_money.entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await tick(hass, frozen_start, 2)
    assert platform_money.client.async_get_transfer.await_count == 0
    assert platform_money.client.async_get_rule_execution.await_count == 1
    assert [subentry for subentry, _ in ledger_of(platform_money).follows()] == [RULE_SUBENTRY_ID]


async def test_a_conflict_on_a_repeat_leaves_the_first_call_alone(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    await transfer(hass, platform_money, amount=20, idempotency_key="k-1")
    platform_money.client.async_create_transfer.side_effect = _live_raises(
        platform_money.fake, SequenceConflictError("x")
    )
    with pytest.raises(HomeAssistantError) as raised:
        await transfer(hass, platform_money, amount=20, idempotency_key="k-1")
    assert raised.value.translation_key == "transfer_in_progress"
    ledger = ledger_of(platform_money)
    assert ledger.find(ROUTE_SUBENTRY_ID, "k-1").status is AttemptStatus.SENT
    assert ledger.moved_today_cents(ROUTE_SUBENTRY_ID) == 2000
    assert [e.data["outcome"] for e in audit][-1] == "unknown"


async def test_a_repeat_whose_first_call_completed_meanwhile_sends_nothing_live(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    """The first transfer completes while the repeat is being simulated."""
    await transfer(hass, platform_money, amount=20, idempotency_key="k-1")
    ledger = ledger_of(platform_money)
    fake = platform_money.fake

    async def create(**kwargs: Any) -> Transfer:
        answer = await fake.create_transfer(**kwargs)
        await ledger.async_set_status(ROUTE_SUBENTRY_ID, "k-1", AttemptStatus.SUCCEEDED)
        return answer

    platform_money.client.async_create_transfer.side_effect = create
    response = await transfer(hass, platform_money, amount=20, idempotency_key="k-1")
    assert response["status"] == "COMPLETE"
    assert len(fake.live("create_transfer")) == 1


async def test_a_restart_while_the_status_is_one_this_version_does_not_know(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    told = async_capture_events(hass, EVENT_TRANSFER)
    await transfer(hass, platform_money, amount=20)
    platform_money.fake.transfer_statuses[:] = ["QUEUED_SOMEWHERE"]
    await tick(hass, frozen_start, 2)
    entry = platform_money.entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    platform_money.fake.transfer_statuses[:] = ["COMPLETE"]
    await tick(hass, frozen_start, 2)
    assert [(e.data["previous_status"], e.data["status"]) for e in told] == [
        (None, "PROCESSING"),
        ("PROCESSING", "QUEUED_SOMEWHERE"),
        (None, "COMPLETE"),  # what it was before the restart is not known
    ]
