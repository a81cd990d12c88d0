"""The money guard: limits under one lock, shares saved first, repeats, every outcome audited."""

import asyncio
from dataclasses import replace
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_LOGBOOK_ENTRY
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.sequence.api.transport import IDEMPOTENCY_KEY
from custom_components.sequence.audit import AuditOutcome, MoneyAction, async_get_audit_trail
from custom_components.sequence.const import DOMAIN, EVENT_MONEY_ACTION
from custom_components.sequence.guard import (
    NO_LIMITS,
    Limits,
    MoneyCall,
    MoneyGuard,
    Refusal,
    RouteLimits,
    RuleLimits,
    async_refusal,
    async_refuse,
    cents_text,
    derive_idempotency_key,
    request_fingerprint,
)
from custom_components.sequence.ledger import Attempt, AttemptStatus, Follow, MoneyLedger, Outcome

ENTRY = "01JSEQUENCETESTENTRY0000001"
RULE = "subentry-rule"
ROUTE = "subentry-route"
UNLIMITED_RULE = RuleLimits(min_interval=timedelta(0), max_runs_per_day=1000)


@pytest.fixture
async def guard(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> MoneyGuard:
    await hass.config.async_set_time_zone("America/Chicago")
    freezer.move_to("2026-12-01T18:00:00+00:00")  # noon in Chicago
    await async_get_translations(hass, "en", "exceptions", {DOMAIN})
    hass.config.components.add(DOMAIN)  # translated messages come from loaded integrations
    ledger = MoneyLedger(hass, ENTRY)
    await ledger.async_load()
    return MoneyGuard(hass, ledger, await async_get_audit_trail(hass, ENTRY))


def rule_call(
    key: str = "key-1", *, fingerprint: str = "fp", simulated: bool = False, remembered: bool = True
) -> MoneyCall:
    return MoneyCall(
        action=MoneyAction.TRIGGER_RULE,
        entry_id=ENTRY,
        subentry_id=RULE,
        title="Round-ups",
        idempotency_key=key,
        fingerprint=fingerprint,
        simulated=simulated,
        context=Context(user_id="admin-1"),
        rule_id="rule-1",
        sequence_remembers_key=remembered,
    )


def transfer_call(key: str, cents: int) -> MoneyCall:
    return MoneyCall(
        action=MoneyAction.TRANSFER,
        entry_id=ENTRY,
        subentry_id=ROUTE,
        title="Pay to Vacation",
        idempotency_key=key,
        fingerprint=request_fingerprint({"amount": cents}),
        simulated=False,
        context=Context(),
        amount_cents=cents,
        source_account_id="a",
        destination_account_id="b",
    )


def test_derived_keys_are_stable_short_and_distinct() -> None:
    key = derive_idempotency_key("context-1", "subentry-1")
    assert key == derive_idempotency_key("context-1", "subentry-1")
    assert IDEMPOTENCY_KEY.fullmatch(key)
    assert len(key) == 36
    assert key != derive_idempotency_key("context-1", "subentry-2")
    assert key != derive_idempotency_key("context-2", "subentry-1")
    assert derive_idempotency_key("a", "bc") != derive_idempotency_key("ab", "c")


def test_fingerprints_ignore_key_order() -> None:
    assert request_fingerprint({"a": 1, "b": "x"}) == request_fingerprint({"b": "x", "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "0.00"), (5, "0.05"), (100, "1.00"), (123456, "1234.56"), (-250, "-2.50")],
)
def test_cents_text(cents: int, text: str) -> None:
    assert cents_text(cents) == text


async def test_rule_limits(guard: MoneyGuard, freezer: FrozenDateTimeFactory) -> None:
    limits = RuleLimits(min_interval=timedelta(minutes=5), max_runs_per_day=2)
    now = dt_util.utcnow()
    assert limits.refusal(guard.ledger, RULE, now, None) is None
    await guard.async_reserve(rule_call("k1"), limits)
    freezer.tick(timedelta(minutes=1, seconds=1))
    assert limits.refusal(guard.ledger, RULE, dt_util.utcnow(), None) == Refusal(
        "rule_too_soon", {"minutes": "5", "wait": "4"}
    )
    freezer.tick(timedelta(minutes=3, seconds=58))  # a second left: still "1 minute"
    assert limits.refusal(guard.ledger, RULE, dt_util.utcnow(), None) == Refusal(
        "rule_too_soon", {"minutes": "5", "wait": "1"}
    )
    freezer.tick(timedelta(seconds=1))
    await guard.async_reserve(rule_call("k2"), limits)
    freezer.tick(timedelta(hours=1))
    assert limits.refusal(guard.ledger, RULE, dt_util.utcnow(), None) == Refusal(
        "rule_daily_limit", {"limit": "2"}
    )
    freezer.move_to("2026-12-02T06:00:00+00:00")  # midnight in Chicago: a new day
    assert limits.refusal(guard.ledger, RULE, dt_util.utcnow(), None) is None


async def test_route_limits(guard: MoneyGuard) -> None:
    limits = RouteLimits(max_per_transfer_cents=5000, max_per_day_cents=8000)
    now = dt_util.utcnow()
    assert limits.refusal(guard.ledger, ROUTE, now, 5001) == Refusal(
        "transfer_over_maximum", {"maximum": "50.00"}
    )
    await guard.async_reserve(transfer_call("t1", 5000), limits)
    assert limits.refusal(guard.ledger, ROUTE, now, 3001) == Refusal(
        "transfer_over_daily_maximum", {"maximum": "80.00", "left": "30.00"}
    )
    assert limits.refusal(guard.ledger, ROUTE, now, 3000) is None


@pytest.fixture
def yielding_check(guard: MoneyGuard, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let other calls run between checking the limits and reserving, as slow I/O would.

    Without it the check and the reservation never yield, and calls pass one at a time even
    without the guard's lock: the concurrency tests would not test the lock.
    """
    check = guard.async_check

    async def check_then_yield(call: MoneyCall, limits: Limits) -> Attempt | None:
        earlier = await check(call, limits)
        await asyncio.sleep(0)
        return earlier

    monkeypatch.setattr(guard, "async_check", check_then_yield)


@pytest.mark.usefixtures("yielding_check")
async def test_concurrent_calls_never_pass_a_limit_together(
    hass: HomeAssistant, guard: MoneyGuard
) -> None:
    events = async_capture_events(hass, EVENT_MONEY_ACTION)
    limits = RuleLimits(min_interval=timedelta(0), max_runs_per_day=3)
    results = await asyncio.gather(
        *(guard.async_reserve(rule_call(f"k{n}"), limits) for n in range(10)),
        return_exceptions=True,
    )
    refused = [result for result in results if isinstance(result, ServiceValidationError)]
    assert len(refused) == 7
    assert all(error.translation_key == "rule_daily_limit" for error in refused)
    assert guard.ledger.runs_today(RULE) == 3
    assert [event.data["outcome"] for event in events] == ["refused"] * 7
    assert {event.data["reason"] for event in events} == {"rule_daily_limit"}


@pytest.mark.usefixtures("yielding_check")
async def test_concurrent_transfers_never_exceed_the_daily_amount(guard: MoneyGuard) -> None:
    limits = RouteLimits(max_per_transfer_cents=10_000, max_per_day_cents=25_000)
    results = await asyncio.gather(
        *(guard.async_reserve(transfer_call(f"t{n}", 10_000), limits) for n in range(5)),
        return_exceptions=True,
    )
    assert sum(not isinstance(result, Exception) for result in results) == 2
    assert guard.ledger.moved_today_cents(ROUTE) == 20_000


async def test_a_repeated_key_reserves_nothing_more(guard: MoneyGuard) -> None:
    limits = RuleLimits(min_interval=timedelta(hours=1), max_runs_per_day=1)
    first = await guard.async_reserve(rule_call("same"), limits)
    assert first.repeat is None
    again = await guard.async_reserve(rule_call("same"), limits)  # a retry: no limit applies
    assert again.repeat is not None
    assert again.repeat.key == "same"
    assert guard.ledger.runs_today(RULE) == 1


async def test_a_key_reused_for_another_request_is_refused(
    hass: HomeAssistant, guard: MoneyGuard
) -> None:
    events = async_capture_events(hass, EVENT_MONEY_ACTION)
    await guard.async_reserve(rule_call("same", fingerprint="a"), UNLIMITED_RULE)
    with pytest.raises(ServiceValidationError) as refused:
        await guard.async_reserve(rule_call("same", fingerprint="b"), UNLIMITED_RULE)
    assert refused.value.translation_key == "idempotency_key_reused"
    assert "already used for a different request" in str(refused.value)
    assert events[-1].data["reason"] == "idempotency_key_reused"
    assert guard.ledger.runs_today(RULE) == 1


async def test_a_released_key_may_be_used_again_as_a_new_attempt(guard: MoneyGuard) -> None:
    reservation = await guard.async_reserve(rule_call("k"), UNLIMITED_RULE)
    await guard.async_settle(
        reservation,
        AttemptStatus.RELEASED,
        Outcome(at=dt_util.utcnow(), result="rejected"),
        reason="rule_rejected",
    )
    assert guard.ledger.runs_today(RULE) == 0
    again = await guard.async_reserve(rule_call("k"), UNLIMITED_RULE)
    assert again.repeat is None
    assert guard.ledger.runs_today(RULE) == 1


async def test_settling_records_status_outcome_and_audit(
    hass: HomeAssistant, guard: MoneyGuard
) -> None:
    events = async_capture_events(hass, EVENT_MONEY_ACTION)
    logbook = async_capture_events(hass, EVENT_LOGBOOK_ENTRY)
    reservation = await guard.async_reserve(rule_call("k"), UNLIMITED_RULE)
    outcome = Outcome(at=dt_util.utcnow(), result="in_progress", reference="exec-1")
    await guard.async_settle(reservation, AttemptStatus.SENT, outcome)
    unknown = HomeAssistantError("no answer")
    await guard.async_settle(
        reservation,
        AttemptStatus.UNKNOWN,
        Outcome(at=dt_util.utcnow(), result="unknown", reference="exec-1"),
        reason="result_unknown",
        error=unknown,
    )
    attempt = guard.ledger.find(RULE, "k")
    assert attempt is not None
    assert attempt.status is AttemptStatus.UNKNOWN
    assert attempt.reference == "exec-1"
    assert [e.data["outcome"] for e in events] == ["sent", "unknown"]
    assert events[0].data["execution_id"] == "exec-1"
    assert events[0].data["transfer_id"] is None
    assert events[0].data["user_id"] == "admin-1"
    assert events[0].data["idempotency_key"] == "k"
    assert [e.data["message"] for e in logbook] == [
        "was triggered",
        "has an unknown result: no answer",
    ]
    assert logbook[0].data["name"] == "Sequence rule Round-ups"
    # No entity: Home Assistant's logbook titles an entity's entry with the entity's name
    # ("Last run result was triggered"), hiding the rule's; without one it shows this name.
    assert all("entity_id" not in entry.data for entry in logbook)


async def test_transfer_outcomes_read_with_their_amount(
    hass: HomeAssistant, guard: MoneyGuard
) -> None:
    logbook = async_capture_events(hass, EVENT_LOGBOOK_ENTRY)
    events = async_capture_events(hass, EVENT_MONEY_ACTION)
    limits = RouteLimits(max_per_transfer_cents=5000, max_per_day_cents=5000)
    reservation = await guard.async_reserve(transfer_call("t", 5000), limits)
    await guard.async_settle(
        reservation,
        AttemptStatus.SUCCEEDED,
        Outcome(at=dt_util.utcnow(), result="complete", reference="transfer-1", amount_cents=5000),
    )
    with pytest.raises(ServiceValidationError):
        await guard.async_reserve(transfer_call("t2", 100), limits)
    assert [e.data["message"] for e in logbook] == [
        "moved $50.00",
        (
            "transfer of $1.00 was refused: The amount is over what is left of this route's "
            "daily maximum of $50.00 ($0.00 left today)"
        ),
    ]
    assert logbook[0].data["name"] == "Sequence transfer route Pay to Vacation"
    assert events[0].data["transfer_id"] == "transfer-1"
    assert events[0].data["execution_id"] is None
    assert (events[0].data["source_account_id"], events[0].data["amount"]) == ("a", "50.00")


async def test_simulations_are_audited_without_touching_the_limits(
    hass: HomeAssistant, guard: MoneyGuard
) -> None:
    logbook = async_capture_events(hass, EVENT_LOGBOOK_ENTRY)
    await guard.async_audit(rule_call("s", simulated=True), AuditOutcome.SIMULATED)
    assert logbook[0].data["message"] == "ran as a simulation; no money moved"
    assert guard.ledger.runs_today(RULE) == 0
    assert guard.audit.counts() == {"simulated": 1}


async def test_checking_reserves_nothing(guard: MoneyGuard) -> None:
    limits = RuleLimits(min_interval=timedelta(0), max_runs_per_day=1)
    assert await guard.async_check(rule_call("k"), limits) is None
    assert guard.ledger.runs_today(RULE) == 0
    await guard.async_reserve(rule_call("k"), limits)
    repeat = await guard.async_check(rule_call("k"), limits)  # a repeat: no limit applies
    assert repeat is not None
    assert repeat.key == "k"
    with pytest.raises(ServiceValidationError) as refused:
        await guard.async_check(rule_call("other"), limits)
    assert refused.value.translation_key == "rule_daily_limit"
    assert guard.ledger.runs_today(RULE) == 1


async def test_no_limits_refuse_nothing(guard: MoneyGuard) -> None:
    await guard.async_reserve(rule_call("k"), RuleLimits(timedelta(hours=1), 1))
    assert await guard.async_check(rule_call("k2", simulated=True), NO_LIMITS) is None


async def test_settling_can_open_a_follow(guard: MoneyGuard) -> None:
    reservation = await guard.async_reserve(rule_call("k"), UNLIMITED_RULE)
    follow = Follow(reference="exec-1", key="k", started_at=dt_util.utcnow())
    outcome = Outcome(at=dt_util.utcnow(), result="in_progress", reference="exec-1")
    await guard.async_settle(reservation, AttemptStatus.SENT, outcome, follow=follow)
    assert guard.ledger.follows() == [(RULE, follow)]


async def test_a_refusal_without_a_guard_or_a_subentry(
    hass: HomeAssistant, guard: MoneyGuard
) -> None:
    """A call naming an entry that is not loaded, or a device that is not a subentry."""
    events = async_capture_events(hass, EVENT_MONEY_ACTION)
    call = replace(rule_call(""), subentry_id="")
    error = await async_refusal(guard.audit, call, Refusal("not_a_rule"))
    assert error.translation_key == "not_a_rule"
    with pytest.raises(ServiceValidationError):
        await async_refuse(guard.audit, call, Refusal("not_a_rule"))
    assert [(e.data["subentry_id"], e.data["idempotency_key"]) for e in events] == [
        (None, None),
        (None, None),
    ]


async def test_the_reason_is_the_errors_unless_given(
    hass: HomeAssistant, guard: MoneyGuard
) -> None:
    events = async_capture_events(hass, EVENT_MONEY_ACTION)
    error = HomeAssistantError(translation_domain=DOMAIN, translation_key="rule_failed")
    await guard.async_audit(rule_call("k"), AuditOutcome.FAILED, error=error)
    await guard.async_audit(rule_call("k"), AuditOutcome.FAILED, reason="other", error=error)
    await guard.async_audit(rule_call("k"), AuditOutcome.SUCCEEDED)
    assert [e.data["reason"] for e in events] == ["rule_failed", "other", None]


async def test_a_key_sequence_may_have_forgotten_is_a_new_call(
    guard: MoneyGuard, freezer: FrozenDateTimeFactory
) -> None:
    """Sequence remembers a key for 24 hours: after that, a repeat would run again.

    So a key older than the ledger's margin takes a new share under the limits, as a new call.
    """
    limits = RuleLimits(min_interval=timedelta(0), max_runs_per_day=1)
    first = await guard.async_reserve(rule_call("same"), limits)
    await guard.async_settle(
        first, AttemptStatus.SENT, Outcome(at=dt_util.utcnow(), result="in_progress")
    )
    freezer.tick(timedelta(hours=22, minutes=59))
    assert (await guard.async_reserve(rule_call("same"), limits)).repeat is not None
    freezer.tick(timedelta(hours=1, minutes=1))  # 24 hours: Sequence may have forgotten it
    await guard.async_reserve(rule_call("other"), limits)  # the new day's one run
    with pytest.raises(ServiceValidationError) as refused:
        await guard.async_reserve(rule_call("same"), limits)
    assert refused.value.translation_key == "rule_daily_limit"


async def test_an_old_key_may_carry_another_request(
    guard: MoneyGuard, freezer: FrozenDateTimeFactory
) -> None:
    await guard.async_reserve(rule_call("same", fingerprint="a"), UNLIMITED_RULE)
    freezer.tick(timedelta(hours=23))
    reservation = await guard.async_reserve(rule_call("same", fingerprint="b"), UNLIMITED_RULE)
    assert reservation.repeat is None


async def test_a_repeat_of_an_unknown_outcome_must_fit_the_limits_now(
    guard: MoneyGuard, freezer: FrozenDateTimeFactory
) -> None:
    """Sent again, an attempt that may never have run may run now: it counts from now on."""
    limits = RuleLimits(min_interval=timedelta(minutes=5), max_runs_per_day=2)
    first = await guard.async_reserve(rule_call("lost"), limits)
    await guard.async_settle(
        first, AttemptStatus.UNKNOWN, Outcome(at=dt_util.utcnow(), result="unknown")
    )
    freezer.tick(timedelta(minutes=10))
    await guard.async_reserve(rule_call("other"), limits)
    freezer.tick(timedelta(minutes=1))
    with pytest.raises(ServiceValidationError) as refused:  # "other" ran a minute ago
        await guard.async_reserve(rule_call("lost"), limits)
    assert refused.value.translation_key == "rule_too_soon"
    freezer.tick(timedelta(minutes=5))
    again = await guard.async_reserve(rule_call("lost"), limits)
    assert again.repeat is not None
    renewed = guard.ledger.find(RULE, "lost")
    assert renewed is not None
    assert (renewed.at, renewed.status) == (dt_util.utcnow(), AttemptStatus.RESERVED)
    assert guard.ledger.runs_today(RULE) == 2  # still one share each
    assert guard.ledger.last_live_at(RULE) == dt_util.utcnow()


async def test_where_keys_are_not_remembered_a_repeat_of_an_unknown_outcome_is_a_new_run(
    guard: MoneyGuard, freezer: FrozenDateTimeFactory
) -> None:
    """The Remote API only accepts the header: sent again, the run may happen twice."""
    limits = RuleLimits(min_interval=timedelta(minutes=5), max_runs_per_day=2)
    first = await guard.async_reserve(rule_call("lost", remembered=False), limits)
    await guard.async_settle(
        first, AttemptStatus.UNKNOWN, Outcome(at=dt_util.utcnow(), result="unknown")
    )
    freezer.tick(timedelta(minutes=1))
    with pytest.raises(ServiceValidationError) as refused:  # the lost one may have run
        await guard.async_reserve(rule_call("lost", remembered=False), limits)
    assert refused.value.translation_key == "rule_too_soon"
    freezer.tick(timedelta(minutes=5))
    again = await guard.async_reserve(rule_call("lost", remembered=False), limits)
    assert again.repeat is None
    assert guard.ledger.runs_today(RULE) == 2  # a share each: both may have run
    freezer.tick(timedelta(minutes=10))
    with pytest.raises(ServiceValidationError) as refused:
        await guard.async_reserve(rule_call("lost", remembered=False), limits)
    assert refused.value.translation_key == "rule_daily_limit"


async def test_a_repeat_of_an_accepted_attempt_needs_no_limit(
    guard: MoneyGuard, freezer: FrozenDateTimeFactory
) -> None:
    limits = RuleLimits(min_interval=timedelta(hours=1), max_runs_per_day=1)
    first = await guard.async_reserve(rule_call("sent"), limits)
    await guard.async_settle(
        first, AttemptStatus.SENT, Outcome(at=dt_util.utcnow(), result="in_progress")
    )
    freezer.tick(timedelta(minutes=1))
    again = await guard.async_reserve(rule_call("sent"), limits)
    assert again.repeat is not None
    assert again.repeat.status is AttemptStatus.SENT


@pytest.mark.parametrize(
    ("earlier", "kept"),
    [
        (AttemptStatus.SENT, AttemptStatus.SENT),
        (AttemptStatus.SUCCEEDED, AttemptStatus.SUCCEEDED),
        (AttemptStatus.UNKNOWN, AttemptStatus.UNKNOWN),
    ],
)
async def test_a_refused_repeat_never_gives_the_earlier_share_back(
    guard: MoneyGuard, earlier: AttemptStatus, kept: AttemptStatus
) -> None:
    """A repeat refused before running (say a 429) says nothing of the earlier request."""
    first = await guard.async_reserve(rule_call("k"), UNLIMITED_RULE)
    await guard.async_settle(first, earlier, Outcome(at=dt_util.utcnow(), result="x"))
    repeat = await guard.async_reserve(rule_call("k"), UNLIMITED_RULE)
    assert repeat.repeat is not None
    await guard.async_settle(
        repeat, AttemptStatus.RELEASED, Outcome(at=dt_util.utcnow(), result="rate_limited")
    )
    attempt = guard.ledger.find(RULE, "k")
    assert attempt is not None
    assert attempt.status is kept
    assert guard.ledger.runs_today(RULE) == 1
