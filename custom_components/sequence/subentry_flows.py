"""Subentry flows: the rules and transfer routes an entry may run, and their limits.

A subentry is the allowlist: nothing moves money that is not one. Each flow ends on a
confirmation step that states, with the values just entered, what the subentry allows, and that
is refused until the box is ticked. Reconfiguring changes the name, the limits and (Remote API
rules) the secret; new limits are confirmed the same way.

* A rule, with an access token (Remote API): its trigger URL, on the entry's own API host, and
  its API secret. A secret cannot be checked without running the rule, so it is not tried.
* A rule, with an API key (Platform API): one of the enabled rules Sequence lists for the key
  (``READ_RULES``), then a dry run (a simulated trigger: nothing moves) to check that the key
  may trigger it (``TRIGGER_RULES``).
* A transfer route (API key only): a source and a destination among the entry's accounts, a
  maximum per transfer and per day (USD, to the cent), and an optional default description.
"""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
import re
from typing import Any
import uuid

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from .api import (
    Account,
    Permission,
    SequenceAuthError,
    SequenceError,
    SequenceNotFoundError,
    SequencePermissionError,
    SequencePlatformClient,
    SequenceRefusedError,
)
from .api.models import MAX_ABS_CENTS, RuleSummary, cents_to_dollars
from .api.remote_rules import parse_trigger_url
from .api.transport import normalize_credential
from .const import (
    CONF_API_TOKEN,
    CONF_BASE_URL,
    CONF_CONFIRM,
    CONF_DESCRIPTION,
    CONF_DESTINATION,
    CONF_MAX_PER_DAY,
    CONF_MAX_PER_DAY_CENTS,
    CONF_MAX_PER_TRANSFER,
    CONF_MAX_PER_TRANSFER_CENTS,
    CONF_MAX_RUNS_PER_DAY,
    CONF_MIN_INTERVAL_MINUTES,
    CONF_NAME,
    CONF_RULE_ID,
    CONF_SECRET,
    CONF_SOURCE,
    CONF_TRIGGER_URL,
    DEFAULT_MAX_RUNS_PER_DAY,
    DEFAULT_MIN_INTERVAL_MINUTES,
    KIND_API_KEY,
    LOGGER,
    MAX_MIN_INTERVAL_MINUTES,
    MIN_TRANSFER_CENTS,
    SUBENTRY_ROUTE,
    SUBENTRY_RULE,
)
from .coordinator import SequenceConfigEntry
from .credentials import create_platform_client
from .errors import RULE_GONE_CODES, flow_error
from .guard import cents_text
from .texts import credential_kind

BASE = "base"
DESCRIPTION = re.compile(r"[A-Za-z0-9 ]{0,10}")
"""What Sequence accepts as a transfer's description: at most 10 letters, digits and spaces."""
CENT = Decimal("0.01")
SECRET_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
MINUTES_SELECTOR = NumberSelector(
    NumberSelectorConfig(step=1, unit_of_measurement="min", mode=NumberSelectorMode.BOX)
)
COUNT_SELECTOR = NumberSelector(NumberSelectorConfig(step=1, mode=NumberSelectorMode.BOX))
USD_SELECTOR = NumberSelector(
    NumberSelectorConfig(step=0.01, unit_of_measurement="USD", mode=NumberSelectorMode.BOX)
)
# Ranges are checked by the flows, not the selectors: a selector's own error is Home
# Assistant's untranslated "Value 0.5 is too small", which does not say what is allowed.


def whole_number(value: float, minimum: int, maximum: int | None = None) -> int | None:
    """``value`` as an int when it is a whole number within the range, else None."""
    if not float(value).is_integer():
        return None
    number = int(value)
    if number < minimum or (maximum is not None and number > maximum):
        return None
    return number


def dollars_to_cents(value: float | str) -> int:
    """A USD amount from a form as exact cents; ``ValueError(reason)`` when it is not one.

    A number selector gives a float: its shortest text (``str``) is the number the user typed,
    which is then read as a ``Decimal`` (no float arithmetic). The reasons are form errors:
    ``amount_not_cents`` (more than two decimals, or not a number), ``amount_below_minimum``
    (below Sequence's $1.00), ``amount_too_large``.
    """
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        reason = "amount_not_cents"
    elif amount * 100 < MIN_TRANSFER_CENTS:
        reason = "amount_below_minimum"
    elif amount * 100 >= MAX_ABS_CENTS:  # before quantize(), which huge numbers overflow
        reason = "amount_too_large"
    elif amount != amount.quantize(CENT):
        reason = "amount_not_cents"
    else:
        return int(amount * 100)
    raise ValueError(reason)


def runs_text(runs: int) -> str:
    """``1`` -> ``"1 time"``, ``3`` -> ``"3 times"`` (for the confirmation's statement)."""
    return f"{runs} time" if runs == 1 else f"{runs} times"


class _ConfirmingFlow(ConfigSubentryFlow):
    """A subentry flow whose last step states what the subentry allows, until it is ticked."""

    def __init__(self) -> None:
        """Nothing entered yet."""
        self._title = ""
        self._data: dict[str, Any] = {}
        self._unique_id: str | None = None
        self._statement: dict[str, str] = {}
        """The confirmation's placeholders: the values the statement names."""

    def _entry(self) -> SequenceConfigEntry:
        entry: SequenceConfigEntry = self._get_entry()
        return entry

    def _entry_loaded(self) -> bool:
        return self._entry().state is ConfigEntryState.LOADED

    def _key_error(self, err: SequenceError) -> str:
        """The form error for a failed request with the entry's API key.

        A refused key is the entry's problem, not the form's: its re-authentication starts
        (once), so that the form's "Reauthenticate the entry" can be done.
        """
        if isinstance(err, SequenceAuthError):
            self._entry().async_start_reauth(self.hass)
        return flow_error(err, KIND_API_KEY)[0]

    def _configured(self, subentry_type: str) -> set[str | None]:
        """The unique ids of the entry's subentries of ``subentry_type``."""
        return {
            subentry.unique_id for subentry in self._entry().get_subentries_of_type(subentry_type)
        }

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """State what the subentry allows; refuse until the box is ticked."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input.get(CONF_CONFIRM):
                return self._async_finish()
            errors[CONF_CONFIRM] = "confirm_required"
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({vol.Required(CONF_CONFIRM, default=False): BooleanSelector()}),
            errors=errors,
            description_placeholders=self._statement,
        )

    def _async_finish(self) -> SubentryFlowResult:
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_and_abort(
                self._entry(), self._get_reconfigure_subentry(), title=self._title, data=self._data
            )
        return self.async_create_entry(
            title=self._title, data=self._data, unique_id=self._unique_id
        )


class RuleSubentryFlow(_ConfirmingFlow):
    """Add or change a rule (either credential)."""

    def __init__(self) -> None:
        """No rule listed yet."""
        super().__init__()
        self._rules: dict[str, RuleSummary] = {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """The steps of the entry's credential."""
        if not self._entry_loaded():
            return self.async_abort(reason="entry_not_loaded")
        if credential_kind(self._entry()) == KIND_API_KEY:
            return await self.async_step_api_key()
        return await self.async_step_access_token()

    async def async_step_access_token(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A Remote API rule: its trigger URL and secret, a name and limits."""
        entry = self._entry()
        placeholders = {"api_host": entry.data[CONF_BASE_URL]}
        errors: dict[str, str] = {}
        if user_input is not None:
            rule_id, secret = None, ""
            try:
                rule_id = parse_trigger_url(user_input[CONF_TRIGGER_URL], entry.data[CONF_BASE_URL])
            except ValueError as err:
                errors[CONF_TRIGGER_URL] = f"trigger_url_{err}"
            if rule_id is not None and rule_id in self._configured(SUBENTRY_RULE):
                return self.async_abort(reason="already_configured")
            try:
                secret = normalize_credential(user_input[CONF_SECRET], "rule secret")
            except ValueError:
                errors[CONF_SECRET] = "invalid_secret"
            name = user_input[CONF_NAME].strip()
            if not name:
                errors[CONF_NAME] = "name_required"
            limits = self._limits(user_input, errors)
            if not errors and rule_id is not None:
                self._unique_id = rule_id
                remote = {
                    CONF_TRIGGER_URL: user_input[CONF_TRIGGER_URL].strip(),
                    CONF_SECRET: secret,
                }
                return await self._async_confirm_rule(
                    name, {CONF_RULE_ID: rule_id, **remote}, limits
                )
        schema = vol.Schema(
            {
                vol.Required(CONF_TRIGGER_URL): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.URL)
                ),
                vol.Required(CONF_SECRET): SECRET_SELECTOR,
                vol.Required(CONF_NAME): TextSelector(),
                **self._limit_fields(),
            }
        )
        return self.async_show_form(
            step_id="access_token",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_api_key(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A Platform API rule: one the key may read, a name and limits, then a dry run."""
        errors: dict[str, str] = {}
        entry = self._entry()
        client = create_platform_client(
            self.hass, entry.data[CONF_API_TOKEN], entry.data[CONF_BASE_URL]
        )
        if user_input is None or not self._rules:
            # The first showing, or another try after the listing failed (a form without
            # fields then: submitting it lists again, e.g. once READ_RULES was granted).
            if error := await self._async_list_rules(client):
                return self._show_api_key_form({BASE: error}, with_fields=False)
            if not self._rules:
                return self.async_abort(reason="no_rules")
            return self._show_api_key_form({})
        rule = self._rules[user_input[CONF_RULE_ID]]
        name = user_input.get(CONF_NAME, "").strip() or rule.name
        limits = self._limits(user_input, errors)
        if not errors and (error := await self._async_dry_run(client, rule.id)):
            errors[BASE] = error
        if not errors:
            self._unique_id = rule.id
            return await self._async_confirm_rule(name, {CONF_RULE_ID: rule.id}, limits)
        return self._show_api_key_form(errors, user_input)

    async def _async_list_rules(self, client: SequencePlatformClient) -> str | None:
        """Keep the rules that may be added; the form error when they cannot be listed."""
        try:
            listed = await client.async_list_rules()
        except SequencePermissionError:
            return "missing_read_rules"
        except SequenceError as err:
            return self._key_error(err)
        except Exception:  # noqa: BLE001 - logged; the form says so instead of failing
            LOGGER.exception("Unexpected error while listing the rules of the API key")
            return "unknown"
        configured = self._configured(SUBENTRY_RULE)
        self._rules = {
            rule.id: rule
            for rule in sorted(listed, key=lambda rule: rule.name.lower())
            if rule.enabled and rule.supported and not rule.deleted and rule.id not in configured
        }
        return None

    async def _async_dry_run(self, client: SequencePlatformClient, rule_id: str) -> str | None:
        """Trigger the rule as a simulation (nothing moves); the form error if Sequence refuses."""
        try:
            await client.async_trigger_rule(
                rule_id, simulation=True, idempotency_key=str(uuid.uuid4())
            )
        except SequencePermissionError:
            return "missing_trigger_rules"
        except (SequenceNotFoundError, SequenceRefusedError) as err:
            return _rule_refusal(err)
        except SequenceError as err:
            return self._key_error(err)
        except Exception:  # noqa: BLE001 - logged; the form says so instead of failing
            LOGGER.exception("Unexpected error while checking that the rule can be triggered")
            return "unknown"
        return None

    def _show_api_key_form(
        self,
        errors: dict[str, str],
        user_input: Mapping[str, Any] | None = None,
        *,
        with_fields: bool = True,
    ) -> SubentryFlowResult:
        fields: dict[vol.Marker, Any] = {}
        if with_fields:
            options = [
                SelectOptionDict(value=rule.id, label=rule.name) for rule in self._rules.values()
            ]
            fields = {
                vol.Required(CONF_RULE_ID): SelectSelector(
                    SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
                ),
                vol.Optional(CONF_NAME): TextSelector(),
                **self._limit_fields(),
            }
        return self.async_show_form(
            step_id="api_key",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(fields), user_input or {}),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change the name and limits (and, for a Remote API rule, the secret)."""
        if CONF_SECRET in self._get_reconfigure_subentry().data:
            return await self.async_step_reconfigure_access_token()
        return await self.async_step_reconfigure_api_key()

    async def async_step_reconfigure_access_token(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A Remote API rule: name, limits, and a new secret (empty keeps the stored one)."""
        return await self._async_reconfigure("reconfigure_access_token", user_input)

    async def async_step_reconfigure_api_key(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A Platform API rule: name and limits."""
        return await self._async_reconfigure("reconfigure_api_key", user_input)

    async def _async_reconfigure(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        subentry = self._get_reconfigure_subentry()
        remote = CONF_SECRET in subentry.data
        errors: dict[str, str] = {}
        if user_input is not None:
            changes: dict[str, Any] = {}
            if remote and (typed := user_input.get(CONF_SECRET, "")):
                try:
                    changes[CONF_SECRET] = normalize_credential(typed, "rule secret")
                except ValueError:
                    errors[CONF_SECRET] = "invalid_secret"
            name = user_input[CONF_NAME].strip()
            if not name:
                errors[CONF_NAME] = "name_required"
            limits = self._limits(user_input, errors)
            if not errors:
                data = {**subentry.data, **changes, **limits}
                if limits.items() <= subentry.data.items():
                    return self.async_update_and_abort(
                        self._entry(), subentry, title=name, data=data
                    )
                return await self._async_confirm_rule(name, data, limits)
        fields: dict[vol.Marker, Any] = {vol.Required(CONF_NAME): TextSelector()}
        if remote:
            fields[vol.Optional(CONF_SECRET)] = SECRET_SELECTOR
        fields.update(self._limit_fields())
        # Never the stored secret: an empty field keeps it.
        shown = {CONF_NAME: subentry.title, **subentry.data, **(user_input or {})}
        shown.pop(CONF_SECRET, None)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(vol.Schema(fields), shown),
            errors=errors,
            description_placeholders={"name": subentry.title},
        )

    @staticmethod
    def _limit_fields() -> dict[vol.Marker, Any]:
        return {
            vol.Required(
                CONF_MIN_INTERVAL_MINUTES, default=DEFAULT_MIN_INTERVAL_MINUTES
            ): MINUTES_SELECTOR,
            vol.Required(CONF_MAX_RUNS_PER_DAY, default=DEFAULT_MAX_RUNS_PER_DAY): COUNT_SELECTOR,
        }

    @staticmethod
    def _limits(user_input: Mapping[str, Any], errors: dict[str, str]) -> dict[str, int]:
        """The limits as whole numbers within their ranges; errors on the fields otherwise."""
        minutes = whole_number(user_input[CONF_MIN_INTERVAL_MINUTES], 1, MAX_MIN_INTERVAL_MINUTES)
        runs = whole_number(user_input[CONF_MAX_RUNS_PER_DAY], 1)
        if minutes is None:
            errors[CONF_MIN_INTERVAL_MINUTES] = "min_interval_out_of_range"
        if runs is None:
            errors[CONF_MAX_RUNS_PER_DAY] = "max_runs_out_of_range"
        if minutes is None or runs is None:
            return {}
        return {CONF_MIN_INTERVAL_MINUTES: minutes, CONF_MAX_RUNS_PER_DAY: runs}

    async def _async_confirm_rule(
        self, name: str, data: Mapping[str, Any], limits: Mapping[str, int]
    ) -> SubentryFlowResult:
        self._title = name
        self._data = {**data, **limits}
        self._statement = {
            "name": name,
            "runs": runs_text(limits[CONF_MAX_RUNS_PER_DAY]),
            "minutes": str(limits[CONF_MIN_INTERVAL_MINUTES]),
        }
        return await self.async_step_confirm()


def _rule_refusal(err: SequenceNotFoundError | SequenceRefusedError) -> str:
    """The form error of a simulated run Sequence refused."""
    code = err.code if isinstance(err, SequenceRefusedError) else None
    if code == "RULE_DEACTIVATED":
        return "rule_disabled"
    if isinstance(err, SequenceNotFoundError) or code in RULE_GONE_CODES:
        return "rule_gone"
    return "rule_refused"


class TransferRouteSubentryFlow(_ConfirmingFlow):
    """Add or change a transfer route (API key entries only)."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Source, destination, limits and a default description."""
        entry = self._entry()
        if credential_kind(entry) != KIND_API_KEY:
            # Offered anyway, so that the user learns why an access token cannot move money.
            return self.async_abort(reason="transfers_need_api_key")
        if not self._entry_loaded():
            return self.async_abort(reason="entry_not_loaded")
        accounts = entry.runtime_data.coordinator.data.snapshot.accounts
        sources = [account for account in accounts.values() if account.can_be_source]
        destinations = [account for account in accounts.values() if account.can_be_destination]
        if not sources or not destinations:
            return self.async_abort(reason="no_transfer_accounts")
        errors: dict[str, str] = {}
        if user_input is not None:
            source, destination = user_input[CONF_SOURCE], user_input[CONF_DESTINATION]
            if source == destination:
                errors[CONF_DESTINATION] = "same_account"
            elif f"{source}:{destination}" in self._configured(SUBENTRY_ROUTE):
                errors[BASE] = "route_exists"
            limits = self._limits(user_input, errors)
            description = self._description(user_input, errors)
            if not errors and (error := await self._async_check_route(source, destination)):
                errors[BASE] = error
            if not errors:
                self._unique_id = f"{source}:{destination}"
                title = f"{accounts[source].name} → {accounts[destination].name}"
                data = {CONF_SOURCE: source, CONF_DESTINATION: destination}
                return await self._async_confirm_route(title, data, limits, description)
        schema = vol.Schema(
            {
                vol.Required(CONF_SOURCE): _account_selector(sources),
                vol.Required(CONF_DESTINATION): _account_selector(destinations),
                **self._limit_fields(),
            }
        )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
            description_placeholders=_amount_rules(),
        )

    async def _async_check_route(self, source: str, destination: str) -> str | None:
        """Whether the key may follow transfers and move money on this pair; the form error.

        ``READ_TRANSFERS``: without it no transfer can be followed to its end, so every one
        would stay "outcome unknown", its amount counted. ``MANUAL_TRANSFER`` for the pair: a
        $1.00 simulation, which moves nothing, is the only way to ask.
        """
        client = create_platform_client(
            self.hass, self._entry().data[CONF_API_TOKEN], self._entry().data[CONF_BASE_URL]
        )
        try:
            permissions = await client.async_check_permissions()
            if Permission.READ_TRANSFERS in permissions.missing:
                return "missing_read_transfers"
            await client.async_create_transfer(
                source_id=source,
                destination_id=destination,
                amount_cents=MIN_TRANSFER_CENTS,
                description=None,
                simulation=True,
                idempotency_key=str(uuid.uuid4()),
            )
        except SequencePermissionError:
            return "missing_manual_transfer"
        except SequenceRefusedError as err:
            # Short of $1.00 today is no reason to refuse the route: the pair is allowed.
            return None if err.code == "INSUFFICIENT_FUNDS" else "route_refused"
        except SequenceError as err:
            return self._key_error(err)
        except Exception:  # noqa: BLE001 - logged; the form says so instead of failing
            LOGGER.exception("Unexpected error while checking the transfer route")
            return "unknown"
        return None

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change the limits and the default description."""
        if not self._entry_loaded():
            return self.async_abort(reason="entry_not_loaded")
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            limits = self._limits(user_input, errors)
            description = self._description(user_input, errors)
            if not errors:
                if limits.items() <= subentry.data.items():
                    return self.async_update_and_abort(
                        self._entry(),
                        subentry,
                        data={**subentry.data, CONF_DESCRIPTION: description},
                    )
                return await self._async_confirm_route(
                    subentry.title, subentry.data, limits, description
                )
        stored = {
            CONF_MAX_PER_TRANSFER: float(
                cents_to_dollars(subentry.data[CONF_MAX_PER_TRANSFER_CENTS])
            ),
            CONF_MAX_PER_DAY: float(cents_to_dollars(subentry.data[CONF_MAX_PER_DAY_CENTS])),
            CONF_DESCRIPTION: subentry.data.get(CONF_DESCRIPTION, ""),
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(self._limit_fields()), {**stored, **(user_input or {})}
            ),
            errors=errors,
            description_placeholders={"name": subentry.title, **_amount_rules()},
        )

    @staticmethod
    def _limit_fields() -> dict[vol.Marker, Any]:
        return {
            vol.Required(CONF_MAX_PER_TRANSFER): USD_SELECTOR,
            vol.Required(CONF_MAX_PER_DAY): USD_SELECTOR,
            vol.Optional(CONF_DESCRIPTION): TextSelector(),
        }

    @staticmethod
    def _limits(user_input: Mapping[str, Any], errors: dict[str, str]) -> dict[str, int]:
        """Both maximums in cents, the daily one at least the per-transfer one."""
        cents: dict[str, int] = {}
        for field, key in (
            (CONF_MAX_PER_TRANSFER, CONF_MAX_PER_TRANSFER_CENTS),
            (CONF_MAX_PER_DAY, CONF_MAX_PER_DAY_CENTS),
        ):
            try:
                cents[key] = dollars_to_cents(user_input[field])
            except ValueError as err:
                errors[field] = str(err)
        if len(cents) < 2:  # noqa: PLR2004 - both maximums
            return {}
        if cents[CONF_MAX_PER_DAY_CENTS] < cents[CONF_MAX_PER_TRANSFER_CENTS]:
            errors[CONF_MAX_PER_DAY] = "daily_below_per_transfer"
        return cents

    @staticmethod
    def _description(user_input: Mapping[str, Any], errors: dict[str, str]) -> str:
        description = " ".join(user_input.get(CONF_DESCRIPTION, "").split())
        if not DESCRIPTION.fullmatch(description):
            errors[CONF_DESCRIPTION] = "invalid_description"
        return description

    async def _async_confirm_route(
        self, title: str, data: Mapping[str, Any], limits: Mapping[str, int], description: str
    ) -> SubentryFlowResult:
        accounts = self._entry().runtime_data.coordinator.data.snapshot.accounts
        self._title = title
        self._data = {**data, **limits, CONF_DESCRIPTION: description}
        self._statement = {
            "per_transfer": cents_text(limits[CONF_MAX_PER_TRANSFER_CENTS]),
            "per_day": cents_text(limits[CONF_MAX_PER_DAY_CENTS]),
            "source": _account_name(accounts, data[CONF_SOURCE]),
            "destination": _account_name(accounts, data[CONF_DESTINATION]),
        }
        return await self.async_step_confirm()


def _account_selector(accounts: list[Account]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=[
                SelectOptionDict(value=account.id, label=account.name)
                for account in sorted(accounts, key=lambda account: account.name.lower())
            ],
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


def _account_name(accounts: Mapping[str, Account], account_id: str) -> str:
    """The account's name; its id when Sequence no longer returns it."""
    account = accounts.get(account_id)
    return account_id if account is None else account.name


def _amount_rules() -> dict[str, str]:
    return {"minimum": cents_text(MIN_TRANSFER_CENTS)}


SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {
    SUBENTRY_RULE: RuleSubentryFlow,
    SUBENTRY_ROUTE: TransferRouteSubentryFlow,
}
"""What ``SequenceConfigFlow.async_get_supported_subentry_types`` returns, for every entry."""
