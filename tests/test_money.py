"""What rule runs and transfers share: exact cents, keys, who asked, where the logbook shows it."""

from decimal import Decimal

from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sequence.const import DOMAIN
from custom_components.sequence.guard import derive_idempotency_key
from custom_components.sequence.ledger import Follow
from custom_components.sequence.money import (
    amount_cents,
    call_key,
    follow_context,
    subentry_sensor,
    valid_key,
)

from .conftest import ROUTE_SUBENTRY_ID, RULE_SUBENTRY_ID


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


async def test_the_subentrys_main_sensor(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, platform_money_entry: MockConfigEntry
) -> None:
    platform_money_entry.add_to_hass(hass)
    entry_id = platform_money_entry.entry_id
    assert subentry_sensor(hass, entry_id, RULE_SUBENTRY_ID, "last_run_result") is None
    for domain, subentry_id, key in (
        ("sensor", RULE_SUBENTRY_ID, "runs_today"),
        ("binary_sensor", RULE_SUBENTRY_ID, "last_run_result"),
        ("sensor", ROUTE_SUBENTRY_ID, "last_run_result"),
        ("sensor", RULE_SUBENTRY_ID, "last_run_result"),
    ):
        entity_registry.async_get_or_create(
            domain,
            DOMAIN,
            f"{subentry_id}_{domain}_{key}",
            config_entry=platform_money_entry,
            config_subentry_id=subentry_id,
            suggested_object_id=f"{subentry_id}_{domain}_{key}".lower(),
        )
    assert (
        subentry_sensor(hass, entry_id, RULE_SUBENTRY_ID, "last_run_result")
        == f"sensor.{RULE_SUBENTRY_ID.lower()}_sensor_last_run_result"
    )
