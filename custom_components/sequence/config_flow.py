"""Config flow for Sequence: user, reauth and reconfigure share one validation; options."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
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
    CONF_CREDENTIAL_KIND,
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


class SequenceConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle the config flows for Sequence."""

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> SequenceOptionsFlow:
        """Return the options flow."""
        return SequenceOptionsFlow()

    async def _async_validate(
        self, credential: str, base_url: str, errors: dict[str, str]
    ) -> ValidatedCredential | None:
        """Check a credential; on failure put the error on its field and return None."""
        try:
            return await async_validate_credential(self.hass, credential, base_url)
        except CredentialError as err:
            errors[err.field] = err.key
            return None

    def _user_schema(self, base_url: str, *, token_required: bool = True) -> vol.Schema:
        token_key = vol.Required if token_required else vol.Optional
        return vol.Schema(
            {
                token_key(CONF_API_TOKEN): TOKEN_SELECTOR,
                vol.Required(SECTION_ADVANCED): section(
                    vol.Schema({vol.Required(CONF_BASE_URL, default=base_url): URL_SELECTOR}),
                    {"collapsed": True},
                ),
            }
        )

    def _shares_accounts(self, credential: ValidatedCredential) -> bool:
        return any(
            _known_account_ids(self, entry) & credential.account_ids
            for entry in self._async_current_entries(include_ignore=False)
        )

    def _async_update_same_beneficiary(
        self, entry: ConfigEntry, credential: ValidatedCredential
    ) -> ConfigFlowResult:
        """Store the new credential, unless it sees another beneficiary's accounts."""
        if not _known_account_ids(self, entry) & credential.account_ids:
            return self.async_abort(reason="wrong_account")
        return self.async_update_reload_and_abort(entry, data_updates=credential.data)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the access token (and, in a collapsed section, the API base URL)."""
        errors: dict[str, str] = {}
        base_url = DEFAULT_BASE_URL
        if user_input is not None:
            base_url = user_input[SECTION_ADVANCED][CONF_BASE_URL]
            credential = await self._async_validate(user_input[CONF_API_TOKEN], base_url, errors)
            if credential is not None:
                await self.async_set_unique_id(credential.anchor)
                self._abort_if_unique_id_configured()
                if self._shares_accounts(credential):
                    return self.async_abort(reason="already_configured")
                return self.async_create_entry(title=TITLES[credential.kind], data=credential.data)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                self._user_schema(base_url), {SECTION_ADVANCED: {CONF_BASE_URL: base_url}}
            ),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Sequence refused the stored token: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new token for the same beneficiary."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            credential = await self._async_validate(
                user_input[CONF_API_TOKEN], entry.data[CONF_BASE_URL], errors
            )
            if credential is not None:
                return self._async_update_same_beneficiary(entry, credential)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_API_TOKEN): TOKEN_SELECTOR}),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the token and/or the API base URL; the beneficiary must stay the same."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        base_url = entry.data[CONF_BASE_URL]
        if user_input is not None:
            base_url = user_input[SECTION_ADVANCED][CONF_BASE_URL]
            token = user_input.get(CONF_API_TOKEN) or entry.data[CONF_API_TOKEN]
            credential = await self._async_validate(token, base_url, errors)
            if credential is not None:
                return self._async_update_same_beneficiary(entry, credential)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                self._user_schema(base_url, token_required=False),
                {SECTION_ADVANCED: {CONF_BASE_URL: base_url}},
            ),
            errors=errors,
        )


def _minutes(interval: timedelta) -> int:
    return int(interval.total_seconds() // 60)


class SequenceOptionsFlow(OptionsFlowWithReload):
    """Polling interval, which accounts get sensors, events, and (API keys) activity."""

    config_entry: SequenceConfigEntry

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options (the entry reloads when they change)."""
        entry = self.config_entry
        is_api_key = entry.data.get(CONF_CREDENTIAL_KIND) == KIND_API_KEY
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_SCAN_INTERVAL_MINUTES] = int(user_input[CONF_SCAN_INTERVAL_MINUTES])
            switching_on = user_input.get(CONF_ACTIVITY) and not entry.options.get(CONF_ACTIVITY)
            if switching_on and not await async_has_read_transfers(
                self.hass, entry.data[CONF_API_TOKEN], entry.data[CONF_BASE_URL]
            ):
                errors[CONF_ACTIVITY] = "missing_read_transfers"
            else:
                return self.async_create_entry(data=user_input)

        options = {**entry.options, **(user_input or {})}
        minimum = PLATFORM_MIN_SCAN_INTERVAL if is_api_key else MIN_SCAN_INTERVAL
        schema: dict[vol.Marker, Any] = {
            vol.Required(
                CONF_SCAN_INTERVAL_MINUTES,
                default=options.get(
                    CONF_SCAN_INTERVAL_MINUTES, _minutes(default_scan_interval(entry))
                ),
            ): NumberSelector(
                NumberSelectorConfig(
                    min=_minutes(minimum),
                    max=_minutes(MAX_SCAN_INTERVAL),
                    step=1,
                    unit_of_measurement="min",
                    mode=NumberSelectorMode.BOX,
                )
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
        return self.async_show_form(step_id="init", data_schema=vol.Schema(schema), errors=errors)

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
