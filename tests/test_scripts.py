"""The development scripts: each answers --help, and CI runs exactly the README's test command."""

from pathlib import Path
import re
import subprocess

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(path for path in (ROOT / "script").iterdir() if path.is_file())


def test_expected_scripts_exist() -> None:
    names = {path.name for path in SCRIPTS}
    assert {"setup", "test", "lint", "develop", "python", "uv"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_help(script: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own scripts
        [str(script), "--help"], capture_output=True, text=True, check=False, cwd="/", timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in ci
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^(script/\w+)", readme, re.MULTILINE)
    assert "script/test" in commands
    assert re.search(r"^script/test$", ci, re.MULTILINE)
    for command in commands:
        assert (ROOT / command).is_file(), command
