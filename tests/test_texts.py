"""Tests for the texts that name the credential."""

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sequence.const import CONF_API_TOKEN, DOMAIN, KIND_ACCESS_TOKEN
from custom_components.sequence.texts import credential_kind, text_key


def test_credential_kind(
    mock_config_entry: MockConfigEntry, platform_config_entry: MockConfigEntry
) -> None:
    assert credential_kind(mock_config_entry) == "access_token"
    assert credential_kind(platform_config_entry) == "api_key"
    # An entry without a kind holds an access token (the only kind there was at first).
    assert credential_kind(MockConfigEntry(domain=DOMAIN, data={CONF_API_TOKEN: "x"})) == (
        KIND_ACCESS_TOKEN
    )


def test_text_key() -> None:
    assert text_key("invalid_auth", "api_key") == "invalid_auth_api_key"
    assert text_key("wrong_kind", "access_token") == "wrong_kind_access_token"
    assert text_key("cannot_connect", "api_key") == "cannot_connect"
