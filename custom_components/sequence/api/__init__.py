"""Clients for Sequence's public APIs. Nothing in this package imports Home Assistant."""

from .errors import (
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceResponseError,
    SequenceServerError,
)
from .limiter import RequestBudget
from .models import (
    Account,
    AccountKind,
    AccountsSnapshot,
    LiabilityDetails,
    Permission,
    PermissionCheck,
    Transfer,
    TransferDirection,
)
from .platform import SequencePlatformClient, detect_credential_kind
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
    "LiabilityDetails",
    "Permission",
    "PermissionCheck",
    "RequestBudget",
    "SequenceAuthError",
    "SequenceConnectionError",
    "SequenceError",
    "SequenceNotFoundError",
    "SequencePermissionError",
    "SequencePlatformClient",
    "SequenceRateLimitError",
    "SequenceRemoteClient",
    "SequenceResponseError",
    "SequenceServerError",
    "Transfer",
    "TransferDirection",
    "detect_credential_kind",
    "normalize_token",
    "parse_accounts_payload",
]
