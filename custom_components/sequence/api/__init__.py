"""Clients for Sequence's public APIs. Nothing in this package imports Home Assistant."""

from .errors import (
    SequenceAuthError,
    SequenceConflictError,
    SequenceConnectionError,
    SequenceError,
    SequenceNotFoundError,
    SequenceOutcomeUnknownError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceRefusedError,
    SequenceResponseError,
    SequenceRuleSecretError,
    SequenceServerError,
)
from .limiter import RequestBudget
from .models import (
    Account,
    AccountKind,
    AccountsSnapshot,
    ExternalTransaction,
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
    "ExternalTransaction",
    "LiabilityDetails",
    "Permission",
    "PermissionCheck",
    "RequestBudget",
    "SequenceAuthError",
    "SequenceConflictError",
    "SequenceConnectionError",
    "SequenceError",
    "SequenceNotFoundError",
    "SequenceOutcomeUnknownError",
    "SequencePermissionError",
    "SequencePlatformClient",
    "SequenceRateLimitError",
    "SequenceRefusedError",
    "SequenceRemoteClient",
    "SequenceResponseError",
    "SequenceRuleSecretError",
    "SequenceServerError",
    "Transfer",
    "TransferDirection",
    "detect_credential_kind",
    "normalize_token",
    "parse_accounts_payload",
]
