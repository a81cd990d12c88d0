"""Tests for the normalized models."""

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from custom_components.sequence.api.models import (
    Account,
    AccountKind,
    LiabilityDetails,
    Permission,
    PermissionCheck,
    Transfer,
    TransferDirection,
    cents_to_dollars,
    readable_balance_error,
    to_cents,
)


@pytest.mark.parametrize(
    ("raw", "readable"),
    [
        ("CONNECTION_FAILED", "Connection failed"),  # the Platform API's code
        ("Connection failed", "Connection failed"),  # the Remote API's text
        ("ERROR", "Error"),
        ("  Needs   reauthentication \n", "Needs reauthentication"),
        ("Bank said NO_ACCESS", "Bank said NO_ACCESS"),  # text with a code in it stays text
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_readable_balance_error(raw: str | None, readable: str | None) -> None:
    assert readable_balance_error(raw) == readable


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


@pytest.mark.parametrize(
    ("cents", "dollars"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (-1, "-0.01"),
        (41206, "412.06"),
        (10**17 - 1, "999999999999999.99"),
    ],
)
def test_cents_to_dollars_is_exact(cents: int, dollars: str) -> None:
    assert str(cents_to_dollars(cents)) == dollars


@pytest.mark.parametrize("cents", [10**17, -(10**17)])
def test_cents_to_dollars_range(cents: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        cents_to_dollars(cents)


def test_platform_fields_are_optional() -> None:
    account = Account(
        id="1", name="Groceries", kind=AccountKind.POD, type_name="Pod", balance=Decimal("1.00")
    )
    assert account.is_liability is False
    assert account.external_type is None
    assert account.institution_name is None
    assert account.available_balance is None
    assert account.balance_updated_at is None
    assert account.savings_target is None
    assert account.liability is None


def test_transfer_and_liability_are_frozen() -> None:
    transfer = Transfer(
        id="t",
        status="COMPLETE",
        direction=TransferDirection.INTERNAL,
        direction_name="INTERNAL",
        origin="RULE",
        amount=Decimal("10.00"),
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    with pytest.raises(FrozenInstanceError):
        transfer.status = "ERROR"  # type: ignore[misc]
    assert transfer.simulated is False
    with pytest.raises(FrozenInstanceError):
        LiabilityDetails().next_payment_minimum = Decimal(1)  # type: ignore[misc]
    check = PermissionCheck(granted=frozenset({Permission.READ_ACCOUNTS}), missing=frozenset())
    assert check.unverified == frozenset()
