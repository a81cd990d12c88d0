"""A real Home Assistant with the integration set up against the simulator, for humans and tests.

Shared by ``script/develop`` (the developer's ``config/``), ``script/develop --check`` and
``script/e2e`` (fresh temporary config dirs). Everything goes through Home Assistant's own HTTP
APIs, which stay valid across versions, with two exceptions for a config dir that has never
started, both written by :func:`prepare_config_dir`:

- ``packages/first_start_http.yaml`` holds the loopback address and port. Home Assistant moves
  YAML HTTP settings into its storage on the first start (where onboarding confirms them) and
  raises a "deprecated YAML" repair while the YAML is there, so the demo's first start
  (:func:`first_start`) onboards, stops, deletes the file and starts again: later starts read
  the settings from storage, and the repair is gone.
- ``.storage/onboarding`` marks the core-config step done: finishing it over the API sets up
  Google Translate, Met.no and Radio Browser, which fail offline (and with ``--skip-pip``). The
  core config itself (country, currency, units) is in ``configuration.yaml``.

Then:

1. onboarding: ``POST /api/onboarding/users`` (owner account) gives an auth code, exchanged at
   ``/auth/token`` for an access token; then ``/api/onboarding/analytics`` and
   ``/api/onboarding/integration`` (and ``core_config`` for a dir prepared elsewhere);
2. the config flow, once per demo entry (:data:`DEMO_ENTRIES`): ``POST
   /api/config/config_entries/flow`` ``{"handler": "sequence"}`` and ``POST
   /api/config/config_entries/flow/<flow_id>`` with the credential and the simulator's URL: the
   Platform API key (``sk_test_dev_key``, the simulator's household), then the access token of
   the simulator's second beneficiary, a small business (``dev-business-token``): two
   beneficiaries, no account on both, as the README tells users to do;
3. the API-key entry's options: ``POST /api/config/config_entries/options/flow``
   ``{"handler": ENTRY_ID}`` and ``POST .../options/flow/<flow_id>`` with every field the form
   shows, as it shows it, and ``activity`` switched on;
4. the business entry's hub device is named "Sequence Business" (``config/device_registry/
   update``, as renaming it in the UI does), so the two hubs are told apart;
5. the rules and the transfer route (:func:`demo_subentries`), through the real subentry flows:
   ``POST /api/config/config_entries/subentries/flow`` ``{"handler": [ENTRY_ID, TYPE]}``, the
   form filled in, then the confirmation ticked: on the API key, the simulator's "Daily
   round-ups" rule (named "Round-ups") and the route Emergency Fund → Vacation; on the access
   token, the business's Remote API rule "Tax set-aside" (its trigger URL and API secret).

Seeding is idempotent: done onboarding steps are skipped (with a password login instead of the
user step), an entry that exists is kept as it is (its flow aborts with
``already_configured``; only a newly created entry gets its options and hub name), and only the
rules and routes an entry lacks are added (``config_entries/subentries/list``). Only the
standard library, aiohttp and the simulator's seeded ids are used, so the module runs in any
venv that has Home Assistant (the pinned one and the newest-release one).

``python -m tools.dev_instance --help`` lists the subcommands ``script/develop`` uses.
"""

import argparse
import asyncio
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
import contextlib
from dataclasses import dataclass
import json
import os
from pathlib import Path
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Final
import urllib.error
import urllib.parse
import urllib.request

import aiohttp

from tools.simulator.platform_seed import EMERGENCY_FUND, ROUND_UPS_RULE, VACATION
from tools.simulator.remote_rules import DEV_BUSINESS_RULE_SECRET, TRIGGER_PATHS
from tools.simulator.state import platform_id_of, seed_accounts

ROOT: Final = Path(__file__).resolve().parent.parent
INTEGRATION_DIR: Final = ROOT / "custom_components" / "sequence"
CONFIG_TEMPLATE: Final = ROOT / "config" / "configuration.yaml"
HOUSEHOLD_ACCOUNT_IDS: Final = frozenset(account.id for account in seed_accounts())

DOMAIN: Final = "sequence"
DEV_NAME: Final = "Developer"
DEV_USERNAME: Final = "dev"
DEV_PASSWORD: Final = "dev-password"  # noqa: S105 - the documented development password
DEV_TOKEN: Final = "dev-token"  # noqa: S105 - the simulator's documented development token
"""The simulator's default access token: the household, which the API key sees too."""
DEV_BUSINESS_TOKEN: Final = "dev-business-token"  # noqa: S105 - documented, not a secret
"""The simulator's default access token of its second beneficiary, a small business."""
DEV_API_KEY: Final = "sk_test_dev_key"
"""The simulator's documented default Platform API key: every read, TRIGGER_RULES, and
MANUAL_TRANSFER for a few pairs, Emergency Fund → Vacation among them."""
API_KEY_OPTIONS: Final = {"activity": True}
"""What seeding changes in a new API-key entry's options (the rest stays as the form shows it)."""
API_KEY_ENTRY_TITLE: Final = "Sequence (API key)"
"""The title the integration gives an API-key entry (tests/tools checks it against the flow)."""
ACCESS_TOKEN_ENTRY_TITLE: Final = "Sequence"  # noqa: S105 - a title, not a secret
"""The title the integration gives an access-token entry."""
SUBENTRY_RULE: Final = "rule"
SUBENTRY_ROUTE: Final = "transfer_route"
BUSINESS_REMOTE_RULE: Final = "ru_20001"
"""The simulator's business Remote API rule ("Tax set-aside")."""
HUB_MODEL: Final = "Sequence account"
"""The model of each entry's hub device (the integration's ``async_register_hub``)."""
BUSINESS_HUB_NAME: Final = "Sequence Business"
"""What seeding names the business entry's hub device (both hubs are "Sequence" otherwise)."""
NET_WORTH_SENSOR: Final = "sensor.sequence_net_worth"
ACTIVITY_SENSOR: Final = "sensor.sequence_transfers_this_month"
KIND_ACCESS_TOKEN: Final = "access_token"  # noqa: S105 - a credential kind, not a secret
KIND_API_KEY: Final = "api_key"
DEV_LANGUAGE: Final = "en"
DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_HA_PORT: Final = 8123
DEFAULT_SIMULATOR_PORT: Final = 8765
FIRST_START_HTTP: Final = Path("packages") / "first_start_http.yaml"
"""Relative to a config dir: the HTTP settings for its first start (see the module docstring)."""
CORE_CONFIG_STEP: Final = "core_config"
ONBOARDING_STORAGE_VERSION: Final = 4
"""``.storage/onboarding``'s format (unchanged since Home Assistant 2020)."""


@dataclass(frozen=True, slots=True)
class DemoSubentry:
    """A rule or transfer route the demo adds to an entry, through its subentry flow."""

    subentry_type: str
    unique_id: str
    """What the integration keys it by (a rule's id; ``source:destination``)."""
    title: str
    """Its name, which its device and entity ids take."""
    form: Mapping[str, Any]
    """What the flow's form is filled in with (its confirmation is then ticked)."""


def demo_subentries(kind: str, simulator_url: str) -> tuple[DemoSubentry, ...]:
    """The rules and routes the demo gives the entry of credential ``kind``.

    The API key: the simulator's "Daily round-ups" rule, named "Round-ups" (the README's
    example ids), and the route Emergency Fund → Vacation, which the development key may move
    money on (up to $500.00). The access token (the business): its Remote API rule, by the
    trigger URL the Sequence app would show and the rule's API secret.
    """
    limits = {"min_interval_minutes": 5, "max_runs_per_day": 3}
    if kind == KIND_API_KEY:
        source, destination = platform_id_of(EMERGENCY_FUND), platform_id_of(VACATION)
        return (
            DemoSubentry(
                SUBENTRY_RULE,
                ROUND_UPS_RULE,
                "Round-ups",
                {"rule_id": ROUND_UPS_RULE, "name": "Round-ups", **limits},
            ),
            DemoSubentry(
                SUBENTRY_ROUTE,
                f"{source}:{destination}",
                "Emergency Fund → Vacation",
                {
                    "source": source,
                    "destination": destination,
                    "max_per_transfer": 100.0,
                    "max_per_day": 250.0,
                    "description": "Vacation",
                },
            ),
        )
    trigger_path = TRIGGER_PATHS[0].format(id=BUSINESS_REMOTE_RULE)
    return (
        DemoSubentry(
            SUBENTRY_RULE,
            BUSINESS_REMOTE_RULE,
            "Tax set-aside",
            {
                "trigger_url": f"{simulator_url.rstrip('/')}{trigger_path}",
                "secret": DEV_BUSINESS_RULE_SECRET,
                "name": "Tax set-aside",
                **limits,
            },
        ),
    )


@dataclass(frozen=True, slots=True)
class DemoEntry:
    """One Sequence entry of the demo, in the order seeding adds them."""

    kind: str
    credential: str
    beneficiary: str
    """The simulator's beneficiary the credential sees (``household`` or ``business``)."""
    options: Mapping[str, Any]
    """What seeding changes in the new entry's options (nothing: the options flow is skipped)."""
    hub_name: str | None
    """What seeding names the new entry's hub device (None: Home Assistant's "Sequence")."""

    @property
    def title(self) -> str:
        """The title the integration gives the entry."""
        return API_KEY_ENTRY_TITLE if self.kind == KIND_API_KEY else ACCESS_TOKEN_ENTRY_TITLE


def demo_entries(
    *, token: str = DEV_BUSINESS_TOKEN, api_key: str = DEV_API_KEY
) -> tuple[DemoEntry, ...]:
    """The demo: the household with the API key first (its ids need no ``_2``), then the business.

    Two beneficiaries, so no account is set up twice; the API key's hub keeps the plain hub
    entity ids (``sensor.sequence_pods_total``), the business's get ``_2`` where they repeat.
    """
    return (
        DemoEntry(KIND_API_KEY, api_key, "household", API_KEY_OPTIONS, None),
        DemoEntry(KIND_ACCESS_TOKEN, token, "business", {}, BUSINESS_HUB_NAME),
    )


DEMO_ENTRIES: Final = demo_entries()

ONBOARDING_STEPS: Final = ("user", "core_config", "analytics", "integration")
"""Home Assistant's onboarding steps, in the order the frontend does them."""
SIMULATOR_LISTENING: Final = re.compile(
    r"^Sequence simulator listening on (?P<url>http://\S+) \(scenario: \w+\)$"
)


class DevInstanceError(RuntimeError):
    """Something the development instance needs did not happen; the message says what."""


# --- Pure helpers (unit-tested) ----------------------------------------------------------------


def base_url(host: str, port: int) -> str:
    """``http://host:port``, with brackets around an IPv6 address."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def client_id(url: str) -> str:
    """The OAuth client id Home Assistant's own frontend uses for ``url``: the URL with a slash."""
    return url.rstrip("/") + "/"


def redirect_uri(url: str) -> str:
    """The frontend's redirect URI, which Home Assistant accepts for ``client_id(url)``."""
    return f"{client_id(url)}?auth_callback=1"


def parse_listening_line(line: str) -> str | None:
    """The simulator's URL from its one stdout line, or None for any other line."""
    match = SIMULATOR_LISTENING.match(line.strip())
    return match["url"] if match else None


def first_start_http(port: int, host: str = DEFAULT_HOST) -> str:
    """The YAML of :data:`FIRST_START_HTTP`: listen on ``host:port`` only (loopback)."""
    return (
        "# Written by tools/dev_instance.py for this config dir's first start, then deleted:\n"
        "# Home Assistant keeps these settings in .storage/http from then on.\n"
        f"http:\n  server_host: {host}\n  server_port: {port}\n"
    )


def pending_onboarding_steps(status: Sequence[Mapping[str, Any]]) -> list[str]:
    """The onboarding steps still to do, in order, from ``GET /api/onboarding``'s answer.

    Steps this module does not know (a newer Home Assistant) are ignored: they cannot be done
    over the API by this version anyway, and Home Assistant marks onboarding done once the
    known ones are.
    """
    done = {item["step"] for item in status if item.get("done")}
    return [step for step in ONBOARDING_STEPS if step not in done]


def storage_json(config_dir: Path, name: str) -> dict[str, Any] | None:
    """The ``data`` of ``.storage/<name>``, or None when missing or unreadable."""
    try:
        stored = json.loads((config_dir / ".storage" / name).read_text(encoding="utf-8"))
    except OSError, ValueError:
        return None
    data = stored.get("data") if isinstance(stored, dict) else None
    return data if isinstance(data, dict) else None


def is_seeded(config_dir: Path) -> bool:
    """Whether ``config_dir`` is onboarded and has the demo's entries, rules and routes.

    Read from Home Assistant's storage files, so a second ``script/develop`` needs no login
    (and still works after the developer changed the password). A config dir seeded before
    API keys were seeded has only the access-token entry, and one seeded before the money
    features has no rule: it is not seeded yet.
    """
    onboarding = storage_json(config_dir, "onboarding")
    entries = storage_json(config_dir, "core.config_entries")
    if onboarding is None or entries is None:
        return False
    done = onboarding.get("done", [])
    if any(step not in done for step in ONBOARDING_STEPS):
        return False
    subentries: dict[str, set[object]] = {}
    for entry in entries.get("entries", []):
        if isinstance(entry, dict) and entry.get("domain") == DOMAIN:
            listed = entry.get("subentries")
            subentries.setdefault(credential_kind(entry), set()).update(
                item.get("unique_id") for item in listed or () if isinstance(item, dict)
            )
    return all(
        planned.kind in subentries
        and {wanted.unique_id for wanted in demo_subentries(planned.kind, "")}
        <= subentries[planned.kind]
        for planned in DEMO_ENTRIES
    )


def credential_kind(stored_entry: Mapping[str, Any]) -> str:
    """The credential kind of a stored ``sequence`` entry.

    Entries from before API keys have none: they are access tokens.
    """
    data = stored_entry.get("data")
    kind = data.get("credential_kind") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else KIND_ACCESS_TOKEN


def is_numeric_state(state: str) -> bool:
    """Whether an entity state is a number (not ``unknown`` or ``unavailable``)."""
    try:
        float(state)
    except ValueError:
        return False
    return True


def options_payload(form: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """What to submit to an options form: every field as the form shows it, then ``changes``.

    ``form`` is the flow's ``form`` answer; each field of its ``data_schema`` carries the value
    the form shows as its ``default``. Fails when ``changes`` names a field the form does not
    have (e.g. ``activity`` on an access-token entry), or a required field would be missing.
    """
    fields = {field["name"]: field for field in form.get("data_schema") or []}
    unknown = sorted(set(changes) - fields.keys())
    if unknown:
        msg = f"the options form has no field {', '.join(unknown)} (it has {', '.join(fields)})"
        raise DevInstanceError(msg)
    payload = {name: field["default"] for name, field in fields.items() if "default" in field}
    payload.update(changes)
    missing = [
        name for name, field in fields.items() if field.get("required") and name not in payload
    ]
    if missing:
        msg = f"the options form needs {', '.join(missing)}, which it shows no value for"
        raise DevInstanceError(msg)
    return payload


def numeric_balances(
    registry: Sequence[Mapping[str, Any]], states: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, str]]:
    """Per ``sequence`` config entry id, its balance sensors that hold a number (id: state).

    A balance sensor is one with an ``account_id`` attribute; the entity ``registry`` (as the
    websocket's ``config/entity_registry/list`` answers) ties it to its entry, ``states`` as
    ``GET /api/states`` answers.
    """
    entry_of = {
        item["entity_id"]: item["config_entry_id"]
        for item in registry
        if item.get("platform") == DOMAIN and item.get("config_entry_id")
    }
    balances: dict[str, dict[str, str]] = {}
    for state in states:
        entry_id = entry_of.get(state["entity_id"])
        if (
            entry_id is not None
            and "account_id" in state.get("attributes", {})
            and is_numeric_state(state["state"])
        ):
            balances.setdefault(entry_id, {})[state["entity_id"]] = state["state"]
    return balances


def seeded_problems(
    entries: Sequence[Mapping[str, Any]],
    balances: Mapping[str, Mapping[str, str]],
    states: Sequence[Mapping[str, Any]],
) -> list[str]:
    """What a seeded instance still lacks; empty when it is ready.

    Ready: exactly two ``sequence`` entries (one per credential kind), both loaded, each with a
    balance sensor holding a number (``balances``, from :func:`numeric_balances`), and the API
    key's net worth and activity sensors holding numbers. ``entries`` as
    ``GET /api/config/config_entries/entry`` answers.
    """
    problems = []
    if len(entries) != 2:  # noqa: PLR2004 - one entry per credential kind
        titles = ", ".join(sorted(entry["title"] for entry in entries))
        problems.append(f"{len(entries)} Sequence entries ({titles}), expected 2")
    for entry in entries:
        if entry["state"] != "loaded":
            problems.append(f"{entry['title']} is {entry['state']}")
        elif not balances.get(entry["entry_id"]):
            problems.append(f"{entry['title']} has no balance sensor with a number")
    by_id = {state["entity_id"]: state["state"] for state in states}
    problems += [
        f"{entity_id} is {by_id.get(entity_id, 'missing')}"
        for entity_id in (NET_WORTH_SENSOR, ACTIVITY_SENSOR)
        if not is_numeric_state(by_id.get(entity_id, "missing"))
    ]
    return problems


def subentry_problems(
    entries: Sequence[Mapping[str, Any]], devices: Sequence[Mapping[str, Any]]
) -> list[str]:
    """The demo's rules and routes that have no device (yet).

    ``entries`` as ``GET /api/config/config_entries/entry`` answers, ``devices`` as the
    websocket's ``config/device_registry/list``: a rule's or route's device belongs to its
    entry, has the subentry's type as ``model_id`` and its title as name.
    """
    entry_ids = {entry["title"]: entry["entry_id"] for entry in entries}
    present = {
        (device.get("config_entry_id"), device.get("model_id"), device.get("name"))
        for device in devices
    }
    return [
        f"{planned.title} has no device for its {subentry.subentry_type} {subentry.title}"
        for planned in DEMO_ENTRIES
        for subentry in demo_subentries(planned.kind, "")
        if (entry_ids.get(planned.title), subentry.subentry_type, subentry.title) not in present
    ]


def shared_names(
    registry: Sequence[Mapping[str, Any]], states: Sequence[Mapping[str, Any]]
) -> dict[str, int]:
    """Friendly names that more than one ``sequence`` entity shows, with how many show each.

    Two entries over the same accounts (or two hubs with one name) give every entity a twin.
    """
    ours = {item["entity_id"] for item in registry if item.get("platform") == DOMAIN}
    names = Counter(
        str(state["attributes"].get("friendly_name"))
        for state in states
        if state["entity_id"] in ours
    )
    return {name: count for name, count in sorted(names.items()) if count > 1}


def prepare_config_dir(
    config_dir: Path,
    *,
    port: int | None = None,
    template: Path = CONFIG_TEMPLATE,
    integration: Path = INTEGRATION_DIR,
) -> None:
    """Make ``config_dir`` a Home Assistant config dir that loads this repository's integration.

    The integration is linked explicitly (``custom_components/sequence`` -> the repository's),
    not found through ``PYTHONPATH``. With ``port``, ``configuration.yaml`` is a copy of
    ``template`` (temporary instances); without it, it is left as it is (the developer's
    ``config/``). A dir that has never started gets what its first start needs (see the module
    docstring): the HTTP settings (``port``, by default 8123, on loopback) and the core-config
    onboarding step marked done.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    if port is not None:
        (config_dir / "configuration.yaml").write_text(
            template.read_text(encoding="utf-8"), encoding="utf-8"
        )
    if not (config_dir / ".storage").exists():
        http = config_dir / FIRST_START_HTTP
        http.parent.mkdir(exist_ok=True)
        http.write_text(first_start_http(port or DEFAULT_HA_PORT), encoding="utf-8")
        onboarding = config_dir / ".storage" / "onboarding"
        onboarding.parent.mkdir()
        onboarding.write_text(
            json.dumps(
                {
                    "version": ONBOARDING_STORAGE_VERSION,
                    "minor_version": 1,
                    "key": "onboarding",
                    "data": {"done": [CORE_CONFIG_STEP]},
                }
            ),
            encoding="utf-8",
        )
    custom = config_dir / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / DOMAIN
    if link.is_symlink() or link.exists():
        if link.is_symlink() and link.resolve() == integration.resolve():
            return
        if not link.is_symlink():
            msg = f"{link} exists and is not a link to {integration}; move it away"
            raise DevInstanceError(msg)
        link.unlink()
    link.symlink_to(integration, target_is_directory=True)


def needs_first_start(config_dir: Path) -> bool:
    """Whether the dir's first start (onboarding, then a restart without YAML HTTP) is to do."""
    return (config_dir / FIRST_START_HTTP).exists()


def earlier_demo_entries(config_dir: Path) -> list[str]:
    """Titles of access-token entries over the household's accounts: the demo of before.

    That demo set the token and the API key up over the same accounts; such a ``config/`` keeps
    its entries (seeding never deletes any), so ``script/develop`` says how to start over.
    """
    entries = storage_json(config_dir, "core.config_entries") or {}
    return [
        str(entry.get("title"))
        for entry in entries.get("entries", [])
        if isinstance(entry, dict)
        and entry.get("domain") == DOMAIN
        and credential_kind(entry) == KIND_ACCESS_TOKEN
        and entry.get("unique_id") in HOUSEHOLD_ACCOUNT_IDS
    ]


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be listened on now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


# --- Home Assistant's HTTP APIs ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """A decoded HTTP answer."""

    status: int
    body: Any


class HomeAssistantApi:
    """Just enough of Home Assistant's REST, auth and onboarding APIs (stdlib only)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        """Talk to the instance at ``url`` (``http://host:port``)."""
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.access_token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: object = None,
        form: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> HttpAnswer:
        """Send one request; JSON answers are decoded, others returned as text."""
        headers = {"Accept": "application/json"}
        data: bytes | None = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if auth and self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        request = urllib.request.Request(  # noqa: S310 - self.url is http(s) to our own instance
            self.url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return HttpAnswer(response.status, _decode(response.read()))
        except urllib.error.HTTPError as err:
            return HttpAnswer(err.code, _decode(err.read()))

    def call(self, method: str, path: str, **kwargs: Any) -> Any:  # noqa: ANN401 - JSON
        """Like :meth:`request`, but fail unless the status is 2xx; the decoded body."""
        answer = self.request(method, path, **kwargs)
        if not 200 <= answer.status < 300:  # noqa: PLR2004 - the 2xx range
            msg = f"{method} {path} answered HTTP {answer.status}: {answer.body!r:.300}"
            raise DevInstanceError(msg)
        return answer.body

    def is_up(self) -> bool:
        """Whether the frontend is served (so ``frontend`` and ``onboarding`` are set up)."""
        try:
            return self.request("GET", "/manifest.json", auth=False).status == 200  # noqa: PLR2004
        except OSError:
            return False

    def onboarding_status(self) -> list[dict[str, Any]]:
        """``GET /api/onboarding``: every step with whether it is done.

        Once onboarding is complete Home Assistant no longer registers the onboarding API, so a
        404 (asked only once the frontend is up, see :meth:`is_up`) means every step is done.
        """
        answer = self.request("GET", "/api/onboarding", auth=False)
        if answer.status == 404:  # noqa: PLR2004 - not found: onboarding is over
            return [{"step": step, "done": True} for step in ONBOARDING_STEPS]
        if answer.status != 200 or not isinstance(answer.body, list):  # noqa: PLR2004 - OK
            msg = f"GET /api/onboarding answered HTTP {answer.status}"
            raise DevInstanceError(msg)
        return answer.body

    def exchange_code(self, code: str) -> None:
        """Turn an authorization code into an access token (``POST /auth/token``)."""
        tokens = self.call(
            "POST",
            "/auth/token",
            form={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client_id(self.url),
            },
            auth=False,
        )
        self.access_token = tokens["access_token"]

    def create_owner(self, name: str, username: str, password: str, language: str) -> None:
        """The onboarding user step: the owner account, then log in as it."""
        answer = self.call(
            "POST",
            "/api/onboarding/users",
            json_body={
                "name": name,
                "username": username,
                "password": password,
                "client_id": client_id(self.url),
                "language": language,
            },
            auth=False,
        )
        self.exchange_code(answer["auth_code"])

    def login(self, username: str, password: str) -> None:
        """Log in through the login flow, as the frontend's login page does."""
        flow = self.call(
            "POST",
            "/auth/login_flow",
            json_body={
                "client_id": client_id(self.url),
                "handler": ["homeassistant", None],
                "redirect_uri": redirect_uri(self.url),
            },
            auth=False,
        )
        result = self.call(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            json_body={
                "username": username,
                "password": password,
                "client_id": client_id(self.url),
            },
            auth=False,
        )
        if result.get("type") != "create_entry":
            msg = f"logging in as {username!r} failed: {result.get('errors') or result.get('type')}"
            raise DevInstanceError(msg)
        self.exchange_code(result["result"])

    def finish_onboarding_step(self, step: str) -> None:
        """One of the steps after the user step (needs the owner's access token)."""
        body: dict[str, str] = {}
        if step == "integration":
            body = {"client_id": client_id(self.url), "redirect_uri": redirect_uri(self.url)}
        self.call("POST", f"/api/onboarding/{step}", json_body=body)

    def websocket(self, *commands: Mapping[str, Any]) -> list[Any]:
        """Send ``commands`` over one authenticated websocket; their results, in order."""
        return asyncio.run(self._websocket(commands))

    async def _websocket(self, commands: Sequence[Mapping[str, Any]]) -> list[Any]:
        results: list[Any] = []
        url = "ws" + self.url.removeprefix("http") + "/api/websocket"
        timeout = aiohttp.ClientWSTimeout(ws_receive=self.timeout)
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, timeout=timeout) as ws,
        ):
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": self.access_token})
            hello = await ws.receive_json()
            if hello.get("type") != "auth_ok":
                msg = f"the websocket refused the access token: {hello.get('type')}"
                raise DevInstanceError(msg)
            for number, command in enumerate(commands, start=1):
                await ws.send_json({**command, "id": number})
                while (answer := await ws.receive_json()).get("id") != number:
                    pass  # events of earlier subscriptions; none are made here
                if not answer.get("success"):
                    msg = f"websocket {command.get('type')} failed: {answer.get('error')}"
                    raise DevInstanceError(msg)
                results.append(answer.get("result"))
        return results

    def confirm_http_config(self) -> bool:
        """Promote an unconfirmed HTTP configuration (from YAML) to the stable one.

        Since 2026.10 Home Assistant migrates ``http:`` YAML into storage as a *pending* config
        that reverts (with a restart, to port 8123 on every interface) unless confirmed within
        five minutes; the frontend asks with a dialog. Returns whether there was one to confirm.
        """
        (config,) = self.websocket({"type": "http/config"})
        if not config.get("pending") or config.get("revert_at") is None:
            return False
        self.websocket({"type": "http/config/promote"})
        return True

    def config_entries(self, domain: str) -> list[dict[str, Any]]:
        """The config entries of ``domain``."""
        entries: list[dict[str, Any]] = self.call(
            "GET", f"/api/config/config_entries/entry?domain={urllib.parse.quote(domain)}"
        )
        return entries

    def add_sequence_entry(self, credential: str, simulator_url: str) -> str | None:
        """Run the user step of the Sequence config flow with ``credential``.

        The new entry's id, or None when the flow aborts because these accounts are already set
        up with this kind of credential (seeding keeps that entry as it is).
        """
        flow = self.call(
            "POST",
            "/api/config/config_entries/flow",
            json_body={"handler": DOMAIN, "show_advanced_options": True},
        )
        if flow.get("type") != "form":
            msg = f"the Sequence config flow did not show its form: {flow!r:.300}"
            raise DevInstanceError(msg)
        result: dict[str, Any] = self.call(
            "POST",
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            json_body={"api_token": credential, "advanced": {"base_url": simulator_url}},
        )
        if result.get("type") == "abort" and result.get("reason") == "already_configured":
            return None
        if result.get("type") != "create_entry":
            msg = f"the Sequence config flow did not create an entry: {result!r:.300}"
            raise DevInstanceError(msg)
        entry_id: str = result["result"]["entry_id"]
        return entry_id

    def set_options(self, entry_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Run an entry's options flow, changing ``changes`` and keeping the rest; the options.

        The entry reloads with them (the integration's options flow asks for that).
        """
        form = self.call(
            "POST", "/api/config/config_entries/options/flow", json_body={"handler": entry_id}
        )
        if form.get("type") != "form":
            msg = f"the options flow did not show its form: {form!r:.300}"
            raise DevInstanceError(msg)
        result = self.call(
            "POST",
            f"/api/config/config_entries/options/flow/{form['flow_id']}",
            json_body=options_payload(form, changes),
        )
        if result.get("type") != "create_entry":
            msg = f"the options flow did not save the options: {result!r:.300}"
            raise DevInstanceError(msg)
        options: dict[str, Any] = result.get("data") or {}
        return options

    def subentries(self, entry_id: str) -> list[dict[str, Any]]:
        """An entry's subentries (``config_entries/subentries/list``): type, title, unique id."""
        (listed,) = self.websocket({"type": "config_entries/subentries/list", "entry_id": entry_id})
        subentries: list[dict[str, Any]] = listed
        return subentries

    def add_subentry(self, entry_id: str, subentry: DemoSubentry) -> str:
        """Add a rule or route through its flow: the form filled in, the confirmation ticked.

        The new subentry's title (what Home Assistant's flow result says).
        """
        form = self.call(
            "POST",
            "/api/config/config_entries/subentries/flow",
            json_body={"handler": [entry_id, subentry.subentry_type]},
        )
        what = f"the {subentry.subentry_type} flow for {subentry.title}"
        if form.get("type") != "form":
            msg = f"{what} did not show its form: {form!r:.300}"
            raise DevInstanceError(msg)
        confirm = self.call(
            "POST",
            f"/api/config/config_entries/subentries/flow/{form['flow_id']}",
            json_body=dict(subentry.form),
        )
        if confirm.get("type") != "form" or confirm.get("step_id") != "confirm":
            msg = f"{what} did not ask for the confirmation: {confirm!r:.300}"
            raise DevInstanceError(msg)
        result: dict[str, Any] = self.call(
            "POST",
            f"/api/config/config_entries/subentries/flow/{form['flow_id']}",
            json_body={"confirm": True},
        )
        if result.get("type") != "create_entry":
            msg = f"{what} did not add it: {result!r:.300}"
            raise DevInstanceError(msg)
        return str(result.get("title", subentry.title))

    def core_state(self) -> str:
        """Home Assistant's state (``RUNNING`` once started), from ``GET /api/config``."""
        config: dict[str, Any] = self.call("GET", "/api/config")
        return str(config.get("state"))

    def repair_issues(self) -> list[dict[str, Any]]:
        """The repair issues Home Assistant has now (``repairs/list_issues``), ignored ones too."""
        (result,) = self.websocket({"type": "repairs/list_issues"})
        issues: list[dict[str, Any]] = result["issues"]
        return issues

    def name_hub(self, entry_id: str, name: str) -> None:
        """Name an entry's hub device, as renaming it on its device page does."""
        (devices,) = self.websocket({"type": "config/device_registry/list"})
        hubs = [
            device["id"]
            for device in devices
            if device.get("config_entry_id") == entry_id and device.get("model") == HUB_MODEL
        ]
        if len(hubs) != 1:
            msg = f"entry {entry_id} has {len(hubs)} hub devices (model {HUB_MODEL!r}), not 1"
            raise DevInstanceError(msg)
        self.websocket(
            {"type": "config/device_registry/update", "device_id": hubs[0], "name_by_user": name}
        )

    def entity_registry(self) -> list[dict[str, Any]]:
        """Every entity registry entry (``config/entity_registry/list`` over the websocket)."""
        (entities,) = self.websocket({"type": "config/entity_registry/list"})
        registry: list[dict[str, Any]] = entities
        return registry

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """``GET /api/states/<entity_id>``, or None when there is no such entity."""
        answer = self.request("GET", f"/api/states/{entity_id}")
        if answer.status == 404:  # noqa: PLR2004 - not found
            return None
        if answer.status != 200:  # noqa: PLR2004 - OK
            msg = f"GET /api/states/{entity_id} answered HTTP {answer.status}"
            raise DevInstanceError(msg)
        state: dict[str, Any] = answer.body
        return state


def _decode(raw: bytes) -> Any:  # noqa: ANN401 - JSON
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def onboard(
    api: HomeAssistantApi, *, username: str = DEV_USERNAME, password: str = DEV_PASSWORD
) -> list[str]:
    """Do the onboarding steps not done yet and confirm the HTTP config; the steps done.

    Leaves ``api`` logged in as the owner (created now, or logged in with ``password``).
    """
    pending = pending_onboarding_steps(api.onboarding_status())
    if "user" in pending:
        api.create_owner(DEV_NAME, username, password, DEV_LANGUAGE)
    else:
        api.login(username, password)
    for step in pending:
        if step != "user":
            api.finish_onboarding_step(step)
    api.confirm_http_config()
    return pending


@dataclass(frozen=True, slots=True)
class SeedResult:
    """What :func:`seed` did."""

    onboarded_steps: list[str]
    created: dict[str, str]
    """The entries added now, by credential kind (``access_token``, ``api_key``): their ids."""
    subentries: list[str]
    """The titles of the rules and routes added now."""


def seed(
    api: HomeAssistantApi,
    simulator_url: str,
    *,
    token: str = DEV_BUSINESS_TOKEN,
    api_key: str = DEV_API_KEY,
) -> SeedResult:
    """Onboard (the steps not done yet) and add the demo's entries (those not there yet).

    In :func:`demo_entries`' order: the API key's entry (then its options), the access
    token's (then its hub's name); then each entry's rules and routes it lacks
    (:func:`demo_subentries`). Leaves ``api`` logged in as the owner (``dev``).
    """
    pending = onboard(api)
    created: dict[str, str] = {}
    added: list[str] = []
    planned = demo_entries(token=token, api_key=api_key)
    for entry in planned:
        entry_id = api.add_sequence_entry(entry.credential, simulator_url)
        if entry_id is None:
            continue
        created[entry.kind] = entry_id
        if entry.options:
            api.set_options(entry_id, entry.options)
        if entry.hub_name:
            api.name_hub(entry_id, entry.hub_name)
    by_title = {item["title"]: item["entry_id"] for item in api.config_entries(DOMAIN)}
    for entry in planned:
        entry_id = created.get(entry.kind) or by_title.get(entry.title)
        if entry_id is None:
            msg = f"no Sequence entry is called {entry.title!r} to add the demo's rules to"
            raise DevInstanceError(msg)
        there = {item.get("unique_id") for item in api.subentries(entry_id)}
        added += [
            api.add_subentry(entry_id, subentry)
            for subentry in demo_subentries(entry.kind, simulator_url)
            if subentry.unique_id not in there
        ]
    return SeedResult(pending, created, added)


# --- Processes ---------------------------------------------------------------------------------


def wait_for(
    condition: Any,  # noqa: ANN401 - any zero-argument callable returning a truthy value
    *,
    timeout: float,
    what: str,
    interval: float = 0.25,
    process: subprocess.Popen[Any] | None = None,
) -> Any:  # noqa: ANN401 - whatever the condition returned
    """Poll ``condition()`` until it is truthy; fail after ``timeout`` s or if ``process`` dies."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            msg = f"gave up waiting for {what}: the process exited with {process.returncode}"
            raise DevInstanceError(msg)
        if time.monotonic() >= deadline:
            msg = f"gave up waiting for {what} after {timeout:.0f} s"
            raise DevInstanceError(msg)
        time.sleep(interval)


@dataclass(slots=True)
class Service:
    """A child process in its own process group, and where it answers."""

    name: str
    process: subprocess.Popen[Any]
    url: str
    reader: threading.Thread | None = None
    """The thread reading the process's output, if any: it ends at the output's end."""

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the whole process group, wait, SIGKILL if it does not stop in time.

        Then wait for the reader too, so that no thread of the service outlives it (a test
        harness that checks for leftover threads would otherwise find it, now and then).
        """
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        if self.reader is not None:
            self.reader.join(timeout)


def start_simulator(  # noqa: PLR0913 - keyword-only: one per credential, where, how long
    *,
    python: str = sys.executable,
    token: str = DEV_TOKEN,
    business_token: str = DEV_BUSINESS_TOKEN,
    api_key: str = DEV_API_KEY,
    log: Path | None = None,
    timeout: float = 30.0,
) -> Service:
    """Start ``python -m tools.simulator`` on a free port and wait for its listening line.

    ``token`` sees the household, ``business_token`` the business; ``api_key`` is its one
    Platform API key (the household's), with every read permission.
    """
    stderr = log.open("a", encoding="utf-8") if log else subprocess.DEVNULL
    process = subprocess.Popen(  # noqa: S603 - our own venv's python, fixed arguments
        [
            python,
            "-m",
            "tools.simulator",
            "--port",
            "0",
            "--token",
            token,
            "--business-token",
            business_token,
            "--api-key",
            api_key,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )
    if log:
        stderr.close()  # type: ignore[union-attr]  # the child has its own descriptor
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout or ():
            url = parse_listening_line(line)
            if url and not found:
                found.append(url)
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True, name="simulator-stdout")
    reader.start()
    service = Service("simulator", process, "", reader)
    if not ready.wait(timeout) or not found:
        service.stop()
        msg = f"the simulator did not start within {timeout:.0f} s (exit code {process.poll()})"
        raise DevInstanceError(msg)
    service.url = found[0]
    return service


def start_home_assistant(
    config_dir: Path,
    port: int,
    *,
    hass: Path | None = None,
    log: Path,
    timeout: float = 180.0,
) -> Service:
    """Start ``hass --config CONFIG --skip-pip`` and wait until its HTTP API answers."""
    hass = hass or Path(sys.executable).with_name("hass")
    with log.open("a", encoding="utf-8") as output:
        process = subprocess.Popen(  # noqa: S603 - our own venv's hass, fixed arguments
            [str(hass), "--config", str(config_dir), "--skip-pip"],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = Service("Home Assistant", process, base_url(DEFAULT_HOST, port))
    api = HomeAssistantApi(service.url, timeout=10)
    try:
        wait_for(
            api.is_up, timeout=timeout, what=f"Home Assistant on {service.url}", process=process
        )
    except DevInstanceError:
        service.stop()
        raise
    return service


def first_start(
    config_dir: Path,
    port: int,
    *,
    hass: Path | None = None,
    log: Path,
    timeout: float = 180.0,
) -> list[str]:
    """A never-started config dir's first start: onboard, stop, drop the YAML HTTP settings.

    Home Assistant moved the settings into its storage (onboarding confirms them), so the
    next start uses them with no "deprecated YAML" repair. Does nothing (an empty list) for a
    dir that has started before; otherwise the onboarding steps done. An interrupted first
    start is done again next time.
    """
    if not needs_first_start(config_dir):
        return []
    home_assistant = start_home_assistant(config_dir, port, hass=hass, log=log, timeout=timeout)
    with running(home_assistant):
        done = onboard(HomeAssistantApi(home_assistant.url))
    (config_dir / FIRST_START_HTTP).unlink()
    return done


@contextlib.contextmanager
def running(*services: Service) -> Iterator[None]:
    """Stop ``services`` (in reverse order) when the block ends, however it ends."""
    try:
        yield
    finally:
        for service in reversed(services):
            service.stop()


def wait_until_loaded(api: HomeAssistantApi, entity_id: str, *, timeout: float = 60.0) -> str:
    """Wait until every Sequence entry is loaded and ``entity_id`` has a number; that number."""

    def loaded_with_number() -> str | None:
        entries = api.config_entries(DOMAIN)
        if not entries or any(entry.get("state") != "loaded" for entry in entries):
            return None
        state = api.state(entity_id)
        return state["state"] if state and is_numeric_state(state["state"]) else None

    value: str = wait_for(
        loaded_with_number, timeout=timeout, what=f"loaded entries and a number in {entity_id}"
    )
    return value


def wait_until_started(api: HomeAssistantApi, *, timeout: float = 60.0) -> None:
    """Wait until Home Assistant runs and no Sequence entry is still being set up."""
    settling = {"not_loaded", "setup_in_progress", "unload_in_progress"}

    def started() -> bool:
        entries = api.config_entries(DOMAIN)
        return api.core_state() == "RUNNING" and all(
            entry["state"] not in settling for entry in entries
        )

    wait_for(started, timeout=timeout, what="Home Assistant to start")


def wait_until_seeded(
    api: HomeAssistantApi, *, timeout: float = 60.0, interval: float = 0.5
) -> dict[str, str]:
    """Wait until the demo is ready; a balance of each entry and the net worth.

    Ready: Home Assistant is running, and :func:`seeded_problems`, :func:`subentry_problems`
    (a device for each rule and route) and :func:`shared_names` find nothing.

    The answer maps entity ids to their states, for a report. On timeout the error lists what
    was still missing.
    """
    problems: list[str] = []
    report: dict[str, str] = {}

    def ready() -> bool:
        states = api.call("GET", "/api/states")
        registry = api.entity_registry()
        balances = numeric_balances(registry, states)
        entries = api.config_entries(DOMAIN)
        (devices,) = api.websocket({"type": "config/device_registry/list"})
        problems[:] = seeded_problems(entries, balances, states)
        problems.extend(subentry_problems(entries, devices))
        problems.extend(
            f"{count} Sequence entities are called {name!r}"
            for name, count in shared_names(registry, states).items()
        )
        if (core := api.core_state()) != "RUNNING":
            problems.append(f"Home Assistant is {core}, not RUNNING")
        if problems:
            return False
        report.update(min(sensors.items()) for sensors in balances.values())
        report.update(
            (state["entity_id"], state["state"])
            for state in states
            if state["entity_id"] == NET_WORTH_SENSOR
        )
        return True

    try:
        wait_for(ready, timeout=timeout, what="both Sequence entries", interval=interval)
    except DevInstanceError as err:
        msg = f"{err}: {'; '.join(problems)}"
        raise DevInstanceError(msg) from err
    return report


# --- Command line (used by script/develop) -----------------------------------------------------


def _cmd_seed(args: argparse.Namespace) -> int:
    seeded = is_seeded(args.config)  # before Home Assistant writes anything this start
    earlier = earlier_demo_entries(args.config)
    api = HomeAssistantApi(args.url)
    wait_for(api.is_up, timeout=args.timeout, what=f"Home Assistant on {args.url}")
    if seeded:
        print(
            f"dev instance: {args.config} is already onboarded with both Sequence entries, "
            "their rules and their route"
        )
        if earlier:
            print(
                f"dev instance: {', '.join(earlier)} in {args.config} is the earlier demo (an "
                "access token over the API key's accounts); for the current one, stop and delete "
                f"everything in {args.config} but configuration.yaml",
                file=sys.stderr,
            )
        try:
            api.login(DEV_USERNAME, DEV_PASSWORD)
        except DevInstanceError:
            return 0  # the password was changed: the banner cannot wait for the start
    else:
        result = seed(api, args.simulator_url, token=args.token, api_key=args.api_key)
        if result.onboarded_steps:
            print(f"dev instance: onboarded ({', '.join(result.onboarded_steps)})")
        for entry in demo_entries(token=args.token, api_key=args.api_key):
            if entry.kind in result.created:
                what = "API key (activity on)" if entry.kind == KIND_API_KEY else "access token"
                print(
                    f"dev instance: Sequence set up with the {entry.beneficiary}'s {what} "
                    f"against the simulator at {args.simulator_url}"
                )
        if result.subentries:
            print(f"dev instance: added {', '.join(result.subentries)}")
    wait_until_started(api, timeout=args.timeout)
    return 0


def _cmd_first_start(args: argparse.Namespace) -> int:
    done = first_start(args.config, args.port, log=args.log, timeout=args.timeout)
    if done:
        print(f"dev instance: first start of {args.config}: onboarded ({', '.join(done)})")
    return 0


def _cmd_prepare(args: argparse.Namespace) -> int:
    prepare_config_dir(args.config)
    busy = [port for port in args.ports if not port_is_free(DEFAULT_HOST, port)]
    if busy:
        ports = ", ".join(map(str, busy))
        print(f"dev instance: port {ports} on {DEFAULT_HOST} is in use", file=sys.stderr)
        return 1
    return 0


def _cmd_wait(args: argparse.Namespace) -> int:
    def answers() -> bool:
        try:
            with urllib.request.urlopen(args.url, timeout=5):  # noqa: S310 - our own service
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    wait_for(answers, timeout=args.timeout, what=args.url)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; the exit code."""
    parser = argparse.ArgumentParser(prog="python -m tools.dev_instance", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser("prepare", help="link the integration, check ports are free")
    prepare.add_argument("--config", type=Path, required=True)
    prepare.add_argument("ports", type=int, nargs="*", help="ports that must be free")
    prepare.set_defaults(run=_cmd_prepare)
    wait = commands.add_parser("wait", help="wait until a URL answers")
    wait.add_argument("url")
    wait.add_argument("--timeout", type=float, default=30.0)
    wait.set_defaults(run=_cmd_wait)
    first = commands.add_parser(
        "first-start",
        help="for a config dir that never started: start Home Assistant, onboard, stop",
    )
    first.add_argument("--config", type=Path, required=True)
    first.add_argument("--port", type=int, default=DEFAULT_HA_PORT)
    first.add_argument("--log", type=Path, required=True, help="where its output goes")
    first.add_argument("--timeout", type=float, default=240.0)
    first.set_defaults(run=_cmd_first_start)
    seed_parser = commands.add_parser(
        "seed",
        help="onboard and add the demo's Sequence entries (API key, access token) once, then "
        "wait until Home Assistant has started",
    )
    seed_parser.add_argument("--config", type=Path, required=True)
    seed_parser.add_argument("--url", default=base_url(DEFAULT_HOST, DEFAULT_HA_PORT))
    seed_parser.add_argument(
        "--simulator-url", default=base_url(DEFAULT_HOST, DEFAULT_SIMULATOR_PORT)
    )
    seed_parser.add_argument("--token", default=DEV_BUSINESS_TOKEN)
    seed_parser.add_argument("--api-key", default=DEV_API_KEY)
    seed_parser.add_argument("--timeout", type=float, default=240.0)
    seed_parser.set_defaults(run=_cmd_seed)
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except DevInstanceError as err:
        print(f"dev instance: {err}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
