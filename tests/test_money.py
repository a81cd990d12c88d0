"""What rule runs and transfers share: exact cents, keys, who asked."""

from decimal import Decimal

from homeassistant.core import Context
from homeassistant.util import dt as dt_util
import pytest

from custom_components.sequence.guard import derive_idempotency_key
from custom_components.sequence.ledger import Follow
from custom_components.sequence.money import (
    amount_cents,
    call_key,
    follow_context,
    valid_key,
)


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("0", 0),
        ("0.01", 1),
        ("12.5", 1250),
        ("12.50", 1250),
        ("12.500", 1250),
        ("1000000", 100_000_000),
        ("12.005", None),
        ("-1", None),
        ("NaN", None),
        ("Infinity", None),
        ("1E+15", None),
        ("999999999999999.99", 99_999_999_999_999_999),
    ],
)
def test_amount_cents(amount: str, cents: int | None) -> None:
    assert amount_cents(Decimal(amount)) == cents


def test_call_keys() -> None:
    context = Context()
    live = call_key(None, context, "sub", simulate=False)
    assert live == derive_idempotency_key(context.id, "sub")
    simulated = call_key(None, context, "sub", simulate=True)
    assert simulated not in {live, call_key(None, Context(), "sub", simulate=True)}
    assert call_key("mine", context, "sub", simulate=True) == "mine"
    assert valid_key(live)
    assert valid_key("payday-2026.12|a:b/c_d")
    assert not valid_key("")
    assert not valid_key("x" * 37)
    assert not valid_key("with space")


def test_a_follow_keeps_its_callers_context() -> None:
    follow = Follow(
        reference="e", key="k", started_at=dt_util.utcnow(), context_id="ctx-1", user_id="u-1"
    )
    context = follow_context(follow)
    assert (context.id, context.user_id) == ("ctx-1", "u-1")
    unsaved = follow_context(Follow(reference="e", key="k", started_at=dt_util.utcnow()))
    assert unsaved.id
    assert unsaved.user_id is None
