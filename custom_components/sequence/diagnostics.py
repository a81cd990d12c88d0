"""Diagnostics that help debug a poll without revealing anyone's money or accounts.

Only counts, kinds, shapes and health: no token, no base-URL credentials, no account names, ids
or balances (the options' excluded accounts are counted, not listed). Rules and transfer routes
are counted per type, never shown: a rule's data holds its secret and trigger URL; the money
actions are counted per outcome.
"""

from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from homeassistant.core import HomeAssistant

from .api import DEFAULT_BASE_URL
from .const import CONF_BASE_URL, CONF_EXCLUDED_ACCOUNTS
from .coordinator import SequenceConfigEntry
from .texts import credential_kind


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SequenceConfigEntry
) -> dict[str, Any]:
    """Return a privacy-safe summary of the entry and its last poll."""
    coordinator = entry.runtime_data.coordinator
    activity = entry.runtime_data.activity
    data = coordinator.data
    accounts = data.accounts.values()
    options = dict(entry.options)
    if CONF_EXCLUDED_ACCOUNTS in options:
        options[CONF_EXCLUDED_ACCOUNTS] = len(options[CONF_EXCLUDED_ACCOUNTS])
    base_url = urlsplit(entry.data[CONF_BASE_URL])
    return {
        "entry": {
            "version": entry.version,
            "minor_version": entry.minor_version,
            "options": options,
            "credential_kind": credential_kind(entry),
            "base_url_is_default": entry.data[CONF_BASE_URL] == DEFAULT_BASE_URL,
            "base_url_scheme": base_url.scheme,
        },
        "coordinator": {
            "last_update_success": coordinator.last_update_success,
            "last_success_at": (
                coordinator.last_success_at.isoformat() if coordinator.last_success_at else None
            ),
            "last_error_kind": coordinator.last_error_kind,
            "update_interval_seconds": (
                coordinator.update_interval.total_seconds() if coordinator.update_interval else None
            ),
        },
        "accounts": {
            "returned": len(data.snapshot.accounts),
            "included": len(data.accounts),
            "per_kind": dict(Counter(account.kind.value for account in accounts)),
            "per_type_name": dict(Counter(account.type_name for account in accounts)),
            "with_balance_error": sum(account.balance_error is not None for account in accounts),
            "without_balance": sum(account.balance is None for account in accounts),
            "liabilities": sum(account.is_liability for account in accounts),
            "with_savings_target": sum(bool(account.savings_target) for account in accounts),
            "with_balance_timestamp": sum(
                account.balance_updated_at is not None for account in accounts
            ),
        },
        "activity": None
        if activity is None
        else {
            "last_update_success": activity.last_update_success,
            "transfers_this_month": activity.data.transfer_count if activity.data else None,
        },
        "field_shapes": {path: dict(shapes) for path, shapes in data.snapshot.field_shapes.items()},
        "subentries": dict(
            Counter(subentry.subentry_type for subentry in entry.subentries.values())
        ),
        "money_actions": entry.runtime_data.money.audit.counts(),
    }
