"""tools/develop_check.py: what counts as a problem in Home Assistant's log."""

from tools.develop_check import log_problems

FOUND = "WARNING [homeassistant.loader] We found a custom integration sequence which has not been"
SETUP_FAILED = "ERROR [homeassistant.setup] Setup failed for custom integration 'sequence': boom"


def test_a_clean_log() -> None:
    other = "ERROR [homeassistant.components.met] No module named 'metno'"
    assert log_problems(f"{FOUND}\n{other}\n") == []


def test_problems_with_sequence() -> None:
    assert log_problems(f"{FOUND}\n{SETUP_FAILED}\n") == [SETUP_FAILED]


def test_integration_not_found() -> None:
    expected = ["Home Assistant did not find custom_components/sequence"]
    assert log_problems("INFO nothing\n") == expected
