"""tools/ha_venv.py: which packages a ``hass --skip-pip`` needs, and installing them once."""

from collections.abc import Mapping, Sequence
from pathlib import Path
import subprocess
import sys
from typing import Any

import pytest

from tools import ha_venv
from tools.ha_venv import (
    configured_domains,
    dependency_closure,
    inputs_key,
    manifest_requirements,
    missing,
    requirement_lines,
)

MANIFESTS: dict[str, dict[str, Any]] = {
    "frontend": {
        "dependencies": ["http", "onboarding"],
        "requirements": ["home-assistant-frontend==1"],
    },
    "onboarding": {"dependencies": ["http"]},
    "http": {"requirements": ["aiohttp==3"]},
    "conversation": {"requirements": ["hassil==3", "aiohttp==3"]},
    "recorder": {"requirements": ["SQLAlchemy==2"]},
}


def manifest(domain: str) -> Mapping[str, Any] | None:
    return MANIFESTS.get(domain)


def test_configured_domains() -> None:
    configuration = (
        "# comment:\nfrontend:\nhttp:\n  server_host: 127.0.0.1\nlogger:\n  logs:\n    a.b: debug\n"
    )
    assert configured_domains(configuration) == {"frontend", "http", "logger"}


def test_dependency_closure_skips_unknown_domains() -> None:
    assert dependency_closure(["frontend", "not_a_domain"], manifest) == {
        "frontend",
        "http",
        "onboarding",
    }


def test_manifest_requirements() -> None:
    assert manifest_requirements(["frontend", "conversation", "recorder"], manifest) == [
        "aiohttp==3",
        "hassil==3",
        "home-assistant-frontend==1",
        "SQLAlchemy==2",
    ]


def test_missing_and_requirement_lines() -> None:
    assert missing(["a==1", "b==2", "c==3"], ["b==2"]) == ["a==1", "c==3"]
    assert requirement_lines("# pins\nplaywright==1.65.2  # the driver\n\n greenlet==3 \n") == [
        "playwright==1.65.2",
        "greenlet==3",
    ]


def test_inputs_key() -> None:
    key = inputs_key("2026.10.4", "frontend:\n", ["playwright==1\n"])
    assert key == inputs_key("2026.10.4", "frontend:\n", ["playwright==1\n"])
    assert key != inputs_key("2026.11.0", "frontend:\n", ["playwright==1\n"])
    assert key != inputs_key("2026.10.4", "frontend:\n", [])


def test_the_installed_home_assistant_needs_its_frontend() -> None:
    """The real manifests: the frontend and what the base integrations import are in."""
    configuration = ha_venv.DEFAULT_CONFIG.read_text(encoding="utf-8")
    lines = ha_venv.home_assistant_requirements(configuration)
    names = {line.split("==")[0].lower() for line in lines}
    assert {"home-assistant-frontend", "hassil", "mutagen", "pyturbojpeg"} <= names
    assert all("==" in line for line in lines)


def test_main_installs_once_then_only_what_is_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setattr(ha_venv, "home_assistant_requirements", lambda _: ["frontend==1", "b==2"])
    installs: list[Sequence[str]] = []

    def install(lines: Sequence[str], *, venv: Path, uv: str, constraints: Path) -> None:
        assert venv == tmp_path
        assert Path(uv).name == "uv"
        assert constraints.name == "package_constraints.txt"
        installs.append(list(lines))

    monkeypatch.setattr(ha_venv, "install", install)
    extra = tmp_path / "extra.txt"
    extra.write_text("# e2e\nplaywright==1\n")

    assert ha_venv.main([]) == 0
    assert ha_venv.main([]) == 0  # the inputs are unchanged: nothing to do
    assert ha_venv.main(["--with", str(extra)]) == 0  # only the extra is new
    assert installs == [["frontend==1", "b==2"], ["playwright==1"]]
    assert "installing 2 requirements" in capsys.readouterr().err

    (tmp_path / ha_venv.DONE_NAME).unlink()  # forgotten, but the stamp shows it all installed
    assert ha_venv.main(["--with", str(extra)]) == 0
    assert len(installs) == 2
    assert (tmp_path / ha_venv.STAMP_NAME).read_text().split() == [
        "b==2",
        "frontend==1",
        "playwright==1",
    ]


def test_install_calls_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def run(command: list[str], *, check: bool) -> None:
        assert check
        calls.append(command)
        requirements = Path(command[command.index("-r") + 1])
        assert requirements.read_text() == "a==1\nb==2\n"

    monkeypatch.setattr(subprocess, "run", run)
    ha_venv.install(["a==1", "b==2"], venv=tmp_path, uv="/bin/uv", constraints=tmp_path / "c.txt")
    (command,) = calls
    assert command[:4] == ["/bin/uv", "pip", "install", "--quiet"]
    assert command[command.index("--python") + 1] == str(tmp_path / "bin" / "python")
    assert command[-2:] == ["-c", str(tmp_path / "c.txt")]
