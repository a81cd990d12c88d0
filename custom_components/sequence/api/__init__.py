"""Clients for Sequence's public APIs. Nothing in this package imports Home Assistant."""

from .errors import (
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceRateLimitError,
    SequenceResponseError,
)
from .models import Account, AccountKind, AccountsSnapshot
from .remote import (
    DEFAULT_BASE_URL,
    SequenceRemoteClient,
    normalize_token,
    parse_accounts_payload,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "Account",
    "AccountKind",
    "AccountsSnapshot",
    "SequenceAuthError",
    "SequenceConnectionError",
    "SequenceError",
    "SequenceRateLimitError",
    "SequenceRemoteClient",
    "SequenceResponseError",
    "normalize_token",
    "parse_accounts_payload",
]
