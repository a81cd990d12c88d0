"""The rule catalog: an API-key entry's rules, and repairs for rules Sequence stopped running."""

from dataclasses import replace
from datetime import timedelta
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
    SequencePermissionError,
)
from custom_components.sequence.api.models import Rule, RuleSummary
from custom_components.sequence.const import DOMAIN, SUBENTRY_RULE
from custom_components.sequence.rule_catalog import (
    CATALOG_INTERVAL,
    rule_issue_id,
    rule_list_client,
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


class Lister:
    async def async_list_rules(self) -> tuple[RuleSummary, ...]:
        return ()

    async def async_get_rule(self, rule_id: str) -> Rule:
        raise NotImplementedError


class OnlyLister:
    async def async_list_rules(self) -> tuple[RuleSummary, ...]:
        return ()


def test_only_a_client_that_lists_and_reads_rules_gets_a_catalog() -> None:
    lister = Lister()
    assert rule_list_client(lister) is lister
    assert rule_list_client(OnlyLister()) is None
    assert rule_list_client(object()) is None
    assert rule_list_client(None) is None


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
