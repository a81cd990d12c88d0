"""Tests for the normalized models."""

from dataclasses import FrozenInstanceError
from decimal import Decimal

import pytest

from custom_components.sequence.api.models import Account, AccountKind, to_cents


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("412.06", "412.06"),
        ("0.1", "0.10"),
        ("-3", "-3.00"),
        ("1.005", "1.00"),  # half-even: a float's noise never rounds up by accident
        ("1.015", "1.02"),
        ("1234567.891", "1234567.89"),
    ],
)
def test_to_cents(amount: str, cents: str) -> None:
    assert to_cents(Decimal(amount)) == Decimal(cents)
    assert str(to_cents(Decimal(amount))) == cents


def test_account_is_frozen() -> None:
    account = Account(
        id="1", name="Groceries", kind=AccountKind.POD, type_name="Pod", balance=Decimal("1.00")
    )
    with pytest.raises(FrozenInstanceError):
        account.name = "Other"  # type: ignore[misc]
    assert account.balance_error is None
