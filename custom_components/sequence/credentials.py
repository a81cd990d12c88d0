"""Checking a credential against Sequence, for every flow: which kind, which API, whose accounts.

A pasted ``sk_...`` is a Platform API key, anything else a Remote API access token. Either way the
result says whose accounts the credential sees (their ids), which is how the flows recognise a
beneficiary: Sequence has no beneficiary id in either API.
"""

from collections.abc import Mapping
from dataclasses import dataclass
import ipaddress
from urllib.parse import urlsplit

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api import (
    DEFAULT_BASE_URL,
    Permission,
    PermissionCheck,
    SequenceError,
    SequencePlatformClient,
    SequenceRemoteClient,
    detect_credential_kind,
    normalize_token,
)
from .api.platform import normalize_api_key
from .api.transport import strip_bearer
from .const import (
    CONF_API_TOKEN,
    CONF_BASE_URL,
    CONF_CREDENTIAL_KIND,
    KIND_ACCESS_TOKEN,
    KIND_API_KEY,
    LOGGER,
    PLATFORM_PATH,
    SECTION_ADVANCED,
)
from .errors import flow_error
from .request_budgets import request_budget
from .texts import text_key

URL_EXAMPLE = {"example_url": DEFAULT_BASE_URL}


class CredentialError(Exception):
    """Why a credential cannot be used: a ``config.error`` translation key and its form field."""

    def __init__(
        self, key: str, field: str = "base", placeholders: Mapping[str, str] | None = None
    ) -> None:
        """Keep the error key, the field it belongs to and the placeholders its text uses."""
        super().__init__(key)
        self.key = key
        self.field = field
        self.placeholders = dict(placeholders or {})


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidatedCredential:
    """A credential Sequence accepted, and what it sees."""

    data: dict[str, str]
    """The config entry's data: normalized credential, its kind and the base URL."""
    account_ids: frozenset[str]
    permissions: PermissionCheck | None = None
    """Platform API keys only: which read permissions the key holds."""

    @property
    def kind(self) -> str:
        """``access_token`` or ``api_key``."""
        return self.data[CONF_CREDENTIAL_KIND]

    @property
    def anchor(self) -> str:
        """The entry's unique id: the smallest account id the credential sees."""
        return min(self.account_ids)


def normalize_base_url(raw: str) -> str:
    """Return the base URL as ``scheme://host[:port]``, or raise CredentialError saying why not.

    A scheme and a host (and port) only: each client adds its API's path itself. https anywhere;
    plain http only for loopback hosts (a local simulator), so a credential is never sent in
    clear text over a network. The errors belong to the Advanced section's field.
    """
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise CredentialError("url_scheme", SECTION_ADVANCED, URL_EXAMPLE)
    try:
        host, _port = parts.hostname, parts.port  # the port: ValueError when not a valid number
    except ValueError:
        host = None
    if not host:
        raise CredentialError("invalid_url", SECTION_ADVANCED, URL_EXAMPLE)
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise CredentialError("url_extras", SECTION_ADVANCED)
    host_only = f"{parts.scheme}://{parts.netloc}"
    if parts.path:
        raise CredentialError("url_path", SECTION_ADVANCED, {"host_url": host_only})
    if parts.scheme == "http" and not _is_loopback(host):
        raise CredentialError("insecure_url", SECTION_ADVANCED)
    return host_only


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_platform_client(
    hass: HomeAssistant, api_key: str, base_url: str
) -> SequencePlatformClient:
    """A Platform API client on Home Assistant's shared session and the key's one budget.

    The only place Platform API clients are made: whatever uses a key (the entry, every flow)
    shares its rate window, in-flight cap and ``Retry-After`` block.
    """
    return SequencePlatformClient(
        async_get_clientsession(hass),
        api_key,
        base_url=f"{base_url}{PLATFORM_PATH}",
        budget=request_budget(hass, api_key),
    )


def create_remote_client(hass: HomeAssistant, token: str, base_url: str) -> SequenceRemoteClient:
    """A Remote API client on Home Assistant's shared session."""
    return SequenceRemoteClient(async_get_clientsession(hass), token, base_url=base_url)


async def async_validate_credential(
    hass: HomeAssistant, raw_credential: str, raw_base_url: str, *, kind: str | None = None
) -> ValidatedCredential:
    """Check a pasted credential with the API it belongs to; raise CredentialError if unusable.

    ``kind``: the kind the credential must be (an entry's, when replacing its credential). Error
    texts name the pasted credential's kind, so an access token is never called an API key.
    """
    base_url = normalize_base_url(raw_base_url)
    pasted = detect_credential_kind(raw_credential)
    if kind is not None and pasted != kind and strip_bearer(raw_credential):
        raise CredentialError(text_key("wrong_kind", kind), CONF_API_TOKEN)
    named = kind or pasted  # differs from ``pasted`` only for a blank paste
    try:
        if pasted == KIND_API_KEY:
            return await _async_validate_api_key(hass, normalize_api_key(raw_credential), base_url)
        return await _async_validate_access_token(hass, normalize_token(raw_credential), base_url)
    except ValueError as err:
        raise CredentialError(text_key("invalid_auth", named), CONF_API_TOKEN) from err
    except SequenceError as err:
        raise CredentialError(*flow_error(err, named)) from err
    except CredentialError:
        raise
    except Exception as err:
        LOGGER.exception("Unexpected error while checking the Sequence credential")
        raise CredentialError("unknown") from err


async def _async_validate_access_token(
    hass: HomeAssistant, token: str, base_url: str
) -> ValidatedCredential:
    snapshot = await create_remote_client(hass, token, base_url).async_get_accounts()
    if not snapshot.accounts:
        raise CredentialError(text_key("no_accounts", KIND_ACCESS_TOKEN))
    return ValidatedCredential(
        data={
            CONF_API_TOKEN: token,
            CONF_BASE_URL: base_url,
            CONF_CREDENTIAL_KIND: KIND_ACCESS_TOKEN,
        },
        account_ids=frozenset(snapshot.accounts),
    )


async def _async_validate_api_key(
    hass: HomeAssistant, api_key: str, base_url: str
) -> ValidatedCredential:
    client = create_platform_client(hass, api_key, base_url)
    permissions = await client.async_check_permissions()
    if Permission.READ_ACCOUNTS in permissions.missing:
        raise CredentialError("missing_read_accounts", CONF_API_TOKEN)
    accounts = await client.async_list_accounts()
    if not accounts:
        raise CredentialError(text_key("no_accounts", KIND_API_KEY))
    return ValidatedCredential(
        data={CONF_API_TOKEN: api_key, CONF_BASE_URL: base_url, CONF_CREDENTIAL_KIND: KIND_API_KEY},
        account_ids=frozenset(account.id for account in accounts),
        permissions=permissions,
    )


async def async_has_read_transfers(hass: HomeAssistant, api_key: str, base_url: str) -> bool:
    """Whether a key may read transfers; True when Sequence cannot say (the repair issue will)."""
    try:
        permissions = await create_platform_client(
            hass, api_key, base_url
        ).async_check_permissions()
    except SequenceError:
        return True
    return Permission.READ_TRANSFERS not in permissions.missing
