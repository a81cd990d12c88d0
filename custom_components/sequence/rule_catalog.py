"""What Sequence says about the rules an API-key entry may run (needs ``READ_RULES``).

``GET /rules`` (all pages) once a day, and whenever asked (``async_request_refresh``, right
after a rule subentry is added): the rules by id, which the "enabled in Sequence" sensors read.
A rule subentry whose rule Sequence deleted, disabled or can no longer run through its API
gets a repair issue naming the subentry and saying how to fix it; the issue goes away once
it is fixed (or the subentry is removed).

Each refresh also reads the full rule (``GET /rules/{id}``) of every enabled rule the API can
describe, at most ``MAX_RULE_DETAILS`` of them, for their triggers: the payments calendar shows
when the scheduled ones run next. The list says nothing about triggers, so no fewer will do. A
rule whose detail Sequence refuses or cannot describe is left out of the calendar; a failure
that concerns every request (an outage, the rate limit, the key) fails the refresh, which is
then retried soon.

A key without ``READ_RULES`` is not an error: the entry gets no catalog. A key that loses it
later keeps its catalog, failing (its sensors unavailable, its repairs withdrawn: nothing can
be said about the rules any more) until the permission is back.
"""

import asyncio
from collections.abc import Mapping
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import (
    SequenceError,
    SequencePermissionError,
    SequencePlatformClient,
    SequenceRefusedError,
    SequenceResponseError,
)
from .api.models import Rule, RuleSummary
from .backoff import FailureBackoff
from .const import DOMAIN, LOGGER, PLATFORM_LIST_INTERVAL, SUBENTRY_RULE
from .coordinator import SequenceConfigEntry
from .errors import required_wait, update_error
from .reauth import reload_for_reauthentication
from .subentry_data import RuleSettings
from .texts import credential_kind

CATALOG_INTERVAL: Final = PLATFORM_LIST_INTERVAL
"""Daily, like the account list: rules change when the user edits them in Sequence."""
MAX_RULE_DETAILS: Final = 50
"""Full rules read per refresh at most (the first enabled, supported ones Sequence lists)."""


def needs_trigger(rule: RuleSummary) -> bool:
    """Whether a listed rule's trigger is read: it runs, and the API can describe it."""
    return rule.enabled and rule.supported and not rule.deleted


def rule_issue_id(entry_id: str, subentry_id: str) -> str:
    """The repair issue of a rule subentry whose rule Sequence no longer runs."""
    return f"{entry_id}_rule_unavailable_{subentry_id}"


RULE_PROBLEMS: Final = ("rule_deleted", "rule_disabled", "rule_unsupported")
"""The repairs of a rule subentry whose rule Sequence no longer runs (their translation keys)."""


def rule_problem(rule: RuleSummary | None) -> str | None:
    """What is wrong with a subentry's rule (a repair's translation key), or None."""
    if rule is None or rule.deleted:
        return "rule_deleted"
    if not rule.enabled:
        return "rule_disabled"
    if not rule.supported:
        return "rule_unsupported"
    return None


class RuleCatalogCoordinator(DataUpdateCoordinator[dict[str, RuleSummary]]):
    """The rules of an API-key entry by id, and the repairs of the subentries they affect."""

    config_entry: SequenceConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: SequenceConfigEntry, client: SequencePlatformClient
    ) -> None:
        """Read the rules daily."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN}_rules",
            update_interval=CATALOG_INTERVAL,
        )
        self.client = client
        self.permission_missing = False
        """The last refresh was refused for a missing ``READ_RULES``."""
        self.scheduled_rules: Mapping[str, Rule] = {}
        """The enabled rules with a schedule (``SCHEDULED`` trigger), by id, as of the last good
        refresh: what the payments calendar shows."""
        self._backoff = FailureBackoff(CATALOG_INTERVAL)

    async def _async_update_data(self) -> dict[str, RuleSummary]:
        try:
            rules = await self.client.async_list_rules()
            scheduled = await self._async_scheduled(rules)
        except SequenceError as err:
            raise self._failure(err) from err
        self.permission_missing = False
        self.scheduled_rules = scheduled
        self._backoff.succeeded()
        catalog = {rule.id: rule for rule in rules}
        self._sync_issues(catalog)
        return catalog

    async def _async_scheduled(self, rules: tuple[RuleSummary, ...]) -> dict[str, Rule]:
        """The full rules of those listed that run on a schedule (their details read at once).

        Raises:
            SequenceError: a failure that concerns every request, the first one met.
        """
        wanted = [rule.id for rule in rules if needs_trigger(rule)][:MAX_RULE_DETAILS]
        found = await asyncio.gather(
            *(self._async_rule(rule_id) for rule_id in wanted), return_exceptions=True
        )
        scheduled: dict[str, Rule] = {}
        for rule in found:
            if isinstance(rule, BaseException):
                raise rule
            if rule is not None and needs_trigger(rule.summary) and rule.schedule is not None:
                scheduled[rule.summary.id] = rule
        return scheduled

    async def _async_rule(self, rule_id: str) -> Rule | None:
        """The rule in full; None when Sequence refuses or cannot describe this one rule.

        A 404 (deleted since the list), a 403 for this rule, an ``INVALID_RULE`` or an answer
        this version cannot read: the rest of the catalog stands.
        """
        try:
            return await self.client.async_get_rule(rule_id)
        except (SequencePermissionError, SequenceRefusedError, SequenceResponseError) as err:
            LOGGER.debug("A rule's trigger could not be read: %s", err)
            return None

    def _failure(self, err: SequenceError) -> ConfigEntryAuthFailed | UpdateFailed:
        """Retry soon (1, 2, 5, 15, 30 minutes, then daily); a lost permission withdraws all."""
        if isinstance(err, SequencePermissionError):
            self.permission_missing = True
            self._sync_issues(None)
        error = update_error(
            err,
            credential=credential_kind(self.config_entry),
            retry_after=self._backoff.failed(required_wait(err)),
            permission_needs_reauth=False,  # rules are optional
        )
        if isinstance(error, ConfigEntryAuthFailed):
            reload_for_reauthentication(self.hass, self.config_entry)
        return error

    def _sync_issues(self, catalog: dict[str, RuleSummary] | None) -> None:
        """Raise a repair per rule subentry whose rule is unavailable; withdraw the others.

        ``None``: the rules cannot be read, so no repair can be vouched for.
        """
        entry = self.config_entry
        wanted: dict[str, tuple[str, str]] = {}
        for subentry in entry.subentries.values():
            if catalog is None or subentry.subentry_type != SUBENTRY_RULE:
                continue
            settings = RuleSettings.from_subentry(subentry)
            if problem := rule_problem(catalog.get(settings.rule_id)):
                wanted[rule_issue_id(entry.entry_id, subentry.subentry_id)] = (
                    problem,
                    subentry.title,
                )
        prefix = rule_issue_id(entry.entry_id, "")
        raised = {
            issue_id
            for domain, issue_id in ir.async_get(self.hass).issues
            if domain == DOMAIN and issue_id.startswith(prefix)
        }
        for issue_id in raised - wanted.keys():  # fixed, or its subentry was removed
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        for issue_id, (problem, title) in wanted.items():
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=problem,
                translation_placeholders={"title": title, "entry_title": entry.title},
            )


async def async_setup_rule_catalog(
    hass: HomeAssistant, entry: SequenceConfigEntry, client: SequencePlatformClient
) -> RuleCatalogCoordinator | None:
    """The entry's catalog, read once; None when the key may not read rules.

    Not a first refresh that could fail the entry's setup: balances work without rules. The
    catalog keeps polling daily even when nothing listens to it, since its repairs must.
    """
    catalog = RuleCatalogCoordinator(hass, entry, client)
    await catalog.async_refresh()
    if catalog.permission_missing:
        return None
    entry.async_on_unload(catalog.async_add_listener(lambda: None))
    return catalog
