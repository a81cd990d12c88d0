"""Texts that name the credential: an access token is not an API key, and the user knows which.

Most messages read the same for both credentials. Those that name the credential exist once per
kind in strings.json, as ``<key>_access_token`` and ``<key>_api_key`` (in ``config.error`` and
``exceptions``); the API-problem sensor has a translation key per kind too. Only the texts vary:
error kinds, attribute values and event data are the same for both credentials.

A new error whose text does not name the credential needs nothing here; one that does goes into
``CREDENTIAL_SPECIFIC`` and gets both variants (tests/test_translations.py checks the pairs).
"""

from typing import Final

from homeassistant.config_entries import ConfigEntry

from .const import CONF_CREDENTIAL_KIND, KIND_ACCESS_TOKEN, KIND_API_KEY

CREDENTIAL_KINDS: Final = (KIND_ACCESS_TOKEN, KIND_API_KEY)
CREDENTIAL_SPECIFIC: Final = frozenset(
    {"invalid_auth", "no_accounts", "wrong_kind", "other_beneficiary"}
)
"""Error keys whose texts name the credential ("this access token", "this API key")."""


def credential_kind(entry: ConfigEntry) -> str:
    """The entry's credential kind: ``access_token`` or ``api_key``."""
    return (
        KIND_API_KEY if entry.data.get(CONF_CREDENTIAL_KIND) == KIND_API_KEY else KIND_ACCESS_TOKEN
    )


def text_key(key: str, kind: str) -> str:
    """The translation key of ``key``'s text for a credential of ``kind``."""
    return f"{key}_{kind}" if key in CREDENTIAL_SPECIFIC else key
