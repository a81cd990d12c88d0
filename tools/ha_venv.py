"""Complete a Home Assistant venv so that a real ``hass --skip-pip`` runs with a working frontend.

``hass`` normally pip-installs, at start, the requirements of every integration it sets up: the
frontend itself (``home-assistant-frontend``) and those of the integrations it always loads
(conversation, tts, camera, assist_pipeline, ...). ``--skip-pip`` skips that, and without them the
frontend stays on "Loading..." (describing actions imports those integrations). This tool installs
exactly what that Home Assistant's own manifests pin, for the integrations a given
``configuration.yaml`` makes it set up, with Home Assistant's ``package_constraints.txt``, so the
versions follow the installed Home Assistant without a list to maintain by hand.

Extra requirement files (``--with requirements_e2e.txt``) are installed in the same step. Nothing
is installed when a stamp in the venv shows it is all there already.

Usage: ``.venv/bin/python -m tools.ha_venv [--config FILE] [--with REQUIREMENTS]...``
"""

import argparse
from collections.abc import Callable, Iterable, Mapping, Sequence
import hashlib
import importlib.metadata
import importlib.util
import json
from pathlib import Path
import re
import subprocess
import sys
import tempfile
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG: Final = ROOT / "config" / "configuration.yaml"
STAMP_NAME: Final = ".ha-venv-requirements.txt"
"""In the venv: every requirement line installed by this tool (so a subset is a no-op)."""
DONE_NAME: Final = ".ha-venv-done.txt"
"""In the venv: the inputs already satisfied (see ``inputs_key``), for a fast no-op."""
TOP_LEVEL_KEY: Final = re.compile(r"^([a-z_][a-z0-9_]*):", re.MULTILINE)

type ManifestLoader = Callable[[str], Mapping[str, Any] | None]


def configured_domains(configuration: str) -> set[str]:
    """The integrations a ``configuration.yaml`` sets up: its top-level keys."""
    return set(TOP_LEVEL_KEY.findall(configuration))


def dependency_closure(domains: Iterable[str], manifest: ManifestLoader) -> set[str]:
    """``domains`` and, transitively, their manifests' ``dependencies`` (unknown ones dropped)."""
    seen: set[str] = set()
    todo = list(domains)
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        found = manifest(domain)
        if found is None:
            continue
        seen.add(domain)
        todo.extend(found.get("dependencies", []))
    return seen


def manifest_requirements(domains: Iterable[str], manifest: ManifestLoader) -> list[str]:
    """The requirement lines of the closure of ``domains``, deduplicated and sorted."""
    lines: set[str] = set()
    for domain in dependency_closure(domains, manifest):
        found = manifest(domain) or {}
        lines.update(found.get("requirements", []))
    return sorted(lines, key=str.lower)


def missing(wanted: Iterable[str], installed: Iterable[str]) -> list[str]:
    """The ``wanted`` requirement lines not yet ``installed`` (order kept)."""
    have = set(installed)
    return [line for line in wanted if line not in have]


def requirement_lines(text: str) -> list[str]:
    """The requirement lines of a requirements file (no comments, no blank lines)."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def inputs_key(ha_version: str, configuration: str, extras: Iterable[str]) -> str:
    """A hash of everything the wanted requirements depend on."""
    text = "\0".join([ha_version, configuration, *extras])
    return hashlib.sha256(text.encode()).hexdigest()


def _homeassistant_dir() -> Path:
    spec = importlib.util.find_spec("homeassistant")
    if spec is None or spec.origin is None:
        msg = "homeassistant is not installed in this venv"
        raise SystemExit(msg)
    return Path(spec.origin).parent


def _manifest_loader(components: Path) -> ManifestLoader:
    cache: dict[str, Mapping[str, Any] | None] = {}

    def load(domain: str) -> Mapping[str, Any] | None:
        if domain not in cache:
            path = components / domain / "manifest.json"
            cache[domain] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        return cache[domain]

    return load


def home_assistant_requirements(configuration: str) -> list[str]:
    """What the installed Home Assistant would pip-install when started with ``configuration``."""
    from homeassistant import bootstrap  # noqa: PLC0415 - only once we know it is installed

    domains = {
        *bootstrap.CORE_INTEGRATIONS,
        *bootstrap.DEFAULT_INTEGRATIONS,
        *configured_domains(configuration),
    }
    return manifest_requirements(domains, _manifest_loader(_homeassistant_dir() / "components"))


def install(lines: Sequence[str], *, venv: Path, uv: str, constraints: Path) -> None:
    """``uv pip install`` ``lines`` into ``venv`` under Home Assistant's constraints."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as requirements:
        requirements.write("\n".join(lines) + "\n")
        requirements.flush()
        subprocess.run(  # noqa: S603 - the project's pinned uv, fixed arguments
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                str(venv / "bin" / "python"),
                "-r",
                requirements.name,
                "-c",
                str(constraints),
            ],
            check=True,
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Install what is missing; the exit code."""
    parser = argparse.ArgumentParser(prog="python -m tools.ha_venv", description=__doc__)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="configuration.yaml")
    parser.add_argument(
        "--with",
        dest="extra",
        type=Path,
        action="append",
        default=[],
        metavar="REQUIREMENTS",
        help="also install this requirements file (repeatable)",
    )
    args = parser.parse_args(argv)
    venv = Path(sys.prefix)
    configuration = args.config.read_text(encoding="utf-8")
    extras = [extra.read_text(encoding="utf-8") for extra in args.extra]
    key = inputs_key(importlib.metadata.version("homeassistant"), configuration, extras)
    done_file = venv / DONE_NAME
    done = done_file.read_text(encoding="utf-8").split() if done_file.is_file() else []
    if key in done:
        return 0  # importing Home Assistant's bootstrap takes seconds: skip it when we can
    wanted = home_assistant_requirements(configuration)
    for extra in extras:
        wanted += requirement_lines(extra)
    stamp = venv / STAMP_NAME
    installed = stamp.read_text(encoding="utf-8").splitlines() if stamp.is_file() else []
    todo = missing(wanted, installed)
    if not todo:
        done_file.write_text("\n".join([*done, key]) + "\n", encoding="utf-8")
        return 0
    print(f"ha_venv: installing {len(todo)} requirements into {venv}", file=sys.stderr)
    uv = subprocess.run(  # noqa: S603 - the project's own script
        [str(ROOT / "script" / "uv"), "--path"], capture_output=True, text=True, check=True
    ).stdout.strip()
    install(todo, venv=venv, uv=uv, constraints=_homeassistant_dir() / "package_constraints.txt")
    stamp.write_text("\n".join(sorted({*installed, *todo})) + "\n", encoding="utf-8")
    done_file.write_text("\n".join([*done, key]) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
