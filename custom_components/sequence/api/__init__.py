"""Clients for Sequence's public APIs. Nothing in this package imports Home Assistant."""

from .errors import (
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequenceRateLimitError,
    SequenceResponseError,
)
from .models import Account, AccountKind, AccountsSnapshot

__all__ = [
    "Account",
    "AccountKind",
    "AccountsSnapshot",
    "SequenceAuthError",
    "SequenceConnectionError",
    "SequenceError",
    "SequenceRateLimitError",
    "SequenceResponseError",
]
