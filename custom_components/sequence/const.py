"""Constants for the Sequence integration."""

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "sequence"
LOGGER: Final = logging.getLogger(__package__)

# Config entry data
CONF_API_TOKEN: Final = "api_token"  # noqa: S105 - a key name, not a secret
"""The credential: a Remote API access token or a Platform API key (``sk_...``)."""
CONF_CREDENTIAL_KIND: Final = "credential_kind"
CONF_BASE_URL: Final = "base_url"
"""The API host (``https://api.getsequence.io``); the Platform API lives under PLATFORM_PATH."""
SECTION_ADVANCED: Final = "advanced"

KIND_ACCESS_TOKEN: Final = "access_token"  # noqa: S105 - a credential kind, not a secret
KIND_API_KEY: Final = "api_key"
PLATFORM_PATH: Final = "/platform/v1"

# Options
CONF_SCAN_INTERVAL_MINUTES: Final = "scan_interval_minutes"
CONF_ACCOUNT_KINDS: Final = "account_kinds"
CONF_EXCLUDED_ACCOUNTS: Final = "excluded_accounts"
CONF_BALANCE_EVENTS: Final = "balance_events"
CONF_ACTIVITY: Final = "activity"
"""Platform API only: poll transfers (needs READ_TRANSFERS)."""

# Remote API: one request per poll.
DEFAULT_SCAN_INTERVAL: Final = timedelta(minutes=10)
MIN_SCAN_INTERVAL: Final = timedelta(minutes=5)
MAX_SCAN_INTERVAL: Final = timedelta(hours=24)
# Platform API: Sequence asks for balances at most every 6 hours (they refresh about once per
# banking day) and costs one request per account per poll; the account list is refreshed daily.
PLATFORM_DEFAULT_SCAN_INTERVAL: Final = timedelta(hours=6)
PLATFORM_MIN_SCAN_INTERVAL: Final = timedelta(hours=1)
PLATFORM_LIST_INTERVAL: Final = timedelta(hours=24)
ACTIVITY_INTERVAL: Final = timedelta(hours=1)

SEQUENCE_APP_URL: Final = "https://app.getsequence.io"
MANUFACTURER: Final = "Sequence"

EVENT_BALANCE_INCREASED: Final = "sequence_account_balance_increased"
EVENT_BALANCE_DECREASED: Final = "sequence_account_balance_decreased"
EVENT_TRANSFER: Final = "sequence_transfer"
EVENT_MONEY_ACTION: Final = "sequence_money_action"
EVENT_RULE_EXECUTED: Final = "sequence_rule_executed"

# Config subentries: what the user allows to move money (the subentry is the allowlist).
SUBENTRY_RULE: Final = "rule"
SUBENTRY_ROUTE: Final = "transfer_route"
CONF_RULE_ID: Final = "rule_id"
CONF_TRIGGER_URL: Final = "trigger_url"
CONF_SECRET: Final = "secret"  # noqa: S105 - a key name, not a secret
"""A Remote API rule's API secret (stored in the subentry, never shown again)."""
CONF_NAME: Final = "name"
CONF_MIN_INTERVAL_MINUTES: Final = "min_interval_minutes"
CONF_MAX_RUNS_PER_DAY: Final = "max_runs_per_day"
CONF_CONFIRM: Final = "confirm"
CONF_SOURCE: Final = "source"
CONF_DESTINATION: Final = "destination"
CONF_MAX_PER_TRANSFER: Final = "max_per_transfer"
"""Form field, in dollars; stored as integer cents under CONF_MAX_PER_TRANSFER_CENTS."""
CONF_MAX_PER_DAY: Final = "max_per_day"
CONF_MAX_PER_TRANSFER_CENTS: Final = "max_per_transfer_cents"
CONF_MAX_PER_DAY_CENTS: Final = "max_per_day_cents"
CONF_DESCRIPTION: Final = "description"
DEFAULT_MIN_INTERVAL_MINUTES: Final = 5
MAX_MIN_INTERVAL_MINUTES: Final = 1440
"""A day: the ledger keeps two days of attempts (see ledger.KEEP)."""
DEFAULT_MAX_RUNS_PER_DAY: Final = 3
MIN_TRANSFER_CENTS: Final = 100
"""Sequence's minimum transfer: $1.00."""
