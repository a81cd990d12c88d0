"""The rule catalog: an API-key entry's rules, and repairs for rules Sequence stopped running."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sequence.api import (
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequencePermissionError,
    SequenceRefusedError,
    SequenceResponseError,
    SequenceServerError,
)
from custom_components.sequence.api.models import Rule, RuleSchedule, RuleSummary
from custom_components.sequence.const import DOMAIN, SUBENTRY_RULE
from custom_components.sequence.rule_catalog import (
    CATALOG_INTERVAL,
    MAX_RULE_DETAILS,
    rule_issue_id,
    rule_problem,
)

from .conftest import (
    PLATFORM_RULE_ID,
    RULE_SUBENTRY_ID,
    FakeSequence,
    MoneySetup,
    rule_subentry,
    setup_money,
)

ENABLED = RuleSummary(id=PLATFORM_RULE_ID, name="Round-ups", enabled=True, supported=True)


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (None, "rule_deleted"),
        (RuleSummary(id="r", name="n", enabled=True, supported=True, deleted=True), "rule_deleted"),
        (RuleSummary(id="r", name="n", enabled=False, supported=True), "rule_disabled"),
        (RuleSummary(id="r", name="n", enabled=True, supported=False), "rule_unsupported"),
        (RuleSummary(id="r", name="n", enabled=True, supported=True), None),
    ],
)
def test_rule_problems(rule: RuleSummary | None, problem: str | None) -> None:
    assert rule_problem(rule) == problem


async def refresh_daily(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(CATALOG_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)  # where refreshes run


async def test_the_catalog_of_an_api_key_entry(
    hass: HomeAssistant, platform_money: MoneySetup, issue_registry: ir.IssueRegistry
) -> None:
    catalog = platform_money.entry.runtime_data.rule_catalog
    assert catalog is not None
    assert catalog.data == {PLATFORM_RULE_ID: ENABLED}
    assert not [issue for (domain, _id), issue in issue_registry.issues.items() if domain == DOMAIN]


async def test_an_access_token_entry_has_no_catalog(
    hass: HomeAssistant, remote_money: MoneySetup
) -> None:
    assert remote_money.entry.runtime_data.rule_catalog is None


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ((), "rule_deleted"),
        ((replace(ENABLED, enabled=False),), "rule_disabled"),
        ((replace(ENABLED, supported=False),), "rule_unsupported"),
    ],
)
async def test_a_repair_while_sequence_does_not_run_the_rule(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    issue_registry: ir.IssueRegistry,
    frozen_start: FrozenDateTimeFactory,
    rules: tuple[RuleSummary, ...],
    problem: str,
) -> None:
    fake: FakeSequence = platform_money.fake
    fake.rules = rules
    await refresh_daily(hass, frozen_start)
    issue_id = rule_issue_id(platform_money.entry.entry_id, RULE_SUBENTRY_ID)
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == problem
    assert issue.translation_placeholders == {
        "title": "Round-ups",
        "entry_title": "Sequence (API key)",
    }
    assert not issue.is_fixable
    fake.rules = (ENABLED,)
    await refresh_daily(hass, frozen_start)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_a_new_rule_is_checked_when_asked_and_a_removed_ones_repair_goes(
    hass: HomeAssistant, platform_money: MoneySetup, issue_registry: ir.IssueRegistry
) -> None:
    entry = platform_money.entry
    catalog = entry.runtime_data.rule_catalog
    assert catalog is not None
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=dict(rule_subentry(remote=False, rule_id="gone-rule")["data"]),
            subentry_type=SUBENTRY_RULE,
            title="Old rule",
            unique_id="gone-rule",
            subentry_id="01JSEQUENCESUBENTRYRULE0009",
        ),
    )
    await catalog.async_request_refresh()  # what the subentry flow does after adding a rule
    await hass.async_block_till_done()
    issue_id = rule_issue_id(entry.entry_id, "01JSEQUENCESUBENTRYRULE0009")
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    hass.config_entries.async_remove_subentry(entry, "01JSEQUENCESUBENTRYRULE0009")
    await catalog.async_refresh()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_no_catalog_without_read_rules(
    hass: HomeAssistant,
    platform_money_entry: MockConfigEntry,
    money_client: MagicMock,
    fake_sequence: FakeSequence,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    money_client.async_list_rules.side_effect = SequencePermissionError(
        "x", permission="READ_RULES"
    )
    money = await setup_money(hass, platform_money_entry, fake_sequence, money_client)
    assert money.entry.runtime_data.rule_catalog is None
    await refresh_daily(hass, frozen_start)
    assert money_client.async_list_rules.await_count == 1


async def test_losing_read_rules_later_withdraws_the_repairs(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    issue_registry: ir.IssueRegistry,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    catalog = platform_money.entry.runtime_data.rule_catalog
    assert catalog is not None
    platform_money.fake.rules = ()
    await refresh_daily(hass, frozen_start)
    issue_id = rule_issue_id(platform_money.entry.entry_id, RULE_SUBENTRY_ID)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    platform_money.client.async_list_rules.side_effect = SequencePermissionError(
        "x", permission="READ_RULES"
    )
    await refresh_daily(hass, frozen_start)
    assert not catalog.last_update_success
    assert catalog.permission_missing
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert str(catalog.last_exception) == (
        "This needs the READ_RULES permission, which the API key does not have. Add it to the "
        "key in Sequence (Settings, API Keys), then try again"
    )
    platform_money.client.async_list_rules.side_effect = platform_money.fake.list_rules
    platform_money.fake.rules = (ENABLED,)
    await refresh_daily(hass, frozen_start)
    assert catalog.last_update_success
    assert not catalog.permission_missing


async def test_a_failed_read_is_retried_soon(
    hass: HomeAssistant,
    platform_money_entry: MockConfigEntry,
    money_client: MagicMock,
    fake_sequence: FakeSequence,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    money_client.async_list_rules.side_effect = [
        SequenceConnectionError("x"),
        fake_sequence.rules,
    ]
    money = await setup_money(hass, platform_money_entry, fake_sequence, money_client)
    catalog = money.entry.runtime_data.rule_catalog
    assert catalog is not None
    assert not catalog.last_update_success
    frozen_start.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert catalog.data == {PLATFORM_RULE_ID: ENABLED}


async def test_a_refused_key_starts_reauthentication(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    platform_money.client.async_list_rules.side_effect = SequenceAuthError("x")
    await refresh_daily(hass, frozen_start)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_removing_the_entry_removes_its_rule_repairs(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    issue_registry: ir.IssueRegistry,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    platform_money.fake.rules = ()
    await refresh_daily(hass, frozen_start)
    assert await hass.config_entries.async_remove(platform_money.entry.entry_id)
    await hass.async_block_till_done()
    assert not [issue for (domain, _id), issue in issue_registry.issues.items() if domain == DOMAIN]


# --- The full rules: which triggers are read, and what the calendar gets ------------------------

WEEKLY = RuleSchedule(schedule_type="WEEKLY", start=datetime(2026, 11, 6, 17, tzinfo=UTC))


def rule(rule_id: str, **changes: bool) -> RuleSummary:
    return replace(ENABLED, id=rule_id, name=f"Rule {rule_id}", **changes)


async def test_only_enabled_rules_the_api_describes_are_read_in_full(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    fake, client = platform_money.fake, platform_money.client
    fake.rules = (
        rule("scheduled"),
        rule("manual"),
        rule("disabled", enabled=False),
        rule("unsupported", supported=False),
        rule("deleted", deleted=True),
    )
    fake.schedules = {"scheduled": WEEKLY, "disabled": WEEKLY}
    client.async_get_rule.reset_mock()
    await refresh_daily(hass, frozen_start)
    asked = {call.args[0] for call in client.async_get_rule.await_args_list}
    assert asked == {"scheduled", "manual"}
    catalog = platform_money.entry.runtime_data.rule_catalog
    assert catalog is not None
    assert list(catalog.scheduled_rules) == ["scheduled"]
    assert catalog.scheduled_rules["scheduled"].schedule == WEEKLY


async def test_at_most_50_rules_are_read_in_full_a_refresh(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    fake, client = platform_money.fake, platform_money.client
    fake.rules = tuple(rule(f"r{index:02d}") for index in range(MAX_RULE_DETAILS + 10))
    fake.schedules = {summary.id: WEEKLY for summary in fake.rules}
    client.async_get_rule.reset_mock()
    await refresh_daily(hass, frozen_start)
    assert client.async_get_rule.await_count == MAX_RULE_DETAILS == 50
    catalog = platform_money.entry.runtime_data.rule_catalog
    assert catalog is not None
    assert list(catalog.scheduled_rules) == [f"r{index:02d}" for index in range(50)]


async def test_a_rule_sequence_disabled_in_between_is_not_scheduled(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    fake, client = platform_money.fake, platform_money.client
    fake.rules = (rule("a"),)
    client.async_get_rule.side_effect = None
    client.async_get_rule.return_value = Rule(
        summary=rule("a", enabled=False), trigger_type="SCHEDULED", schedule=WEEKLY
    )
    await refresh_daily(hass, frozen_start)
    catalog = platform_money.entry.runtime_data.rule_catalog
    assert catalog is not None
    assert catalog.last_update_success
    assert catalog.scheduled_rules == {}


@pytest.mark.parametrize(
    "error",
    [
        SequenceNotFoundError("gone since the list"),
        SequencePermissionError("x", permission="READ_RULES"),
        SequenceRefusedError("x", code="INVALID_RULE"),
        SequenceResponseError("unreadable"),
    ],
)
async def test_a_rule_that_cannot_be_read_is_left_out_and_the_rest_stands(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    frozen_start: FrozenDateTimeFactory,
    error: SequenceError,
) -> None:
    fake, client = platform_money.fake, platform_money.client
    fake.rules = (rule("bad"), rule("good"))
    fake.schedules = {"bad": WEEKLY, "good": WEEKLY}

    async def get_rule(rule_id: str) -> Rule:
        if rule_id == "bad":
            raise error
        return await fake.get_rule(rule_id)

    client.async_get_rule.side_effect = get_rule
    await refresh_daily(hass, frozen_start)
    catalog = platform_money.entry.runtime_data.rule_catalog
    assert catalog is not None
    assert catalog.last_update_success
    assert not catalog.permission_missing
    assert list(catalog.scheduled_rules) == ["good"]
    assert set(catalog.data) == {"bad", "good"}


async def test_an_outage_while_reading_rules_fails_the_refresh_and_keeps_the_schedules(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    fake, client = platform_money.fake, platform_money.client
    fake.rules = (rule("a"), rule("b"))
    fake.schedules = {"a": WEEKLY, "b": WEEKLY}
    await refresh_daily(hass, frozen_start)
    catalog = platform_money.entry.runtime_data.rule_catalog
    assert catalog is not None
    assert set(catalog.scheduled_rules) == {"a", "b"}
    client.async_get_rule.side_effect = SequenceServerError("down")
    await refresh_daily(hass, frozen_start)
    assert not catalog.last_update_success
    assert set(catalog.scheduled_rules) == {"a", "b"}  # the last good refresh's
    client.async_get_rule.side_effect = fake.get_rule
    frozen_start.tick(timedelta(minutes=1))  # retried soon, not in a day
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert catalog.last_update_success
