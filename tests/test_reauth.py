"""Tests for a refused credential: reauthentication."""

from unittest.mock import MagicMock

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sequence.const import DOMAIN
from custom_components.sequence.reauth import reauth_required


def test_the_error_names_the_credential(platform_config_entry: MockConfigEntry) -> None:
    error = reauth_required(MagicMock(), platform_config_entry, "invalid_auth")
    assert (error.translation_domain, error.translation_key) == (DOMAIN, "invalid_auth_api_key")
