"""Shared fixtures for the Sequence tests."""

import pytest

from custom_components.sequence.const import DOMAIN

assert DOMAIN == "sequence"  # imported at module level so the repository's package wins


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/sequence in every test."""
