"""Boot a real Home Assistant once and check that the `sequence` integration is loadable.

Used by ``script/develop --check``: starts ``hass --config CONFIG --skip-pip`` from the current
venv, waits (on log lines, not sleeps) until Home Assistant says it is initialised, checks that it
found the custom integration and logged no error for it, then stops it.
"""

import argparse
from pathlib import Path
import re
import subprocess
import sys
import threading
import time

from homeassistant.const import __version__ as ha_version

READY = re.compile(r"Home Assistant initialized in")
FOUND = re.compile(r"We found a custom integration sequence ")
TROUBLE = re.compile(r"(Error|Setup failed|Unable to prepare setup).*\bsequence\b", re.IGNORECASE)


def main() -> int:
    """Run the check and return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="Home Assistant config dir")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for boot")
    args = parser.parse_args()

    hass = Path(sys.executable).with_name("hass")
    command = [str(hass), "--config", str(args.config), "--skip-pip"]
    process = subprocess.Popen(  # noqa: S603 - our own venv's hass, fixed arguments
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout or ():
            lines.append(line)
            if READY.search(line):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    started = time.monotonic()
    try:
        if not ready.wait(args.timeout):
            print(
                f"Home Assistant did not finish booting within {args.timeout:.0f} s",
                file=sys.stderr,
            )
            print("".join(lines[-40:]), file=sys.stderr)
            return 1
    finally:
        process.terminate()
        process.wait(timeout=60)
    boot = time.monotonic() - started
    log = "".join(lines)
    problems = [line.strip() for line in lines if TROUBLE.search(line)]
    if not FOUND.search(log):
        print("Home Assistant booted but did not find custom_components/sequence", file=sys.stderr)
        return 1
    if problems:
        print(
            "Home Assistant reported problems with sequence:", *problems, sep="\n", file=sys.stderr
        )
        return 1
    print(f"ok: Home Assistant {ha_version} booted in {boot:.1f} s; sequence is loadable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
