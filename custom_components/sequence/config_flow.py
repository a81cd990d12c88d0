"""Config flow for Sequence: user, reauth and reconfigure share one validation; options."""

from collections.abc import Mapping
import ipaddress
from typing import Any
from urllib.parse import urlsplit

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
from homeassistant.helpers.aiohttp_client import async_get_clientsession
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
    DEFAULT_BASE_URL,
    AccountKind,
    AccountsSnapshot,
    SequenceError,
    SequenceRemoteClient,
    normalize_token,
)
from .const import (
    CONF_ACCOUNT_KINDS,
    CONF_API_TOKEN,
    CONF_BALANCE_EVENTS,
    CONF_BASE_URL,
    CONF_EXCLUDED_ACCOUNTS,
    CONF_SCAN_INTERVAL_MINUTES,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
    SECTION_ADVANCED,
)
from .coordinator import SequenceConfigEntry, error_key

TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))


def normalize_base_url(raw: str) -> str:
    """Return the base URL without trailing slashes, or raise ValueError with an error key.

    https anywhere; plain http only for loopback hosts (a local simulator), so a token is never
    sent in clear text over a network.
    """
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    invalid = parts.scheme not in ("http", "https") or not parts.hostname
    if invalid or parts.username or parts.password or parts.query or parts.fragment:
        key = "invalid_url"
        raise ValueError(key)
    if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
        key = "insecure_url"
        raise ValueError(key)
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _anchor_account_id(snapshot: AccountsSnapshot) -> str:
    """The entry's unique id: the smallest account id Sequence returns for the beneficiary.

    Sequence's Remote API has no beneficiary id, and a token sees exactly one beneficiary's
    accounts, so an account id stands for the beneficiary. Later changes to the account list are
    handled by comparing account sets (see ``_known_account_ids``).
    """
    return min(snapshot.accounts)


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
        self, token: str, base_url: str
    ) -> tuple[dict[str, Any], AccountsSnapshot | None, dict[str, str]]:
        """Check a credential against Sequence: (entry data, accounts, errors by field)."""
        try:
            token = normalize_token(token)
        except ValueError:
            return {}, None, {CONF_API_TOKEN: "invalid_auth"}
        try:
            base_url = normalize_base_url(base_url)
        except ValueError as err:
            return {}, None, {"base": str(err)}
        client = SequenceRemoteClient(async_get_clientsession(self.hass), token, base_url=base_url)
        try:
            snapshot = await client.async_get_accounts()
        except SequenceError as err:
            key = error_key(err)
            return {}, None, {CONF_API_TOKEN if key == "invalid_auth" else "base": key}
        except Exception:  # noqa: BLE001 - any other failure is "unknown" on the form, and logged
            LOGGER.exception("Unexpected error while checking the Sequence credential")
            return {}, None, {"base": "unknown"}
        if not snapshot.accounts:
            return {}, None, {"base": "no_accounts"}
        return {CONF_API_TOKEN: token, CONF_BASE_URL: base_url}, snapshot, {}

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

    def _entry_sharing_accounts(self, snapshot: AccountsSnapshot) -> ConfigEntry | None:
        for entry in self._async_current_entries(include_ignore=False):
            if _known_account_ids(self, entry) & set(snapshot.accounts):
                return entry
        return None

    def _async_update_same_beneficiary(
        self, entry: ConfigEntry, data: dict[str, Any], snapshot: AccountsSnapshot
    ) -> ConfigFlowResult:
        """Store the new credential, unless it sees another beneficiary's accounts."""
        if not _known_account_ids(self, entry) & set(snapshot.accounts):
            return self.async_abort(reason="wrong_account")
        return self.async_update_reload_and_abort(entry, data_updates=data)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the access token (and, in a collapsed section, the API base URL)."""
        errors: dict[str, str] = {}
        base_url = DEFAULT_BASE_URL
        if user_input is not None:
            base_url = user_input[SECTION_ADVANCED][CONF_BASE_URL]
            data, snapshot, errors = await self._async_validate(
                user_input[CONF_API_TOKEN], base_url
            )
            if snapshot is not None:
                await self.async_set_unique_id(_anchor_account_id(snapshot))
                self._abort_if_unique_id_configured()
                if self._entry_sharing_accounts(snapshot) is not None:
                    return self.async_abort(reason="already_configured")
                return self.async_create_entry(title="Sequence", data=data)
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
            data, snapshot, errors = await self._async_validate(
                user_input[CONF_API_TOKEN], entry.data[CONF_BASE_URL]
            )
            if snapshot is not None:
                return self._async_update_same_beneficiary(entry, data, snapshot)
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
            data, snapshot, errors = await self._async_validate(token, base_url)
            if snapshot is not None:
                return self._async_update_same_beneficiary(entry, data, snapshot)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                self._user_schema(base_url, token_required=False),
                {SECTION_ADVANCED: {CONF_BASE_URL: base_url}},
            ),
            errors=errors,
        )


class SequenceOptionsFlow(OptionsFlowWithReload):
    """Polling interval, which accounts get sensors, and balance-change events."""

    config_entry: SequenceConfigEntry

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options (the entry reloads when they change)."""
        if user_input is not None:
            user_input[CONF_SCAN_INTERVAL_MINUTES] = int(user_input[CONF_SCAN_INTERVAL_MINUTES])
            return self.async_create_entry(data=user_input)

        options = self.config_entry.options
        schema: dict[vol.Marker, Any] = {
            vol.Required(
                CONF_SCAN_INTERVAL_MINUTES,
                default=options.get(
                    CONF_SCAN_INTERVAL_MINUTES, DEFAULT_SCAN_INTERVAL.total_seconds() // 60
                ),
            ): NumberSelector(
                NumberSelectorConfig(
                    min=MIN_SCAN_INTERVAL.total_seconds() // 60,
                    max=MAX_SCAN_INTERVAL.total_seconds() // 60,
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
        accounts = self._account_choices()
        if accounts:
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
        return self.async_show_form(step_id="init", data_schema=vol.Schema(schema))

    def _account_choices(self) -> list[SelectOptionDict]:
        """Every account of the last poll, by name; none while the entry is not loaded."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return []
        coordinator = self.config_entry.runtime_data
        return [
            SelectOptionDict(value=account.id, label=account.name)
            for account in sorted(
                coordinator.data.snapshot.accounts.values(),
                key=lambda account: account.name.lower(),
            )
        ]
