"""The actions: admins and automations only, devices resolved to subentries, the audit log."""

from datetime import datetime, timedelta
from decimal import Decimal
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
import yaml

from custom_components.sequence.actions import (
    GET_AUDIT_LOG_SCHEMA,
    TRANSFER_SCHEMA,
    TRIGGER_RULE_SCHEMA,
    dollars,
)
from custom_components.sequence.audit import async_get_audit_trail
from custom_components.sequence.const import DOMAIN, EVENT_MONEY_ACTION
from custom_components.sequence.guard import derive_idempotency_key
from custom_components.sequence.lookups import (
    GET_ACCOUNTS_SCHEMA,
    GET_EXTERNAL_TRANSACTIONS_SCHEMA,
    GET_TRANSFER_SCHEMA,
    GET_TRANSFERS_SCHEMA,
)

from .conftest import (
    EMERGENCY_FUND_ID,
    PAYCHECK_ID,
    PLATFORM_RULE_ID,
    ROUTE_SUBENTRY_ID,
    RULE_SUBENTRY_ID,
    MoneySetup,
    call_action,
)

INTEGRATION = Path(__file__).resolve().parent.parent / "custom_components" / "sequence"
SERVICES = yaml.safe_load((INTEGRATION / "services.yaml").read_text(encoding="utf-8"))
STRINGS = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
ICONS = json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))


def test_actions_are_described_everywhere() -> None:
    schemas = {
        "trigger_rule": TRIGGER_RULE_SCHEMA,
        "transfer": TRANSFER_SCHEMA,
        "get_audit_log": GET_AUDIT_LOG_SCHEMA,
        "get_transfers": GET_TRANSFERS_SCHEMA,
        "get_transfer": GET_TRANSFER_SCHEMA,
        "get_external_transactions": GET_EXTERNAL_TRANSACTIONS_SCHEMA,
        "get_accounts": GET_ACCOUNTS_SCHEMA,
    }
    assert set(SERVICES) == set(STRINGS["services"]) == set(ICONS["services"]) == set(schemas)
    for name, schema in schemas.items():
        fields = {str(key) for key in schema.schema}
        assert set(SERVICES[name]["fields"]) == fields, name
        assert set(STRINGS["services"][name]["fields"]) == fields, name
    for name, field, model_id in (
        ("trigger_rule", "rule", "rule"),
        ("transfer", "route", "transfer_route"),
    ):
        [device_filter] = SERVICES[name]["fields"][field]["selector"]["device"]["filter"]
        assert device_filter == {"integration": DOMAIN, "model_id": model_id}


async def test_home_assistant_reads_the_descriptions(
    hass: HomeAssistant, platform_money: MoneySetup, caplog: pytest.LogCaptureFixture
) -> None:
    descriptions = (await async_get_all_descriptions(hass))[DOMAIN]
    assert set(descriptions) == {
        "trigger_rule",
        "transfer",
        "get_audit_log",
        "get_transfers",
        "get_transfer",
        "get_external_transactions",
        "get_accounts",
    }
    assert descriptions["transfer"]["fields"]["amount"]["required"] is True
    assert "Unable to parse services.yaml" not in caplog.text


async def test_registered_once_and_kept_while_entries_come_and_go(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    assert await hass.config_entries.async_unload(platform_money.entry.entry_id)
    for name in ("trigger_rule", "transfer", "get_audit_log"):
        assert hass.services.has_service(DOMAIN, name)


# --- Who may call them ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "data"),
    [
        ("trigger_rule", {"simulate": True}),
        ("transfer", {"amount": 10}),
        ("get_audit_log", {}),
    ],
)
async def test_a_user_who_is_not_an_admin_is_unauthorized(
    hass: HomeAssistant,
    platform_money: MoneySetup,
    hass_read_only_user: User,
    service: str,
    data: dict[str, Any],
) -> None:
    target = {
        "trigger_rule": {"rule": platform_money.rule_device},
        "transfer": {"route": platform_money.route_device},
        "get_audit_log": {"config_entry_id": platform_money.entry.entry_id},
    }[service]
    with pytest.raises(Unauthorized):
        await call_action(
            hass, service, target | data, context=Context(user_id=hass_read_only_user.id)
        )
    assert platform_money.fake.requests == []


async def test_a_script_run_by_a_user_who_is_not_an_admin_is_unauthorized(
    hass: HomeAssistant, platform_money: MoneySetup, hass_read_only_user: User
) -> None:
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "payday": {
                    "sequence": [
                        {
                            "action": "sequence.trigger_rule",
                            "data": {"rule": platform_money.rule_device},
                        }
                    ]
                }
            }
        },
    )
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            "script", "payday", blocking=True, context=Context(user_id=hass_read_only_user.id)
        )
    assert platform_money.fake.requests == []


async def test_admins_and_automations_may_call_them(
    hass: HomeAssistant, platform_money: MoneySetup, hass_admin_user: User
) -> None:
    by_admin = await call_action(
        hass,
        "trigger_rule",
        {"rule": platform_money.rule_device, "simulate": True},
        context=Context(user_id=hass_admin_user.id),
    )
    by_automation = await call_action(
        hass, "transfer", {"route": platform_money.route_device, "amount": 10}
    )
    assert by_admin["simulated"] is True
    assert by_automation["status"] == "PROCESSING"
    log = await call_action(
        hass, "get_audit_log", {"config_entry_id": platform_money.entry.entry_id}
    )
    assert [record["user_id"] for record in log["records"]] == [hass_admin_user.id, None, None]


async def test_the_response_is_optional(hass: HomeAssistant, platform_money: MoneySetup) -> None:
    response = await hass.services.async_call(
        DOMAIN, "trigger_rule", {"rule": platform_money.rule_device}, blocking=True
    )
    assert response is None
    assert len(platform_money.fake.live("trigger_rule")) == 1


# --- Which device -------------------------------------------------------------------------------


async def test_a_device_that_is_no_sequence_device_is_refused_unaudited(
    hass: HomeAssistant, platform_money: MoneySetup, device_registry: dr.DeviceRegistry
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    foreign = device_registry.async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}
    )
    for device_id in ("no-such-device", foreign.id):
        with pytest.raises(ServiceValidationError) as raised:
            await call_action(hass, "trigger_rule", {"rule": device_id})
        assert raised.value.translation_key == "not_a_rule"
        with pytest.raises(ServiceValidationError) as raised:
            await call_action(hass, "transfer", {"route": device_id, "amount": 5})
        assert raised.value.translation_key == "not_a_route"
    assert audit == []


async def test_a_sequence_device_that_is_not_a_rule_is_refused_and_audited(
    hass: HomeAssistant, platform_money: MoneySetup, device_registry: dr.DeviceRegistry
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    hub = device_registry.async_get_device_by_identifier(
        (DOMAIN, str(platform_money.entry.unique_id)), platform_money.entry.entry_id
    )
    assert hub is not None
    context = Context()
    with pytest.raises(ServiceValidationError):
        await call_action(hass, "trigger_rule", {"rule": hub.id}, context=context)
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(
            hass,
            "trigger_rule",
            {"rule": platform_money.route_device, "amount": "2.5", "idempotency_key": "bad key"},
        )
    assert str(raised.value).startswith("This device is not a Sequence rule.")
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(
            hass, "transfer", {"route": platform_money.rule_device, "amount": 5, "simulate": True}
        )
    assert raised.value.translation_key == "not_a_route"
    assert [
        (e.data["action"], e.data["subentry_id"], e.data["reason"], e.data["amount"]) for e in audit
    ] == [
        ("trigger_rule", None, "not_a_rule", None),
        ("trigger_rule", ROUTE_SUBENTRY_ID, "not_a_rule", "2.50"),
        ("transfer", RULE_SUBENTRY_ID, "not_a_route", "5.00"),
    ]
    assert audit[0].data["idempotency_key"] is None  # a hub has no subentry to derive it from
    assert audit[0].data["context_id"] == context.id
    assert audit[1].data["idempotency_key"] is None  # the given one was not valid
    assert (audit[1].data["source_account_id"], audit[2].data["rule_id"]) == (None, None)
    assert audit[2].data["simulated"] is True
    assert platform_money.fake.requests == []


async def test_a_rule_of_an_entry_that_is_not_loaded_is_refused_and_audited(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    audit = async_capture_events(hass, EVENT_MONEY_ACTION)
    entry = platform_money.entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    context = Context()
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(
            hass, "trigger_rule", {"rule": platform_money.rule_device}, context=context
        )
    assert str(raised.value) == (
        "The Sequence entry Sequence (API key) is not loaded, so nothing was sent. Check its "
        "status under Settings, Devices & services, Sequence"
    )
    [event] = audit
    assert (event.data["outcome"], event.data["reason"], event.data["subentry_id"]) == (
        "refused",
        "entry_not_loaded",
        RULE_SUBENTRY_ID,
    )
    assert (event.data["rule_id"], event.data["source_account_id"]) == (PLATFORM_RULE_ID, None)
    trail = await async_get_audit_trail(hass, entry.entry_id)
    assert trail.records()[-1]["reason"] == "entry_not_loaded"
    assert platform_money.fake.requests == []


# --- The audit log ------------------------------------------------------------------------------


async def test_the_audit_log(
    hass: HomeAssistant, platform_money: MoneySetup, frozen_start: FrozenDateTimeFactory
) -> None:
    entry_id = platform_money.entry.entry_id
    await call_action(hass, "trigger_rule", {"rule": platform_money.rule_device, "simulate": True})
    frozen_start.tick(timedelta(hours=1))
    await call_action(hass, "transfer", {"route": platform_money.route_device, "amount": 10})
    log = await call_action(hass, "get_audit_log", {"config_entry_id": entry_id})
    assert [(r["action"], r["outcome"]) for r in log["records"]] == [
        ("trigger_rule", "simulated"),
        ("transfer", "simulated"),
        ("transfer", "sent"),
    ]
    assert log["records"][2] == {
        "time": "2026-11-21T13:00:00+00:00",
        "action": "transfer",
        "config_entry_id": entry_id,
        "subentry_id": ROUTE_SUBENTRY_ID,
        "outcome": "sent",
        "reason": None,
        "simulated": False,
        "amount": "10.00",
        "rule_id": None,
        "source_account_id": PAYCHECK_ID,
        "destination_account_id": EMERGENCY_FUND_ID,
        "execution_id": None,
        "transfer_id": "transfer-2",
        "idempotency_key": log["records"][2]["idempotency_key"],
        "user_id": None,
        "context_id": log["records"][2]["context_id"],
    }
    context_id = log["records"][2]["context_id"]
    assert isinstance(context_id, str)
    assert context_id
    # No key was given: it is the one derived from the call's context and the route.
    assert log["records"][2]["idempotency_key"] == derive_idempotency_key(
        context_id, ROUTE_SUBENTRY_ID
    )
    local_since = dt_util.as_local(dt_util.utcnow() - timedelta(minutes=1)).replace(tzinfo=None)
    for since in (local_since.isoformat(), "2026-11-21T12:59:00+00:00"):
        recent = await call_action(
            hass, "get_audit_log", {"config_entry_id": entry_id, "since": since}
        )
        assert [r["outcome"] for r in recent["records"]] == ["simulated", "sent"]
    recent["records"][0]["outcome"] = "changed by a script"
    again = await call_action(hass, "get_audit_log", {"config_entry_id": entry_id})
    assert again["records"][1]["outcome"] == "simulated"  # the log itself is not changed


async def test_the_audit_log_is_a_response_only_action_of_a_loaded_entry(
    hass: HomeAssistant, platform_money: MoneySetup
) -> None:
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "get_audit_log",
            {"config_entry_id": platform_money.entry.entry_id},
            blocking=True,
        )
    with pytest.raises(ServiceValidationError):
        await call_action(hass, "get_audit_log", {"config_entry_id": "no-such-entry"})


# --- Amounts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "amount"),
    [
        (10, Decimal(10)),
        (12.1, Decimal("12.1")),
        (0.1 + 0.2, Decimal("0.30000000000000004")),  # refused later: not whole cents
        ("  25.50 ", Decimal("25.50")),
        ("1e2", Decimal(100)),
    ],
)
def test_amounts_are_read_exactly(given: object, amount: Decimal) -> None:
    assert dollars(given) == amount


@pytest.mark.parametrize("given", [True, "ten", "NaN", "-Infinity", [10], None, ""])
def test_what_is_no_amount(given: object) -> None:
    with pytest.raises(vol.Invalid):
        dollars(given)


async def test_a_since_without_a_zone_is_local(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("America/New_York")
    data = GET_AUDIT_LOG_SCHEMA({"config_entry_id": "x", "since": "2026-11-21 08:00:00"})
    assert data["since"] == datetime(2026, 11, 21, 8, 0)  # noqa: DTZ001 - no zone was given
    # ... and the action reads it in Home Assistant's zone (as dt_util.as_utc does).
    assert dt_util.as_utc(data["since"]) == datetime(2026, 11, 21, 13, 0, tzinfo=dt_util.UTC)
