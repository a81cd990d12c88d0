"""Parsing Platform API bodies: every rejected shape named, and arbitrary JSON never escapes."""

import contextlib
import copy
from datetime import UTC, datetime
from decimal import Decimal
import json
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.sequence.api.errors import SequenceResponseError
from custom_components.sequence.api.models import (
    Account,
    AccountKind,
    ExternalTransaction,
    RuleSchedule,
    ScheduleType,
    Transfer,
    TransferDirection,
)
from custom_components.sequence.api.platform_parse import (
    DetailBatch,
    new_shapes,
    parse_account_detail,
    parse_account_page,
    parse_execution_started,
    parse_external_transaction_page,
    parse_rule_detail,
    parse_rule_execution,
    parse_rule_page,
    parse_transfer_detail,
    parse_transfer_page,
)
from custom_components.sequence.api.transport import decode_json
from tests.api.platform_server import (
    account_detail,
    envelope,
    external_transaction,
    summary,
    transfer,
)

LIABILITY_BALANCE = {
    "balanceInCents": 245000,
    "availableBalanceInCents": None,
    "lastStatementBalanceInCents": 198000,
    "lastStatementDate": "2026-10-28",
    "nextPaymentMinimumInCents": 3500,
    "nextPaymentDueDate": "2026-11-15",
    "balanceLastUpdatedAt": "2026-11-20T06:00:00Z",
    "error": None,
    "interestRatePercentage": 24.99,
    "originalLoanAmountInCents": None,
}


def card() -> dict[str, Any]:
    return account_detail(
        "card",
        "Amex",
        type_name="EXTERNAL_ACCOUNT",
        external_type="LIABILITY",
        balance=copy.deepcopy(LIABILITY_BALANCE),
    )


def page(items: list[Any], *, number: int = 1, has_next: bool = False) -> dict[str, Any]:
    return envelope(
        {"items": items, "pagination": {"page": number, "pageSize": 100, "hasNextPage": has_next}}
    )


def test_detail_of_a_liability() -> None:
    account = parse_account_detail(envelope(card()))
    assert account is not None
    assert account.is_liability
    assert account.liability is not None
    assert account.liability.interest_rate_percentage == Decimal("24.99")
    assert account.available_balance is None


def test_liability_facts_only_for_liabilities() -> None:
    body = account_detail("pod", balance=copy.deepcopy(LIABILITY_BALANCE))
    account = parse_account_detail(envelope(body))
    assert account is not None
    assert account.liability is None
    assert account.balance == Decimal("2450.00")


def as_wire(payload: object) -> object:
    return decode_json(json.dumps(payload).encode())


def test_detail_batch_keeps_the_models_of_unchanged_details() -> None:
    first = DetailBatch({})
    amex = first.parse(as_wire(envelope(card())))
    first.parse(as_wire(envelope(card() | {"id": "other"})))
    second = DetailBatch(first.known)
    assert second.parse(as_wire(envelope(card()))) is amex
    changed = card()
    changed["balance"]["balanceInCents"] = 245001
    third = DetailBatch(second.known)
    moved = third.parse(as_wire(envelope(changed)))
    assert moved == parse_account_detail(envelope(changed))
    assert moved is not amex
    assert len(second.known) == 1  # only this poll's details are kept for the next one
    assert third.shapes["balance.balanceInCents"] == {"number": 1}


def test_detail_batch_counts_shapes_of_reused_details() -> None:
    first = DetailBatch({})
    first.parse(as_wire(envelope(card())))
    second = DetailBatch(first.known)
    second.parse(as_wire(envelope(card())))
    second.parse(as_wire(envelope(card() | {"id": "x", "balance": None})))
    assert second.shapes["balance"] == {"object": 1, "null": 1}
    assert second.shapes["balance.balanceInCents"] == {"number": 1}


def test_detail_batch_takes_python_values_that_json_cannot_hold() -> None:
    batch = DetailBatch({})
    assert batch.parse(envelope(card() | {"note": 2**70})) == parse_account_detail(envelope(card()))
    assert batch.known == {}


def test_detail_batch_sees_json_types() -> None:
    """Python says True == 1; a boolean where cents belong is refused, even after a number."""
    first = DetailBatch({})
    first.parse(as_wire(envelope(card() | {"savingsTargetInCents": 1})))
    with pytest.raises(SequenceResponseError, match="savingsTargetInCents is boolean"):
        DetailBatch(first.known).parse(as_wire(envelope(card() | {"savingsTargetInCents": True})))


@pytest.mark.parametrize(
    ("type_name", "kind"),
    [
        ("POD", AccountKind.POD),
        ("INCOME_SOURCE", AccountKind.INCOME_SOURCE),
        ("EXTERNAL_ACCOUNT", AccountKind.EXTERNAL),
        ("CARD_POD", AccountKind.UNKNOWN),
    ],
)
def test_kinds(type_name: str, kind: AccountKind) -> None:
    accounts, has_next = parse_account_page(
        page([summary(account_detail("a", type_name=type_name))], has_next=True), 1
    )
    assert has_next
    assert accounts[0].kind is kind
    assert accounts[0].type_name == type_name


def test_blank_name_falls_back_to_the_id() -> None:
    accounts, _ = parse_account_page(page([summary(account_detail("a1", "  "))]), 1)
    assert accounts[0].name == "Account a1"


def set_path(body: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    target = body
    for part in parents:
        target = target[part]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return body


DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("id", DELETE, "data.id is missing"),
        ("id", " ", "data.id is empty"),
        ("type", None, "data.type is null, not a string"),
        ("name", 5, "data.name is number, not a string"),
        ("deletedAt", "yesterday", "data.deletedAt is not an RFC 3339 timestamp"),
        ("deletedAt", "2026-11-01T00:00:00", "not an RFC 3339 timestamp with an offset"),
        ("deletedAt", "2026-13-01T00:00:00Z", "data.deletedAt is not a valid timestamp"),
        ("deletedAt", "0001-01-01T00:00:00+01:00", "data.deletedAt is not a valid timestamp"),
        ("balance", DELETE, "data.balance is missing"),
        ("balance", [], "data.balance is array, not an object"),
        ("balance.balanceInCents", 1.5, "balanceInCents is number, not an integer"),
        ("balance.balanceInCents", True, "balanceInCents is boolean, not an integer"),
        ("balance.balanceInCents", 10**17, "balanceInCents is out of range"),
        ("balance.lastStatementDate", "28/10/2026", "lastStatementDate is not a date"),
        ("balance.lastStatementDate", "2026-02-30", "lastStatementDate is not a valid date"),
        (
            "balance.interestRatePercentage",
            "24.99",
            "interestRatePercentage is string, not a number",
        ),
        (
            "balance.interestRatePercentage",
            float("inf"),
            "interestRatePercentage is not a finite number",
        ),
        ("savingsTargetInCents", "1", "savingsTargetInCents is string, not an integer"),
    ],
)
def test_detail_shape_errors(path: str, value: object, message: str) -> None:
    with pytest.raises(SequenceResponseError, match=message) as caught:
        parse_account_detail(envelope(set_path(card(), path, value)))
    assert str(caught.value).startswith("unexpected Platform API response: ")


def test_detail_of_a_deleted_account_is_none() -> None:
    body = card() | {"deletedAt": "2026-11-01T00:00:00.123456789+00:00", "balance": "ignored"}
    assert parse_account_detail(envelope(body)) is None


def test_shapes_count_types_only() -> None:
    shapes = new_shapes()
    parse_account_detail(envelope(card()), shapes)
    parse_account_detail(envelope(card() | {"balance": None, "institutionName": "Amex"}), shapes)
    assert shapes["balance"] == {"object": 1, "null": 1}
    assert shapes["balance.balanceInCents"] == {"number": 1}
    assert shapes["institutionName"] == {"null": 1, "string": 1}
    assert shapes["balance.error"] == {"null": 1}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amountInCents": -1}, "amountInCents is negative"),
        ({"amountInCents": None}, "amountInCents is null, not an integer"),
        ({"direction": None}, "direction is null, not a string"),
        ({"createdAt": None}, "createdAt is null, not a timestamp"),
        ({"source": "a"}, "source is string, not an object"),
        ({"destination": {"id": 3, "name": "x"}}, "destination.id is number, not a string"),
        ({"ruleId": 5}, "ruleId is number, not a string"),
        ({"status": ""}, "status is empty"),
    ],
)
def test_transfer_shape_errors(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SequenceResponseError, match=message):
        parse_transfer_page(page([transfer("t", "a", "b") | changes]), 1)


def test_transfer_with_an_outside_party() -> None:
    body = transfer("t", "a", None) | {
        "destination": {"id": None, "name": "ATM", "type": "EXTERNAL_ENTITY", "isDeleted": None}
    }
    del body["errorCode"]
    [item], _ = parse_transfer_page(page([body]), 1)
    assert (item.destination_id, item.destination_name) == (None, "ATM")
    assert item.error_code is None


# --- Arbitrary JSON never escapes as anything but SequenceResponseError -------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
ACCOUNT_PATHS = [
    "id",
    "name",
    "type",
    "externalAccountType",
    "institutionName",
    "deletedAt",
    "balance",
    "savingsTargetInCents",
    "balance.balanceInCents",
    "balance.availableBalanceInCents",
    "balance.lastStatementBalanceInCents",
    "balance.lastStatementDate",
    "balance.nextPaymentMinimumInCents",
    "balance.nextPaymentDueDate",
    "balance.balanceLastUpdatedAt",
    "balance.error",
    "balance.interestRatePercentage",
    "balance.originalLoanAmountInCents",
]
TRANSFER_KEYS = list(transfer("t", "a", "b"))
timestamps = st.datetimes(timezones=st.timezones()).map(lambda when: when.isoformat())


def mutated_detail(changes: list[tuple[str, object]]) -> dict[str, Any]:
    body = card()
    for path, value in changes:
        if path.startswith("balance.") and not isinstance(body.get("balance"), dict):
            continue
        body = set_path(body, path, value)
    return body


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(payload=json_values)
def test_any_json_is_a_model_or_a_response_error(payload: object) -> None:
    for parse in (
        lambda: parse_account_detail(payload),
        lambda: parse_account_page(payload, 1),
        lambda: parse_transfer_page(payload, 1),
        lambda: parse_transfer_detail(payload),
        lambda: parse_external_transaction_page(payload, 1),
    ):
        with contextlib.suppress(SequenceResponseError):
            parse()


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.lists(
        st.tuples(
            st.sampled_from(ACCOUNT_PATHS),
            json_values | timestamps | st.integers(-(10**18), 10**18),
        ),
        max_size=4,
    )
)
def test_near_valid_account_details(changes: list[tuple[str, object]]) -> None:
    body = mutated_detail(changes)
    try:
        account = parse_account_detail(envelope(body))
    except SequenceResponseError as err:
        failure = str(err)
    else:
        failure = None
    if failure is not None:
        assert failure.startswith("unexpected Platform API response: ")
        return
    assert account is None or isinstance(account, Account)
    if account is not None:
        assert account.balance is None or account.balance == account.balance.quantize(
            Decimal("0.01")
        )
        assert (
            account.balance_updated_at is None or account.balance_updated_at.utcoffset() is not None
        )
    json.dumps(body)  # what was parsed was JSON


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(
        st.lists(st.tuples(st.sampled_from(TRANSFER_KEYS), json_values | timestamps), max_size=3),
        max_size=3,
    )
)
def test_near_valid_transfer_pages(items: list[list[tuple[str, object]]]) -> None:
    bodies = [
        transfer(f"t{index}", "a", "b") | dict(changes) for index, changes in enumerate(items)
    ]
    try:
        transfers, _ = parse_transfer_page(page(bodies), 1)
    except SequenceResponseError:
        return
    assert all(isinstance(item, Transfer) and item.amount >= 0 for item in transfers)


@settings(max_examples=200)
@given(
    summaries=st.lists(st.dictionaries(st.sampled_from(ACCOUNT_PATHS[:8]), json_values), max_size=3)
)
def test_near_valid_account_pages(summaries: list[dict[str, Any]]) -> None:
    items = [
        summary(account_detail(f"a{index}")) | changes for index, changes in enumerate(summaries)
    ]
    try:
        accounts, _ = parse_account_page(page(items), 1)
    except SequenceResponseError:
        return
    assert all(isinstance(account, Account) and account.balance is None for account in accounts)


RULE = {
    "id": "551ff9b6-ddf1-4110-b611-1b11044b72d4",
    "name": "Auto-save on deposit",
    "description": "Saves 20% of every incoming deposit",
    "status": "ENABLED",
    "isSupported": True,
    "createdAt": "2024-03-01T10:00:00Z",
    "updatedAt": "2024-03-15T14:30:00Z",
    "deletedAt": None,
}
EXECUTION = {
    "id": "4306b3e8-6e77-4c08-ab0b-bb33654af44c",
    "ruleId": RULE["id"],
    "status": "EXECUTED",
    "executionMode": "LIVE",
    "createdAt": "2024-04-23T09:15:00Z",
    "triggerDetails": {"type": "MANUAL", "amountInCents": 250000},
    "stepIndexMatched": 0,
    "conditionsNotMet": False,
    "transfersAttempted": 2,
    "transfersCompleted": 1,
    "transfersFailed": 1,
    "transfersPending": 0,
    "transferIds": ["809e5e0b", "32a4182a"],
    "errorMessage": "Insufficient funds in source account.",
    "nextAttemptAt": None,
}


def test_rule_page_keeps_status_support_and_deletion() -> None:
    disabled = {**RULE, "id": "r2", "status": "DISABLED", "name": None}
    unsupported = {**RULE, "id": "r3", "isSupported": False}
    deleted = {**RULE, "id": "r4", "deletedAt": "2026-11-01T00:00:00Z"}
    rules, has_next = parse_rule_page(page([RULE, disabled, unsupported, deleted]), 1)
    assert not has_next
    assert [(r.id, r.enabled, r.supported, r.deleted) for r in rules] == [
        (RULE["id"], True, True, False),
        ("r2", False, True, False),
        ("r3", True, False, False),
        ("r4", True, True, True),
    ]
    assert rules[0].name == "Auto-save on deposit"
    assert rules[1].name == "Rule r2"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": None}, r"data\.items\[0\]\.id is null, not a string"),
        ({"status": 1}, r"data\.items\[0\]\.status is number, not a string"),
        ({"isSupported": "yes"}, r"data\.items\[0\]\.isSupported is string, not a boolean"),
        ({"deletedAt": "yesterday"}, r"data\.items\[0\]\.deletedAt is not an RFC 3339"),
    ],
)
def test_rule_summary_shape_errors(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SequenceResponseError, match=message):
        parse_rule_page(page([{**RULE, **changes}]), 1)


def test_scheduled_rule_detail_has_its_schedule() -> None:
    trigger = {"type": "SCHEDULED", "scheduleType": "MONTHLY", "startDate": "2026-01-31T14:00:00Z"}
    rule = parse_rule_detail(envelope({**RULE, "trigger": trigger, "steps": []}))
    assert rule.summary.id == RULE["id"]
    assert rule.trigger_type == "SCHEDULED"
    assert rule.schedule == RuleSchedule(
        schedule_type=ScheduleType.MONTHLY, start=datetime(2026, 1, 31, 14, tzinfo=UTC)
    )


def test_other_triggers_have_no_schedule() -> None:
    trigger = {"type": "ON_FUNDS_TRANSFERRED", "accountId": "c7a7f26f"}
    rule = parse_rule_detail(envelope({**RULE, "trigger": trigger, "steps": []}))
    assert rule.trigger_type == "ON_FUNDS_TRANSFERRED"
    assert rule.schedule is None


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        (None, r"data\.trigger is null, not an object"),
        ({"scheduleType": "DAILY"}, r"data\.trigger\.type is missing"),
        ({"type": "SCHEDULED", "startDate": "2026-01-01T00:00:00Z"}, r"scheduleType is missing"),
        ({"type": "SCHEDULED", "scheduleType": "DAILY"}, r"data\.trigger\.startDate is missing"),
    ],
)
def test_rule_detail_trigger_errors(trigger: object, message: str) -> None:
    with pytest.raises(SequenceResponseError, match=message):
        parse_rule_detail(envelope({**RULE, "trigger": trigger, "steps": []}))


def test_execution_started_and_execution() -> None:
    assert parse_execution_started(envelope({"executionId": "e-1"})) == "e-1"
    execution = parse_rule_execution(envelope(EXECUTION))
    assert execution.status == "EXECUTED"
    assert not execution.simulated
    assert (execution.transfers_completed, execution.transfers_failed) == (1, 1)
    assert execution.transfer_ids == ("809e5e0b", "32a4182a")
    assert "Insufficient" not in repr(execution)  # Sequence's free text is not kept
    simulated = parse_rule_execution(envelope({**EXECUTION, "executionMode": "SIMULATION"}))
    assert simulated.simulated


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"transfersFailed": -1}, r"data\.transfersFailed is negative"),
        ({"transfersCompleted": "2"}, r"data\.transfersCompleted is string, not an integer"),
        ({"transferIds": "x"}, r"data\.transferIds is string, not an array"),
        ({"transferIds": [""]}, r"data\.transferIds\[0\] is empty"),
        ({"status": None}, r"data\.status is null, not a string"),
    ],
)
def test_execution_shape_errors(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SequenceResponseError, match=message):
        parse_rule_execution(envelope({**EXECUTION, **changes}))


def test_execution_started_needs_an_id() -> None:
    with pytest.raises(SequenceResponseError, match=r"data\.executionId is missing"):
        parse_execution_started(envelope({}))


# --- Where money may move (canBeSource / canBeDestination) ------------------------------------


@pytest.mark.parametrize(
    ("flags", "source", "destination"),
    [
        ({"canBeSource": True, "canBeDestination": False}, True, False),
        ({"canBeSource": False, "canBeDestination": True}, False, True),
        ({"canBeSource": None, "canBeDestination": None}, False, False),
        ({}, False, False),
    ],
)
def test_where_money_may_move_from_the_list_and_the_detail(
    flags: dict[str, Any], source: bool, destination: bool
) -> None:
    detail = {
        key: value
        for key, value in account_detail("a").items()
        if key not in {"canBeSource", "canBeDestination"}
    } | flags
    [listed], _ = parse_account_page(page([summary(detail)]), 1)
    full = parse_account_detail(envelope(detail))
    assert full is not None
    for account in (listed, full):
        assert (account.can_be_source, account.can_be_destination) == (source, destination)


@pytest.mark.parametrize("key", ["canBeSource", "canBeDestination"])
def test_where_money_may_move_must_be_a_boolean(key: str) -> None:
    with pytest.raises(SequenceResponseError, match=rf"data.{key} is string, not a boolean"):
        parse_account_detail(envelope(account_detail("a") | {key: "yes"}))


def test_detail_batch_tells_a_changed_permission_to_move_money() -> None:
    """Identical wire data keeps its model; a flipped ``canBeSource`` is new data."""
    first = DetailBatch({})
    before = first.parse(envelope(account_detail("a")))
    second = DetailBatch(first.known)
    assert second.parse(envelope(account_detail("a"))) is before
    third = DetailBatch(second.known)
    after = third.parse(envelope(account_detail("a") | {"canBeSource": False}))
    assert after is not None
    assert before is not None
    assert (before.can_be_source, after.can_be_source) == (True, False)


# --- One transfer, external transactions -------------------------------------------------------


def test_transfer_detail() -> None:
    created = parse_transfer_detail(
        envelope(transfer("t", "a", "b") | {"executionMode": "SIMULATION", "status": "PROCESSING"})
    )
    assert (created.id, created.status, created.simulated) == ("t", "PROCESSING", True)
    with pytest.raises(SequenceResponseError, match=r"data\.direction is missing"):
        parse_transfer_detail(envelope({"amountInCents": 1}))


def test_external_transactions() -> None:
    items = [
        external_transaction("x1", "acct", amountInCents=4200),
        external_transaction(
            "x2",
            "acct",
            direction="MONEY_IN",
            status="PENDING",
            description="  Payroll  ",
            transactionDate="2026-11-19T09:30:00-05:00",
        ),
        external_transaction("x3", "acct", direction="SIDEWAYS", description=None),
    ]
    parsed, has_next = parse_external_transaction_page(page(items, has_next=True), 1)
    assert has_next is True
    assert parsed[0] == ExternalTransaction(
        id="x1",
        account_id="acct",
        amount=Decimal("42.00"),
        direction=TransferDirection.OUTGOING,
        status="COMPLETE",
        description="Spotify",
        date=datetime(2026, 11, 20, tzinfo=UTC),
    )
    assert parsed[1].direction is TransferDirection.INCOMING
    assert parsed[1].description == "Payroll"
    assert parsed[1].date == datetime(2026, 11, 19, 14, 30, tzinfo=UTC)
    assert parsed[2].direction is TransferDirection.UNKNOWN
    assert parsed[2].description == ""


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amountInCents": -5}, "amountInCents is negative"),
        ({"amountInCents": "5"}, "amountInCents is string, not an integer"),
        ({"amountInCents": 10**17}, "amountInCents is out of range"),
        ({"accountId": None}, "accountId is null, not a string"),
        ({"direction": 1}, "direction is number, not a string"),
        ({"status": ""}, "status is empty"),
        ({"description": 7}, "description is number, not a string"),
        ({"transactionDate": "2026-11-20"}, "transactionDate is not an RFC 3339 timestamp"),
        ({"transactionDate": None}, "transactionDate is null, not a timestamp"),
    ],
)
def test_external_transaction_shape_errors(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SequenceResponseError, match=message):
        parse_external_transaction_page(page([external_transaction("x", "a") | changes]), 1)
