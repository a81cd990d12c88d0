"""Config flow for Sequence: user, reauth and reconfigure share one validation; options."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import device_registry as dr
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

from .api import DEFAULT_BASE_URL, AccountKind
from .const import (
    CONF_ACCOUNT_KINDS,
    CONF_ACTIVITY,
    CONF_API_TOKEN,
    CONF_BALANCE_EVENTS,
    CONF_BASE_URL,
    CONF_EXCLUDED_ACCOUNTS,
    CONF_SCAN_INTERVAL_MINUTES,
    DOMAIN,
    KIND_ACCESS_TOKEN,
    KIND_API_KEY,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
    PLATFORM_MIN_SCAN_INTERVAL,
    SECTION_ADVANCED,
)
from .coordinator import SequenceConfigEntry, default_scan_interval
from .credentials import (
    CredentialError,
    ValidatedCredential,
    async_has_read_transfers,
    async_validate_credential,
)
from .subentry_flows import SUBENTRY_FLOWS
from .texts import credential_kind, text_key

TITLES = {KIND_ACCESS_TOKEN: "Sequence", KIND_API_KEY: "Sequence (API key)"}
TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))


def _known_account_ids(flow: ConfigFlow, entry: ConfigEntry) -> set[str]:
    """Account ids an entry has seen: its anchor plus the accounts it has devices for."""
    prefix = f"{entry.unique_id}:"
    known = {entry.unique_id} if entry.unique_id else set()
    registry = dr.async_get(flow.hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        known.update(
            identifier[len(prefix) :]
            for domain, identifier in device.identifiers
            if domain == DOMAIN and identifier.startswith(prefix)
        )
    return known


@dataclass(slots=True)
class CredentialForm:
    """The errors of one credential form, and the placeholders their texts use."""

    fields: tuple[str, ...]
    """The form's fields: an error about another one (a stored base URL) goes to ``base``."""
    errors: dict[str, str] = field(default_factory=dict)
    placeholders: dict[str, str] = field(default_factory=dict)

    def fail(self, err: CredentialError) -> None:
        """Show ``err`` on its field."""
        self.errors[err.field if err.field in self.fields else "base"] = err.key
        self.placeholders.update(err.placeholders)


class SequenceConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle the config flows for Sequence.

    Reauthentication and reconfiguration have a step per credential kind (``reauth_api_key``,
    ...), so that their texts name the entry's credential. A wrong credential there is an error
    on the form, never an abort: the flow stays until the user gets it right.
    """

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> SequenceOptionsFlow:
        """Return the options flow."""
        return SequenceOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls,
        config_entry: ConfigEntry,  # noqa: ARG003 - the same types for every entry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Rules and transfer routes, for every entry.

        An access token's entry is offered transfer routes too: its flow says at once that
        transfers need an API key, where leaving the type out would hide it without a word.
        """
        return dict(SUBENTRY_FLOWS)

    async def _async_validate(
        self, form: CredentialForm, credential: str, base_url: str, *, kind: str | None = None
    ) -> ValidatedCredential | None:
        """Check a credential; on failure put the error on its field and return None."""
        try:
            return await async_validate_credential(self.hass, credential, base_url, kind=kind)
        except CredentialError as err:
            form.fail(err)
            return None

    def _shares_accounts(self, credential: ValidatedCredential) -> bool:
        return any(
            _known_account_ids(self, entry) & credential.account_ids
            for entry in self._async_current_entries(include_ignore=False)
        )

    async def _async_replace_credential(
        self, form: CredentialForm, entry: ConfigEntry, typed: str | None, base_url: str
    ) -> ConfigFlowResult | None:
        """Store a new credential (or base URL) of the entry's kind for the entry's accounts.

        ``typed`` is what the user pasted; None keeps the stored credential. On any error the
        form gets it (on the credential field when it is about what was pasted) and None is
        returned, so the user can correct it.
        """
        kind = credential_kind(entry)
        credential = await self._async_validate(
            form, typed or entry.data[CONF_API_TOKEN], base_url, kind=kind
        )
        if credential is None:
            return None
        if not _known_account_ids(self, entry) & credential.account_ids:
            form.errors[CONF_API_TOKEN if typed else "base"] = text_key("other_beneficiary", kind)
            return None
        return self.async_update_reload_and_abort(entry, data_updates=credential.data)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the credential (and, in a collapsed section, the API base URL)."""
        form = CredentialForm(fields=(CONF_API_TOKEN, SECTION_ADVANCED))
        values: Mapping[str, Any] = {SECTION_ADVANCED: {CONF_BASE_URL: DEFAULT_BASE_URL}}
        if user_input is not None:
            values = user_input
            credential = await self._async_validate(
                form, user_input[CONF_API_TOKEN], user_input[SECTION_ADVANCED][CONF_BASE_URL]
            )
            if credential is not None:
                await self.async_set_unique_id(credential.anchor)
                self._abort_if_unique_id_configured()
                if self._shares_accounts(credential):
                    return self.async_abort(reason="already_configured")
                return self.async_create_entry(title=TITLES[credential.kind], data=credential.data)
        return self._async_show_credential_form("user", form, values)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Sequence refused the stored credential: ask for a new one of the same kind."""
        return await self._async_reauth(None)

    async def async_step_reauth_access_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new access token for the same beneficiary."""
        return await self._async_reauth(user_input)

    async def async_step_reauth_api_key(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new API key for the same accounts."""
        return await self._async_reauth(user_input)

    async def _async_reauth(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        form = CredentialForm(fields=(CONF_API_TOKEN,))
        if user_input is not None:
            result = await self._async_replace_credential(
                form, entry, user_input[CONF_API_TOKEN], entry.data[CONF_BASE_URL]
            )
            if result is not None:
                return result
        schema = vol.Schema({vol.Required(CONF_API_TOKEN): TOKEN_SELECTOR})
        return self.async_show_form(
            step_id=f"reauth_{credential_kind(entry)}",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=form.errors,
            description_placeholders=form.placeholders,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the credential and/or the API base URL; the accounts must stay the same."""
        return await self._async_reconfigure(None)

    async def async_step_reconfigure_access_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Reconfigure an access-token entry."""
        return await self._async_reconfigure(user_input)

    async def async_step_reconfigure_api_key(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Reconfigure an API-key entry."""
        return await self._async_reconfigure(user_input)

    async def _async_reconfigure(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        form = CredentialForm(fields=(CONF_API_TOKEN, SECTION_ADVANCED))
        values: Mapping[str, Any] = {SECTION_ADVANCED: {CONF_BASE_URL: entry.data[CONF_BASE_URL]}}
        if user_input is not None:
            values = user_input
            result = await self._async_replace_credential(
                form,
                entry,
                user_input.get(CONF_API_TOKEN),
                user_input[SECTION_ADVANCED][CONF_BASE_URL],
            )
            if result is not None:
                return result
        return self._async_show_credential_form(
            f"reconfigure_{credential_kind(entry)}", form, values, token_required=False
        )

    def _async_show_credential_form(
        self,
        step_id: str,
        form: CredentialForm,
        values: Mapping[str, Any],
        *,
        token_required: bool = True,
    ) -> ConfigFlowResult:
        """The credential and, in the Advanced section, the base URL, as the user typed them.

        Sequence shows a credential only once, so what was pasted stays in the field after an
        error. The section opens when the base URL has the error: Home Assistant's frontend
        shows an error of a section's field above the section, keyed by the section's name.
        """
        token_key = vol.Required if token_required else vol.Optional
        schema = vol.Schema(
            {
                token_key(CONF_API_TOKEN): TOKEN_SELECTOR,
                vol.Required(SECTION_ADVANCED): section(
                    vol.Schema(
                        {
                            vol.Required(
                                CONF_BASE_URL, default=values[SECTION_ADVANCED][CONF_BASE_URL]
                            ): URL_SELECTOR
                        }
                    ),
                    {"collapsed": SECTION_ADVANCED not in form.errors},
                ),
            }
        )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, values),
            errors=form.errors,
            description_placeholders=form.placeholders,
        )


def _minutes(interval: timedelta) -> int:
    return int(interval.total_seconds() // 60)


class SequenceOptionsFlow(OptionsFlowWithReload):
    """Polling interval, which accounts get sensors, events, and (API keys) activity.

    A step per credential kind (``access_token``, ``api_key``): each describes only its own
    polling limits, and only API keys have activity.
    """

    config_entry: SequenceConfigEntry

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options of the entry's kind (the entry reloads when they change)."""
        return await self._async_options(user_input)

    async def async_step_access_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The options of an access-token entry."""
        return await self._async_options(user_input)

    async def async_step_api_key(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The options of an API-key entry."""
        return await self._async_options(user_input)

    async def _async_options(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        entry = self.config_entry
        credential = credential_kind(entry)
        is_api_key = credential == KIND_API_KEY
        minimum = _minutes(PLATFORM_MIN_SCAN_INTERVAL if is_api_key else MIN_SCAN_INTERVAL)
        maximum = _minutes(MAX_SCAN_INTERVAL)
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_SCAN_INTERVAL_MINUTES] = int(user_input[CONF_SCAN_INTERVAL_MINUTES])
            switching_on = user_input.get(CONF_ACTIVITY) and not entry.options.get(CONF_ACTIVITY)
            if not minimum <= user_input[CONF_SCAN_INTERVAL_MINUTES] <= maximum:
                # Checked here, not by the selector: its error is Home Assistant's untranslated
                # "Value 1.0 is too small", which does not say what this entry allows.
                errors[CONF_SCAN_INTERVAL_MINUTES] = "scan_interval_out_of_range"
            elif switching_on and not await async_has_read_transfers(
                self.hass, entry.data[CONF_API_TOKEN], entry.data[CONF_BASE_URL]
            ):
                errors[CONF_ACTIVITY] = "missing_read_transfers"
            else:
                return self.async_create_entry(data=user_input)

        options = {**entry.options, **(user_input or {})}
        schema: dict[vol.Marker, Any] = {
            vol.Required(
                CONF_SCAN_INTERVAL_MINUTES,
                default=options.get(
                    CONF_SCAN_INTERVAL_MINUTES, _minutes(default_scan_interval(entry))
                ),
            ): NumberSelector(
                NumberSelectorConfig(step=1, unit_of_measurement="min", mode=NumberSelectorMode.BOX)
            ),
            vol.Required(
                CONF_ACCOUNT_KINDS,
                default=options.get(CONF_ACCOUNT_KINDS, [kind.value for kind in AccountKind]),
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[kind.value for kind in AccountKind],
                    multiple=True,
                    mode=SelectSelectorMode.LIST,
                    translation_key=CONF_ACCOUNT_KINDS,
                )
            ),
        }
        if accounts := self._account_choices():
            schema[
                vol.Optional(
                    CONF_EXCLUDED_ACCOUNTS, default=options.get(CONF_EXCLUDED_ACCOUNTS, [])
                )
            ] = SelectSelector(
                SelectSelectorConfig(
                    options=accounts, multiple=True, mode=SelectSelectorMode.DROPDOWN
                )
            )
        schema[
            vol.Required(CONF_BALANCE_EVENTS, default=options.get(CONF_BALANCE_EVENTS, False))
        ] = BooleanSelector()
        if is_api_key:
            schema[vol.Required(CONF_ACTIVITY, default=options.get(CONF_ACTIVITY, False))] = (
                BooleanSelector()
            )
        return self.async_show_form(
            step_id=credential,
            data_schema=vol.Schema(schema),
            errors=errors,
            description_placeholders={"minimum": str(minimum), "maximum": str(maximum)},
        )

    def _account_choices(self) -> list[SelectOptionDict]:
        """Every account of the last poll, by name; none while the entry is not loaded."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return []
        coordinator = self.config_entry.runtime_data.coordinator
        return [
            SelectOptionDict(value=account.id, label=account.name)
            for account in sorted(
                coordinator.data.snapshot.accounts.values(),
                key=lambda account: account.name.lower(),
            )
        ]
