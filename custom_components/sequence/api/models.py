"""Frozen, typed models shared by every API generation.

The coordinator and the entities work on these, never on the wire format, so a second API
(the Platform API) only adds optional fields here.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

CENT = Decimal("0.01")


class AccountKind(StrEnum):
    """What a Sequence account is."""

    POD = "pod"
    INCOME_SOURCE = "income_source"
    EXTERNAL = "external"
    """An account at another institution linked to Sequence (checking, card, loan, ...)."""
    UNKNOWN = "unknown"
    """A type this version does not know; the raw type is kept in ``Account.type_name``."""


def to_cents(amount: Decimal) -> Decimal:
    """Round a dollar amount to whole cents (banker's rounding, as the value is already exact)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """One Sequence account, normalized."""

    id: str
    """Opaque: a number-like string on the Remote API, a UUID on the Platform API."""
    name: str
    kind: AccountKind
    type_name: str
    """The type exactly as Sequence sent it (e.g. ``"Income Source"``)."""
    balance: Decimal | None
    """Dollars rounded to cents, or None when Sequence has no balance for the account."""
    balance_error: str | None = None
    """Sequence's own text for why the balance is missing or stale (not secret)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountsSnapshot:
    """Everything one poll learned, keyed by account id."""

    accounts: Mapping[str, Account]
    field_shapes: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """For diagnostics: per wire field, how often each JSON type was seen (no values)."""
