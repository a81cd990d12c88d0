"""What rule runs and transfers share besides the guard: amounts, keys, who asked.

Amounts arrive as ``Decimal`` dollars (normalized once, by the actions' schemas) and leave as
integer cents; nothing here is a float.
"""

from decimal import Decimal
from typing import Final

from homeassistant.core import Context

from .api.models import MAX_ABS_CENTS
from .api.transport import IDEMPOTENCY_KEY
from .guard import derive_idempotency_key
from .ledger import Follow

MAX_DOLLARS: Final = Decimal(MAX_ABS_CENTS) / 100
SIMULATION_PURPOSE: Final = "simulation"


def amount_cents(amount: Decimal) -> int | None:
    """Whole cents of a dollar amount; None unless it is a non-negative number of cents."""
    if not amount.is_finite() or not 0 <= amount < MAX_DOLLARS:
        return None
    cents = amount * 100
    return int(cents) if cents == cents.to_integral_value() else None


def call_key(given: str | None, context: Context, subentry_id: str, *, simulate: bool) -> str:
    """The idempotency key of a call: the one given (checked later), else a derived one.

    Derived from the calling context and the subentry, so a retry within the same context
    (an automation's run) sends the same key; a simulation gets a key of its own, so that a
    simulation and a live call in one run never share a key (Sequence would refuse the second).
    """
    if given is not None:
        return given
    purpose = (SIMULATION_PURPOSE,) if simulate else ()
    return derive_idempotency_key(str(context.id), subentry_id, *purpose)


def valid_key(key: str) -> bool:
    """Whether Sequence accepts ``key`` as an ``idempotency-key``."""
    return IDEMPOTENCY_KEY.fullmatch(key) is not None


def follow_context(follow: Follow) -> Context:
    """The context of the call that started a follow (a new one if it was not saved)."""
    return Context(user_id=follow.user_id, id=follow.context_id)
