"""Check that ``script/develop`` works: a real Home Assistant with Sequence set up on the simulator.

Used by ``script/develop --check`` (so by ``script/test``). Never touches the developer's
``config/``: it copies ``config/configuration.yaml`` into a temporary config dir (on a free port,
with the integration linked as ``script/develop`` links it), starts the simulator and
``hass --config TMP --skip-pip`` from the current venv, and does what ``script/develop`` does:
the first start (onboarding, then a restart: ``tools/dev_instance.py``), then the demo's entries
(config-flow and options-flow HTTP APIs) and their rules and transfer route (the subentry-flow
HTTP API). Then it checks over the REST and websocket APIs, with the owner's token, that both
``sequence`` entries (API key and access token, two beneficiaries) are loaded, each has a
balance sensor holding a number, each rule and route has its device, no two Sequence entities
share a name, and the API key's ``sensor.sequence_net_worth`` (and, activity being on,
``sensor.sequence_transfers_this_month``) hold numbers.

And that nothing else looks broken to someone trying the demo: every config entry is loaded,
the only repair issues are Sequence's (none expected), and the log of both starts has no ERROR
or CRITICAL record at all (Home Assistant found the custom integration, too). Everything waits
on conditions.
"""

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
import re
import sys
import tempfile
import time
from typing import Any

from homeassistant.const import __version__ as ha_version

from tools import dev_instance

FOUND = re.compile(r"We found a custom integration sequence ")
ERROR_RECORD = re.compile(r"^\S+ \S+ (?:ERROR|CRITICAL) \(")
"""Where an ERROR or CRITICAL record starts in Home Assistant's log: ``date time LEVEL (``."""


def log_problems(log: str) -> list[str]:
    """The ERROR and CRITICAL records of a Home Assistant log, first lines only.

    Also that Home Assistant did not find ``custom_components/sequence``, if it did not.
    """
    problems = [line.strip() for line in log.splitlines() if ERROR_RECORD.match(line)]
    if not FOUND.search(log):
        problems.insert(0, "Home Assistant did not find custom_components/sequence")
    return problems


def instance_problems(
    entries: Sequence[Mapping[str, Any]], issues: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Config entries that are not loaded, and repair issues that are not Sequence's.

    ``entries`` as ``GET /api/config/config_entries/entry`` answers, ``issues`` as the
    websocket's ``repairs/list_issues``.
    """
    problems = [
        f"config entry {entry['title']} ({entry['domain']}) is {entry['state']}"
        for entry in entries
        if entry["state"] != "loaded"
    ]
    problems += [
        f"repair issue {issue['domain']}.{issue['issue_id']} ({issue['severity']})"
        for issue in issues
        if issue["domain"] != dev_instance.DOMAIN
    ]
    return problems


def main(argv: list[str] | None = None) -> int:
    """Run the check and return the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m tools.develop_check", description=__doc__)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for each wait")
    args = parser.parse_args(argv)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sequence-develop-check-") as tmp:
        config = Path(tmp) / "config"
        logs = [Path(tmp) / "first-start.log", Path(tmp) / "home-assistant.log"]
        port = dev_instance.free_port()
        dev_instance.prepare_config_dir(config, port=port)
        try:
            simulator = dev_instance.start_simulator(log=Path(tmp) / "simulator.log")
            with dev_instance.running(simulator):
                dev_instance.first_start(config, port, log=logs[0], timeout=args.timeout)
                home_assistant = dev_instance.start_home_assistant(
                    config, port, log=logs[1], timeout=args.timeout
                )
                with dev_instance.running(home_assistant):
                    api = dev_instance.HomeAssistantApi(home_assistant.url)
                    dev_instance.seed(api, simulator.url)
                    values = dev_instance.wait_until_seeded(api, timeout=args.timeout)
                    problems = instance_problems(
                        api.call("GET", "/api/config/config_entries/entry"),
                        api.repair_issues(),
                    )
        except dev_instance.DevInstanceError as err:
            print(f"develop --check: {err}", file=sys.stderr)
            for log in logs:
                if log.exists():
                    tail = log.read_text(encoding="utf-8").splitlines(keepends=True)[-40:]
                    print(f"--- {log.name}:\n{''.join(tail)}", file=sys.stderr)
            return 1
        for log in logs:
            problems += [
                f"{log.name}: {line}" for line in log_problems(log.read_text(encoding="utf-8"))
            ]
    if problems:
        print("develop --check: the demo looks broken:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    shown = ", ".join(f"{entity_id} = {value}" for entity_id, value in values.items())
    print(
        f"ok: Home Assistant {ha_version} set up Sequence with an API key (a rule and a "
        f"transfer route) and a second beneficiary's access token (a Remote API rule) against "
        f"the simulator in "
        f"{time.monotonic() - started:.1f} s, with no error logged and no repair ({shown})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
