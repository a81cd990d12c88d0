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
