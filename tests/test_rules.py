"""Running rules: refusals before any request, live runs reserved first, results followed."""

import asyncio
from datetime import timedelta
from typing import Any
from unittest.mock import AsyncMock, MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import EVENT_LOGBOOK_ENTRY
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.sequence.api import (
    SequenceAuthError,
    SequenceConflictError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequenceOutcomeUnknownError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceRefusedError,
    SequenceRuleSecretError,
    SequenceServerError,
)
from custom_components.sequence.const import (
    DOMAIN,
    EVENT_MONEY_ACTION,
    EVENT_RULE_EXECUTED,
    SUBENTRY_RULE,
)
from custom_components.sequence.guard import derive_idempotency_key
from custom_components.sequence.ledger import AttemptStatus, MoneyLedger
from custom_components.sequence.rules import RULE_RESULTS, rule_secret_issue_id

from .conftest import (
    PLATFORM_RULE_ID,
    REMOTE_RULE_ID,
    RULE_SECRET,
    RULE_SUBENTRY_ID,
    TRIGGER_URL,
    FakeSequence,
    MoneySetup,
    add_subentry_device,
    call_action,
    rule_subentry,
    setup_money,
)


async def trigger(hass: HomeAssistant, money: MoneySetup, **data: Any) -> dict[str, Any]:
    context = data.pop("context", None)
    return await call_action(
        hass, "trigger_rule", {"rule": money.rule_device, **data}, context=context
    )


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def ledger_of(money: MoneySetup) -> MoneyLedger:
    return money.entry.runtime_data.money.ledger


# --- Platform API: live runs ----------------------------------------------------------------------


async def test_a_live_run_is_reserved_sent_followed_and_told(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    executed = async_capture_events(hass, EVENT_RULE_EXECUTED)
    logbook = async_capture_events(hass, EVENT_LOGBOOK_ENTRY)
    context = Context()
    response = await trigger(hass, platform_money, context=context)
    assert response == {
        "rule_id": PLATFORM_RULE_ID,
        "simulated": False,
        "result": "in_progress",
        "execution_id": "exec-1",
    }
    key = derive_idempotency_key(context.id, RULE_SUBENTRY_ID)
    assert platform_money.fake.requests == [
        {
            "kind": "trigger_rule",
            "rule_id": PLATFORM_RULE_ID,
            "key": key,
            "simulation": False,
            "amount_cents": None,
        }
    ]
    ledger = ledger_of(platform_money)
    attempt = ledger.find(RULE_SUBENTRY_ID, key)
    assert attempt is not None
    assert (attempt.status, attempt.reference) == (AttemptStatus.SENT, "exec-1")
    assert ledger.last_outcome(RULE_SUBENTRY_ID).result == "in_progress"
    assert [e.data["outcome"] for e in audit] == ["sent"]
    assert audit[0].context is context

    platform_money.fake.execution_statuses[:] = ["IN_PROGRESS", "EXECUTED"]
    await tick(hass, frozen_start, 2)
    assert executed == []
    await tick(hass, frozen_start, 5)
    assert [event.data for event in executed] == [
        {
            "config_entry_id": platform_money.entry.entry_id,
            "rule_id": PLATFORM_RULE_ID,
            "execution_id": "exec-1",
            "status": "EXECUTED",
            "simulated": False,
            "transfers_completed": 2,
            "transfers_failed": 0,
        }
    ]
    assert executed[0].context.id == context.id
    assert ledger.find(RULE_SUBENTRY_ID, key).status is AttemptStatus.SUCCEEDED
    assert ledger.last_outcome(RULE_SUBENTRY_ID).result == "executed"
    assert ledger.follows() == []
    assert [e.data["outcome"] for e in audit] == ["sent", "succeeded"]
    assert audit[1].data["execution_id"] == "exec-1"
    assert [entry.data["message"] for entry in logbook] == ["was triggered", "ran"]
    assert logbook[0].data["name"] == "Sequence rule Round-ups"
    await tick(hass, frozen_start, 600)
    assert platform_money.client.async_get_rule_execution.await_count == 2  # done following


async def test_an_amount_is_sent_in_cents(hass: HomeAssistant, platform_money: MoneySetup) -> None:
    await trigger(hass, platform_money, amount="12.5")
    assert platform_money.fake.requests[0]["amount_cents"] == 1250
    assert ledger_of(platform_money).last_outcome(RULE_SUBENTRY_ID).amount_cents == 1250


@pytest.mark.parametrize(
    ("status", "result", "attempt", "outcome", "reason", "message"),
    [
        ("PARTIAL", "partial", AttemptStatus.SUCCEEDED, "failed", "rule_partial",
         "failed: Sequence ran the rule, but 1 of its transfers failed (2 completed)"),
        ("FAILED", "failed", AttemptStatus.FAILED, "failed", "rule_failed",
         "failed: Sequence reports that the rule's run failed"),
        ("SOMETHING_NEW", "unknown", AttemptStatus.UNKNOWN, "unknown", None,
         "has an unknown result"),
    ],
)  # fmt: skip
async def test_how_a_run_ends(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    frozen_start: FrozenDateTimeFactory,
    status: str,
    result: str,
    attempt: AttemptStatus,
    outcome: str,
    reason: str | None,
    message: str,
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    logbook = async_capture_events(hass, EVENT_LOGBOOK_ENTRY)
    executed = async_capture_events(hass, EVENT_RULE_EXECUTED)
    await trigger(hass, platform_money, idempotency_key="k-1")
    platform_money.fake.execution_statuses[:] = [status]
    await tick(hass, frozen_start, 2)
    ledger = ledger_of(platform_money)
    assert ledger.find(RULE_SUBENTRY_ID, "k-1").status is attempt
    assert ledger.last_outcome(RULE_SUBENTRY_ID).result == result
    assert result in RULE_RESULTS
    assert (audit[-1].data["outcome"], audit[-1].data["reason"]) == (outcome, reason)
    assert logbook[-1].data["message"].startswith(message)
    assert executed[0].data["status"] == status
    assert ledger.runs_today(RULE_SUBENTRY_ID) == 1  # a run that failed is still a run


async def test_an_early_not_found_is_only_a_delay(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    client = platform_money.client
    fake = platform_money.fake
    fake.execution_statuses[:] = ["EXECUTED"]
    await trigger(hass, platform_money, idempotency_key="k-1")
    client.async_get_rule_execution.side_effect = _then(
        SequenceNotFoundError("x"), SequenceServerError("x"), then=fake.get_rule_execution
    )
    for seconds in (2, 5, 15):
        await tick(hass, frozen_start, seconds)
    assert ledger_of(platform_money).last_outcome(RULE_SUBENTRY_ID).result == "executed"


def _then(*errors: Exception, then: Any) -> Any:
    """A side effect raising ``errors`` in turn, then answering as ``then`` does."""
    pending = list(errors)

    async def answer(*args: Any, **kwargs: Any) -> Any:
        if pending:
            raise pending.pop(0)
        return await then(*args, **kwargs)

    return answer


@pytest.mark.parametrize(
    ("error", "after"),
    [
        (SequencePermissionError("x"), 2),
        (SequenceAuthError("x"), 2),
        (SequenceNotFoundError("x"), 60 * 11),
    ],
)
async def test_a_follow_that_cannot_go_on_ends_unknown(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    frozen_start: FrozenDateTimeFactory,
    error: SequenceError,
    after: int,
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    executed = async_capture_events(hass, EVENT_RULE_EXECUTED)
    await trigger(hass, platform_money, idempotency_key="k-1")
    frozen_start.tick(timedelta(seconds=after - 2))
    platform_money.client.async_get_rule_execution.side_effect = error
    await tick(hass, frozen_start, 2)
    ledger = ledger_of(platform_money)
    assert ledger.find(RULE_SUBENTRY_ID, "k-1").status is AttemptStatus.UNKNOWN
    assert ledger.runs_today(RULE_SUBENTRY_ID) == 1
    assert ledger.last_outcome(RULE_SUBENTRY_ID).result == "unknown"
    assert ledger.follows() == []
    assert (audit[-1].data["outcome"], audit[-1].data["reason"]) == (
        "unknown",
        "rule_result_unknown",
    )
    assert executed == []


async def test_a_follow_gives_up_after_a_day(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    await trigger(hass, platform_money, idempotency_key="k-1")
    for seconds in (2, 5, 15, 30, 60):
        await tick(hass, frozen_start, seconds)
    for _ in range(24 * 12):
        await tick(hass, frozen_start, 300)
    calls = platform_money.client.async_get_rule_execution.await_count
    assert ledger_of(platform_money).last_outcome(RULE_SUBENTRY_ID).result == "unknown"
    assert audit[-1].data["outcome"] == "unknown"
    await tick(hass, frozen_start, 3600)
    assert platform_money.client.async_get_rule_execution.await_count == calls


async def test_a_removed_rule_is_no_longer_followed(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    await trigger(hass, platform_money)
    hass.config_entries.async_remove_subentry(platform_money.entry, RULE_SUBENTRY_ID)
    await hass.async_block_till_done()
    await tick(hass, frozen_start, 2)
    await tick(hass, frozen_start, 600)
    assert platform_money.client.async_get_rule_execution.await_count == 0


async def test_a_restart_resumes_following(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    executed = async_capture_events(hass, EVENT_RULE_EXECUTED)
    context = Context(user_id=None)
    await trigger(hass, platform_money, context=context)
    entry = platform_money.entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    await tick(hass, frozen_start, 600)
    assert platform_money.client.async_get_rule_execution.await_count == 0  # stopped
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    platform_money.fake.execution_statuses[:] = ["EXECUTED"]
    await tick(hass, frozen_start, 2)
    assert [event.data["execution_id"] for event in executed] == ["exec-1"]
    assert executed[0].context.id == context.id  # the run's context survived the restart
    assert ledger_of(platform_money).last_outcome(RULE_SUBENTRY_ID).result == "executed"


# --- Platform API: simulations --------------------------------------------------------------------


async def test_a_simulation_reserves_nothing_and_never_sends_false(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    executed = async_capture_events(hass, EVENT_RULE_EXECUTED)
    context = Context()
    response = await trigger(hass, platform_money, simulate=True, amount=20, context=context)
    assert response == {
        "rule_id": PLATFORM_RULE_ID,
        "simulated": True,
        "result": "simulated",
        "execution_id": "exec-1",
    }
    [request] = platform_money.fake.requests
    assert (request["simulation"], request["amount_cents"]) == (True, 2000)
    assert request["key"] == derive_idempotency_key(context.id, RULE_SUBENTRY_ID, "simulation")
    ledger = ledger_of(platform_money)
    assert ledger.runs_today(RULE_SUBENTRY_ID) == 0
    assert ledger.last_live_at(RULE_SUBENTRY_ID) is None
    assert ledger.last_outcome(RULE_SUBENTRY_ID).result == "simulated"
    assert [(e.data["outcome"], e.data["simulated"]) for e in audit] == [("simulated", True)]
    platform_money.fake.execution_statuses[:] = ["EXECUTED"]
    await tick(hass, frozen_start, 2)
    assert executed[0].data["simulated"] is True
    assert ledger.last_outcome(RULE_SUBENTRY_ID).result == "simulated"  # still a simulation
    assert ledger.follows() == []
    assert len(audit) == 1
    # A live run in the same context gets a key of its own: Sequence sees no reused key.
    await trigger(hass, platform_money, context=context)
    assert [r["simulation"] for r in platform_money.fake.requests] == [True, False]
    assert len({r["key"] for r in platform_money.fake.requests}) == 2


async def test_simulations_ignore_the_limits(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    for _ in range(3):  # the day's live runs, the last one just now
        frozen_start.tick(timedelta(minutes=5))
        await trigger(hass, platform_money)
    await trigger(hass, platform_money, simulate=True)
    assert [r["simulation"] for r in platform_money.fake.requests] == [False] * 3 + [True]


async def test_a_lost_simulation_follow_only_closes(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    await trigger(hass, platform_money, simulate=True)
    platform_money.client.async_get_rule_execution.side_effect = SequencePermissionError("x")
    await tick(hass, frozen_start, 2)
    ledger = ledger_of(platform_money)
    assert ledger.follows() == []
    assert ledger.last_outcome(RULE_SUBENTRY_ID).result == "simulated"
    assert [e.data["outcome"] for e in audit] == ["simulated"]


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (SequencePermissionError("x"), "rule_permission_missing"),
        (SequenceOutcomeUnknownError("x"), "simulation_unanswered"),
        (SequenceRefusedError("x", code="RULE_DEACTIVATED"), "rule_disabled"),
    ],
)
async def test_a_failed_simulation(
    hass: HomeAssistant, platform_money: MoneySetup, error: SequenceError, key: str
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    platform_money.client.async_trigger_rule.side_effect = error
    with pytest.raises(HomeAssistantError) as raised:
        await trigger(hass, platform_money, simulate=True)
    assert raised.value.translation_key == key
    assert [(e.data["outcome"], e.data["reason"], e.data["simulated"]) for e in audit] == [
        ("failed", key, True)
    ]
    assert ledger_of(platform_money).last_outcome(RULE_SUBENTRY_ID) is None


# --- Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        ({"amount": "1.005"}, "invalid_amount", "The amount must be dollars with at most two"),
        ({"amount": -1}, "invalid_amount", "not negative"),
        ({"idempotency_key": "has spaces"}, "invalid_idempotency_key", "1 to 36 characters"),
        ({"idempotency_key": "x" * 37}, "invalid_idempotency_key", "1 to 36 characters"),
    ],
)
async def test_invalid_calls_are_refused_and_audited(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    data: dict[str, Any],
    key: str,
    message: str,
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    with pytest.raises(ServiceValidationError) as raised:
        await trigger(hass, platform_money, **data)
    assert raised.value.translation_key == key
    assert message in str(raised.value)
    assert [(e.data["outcome"], e.data["reason"]) for e in audit] == [("refused", key)]
    assert platform_money.fake.requests == []


async def test_the_limits_in_order(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    await trigger(hass, platform_money)
    frozen_start.tick(timedelta(minutes=1))
    with pytest.raises(ServiceValidationError) as too_soon:
        await trigger(hass, platform_money)
    assert too_soon.value.translation_key == "rule_too_soon"
    assert str(too_soon.value) == (
        "This rule may run live at most once every 5 minutes; try again in 4 minutes"
    )
    for _ in range(2):
        frozen_start.tick(timedelta(minutes=5))
        await trigger(hass, platform_money)
    frozen_start.tick(timedelta(minutes=5))
    with pytest.raises(ServiceValidationError) as daily:
        await trigger(hass, platform_money)
    assert daily.value.translation_key == "rule_daily_limit"
    assert len(platform_money.fake.live("trigger_rule")) == 3
    refused = [e.data["reason"] for e in audit if e.data["outcome"] == "refused"]
    assert refused == ["rule_too_soon", "rule_daily_limit"]


async def test_concurrent_calls_never_pass_the_daily_limit(
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
        subentries_data=[rule_subentry(remote=False, min_interval_minutes=0)],
    )
    money = await setup_money(hass, entry, fake_sequence, money_client)
    results = await asyncio.gather(
        *(trigger(hass, money, context=Context()) for _ in range(10)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, ServiceValidationError)]
    assert len(refused) == 7
    assert {error.translation_key for error in refused} == {"rule_daily_limit"}
    assert len(fake_sequence.live("trigger_rule")) == 3
    assert ledger_of(money).runs_today(RULE_SUBENTRY_ID) == 3


async def test_a_remote_rule_on_an_api_key_entry_is_not_a_rule(
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
        subentries_data=[rule_subentry(remote=True)],
    )
    money = await setup_money(hass, entry, fake_sequence, money_client)
    with pytest.raises(ServiceValidationError) as raised:
        await trigger(hass, money)
    assert raised.value.translation_key == "not_a_rule"
    assert fake_sequence.requests == []


# --- Failed live requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "key", "status", "result", "outcome"),
    [
        (SequenceOutcomeUnknownError("x"), "rule_result_unknown", AttemptStatus.UNKNOWN,
         "unknown", "unknown"),
        (SequenceServerError("x"), "rule_result_unknown", AttemptStatus.UNKNOWN, "unknown",
         "unknown"),
        (SequenceConnectionError("x"), "money_not_sent", AttemptStatus.RELEASED, "failed",
         "failed"),
        (SequenceRateLimitError("x", retry_after=30), "money_rate_limited",
         AttemptStatus.RELEASED, "rate_limited", "failed"),
        (SequencePermissionError("x"), "rule_permission_missing", AttemptStatus.RELEASED,
         "rejected", "failed"),
        (SequenceRefusedError("x", code="RULE_DEACTIVATED"), "rule_disabled",
         AttemptStatus.RELEASED, "rejected", "failed"),
        (SequenceRefusedError("x", code="INVALID_RULE"), "rule_gone", AttemptStatus.RELEASED,
         "rejected", "failed"),
        (SequenceNotFoundError("x"), "rule_gone", AttemptStatus.RELEASED, "rejected", "failed"),
        (SequenceAuthError("x"), "invalid_auth_api_key", AttemptStatus.RELEASED, "rejected",
         "failed"),
        (SequenceConflictError("x"), "rule_in_progress", AttemptStatus.UNKNOWN, None,
         "unknown"),
    ],
)  # fmt: skip
async def test_a_failed_live_request(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    frozen_start: FrozenDateTimeFactory,
    error: SequenceError,
    key: str,
    status: AttemptStatus,
    result: str | None,
    outcome: str,
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    platform_money.client.async_trigger_rule.side_effect = error
    with pytest.raises(HomeAssistantError) as raised:
        await trigger(hass, platform_money, idempotency_key="k-1")
    assert raised.value.translation_key == key
    ledger = ledger_of(platform_money)
    assert ledger.find(RULE_SUBENTRY_ID, "k-1").status is status
    assert ledger.runs_today(RULE_SUBENTRY_ID) == (status is not AttemptStatus.RELEASED)
    last = ledger.last_outcome(RULE_SUBENTRY_ID)
    assert (None if last is None else last.result) == result
    assert (audit[-1].data["outcome"], audit[-1].data["reason"]) == (outcome, key)
    await tick(hass, frozen_start, 3600)
    assert platform_money.client.async_trigger_rule.await_count == 1  # never sent again


async def test_an_unknown_result_says_what_to_do(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    platform_money.client.async_trigger_rule.side_effect = SequenceOutcomeUnknownError("x")
    with pytest.raises(HomeAssistantError) as raised:
        await trigger(hass, platform_money, idempotency_key="payday-1")
    assert str(raised.value) == (
        "Result unknown: check Sequence before running it again; calling again with the same "
        "idempotency key is safe (payday-1)"
    )


async def test_calling_again_with_the_key_of_an_unknown_result(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    """The retry the error invites: no new share, Sequence answers from its memory."""
    client = platform_money.client
    client.async_trigger_rule.side_effect = _then(
        SequenceOutcomeUnknownError("x"), then=platform_money.fake.trigger_rule
    )
    with pytest.raises(HomeAssistantError):
        await trigger(hass, platform_money, idempotency_key="k-1")
    frozen_start.tick(timedelta(minutes=1))  # within the minimum interval: a repeat is no run
    response = await trigger(hass, platform_money, idempotency_key="k-1")
    assert response["result"] == "in_progress"
    ledger = ledger_of(platform_money)
    assert ledger.runs_today(RULE_SUBENTRY_ID) == 1
    assert ledger.find(RULE_SUBENTRY_ID, "k-1").status is AttemptStatus.SENT


async def test_a_conflict_on_a_repeat_leaves_the_first_call_alone(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    await trigger(hass, platform_money, idempotency_key="k-1")
    platform_money.client.async_trigger_rule.side_effect = SequenceConflictError("x")
    with pytest.raises(HomeAssistantError) as raised:
        await trigger(hass, platform_money, idempotency_key="k-1")
    assert str(raised.value).startswith("A run of this rule with the same idempotency key (k-1)")
    ledger = ledger_of(platform_money)
    assert ledger.find(RULE_SUBENTRY_ID, "k-1").status is AttemptStatus.SENT
    assert ledger.last_outcome(RULE_SUBENTRY_ID).result == "in_progress"
    assert [e.data["outcome"] for e in audit] == ["sent", "unknown"]


async def test_a_repeat_of_a_finished_run_is_answered_without_sending(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    await trigger(hass, platform_money, idempotency_key="k-1")
    platform_money.fake.execution_statuses[:] = ["PARTIAL"]
    await tick(hass, frozen_start, 2)
    response = await trigger(hass, platform_money, idempotency_key="k-1")
    assert response == {
        "rule_id": PLATFORM_RULE_ID,
        "simulated": False,
        "result": "partial",
        "execution_id": "exec-1",
    }
    assert len(platform_money.fake.requests) == 1
    assert audit[-1].data["outcome"] == "succeeded"
    # Once the sensors show a newer run, the repeat still answers that the run executed.
    await trigger(hass, platform_money, simulate=True)
    response = await trigger(hass, platform_money, idempotency_key="k-1")
    assert response["result"] == "executed"


async def test_a_key_reused_for_another_request_is_refused(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    await trigger(hass, platform_money, idempotency_key="k-1")
    for data in ({"amount": 5}, {"simulate": True}):
        with pytest.raises(ServiceValidationError) as raised:
            await trigger(hass, platform_money, idempotency_key="k-1", **data)
        assert raised.value.translation_key == "idempotency_key_reused"
    assert len(platform_money.fake.requests) == 1


# --- Remote API -----------------------------------------------------------------------------------


async def test_a_remote_rule_is_triggered_with_its_own_secret(
    hass: HomeAssistant, remote_money: MoneySetup
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    context = Context()
    response = await trigger(hass, remote_money, context=context)
    assert response == {"rule_id": REMOTE_RULE_ID, "simulated": False, "result": "triggered"}
    trigger_mock: AsyncMock = remote_money.client
    [call] = trigger_mock.await_args_list
    sent = call.args[0]
    assert (sent._trigger_url, sent._secret.value) == (TRIGGER_URL, RULE_SECRET)
    assert call.kwargs == {"idempotency_key": derive_idempotency_key(context.id, RULE_SUBENTRY_ID)}
    assert RULE_SECRET not in repr(sent)
    ledger = ledger_of(remote_money)
    assert ledger.runs_today(RULE_SUBENTRY_ID) == 1
    assert ledger.last_outcome(RULE_SUBENTRY_ID).result == "triggered"
    assert ledger.follows() == []
    assert [e.data["outcome"] for e in audit] == ["sent"]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"amount": 10}, "rule_amount_remote"),
        ({"simulate": True}, "rule_simulate_remote"),
    ],
)
async def test_what_the_remote_api_cannot_do_is_refused(
    hass: HomeAssistant, remote_money: MoneySetup, data: dict[str, Any], key: str
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    with pytest.raises(ServiceValidationError) as raised:
        await trigger(hass, remote_money, **data)
    assert raised.value.translation_key == key
    assert remote_money.client.await_count == 0
    assert audit[0].data["reason"] == key


async def test_a_remote_repeat_of_a_triggered_run_is_answered_without_sending(
    hass: HomeAssistant, remote_money: MoneySetup
) -> None:
    """The Remote API may not recognise a key again: what it triggered is not sent again."""
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    await trigger(hass, remote_money, idempotency_key="k-1")
    response = await trigger(hass, remote_money, idempotency_key="k-1")
    assert response == {"rule_id": REMOTE_RULE_ID, "simulated": False, "result": "triggered"}
    assert remote_money.client.await_count == 1
    assert ledger_of(remote_money).runs_today(RULE_SUBENTRY_ID) == 1
    assert [e.data["outcome"] for e in audit] == ["sent", "sent"]


async def test_a_remote_repeat_of_an_unknown_result_is_another_run(
    hass: HomeAssistant, remote_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    """It may run again, so it waits for the minimum interval and counts as a run."""
    remote_money.client.side_effect = SequenceOutcomeUnknownError("x")
    with pytest.raises(HomeAssistantError) as raised:
        await trigger(hass, remote_money, idempotency_key="k-1")
    assert raised.value.translation_key == "rule_result_unknown_remote"
    assert str(raised.value) == (
        "Result unknown: check Sequence before running it again. The Remote API does not "
        "promise to recognise a repeated idempotency key (k-1), so calling again may run the "
        "rule again, and counts as another run"
    )
    remote_money.client.side_effect = None
    frozen_start.tick(timedelta(minutes=1))
    with pytest.raises(ServiceValidationError) as refused:
        await trigger(hass, remote_money, idempotency_key="k-1")
    assert refused.value.translation_key == "rule_too_soon"
    frozen_start.tick(timedelta(minutes=5))
    response = await trigger(hass, remote_money, idempotency_key="k-1")
    assert response["result"] == "triggered"
    assert remote_money.client.await_count == 2
    assert ledger_of(remote_money).runs_today(RULE_SUBENTRY_ID) == 2


async def test_a_refused_secret_asks_to_reconfigure_the_rule(
    hass: HomeAssistant, remote_money: MoneySetup, issue_registry: ir.IssueRegistry
) -> None:
    remote_money.client.side_effect = SequenceRuleSecretError("x")
    with pytest.raises(HomeAssistantError) as raised:
        await trigger(hass, remote_money)
    assert raised.value.translation_key == "rule_secret_refused"
    assert "Change the rule" in str(raised.value)
    issue_id = rule_secret_issue_id(remote_money.entry.entry_id, RULE_SUBENTRY_ID)
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"title": "Round-ups", "entry_title": "Sequence"}
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)  # no reauth
    assert ledger_of(remote_money).runs_today(RULE_SUBENTRY_ID) == 0
    remote_money.client.side_effect = None
    await trigger(hass, remote_money)  # e.g. after a reconfigure: the repair goes away
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_a_rate_limited_remote_rule_ran_nothing(
    hass: HomeAssistant, remote_money: MoneySetup
) -> None:
    remote_money.client.side_effect = SequenceRateLimitError("x")
    with pytest.raises(HomeAssistantError) as raised:
        await trigger(hass, remote_money)
    assert str(raised.value) == (
        "Sequence is rate limiting requests, so nothing was sent. Try again in a minute"
    )
    ledger = ledger_of(remote_money)
    assert ledger.runs_today(RULE_SUBENTRY_ID) == 0
    assert ledger.last_outcome(RULE_SUBENTRY_ID).result == "rate_limited"


async def test_a_platform_rule_on_an_access_token_entry_is_not_a_rule(
    hass: HomeAssistant,
    remote_money_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    remote_trigger: MagicMock,
    fake_sequence: FakeSequence,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    money = await setup_money(hass, remote_money_entry, fake_sequence, remote_trigger)
    hass.config_entries.async_add_subentry(
        money.entry,
        ConfigSubentry(
            data=dict(rule_subentry(remote=False)["data"]),
            subentry_type=SUBENTRY_RULE,
            title="Platform rule",
            unique_id=PLATFORM_RULE_ID,
            subentry_id="01JSEQUENCESUBENTRYRULE0002",
        ),
    )
    device = add_subentry_device(hass, money.entry, "01JSEQUENCESUBENTRYRULE0002")
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, "trigger_rule", {"rule": device})
    assert raised.value.translation_key == "not_a_rule"
    assert remote_trigger.await_count == 0


async def test_the_secret_is_nowhere_but_in_the_request(
    hass: HomeAssistant, remote_money: MoneySetup, hass_storage: dict[str, Any]
) -> None:
    """Not in events (the action's call, the audit), the audit store, responses or errors."""
    events: list[Any] = []
    hass.bus.async_listen("*", events.append)
    response = await trigger(hass, remote_money)
    remote_money.client.side_effect = SequenceRuleSecretError("x")
    with pytest.raises(HomeAssistantError) as raised:
        await trigger(hass, remote_money)
    log = await call_action(hass, "get_audit_log", {"config_entry_id": remote_money.entry.entry_id})
    await hass.async_block_till_done()
    texts = [
        repr(response),
        str(raised.value),
        repr(log),
        *(repr(event.data) for event in events),
        repr(hass_storage.get(f"{DOMAIN}.audit.{remote_money.entry.entry_id}")),
        repr(hass_storage.get(f"{DOMAIN}.money.{remote_money.entry.entry_id}")),
    ]
    assert len(events) > 3
    assert not [text for text in texts if RULE_SECRET in text]
