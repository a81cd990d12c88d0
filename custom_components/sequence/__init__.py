"""The Sequence integration: Sequence (getsequence.io) balances in Home Assistant."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .actions import async_setup_actions
from .activity import SequenceActivityCoordinator, missing_permission_issue_id
from .api import SequencePlatformClient
from .audit import async_get_audit_trail, async_remove_audit_trail
from .const import (
    CONF_ACTIVITY,
    CONF_API_TOKEN,
    CONF_BASE_URL,
    DOMAIN,
    KIND_API_KEY,
)
from .coordinator import SequenceConfigEntry, SequenceCoordinator, SequenceRuntimeData
from .credentials import create_platform_client, create_remote_client
from .guard import MoneyGuard
from .ledger import MoneyLedger
from .rule_catalog import async_setup_rule_catalog, rule_issue_id
from .rules import RuleRunner, rule_secret_issue_id
from .sources import AccountsSource, PlatformAccountsSource, RemoteAccountsSource
from .subentries import async_setup_subentries
from .texts import credential_kind
from .transfers import TransferRunner

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.SENSOR,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
API_KEY_PLATFORMS = frozenset({Platform.CALENDAR})
"""Platforms only an API key has entities on: an access-token entry does not set them up (a
calendar platform would put an empty Calendar in the sidebar)."""


def entry_platforms(entry: SequenceConfigEntry) -> list[Platform]:
    """The platforms the entry is set up on."""
    if credential_kind(entry) == KIND_API_KEY:
        return list(PLATFORMS)
    return [platform for platform in PLATFORMS if platform not in API_KEY_PLATFORMS]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, once for every entry."""
    async_setup_actions(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: SequenceConfigEntry) -> bool:
    """Set up Sequence from a config entry."""
    token, base_url = entry.data[CONF_API_TOKEN], entry.data[CONF_BASE_URL]
    platform_client: SequencePlatformClient | None = None
    source: AccountsSource
    if credential_kind(entry) == KIND_API_KEY:
        platform_client = create_platform_client(hass, token, base_url)
        source = PlatformAccountsSource(platform_client)
    else:
        source = RemoteAccountsSource(create_remote_client(hass, token, base_url))
    coordinator = SequenceCoordinator(hass, entry, source)
    await coordinator.async_config_entry_first_refresh()
    coordinator.async_register_hub()
    ledger = MoneyLedger(hass, entry.entry_id)
    await ledger.async_load()
    money = MoneyGuard(hass, ledger, await async_get_audit_trail(hass, entry.entry_id))
    runtime = SequenceRuntimeData(
        coordinator=coordinator,
        money=money,
        rules=RuleRunner(hass, entry, money, platform_client),
        transfers=TransferRunner(hass, entry, money, platform_client, coordinator),
        lookup_client=platform_client,
    )
    if platform_client is not None:
        runtime.rule_catalog = await async_setup_rule_catalog(hass, entry, platform_client)
    if platform_client is not None and entry.options.get(CONF_ACTIVITY, False):
        runtime.activity = SequenceActivityCoordinator(hass, entry, platform_client, coordinator)
        # Not a first refresh that could fail setup: balances must work without READ_TRANSFERS.
        await runtime.activity.async_refresh()
    else:
        ir.async_delete_issue(hass, DOMAIN, missing_permission_issue_id(entry))
    entry.runtime_data = runtime
    # Subentries removed while the entry was not loaded are forgotten first, so that no
    # follow of theirs is resumed.
    await async_setup_subentries(hass, entry)
    runtime.rules.async_resume()
    runtime.transfers.async_resume()
    await hass.config_entries.async_forward_entry_setups(entry, entry_platforms(entry))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: SequenceConfigEntry) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, entry_platforms(entry))


async def async_remove_entry(hass: HomeAssistant, entry: SequenceConfigEntry) -> None:
    """Delete what the entry kept besides its settings: money ledger, audit, rule repairs."""
    await MoneyLedger(hass, entry.entry_id).async_remove()
    await async_remove_audit_trail(hass, entry.entry_id)
    for subentry_id in entry.subentries:
        for issue_id in (
            rule_issue_id(entry.entry_id, subentry_id),
            rule_secret_issue_id(entry.entry_id, subentry_id),
        ):
            ir.async_delete_issue(hass, DOMAIN, issue_id)
