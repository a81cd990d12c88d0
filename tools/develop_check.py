"""Check that ``script/develop`` works: a real Home Assistant with Sequence set up on the simulator.

Used by ``script/develop --check`` (so by ``script/test``). Never touches the developer's
``config/``: it copies ``config/configuration.yaml`` into a temporary config dir (on a free port,
with the integration linked as ``script/develop`` links it), starts the simulator and
``hass --config TMP --skip-pip`` from the current venv, seeds it exactly as ``script/develop``
does (onboarding, config-flow and options-flow HTTP APIs, see ``tools/dev_instance.py``), then
checks over the REST and websocket APIs, with the owner's token from onboarding, that both
``sequence`` entries (access token and API key) are loaded, each has a balance sensor holding a
number, and the API key's ``sensor.sequence_net_worth`` (and, activity being on,
``sensor.sequence_transfers_this_month``) hold numbers. It also checks the log: Home Assistant
found the custom integration and logged no error about it. Everything waits on conditions.
"""

import argparse
from pathlib import Path
import re
import sys
import tempfile
import time

from homeassistant.const import __version__ as ha_version

from tools import dev_instance

FOUND = re.compile(r"We found a custom integration sequence ")
TROUBLE = re.compile(r"(Error|Setup failed|Unable to prepare setup).*\bsequence\b", re.IGNORECASE)


def log_problems(log: str) -> list[str]:
    """What is wrong about ``sequence`` in a Home Assistant log (empty when all is well)."""
    problems = [line.strip() for line in log.splitlines() if TROUBLE.search(line)]
    if not FOUND.search(log):
        problems.insert(0, "Home Assistant did not find custom_components/sequence")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Run the check and return the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m tools.develop_check", description=__doc__)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for each wait")
    args = parser.parse_args(argv)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sequence-develop-check-") as tmp:
        config = Path(tmp) / "config"
        log = Path(tmp) / "home-assistant.log"
        port = dev_instance.free_port()
        dev_instance.prepare_config_dir(config, port=port)
        try:
            simulator = dev_instance.start_simulator(log=Path(tmp) / "simulator.log")
            with dev_instance.running(simulator):
                home_assistant = dev_instance.start_home_assistant(
                    config, port, log=log, timeout=args.timeout
                )
                with dev_instance.running(home_assistant):
                    api = dev_instance.HomeAssistantApi(home_assistant.url)
                    dev_instance.seed(api, simulator.url)
                    values = dev_instance.wait_until_seeded(api, timeout=args.timeout)
        except dev_instance.DevInstanceError as err:
            print(f"develop --check: {err}", file=sys.stderr)
            if log.exists():
                print(
                    "".join(log.read_text(encoding="utf-8").splitlines(keepends=True)[-40:]),
                    file=sys.stderr,
                )
            return 1
        problems = log_problems(log.read_text(encoding="utf-8"))
    if problems:
        print("develop --check: problems with sequence:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    shown = ", ".join(f"{entity_id} = {value}" for entity_id, value in values.items())
    print(
        f"ok: Home Assistant {ha_version} set up Sequence with an access token and an API key "
        f"against the simulator in {time.monotonic() - started:.1f} s ({shown})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
