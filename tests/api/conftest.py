"""The API clients import nothing from Home Assistant, and neither do their tests."""

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture: it would start Home Assistant for every client test."""


@pytest.fixture(autouse=True)
def frozen_start() -> None:
    """Override any suite-wide frozen clock: the client tests run real servers."""
