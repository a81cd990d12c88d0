"""Contract tests need no Home Assistant instance and run real servers on 127.0.0.1."""

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture: it would start Home Assistant for every test."""


@pytest.fixture(autouse=True)
def frozen_start() -> None:
    """Override any suite-wide frozen clock: these tests run real servers."""
