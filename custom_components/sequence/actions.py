"""The actions: ``sequence.trigger_rule``, ``sequence.transfer``, ``sequence.get_audit_log``.

The look-ups (``sequence.get_transfers`` and the others of :mod:`.lookups`) are registered here
too, the same way.

Registered once (``async_setup``), for administrators only: a call with a user in its context
(someone in the UI, or a script they run) needs an admin; a call without one (an automation's
trigger, the system) passes. What a call names is a device: a rule's or a transfer route's,
which belongs to a config subentry of a Sequence entry; only those can move money. A call that
names such a device but cannot go out (its entry not loaded, the device not a rule or route)
is refused and recorded in that entry's audit trail.

The schemas only normalize (an amount is an exact ``Decimal``, never float arithmetic); what a
call may do is checked by the runners, which record every refusal.
"""

from decimal import Decimal, InvalidOperation
from typing import Final

from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.service import async_get_config_entry, async_register_admin_service
from homeassistant.util import dt as dt_util
import probatio as vol

from .audit import MoneyAction, async_get_audit_trail
from .const import (
    CONF_DESTINATION,
    CONF_RULE_ID,
    CONF_SOURCE,
    DOMAIN,
    SUBENTRY_ROUTE,
    SUBENTRY_RULE,
)
from .coordinator import SequenceConfigEntry
from .guard import MoneyCall, Refusal, async_refusal
from .lookups import async_setup_lookup_actions
from .money import amount_cents, call_key, valid_key
from .rules import RuleRequest
from .subentry_data import RouteSettings, RuleSettings
from .transfers import TransferRequest

SERVICE_TRIGGER_RULE: Final = "trigger_rule"
SERVICE_TRANSFER: Final = "transfer"
SERVICE_GET_AUDIT_LOG: Final = "get_audit_log"
ATTR_RULE: Final = "rule"
ATTR_ROUTE: Final = "route"
ATTR_AMOUNT: Final = "amount"
ATTR_DESCRIPTION: Final = "description"
ATTR_SIMULATE: Final = "simulate"
ATTR_IDEMPOTENCY_KEY: Final = "idempotency_key"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_SINCE: Final = "since"


def dollars(value: object) -> Decimal:
    """A dollar amount as given (a number, or text like ``"12.50"``), exactly.

    A float is read through its shortest text (``12.1`` is ``Decimal("12.1")``), so no binary
    fraction sneaks in; whether it is a valid amount (cents, minimum) is the runner's check.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        msg = "expected an amount in dollars"
        raise vol.Invalid(msg)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        msg = "expected an amount in dollars"
        raise vol.Invalid(msg) from None
    if not amount.is_finite():
        msg = "expected an amount in dollars"
        raise vol.Invalid(msg)
    return amount


TRIGGER_RULE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_RULE): cv.string,
        vol.Optional(ATTR_AMOUNT): dollars,
        vol.Optional(ATTR_SIMULATE, default=False): cv.boolean,
        vol.Optional(ATTR_IDEMPOTENCY_KEY): cv.string,
    }
)
TRANSFER_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_ROUTE): cv.string,
        vol.Required(ATTR_AMOUNT): dollars,
        vol.Optional(ATTR_DESCRIPTION): cv.string,
        vol.Optional(ATTR_SIMULATE, default=False): cv.boolean,
        vol.Optional(ATTR_IDEMPOTENCY_KEY): cv.string,
    }
)
GET_AUDIT_LOG_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_SINCE): cv.datetime,
    }
)


def async_setup_actions(hass: HomeAssistant) -> None:
    """Register the actions (once, from ``async_setup``)."""
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_TRIGGER_RULE,
        _async_trigger_rule,
        TRIGGER_RULE_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_TRANSFER,
        _async_transfer,
        TRANSFER_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_GET_AUDIT_LOG,
        _async_get_audit_log,
        GET_AUDIT_LOG_SCHEMA,
        SupportsResponse.ONLY,
    )
    async_setup_lookup_actions(hass)


async def _async_trigger_rule(call: ServiceCall) -> ServiceResponse:
    entry, subentry = await _async_resolve(
        call, call.data[ATTR_RULE], SUBENTRY_RULE, MoneyAction.TRIGGER_RULE
    )
    return await entry.runtime_data.rules.async_run(
        RuleRequest(
            settings=RuleSettings.from_subentry(subentry),
            context=call.context,
            amount=call.data.get(ATTR_AMOUNT),
            simulate=call.data[ATTR_SIMULATE],
            idempotency_key=call.data.get(ATTR_IDEMPOTENCY_KEY),
        )
    )


async def _async_transfer(call: ServiceCall) -> ServiceResponse:
    entry, subentry = await _async_resolve(
        call, call.data[ATTR_ROUTE], SUBENTRY_ROUTE, MoneyAction.TRANSFER
    )
    return await entry.runtime_data.transfers.async_run(
        TransferRequest(
            settings=RouteSettings.from_subentry(subentry),
            context=call.context,
            amount=call.data[ATTR_AMOUNT],
            description=call.data.get(ATTR_DESCRIPTION),
            simulate=call.data[ATTR_SIMULATE],
            idempotency_key=call.data.get(ATTR_IDEMPOTENCY_KEY),
        )
    )


async def _async_get_audit_log(call: ServiceCall) -> ServiceResponse:
    """The entry's audit records, oldest first (from ``since`` on, when given)."""
    entry = async_get_config_entry(call.hass, DOMAIN, call.data[ATTR_CONFIG_ENTRY_ID])
    trail = await async_get_audit_trail(call.hass, entry.entry_id)
    since = call.data.get(ATTR_SINCE)
    records = trail.records(None if since is None else dt_util.as_utc(since))
    return {"records": [dict(record) for record in records]}


async def _async_resolve(
    call: ServiceCall, device_id: str, subentry_type: str, action: MoneyAction
) -> tuple[SequenceConfigEntry, ConfigSubentry]:
    """The loaded Sequence entry and the subentry (of ``subentry_type``) a device belongs to.

    Raises:
        ServiceValidationError: the device is not one of a Sequence entry (not audited: no
            entry to audit it in), or its entry is not loaded, or it is not a subentry of the
            right type (both audited in the entry's trail).
    """
    noun = "rule" if subentry_type == SUBENTRY_RULE else "route"
    device = dr.async_get(call.hass).async_get(device_id)
    entry: SequenceConfigEntry | None = (
        None if device is None else call.hass.config_entries.async_get_entry(device.config_entry_id)
    )
    if device is None or entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key=f"not_a_{noun}")
    subentry = entry.subentries.get(device.config_subentry_id or "")
    if subentry is not None and subentry.subentry_type != subentry_type:
        subentry = None
    if entry.state is not ConfigEntryState.LOADED:
        refusal = Refusal("entry_not_loaded", {"title": entry.title})
    elif subentry is None:
        refusal = Refusal(f"not_a_{noun}")
    else:
        return entry, subentry
    trail = await async_get_audit_trail(call.hass, entry.entry_id)
    refused = _refused_call(call, entry, device.config_subentry_id or "", subentry, action)
    raise await async_refusal(trail, refused, refusal)


def _refused_call(
    call: ServiceCall,
    entry: SequenceConfigEntry,
    subentry_id: str,
    subentry: ConfigSubentry | None,
    action: MoneyAction,
) -> MoneyCall:
    """What the audit trail records of a call refused before any runner saw it."""
    given = call.data.get(ATTR_IDEMPOTENCY_KEY)
    key = given or ""
    if subentry_id:  # the key the call would have been sent with
        key = call_key(given, call.context, subentry_id, simulate=call.data[ATTR_SIMULATE])
    amount = call.data.get(ATTR_AMOUNT)
    data = {} if subentry is None else subentry.data
    return MoneyCall(
        action=action,
        entry_id=entry.entry_id,
        subentry_id=subentry_id,
        title=entry.title if subentry is None else subentry.title,
        idempotency_key=key if valid_key(key) else "",
        fingerprint="",
        simulated=call.data[ATTR_SIMULATE],
        context=call.context,
        amount_cents=None if amount is None else amount_cents(amount),
        rule_id=data.get(CONF_RULE_ID),
        source_account_id=data.get(CONF_SOURCE),
        destination_account_id=data.get(CONF_DESTINATION),
    )
