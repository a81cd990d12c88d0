"""tools/develop_check.py: what in Home Assistant's log and state makes the demo look broken."""

from tools.develop_check import instance_problems, log_problems

FOUND = (
    "2026-12-01 16:38:12.024 WARNING (SyncWorker_0) [homeassistant.loader] We found a custom "
    "integration sequence which has not been tested by Home Assistant."
)
INFO = "2026-12-01 16:38:12.440 INFO (MainThread) [homeassistant.setup] Setting up sequence"
MET = (
    "2026-12-01 16:38:16.320 ERROR (MainThread) [homeassistant.components.met] Error occurred "
    "loading flow for integration met: No module named 'metno'"
)
SETUP_FAILED = (
    "2026-12-01 16:38:17.049 ERROR (MainThread) [homeassistant.setup] Setup failed for custom "
    "integration 'sequence': boom"
)
CRITICAL = "2026-12-01 16:38:17.050 CRITICAL (MainThread) [homeassistant.bootstrap] gone"
TRACEBACK = 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nERROR: no'


def test_a_clean_log() -> None:
    assert log_problems(f"{FOUND}\n{INFO}\n") == []


def test_every_error_record_is_a_problem_whatever_it_is_about() -> None:
    """An unrelated error (met, ffmpeg, a traceback) makes a new user think Sequence is broken."""
    log = f"{FOUND}\n{MET}\n{TRACEBACK}\n{SETUP_FAILED}\n{CRITICAL}\n"
    assert log_problems(log) == [MET, SETUP_FAILED, CRITICAL]


def test_integration_not_found() -> None:
    expected = ["Home Assistant did not find custom_components/sequence"]
    assert log_problems(f"{INFO}\n") == expected


def entry(domain: str, state: str = "loaded") -> dict[str, str]:
    return {"domain": domain, "title": domain.title(), "state": state}


def issue(domain: str, issue_id: str) -> dict[str, str]:
    return {"domain": domain, "issue_id": issue_id, "severity": "warning"}


def test_instance_problems() -> None:
    entries = [entry("sequence"), entry("backup"), entry("sequence")]
    assert instance_problems(entries, [issue("sequence", "activity_permission")]) == []
    broken = [*entries, entry("google_translate", "setup_error")]
    issues = [issue("homeassistant", "country_not_configured"), issue("http", "deprecated_yaml")]
    assert instance_problems(broken, issues) == [
        "config entry Google_Translate (google_translate) is setup_error",
        "repair issue homeassistant.country_not_configured (warning)",
        "repair issue http.deprecated_yaml (warning)",
    ]
