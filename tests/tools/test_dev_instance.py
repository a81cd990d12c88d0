"""tools/dev_instance.py: helpers, seeding a fake Home Assistant over HTTP, processes, CLI."""

import asyncio
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass, field
import json
from pathlib import Path
import re
import socket
import subprocess
import sys
import threading
from typing import Any

from aiohttp import WSMsgType, web
import pytest
import yaml

from custom_components.sequence.api.platform import API_KEY_PREFIX
from custom_components.sequence.api.remote_rules import parse_trigger_url
from custom_components.sequence.config_flow import TITLES
from custom_components.sequence.const import (
    CONF_ACTIVITY,
    KIND_ACCESS_TOKEN,
    KIND_API_KEY,
    SUBENTRY_ROUTE,
    SUBENTRY_RULE,
)
from tests.conftest import refusing_port
from tools import dev_instance
from tools.dev_instance import (
    DevInstanceError,
    HomeAssistantApi,
    Service,
    base_url,
    client_id,
    credential_kind,
    demo_subentries,
    is_numeric_state,
    is_seeded,
    numeric_balances,
    options_payload,
    parse_listening_line,
    pending_onboarding_steps,
    prepare_config_dir,
    redirect_uri,
    seed,
    seeded_problems,
    shared_names,
    subentry_problems,
    wait_for,
)
from tools.simulator.app import DEFAULT_BUSINESS_TOKEN, DEFAULT_TOKEN
from tools.simulator.platform_records import DEFAULT_API_KEY, DEV_TRANSFER_PAIRS
from tools.simulator.platform_seed import seed_rules
from tools.simulator.remote_rules import seed_remote_rules
from tools.simulator.state import business_accounts, platform_id_of, seed_accounts

pytestmark = pytest.mark.usefixtures("socket_enabled")

SIMULATOR = "http://127.0.0.1:8765"

# --- Pure helpers ------------------------------------------------------------------------------


def test_what_seeding_assumes_matches_the_integration_and_the_simulator() -> None:
    """dev_instance copies these instead of importing the integration or the simulator."""
    assert TITLES[KIND_API_KEY] == dev_instance.API_KEY_ENTRY_TITLE
    assert TITLES[KIND_ACCESS_TOKEN] == dev_instance.ACCESS_TOKEN_ENTRY_TITLE
    assert (dev_instance.SUBENTRY_RULE, dev_instance.SUBENTRY_ROUTE) == (
        SUBENTRY_RULE,
        SUBENTRY_ROUTE,
    )
    assert (dev_instance.KIND_ACCESS_TOKEN, dev_instance.KIND_API_KEY) == (
        KIND_ACCESS_TOKEN,
        KIND_API_KEY,
    )
    assert dev_instance.DEV_API_KEY == DEFAULT_API_KEY
    assert dev_instance.DEV_API_KEY.startswith(API_KEY_PREFIX)
    assert (dev_instance.DEV_TOKEN, dev_instance.DEV_BUSINESS_TOKEN) == (
        DEFAULT_TOKEN,
        DEFAULT_BUSINESS_TOKEN,
    )
    assert set(dev_instance.API_KEY_OPTIONS) == {CONF_ACTIVITY}
    assert {account.id for account in seed_accounts()} == dev_instance.HOUSEHOLD_ACCOUNT_IDS
    coordinator = (dev_instance.INTEGRATION_DIR / "coordinator.py").read_text(encoding="utf-8")
    assert f'model="{dev_instance.HUB_MODEL}"' in coordinator


def test_the_demo_is_two_beneficiaries() -> None:
    """The API key (the household) first, so its hub keeps the plain ids; then the business."""
    api_key, token = dev_instance.DEMO_ENTRIES
    assert (api_key.kind, api_key.credential, api_key.beneficiary) == (
        KIND_API_KEY,
        DEFAULT_API_KEY,
        "household",
    )
    assert (token.kind, token.credential, token.beneficiary) == (
        KIND_ACCESS_TOKEN,
        DEFAULT_BUSINESS_TOKEN,
        "business",
    )
    assert api_key.options == dev_instance.API_KEY_OPTIONS
    assert not token.options
    assert (api_key.hub_name, token.hub_name) == (None, dev_instance.BUSINESS_HUB_NAME)
    assert {account.id for account in business_accounts()}.isdisjoint(
        dev_instance.HOUSEHOLD_ACCOUNT_IDS
    )


def test_the_demos_rules_and_route_are_the_simulators() -> None:
    """An enabled, supported rule; a route the development key may use; the business's rule."""
    rule, route = demo_subentries(KIND_API_KEY, SIMULATOR)
    sequence_rule = next(item for item in seed_rules(0.0) if item.id == rule.unique_id)
    assert (sequence_rule.enabled, sequence_rule.supported) == (True, True)
    assert rule.form["rule_id"] == rule.unique_id
    assert (route.form["source"], route.form["destination"]) == tuple(route.unique_id.split(":"))
    [pair] = [
        pair
        for pair in DEV_TRANSFER_PAIRS
        if (pair.source, pair.target) == (route.form["source"], route.form["destination"])
    ]
    assert pair.max_amount_cents is not None
    assert route.form["max_per_transfer"] * 100 <= pair.max_amount_cents
    assert route.title == "Emergency Fund → Vacation"
    assert {route.form["source"], route.form["destination"]} == {
        platform_id_of("4410023"),
        platform_id_of("4410024"),
    }
    (remote,) = demo_subentries(KIND_ACCESS_TOKEN, SIMULATOR + "/")
    business_rule = next(item for item in seed_remote_rules() if item.id == remote.unique_id)
    assert business_rule.beneficiary == "business"
    assert remote.form["secret"] == business_rule.secret
    assert parse_trigger_url(remote.form["trigger_url"], SIMULATOR) == remote.unique_id


def test_urls() -> None:
    assert base_url("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert base_url("::1", 8123) == "http://[::1]:8123"
    assert client_id("http://127.0.0.1:8123") == "http://127.0.0.1:8123/"
    assert client_id("http://127.0.0.1:8123/") == "http://127.0.0.1:8123/"
    assert redirect_uri("http://h:1") == "http://h:1/?auth_callback=1"


@pytest.mark.parametrize(
    ("line", "url"),
    [
        (
            "Sequence simulator listening on http://127.0.0.1:4321 (scenario: ok)\n",
            "http://127.0.0.1:4321",
        ),
        (
            "Sequence simulator listening on http://[::1]:1 (scenario: token_revoked)",
            "http://[::1]:1",
        ),
        ("Sequence simulator stopped", None),
        ("", None),
    ],
)
def test_parse_listening_line(line: str, url: str | None) -> None:
    assert parse_listening_line(line) == url


def test_first_start_http() -> None:
    http = yaml.safe_load(dev_instance.first_start_http(4321))
    assert http == {"http": {"server_host": "127.0.0.1", "server_port": 4321}}
    assert dev_instance.first_start_http(1, "::1").count("server_host: ::1") == 1


def test_the_committed_configuration() -> None:
    """An explicit list (no default_config), no YAML HTTP settings, the demo's core config."""
    text = dev_instance.CONFIG_TEMPLATE.read_text(encoding="utf-8")
    top_level = re.findall(r"^(\w+):", text, re.MULTILINE)
    assert "default_config" not in top_level
    assert "http" not in top_level
    assert {"frontend", "config", "history", "logbook", "diagnostics"} <= set(top_level)
    assert "packages: !include_dir_named packages" in text
    assert str(dev_instance.FIRST_START_HTTP.parent) == "packages"
    assert "country: US" in text
    assert "currency: USD" in text
    assert "custom_components.sequence: debug" in text


def test_pending_onboarding_steps() -> None:
    assert pending_onboarding_steps([]) == ["user", "core_config", "analytics", "integration"]
    status = [
        {"step": "integration", "done": False},
        {"step": "user", "done": True},
        {"step": "analytics", "done": True},
        {"step": "something_new", "done": False},
    ]
    assert pending_onboarding_steps(status) == ["core_config", "integration"]


def write_storage(config: Path, name: str, data: object) -> None:
    (config / ".storage").mkdir(parents=True, exist_ok=True)
    (config / ".storage" / name).write_text(json.dumps({"version": 1, "data": data}))


ALL_DONE = {"done": ["user", "core_config", "analytics", "integration"]}


def stored_subentries(kind: str) -> list[dict[str, Any]]:
    return [
        {"subentry_type": item.subentry_type, "unique_id": item.unique_id}
        for item in demo_subentries(kind, SIMULATOR)
    ]


TOKEN_ENTRY = {  # stored before API keys: no credential kind
    "domain": "sequence",
    "data": {"api_token": "t"},
    "subentries": stored_subentries(KIND_ACCESS_TOKEN),
}
KEY_ENTRY = {
    "domain": "sequence",
    "data": {"api_token": "sk_x", "credential_kind": "api_key"},
    "subentries": stored_subentries(KIND_API_KEY),
}


def test_is_seeded(tmp_path: Path) -> None:
    assert not is_seeded(tmp_path)
    write_storage(tmp_path, "onboarding", {"done": ["user"]})
    write_storage(tmp_path, "core.config_entries", {"entries": [TOKEN_ENTRY, KEY_ENTRY]})
    assert not is_seeded(tmp_path)  # onboarding unfinished
    write_storage(tmp_path, "onboarding", ALL_DONE)
    assert is_seeded(tmp_path)
    without_route = {**KEY_ENTRY, "subentries": KEY_ENTRY["subentries"][:1]}
    write_storage(tmp_path, "core.config_entries", {"entries": [TOKEN_ENTRY, without_route]})
    assert not is_seeded(tmp_path)  # seeded before the money features: no route
    no_rules = {**TOKEN_ENTRY, "subentries": None}
    write_storage(tmp_path, "core.config_entries", {"entries": [no_rules, KEY_ENTRY]})
    assert not is_seeded(tmp_path)
    write_storage(tmp_path, "core.config_entries", {"entries": [TOKEN_ENTRY]})
    assert not is_seeded(tmp_path)  # seeded before API keys were: the key's entry is missing
    write_storage(tmp_path, "core.config_entries", {"entries": [KEY_ENTRY, "junk"]})
    assert not is_seeded(tmp_path)  # no access-token entry
    write_storage(tmp_path, "core.config_entries", {"entries": [{"domain": "met"}]})
    assert not is_seeded(tmp_path)  # no Sequence entry
    (tmp_path / ".storage" / "core.config_entries").write_text("{broken")
    assert not is_seeded(tmp_path)
    write_storage(tmp_path, "core.config_entries", ["not", "a", "dict"])
    assert not is_seeded(tmp_path)


@pytest.mark.parametrize(
    ("stored", "kind"),
    [
        (KEY_ENTRY, "api_key"),
        (TOKEN_ENTRY, "access_token"),
        ({"domain": "sequence", "data": {"credential_kind": "access_token"}}, "access_token"),
        ({"domain": "sequence"}, "access_token"),
        ({"domain": "sequence", "data": {"credential_kind": 3}}, "access_token"),
    ],
)
def test_credential_kind(stored: dict[str, Any], kind: str) -> None:
    assert credential_kind(stored) == kind


OPTIONS_FORM = {
    "type": "form",
    "flow_id": "options-1",
    "data_schema": [
        {"name": "scan_interval_minutes", "required": True, "default": 360},
        {"name": "account_kinds", "required": True, "default": ["pod", "external"]},
        {"name": "excluded_accounts", "optional": True, "default": []},
        {"name": "balance_events", "required": True, "default": False},
        {"name": "activity", "required": True, "default": False},
    ],
}


def test_options_payload() -> None:
    assert options_payload(OPTIONS_FORM, {"activity": True}) == {
        "scan_interval_minutes": 360,
        "account_kinds": ["pod", "external"],
        "excluded_accounts": [],
        "balance_events": False,
        "activity": True,
    }
    # An access-token entry's form has no activity field.
    token_form = {"data_schema": OPTIONS_FORM["data_schema"][:4]}
    with pytest.raises(DevInstanceError, match="has no field activity"):
        options_payload(token_form, {"activity": True})
    without_default = {"data_schema": [{"name": "new_thing", "required": True}]}
    with pytest.raises(DevInstanceError, match="needs new_thing"):
        options_payload(without_default, {})
    assert options_payload(without_default, {"new_thing": 1}) == {"new_thing": 1}
    assert options_payload({"data_schema": None}, {}) == {}


TOKEN_ID, KEY_ID = "entry-token", "entry-key"
REGISTRY = [
    {
        "entity_id": "sensor.sequence_payroll_reserve_balance",
        "platform": "sequence",
        "config_entry_id": TOKEN_ID,
    },
    {
        "entity_id": "sensor.sequence_groceries_balance",
        "platform": "sequence",
        "config_entry_id": KEY_ID,
    },
    {
        "entity_id": "sensor.sequence_brokerage_9921_balance",
        "platform": "sequence",
        "config_entry_id": KEY_ID,
    },
    {"entity_id": "sensor.sequence_net_worth", "platform": "sequence", "config_entry_id": KEY_ID},
    {
        "entity_id": "sensor.sequence_transfers_this_month",
        "platform": "sequence",
        "config_entry_id": KEY_ID,
    },
    {"entity_id": "sensor.other_balance", "platform": "other", "config_entry_id": "x"},
    {"entity_id": "sensor.sequence_orphan", "platform": "sequence", "config_entry_id": None},
]


def entity(entity_id: str, value: str, **attributes: str) -> dict[str, Any]:
    return {"entity_id": entity_id, "state": value, "attributes": attributes}


def seeded_states(net_worth: str = "34515.07") -> list[dict[str, Any]]:
    return [
        entity(
            "sensor.sequence_payroll_reserve_balance",
            "6425.00",
            account_id="6620101",
            friendly_name="Payroll Reserve Balance",
        ),
        entity(
            "sensor.sequence_groceries_balance",
            "412.06",
            account_id="4c4e",
            friendly_name="Groceries Balance",
        ),
        entity(
            "sensor.sequence_brokerage_9921_balance",
            "unknown",
            account_id="7bc4",
            friendly_name="Brokerage 9921 Balance",
        ),
        entity("sensor.sequence_net_worth", net_worth, friendly_name="Sequence Net worth"),
        entity(
            "sensor.sequence_transfers_this_month",
            "12",
            friendly_name="Sequence Transfers this month",
        ),
        entity("sensor.other_balance", "1", account_id="1", friendly_name="Groceries Balance"),
        entity("sensor.sequence_orphan", "1", account_id="2", friendly_name="Orphan"),
        entity("sensor.not_in_the_registry", "1", account_id="3"),
    ]


def test_numeric_balances() -> None:
    assert numeric_balances(REGISTRY, seeded_states()) == {
        TOKEN_ID: {"sensor.sequence_payroll_reserve_balance": "6425.00"},
        KEY_ID: {"sensor.sequence_groceries_balance": "412.06"},
    }


def seeded_entries(key_state: str = "loaded") -> list[dict[str, str]]:
    return [
        {"entry_id": KEY_ID, "title": "Sequence (API key)", "state": key_state},
        {"entry_id": TOKEN_ID, "title": "Sequence", "state": "loaded"},
    ]


def subentry_devices(*, key: str = KEY_ID, token: str = TOKEN_ID) -> list[dict[str, Any]]:
    """The devices the demo's rules and route get, as the device registry lists them."""
    return [
        {"config_entry_id": entry_id, "model_id": item.subentry_type, "name": item.title}
        for kind, entry_id in ((KIND_API_KEY, key), (KIND_ACCESS_TOKEN, token))
        for item in demo_subentries(kind, SIMULATOR)
    ]


def test_subentry_problems() -> None:
    devices = subentry_devices()
    assert subentry_problems(seeded_entries(), devices) == []
    assert subentry_problems(seeded_entries(), devices[1:]) == [
        "Sequence (API key) has no device for its rule Round-ups"
    ]
    assert subentry_problems(seeded_entries(), subentry_devices(token="another")) == [
        "Sequence has no device for its rule Tax set-aside"
    ]
    assert subentry_problems([], devices) == [
        "Sequence (API key) has no device for its rule Round-ups",
        "Sequence (API key) has no device for its transfer_route Emergency Fund → Vacation",
        "Sequence has no device for its rule Tax set-aside",
    ]


def test_seeded_problems() -> None:
    states = seeded_states()
    balances = numeric_balances(REGISTRY, states)
    assert seeded_problems(seeded_entries(), balances, states) == []
    assert seeded_problems(seeded_entries()[1:], balances, states) == [
        "1 Sequence entries (Sequence), expected 2"
    ]
    assert seeded_problems(seeded_entries("setup_retry"), balances, states) == [
        "Sequence (API key) is setup_retry"
    ]
    assert seeded_problems(seeded_entries(), {TOKEN_ID: balances[TOKEN_ID]}, states) == [
        "Sequence (API key) has no balance sensor with a number"
    ]
    unavailable = seeded_states("unavailable")[:-4]  # no activity sensor either
    assert seeded_problems(seeded_entries(), balances, unavailable) == [
        "sensor.sequence_net_worth is unavailable",
        "sensor.sequence_transfers_this_month is missing",
    ]


@pytest.mark.parametrize(
    ("state", "numeric"),
    [("412.06", True), ("0", True), ("-3.5", True), ("unknown", False), ("unavailable", False)],
)
def test_is_numeric_state(state: str, numeric: bool) -> None:
    assert is_numeric_state(state) is numeric


def test_prepare_config_dir(tmp_path: Path) -> None:
    integration = tmp_path / "repo" / "sequence"
    integration.mkdir(parents=True)
    template = tmp_path / "configuration.yaml"
    template.write_text("frontend:\n")
    config = tmp_path / "config"
    prepare_config_dir(config, port=5000, template=template, integration=integration)
    link = config / "custom_components" / "sequence"
    assert link.is_symlink()
    assert link.resolve() == integration.resolve()
    assert (config / "configuration.yaml").read_text() == "frontend:\n"
    # Never started: the first start listens on loopback, and skips onboarding's core config.
    assert dev_instance.needs_first_start(config)
    http = yaml.safe_load((config / dev_instance.FIRST_START_HTTP).read_text())
    assert http == {"http": {"server_host": "127.0.0.1", "server_port": 5000}}
    onboarding = json.loads((config / ".storage" / "onboarding").read_text())
    assert onboarding == {
        "version": 4,
        "minor_version": 1,
        "key": "onboarding",
        "data": {"done": ["core_config"]},
    }
    assert pending_onboarding_steps([{"step": "core_config", "done": True}]) == [
        "user",
        "analytics",
        "integration",
    ]

    (config / dev_instance.FIRST_START_HTTP).unlink()  # as the first start does
    prepare_config_dir(config, integration=integration)  # again: nothing to do
    assert link.resolve() == integration.resolve()
    assert not dev_instance.needs_first_start(config)
    assert (config / "configuration.yaml").read_text() == "frontend:\n"

    elsewhere = tmp_path / "old"
    elsewhere.mkdir()
    link.unlink()
    link.symlink_to(elsewhere)
    prepare_config_dir(config, integration=integration)  # a stale link is replaced
    assert link.resolve() == integration.resolve()

    link.unlink()
    link.mkdir()
    with pytest.raises(DevInstanceError, match="not a link"):
        prepare_config_dir(config, integration=integration)


def test_prepare_the_developers_config_dir(tmp_path: Path) -> None:
    """config/ (no port given): its own configuration.yaml; the first start on 8123."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "configuration.yaml").write_text("mine: true\n")
    prepare_config_dir(config)
    assert (config / "configuration.yaml").read_text() == "mine: true\n"
    assert "server_port: 8123" in (config / dev_instance.FIRST_START_HTTP).read_text()


def test_a_config_dir_that_started_before_gets_no_first_start_files(tmp_path: Path) -> None:
    write_storage(tmp_path, "onboarding", ALL_DONE)
    prepare_config_dir(tmp_path)
    assert not dev_instance.needs_first_start(tmp_path)
    assert json.loads((tmp_path / ".storage" / "onboarding").read_text())["data"] == ALL_DONE


def test_earlier_demo_entries(tmp_path: Path) -> None:
    """The demo of before set the token up over the household's accounts: its anchor says so."""
    assert dev_instance.earlier_demo_entries(tmp_path) == []
    household = {**TOKEN_ENTRY, "title": "Sequence", "unique_id": "4410007"}
    business = {**TOKEN_ENTRY, "title": "Sequence", "unique_id": "6620101"}
    key = {**KEY_ENTRY, "title": "Sequence (API key)", "unique_id": "4410007"}
    write_storage(tmp_path, "core.config_entries", {"entries": [key, business, "junk"]})
    assert dev_instance.earlier_demo_entries(tmp_path) == []
    write_storage(tmp_path, "core.config_entries", {"entries": [key, household]})
    assert dev_instance.earlier_demo_entries(tmp_path) == ["Sequence"]


def test_shared_names() -> None:
    registry = [
        {"entity_id": "sensor.sequence_groceries_balance", "platform": "sequence"},
        {"entity_id": "sensor.sequence_groceries_balance_2", "platform": "sequence"},
        {"entity_id": "sensor.sequence_pods_total", "platform": "sequence"},
        {"entity_id": "sensor.sequence_pods_total_2", "platform": "sequence"},
        {"entity_id": "sensor.other", "platform": "other"},
    ]
    states = [
        entity("sensor.sequence_groceries_balance", "1", friendly_name="Groceries Balance"),
        entity("sensor.sequence_groceries_balance_2", "1", friendly_name="Groceries Balance"),
        entity("sensor.sequence_pods_total", "1", friendly_name="Sequence Pods total"),
        entity("sensor.sequence_pods_total_2", "1", friendly_name="Sequence Business Pods total"),
        entity("sensor.other", "1", friendly_name="Sequence Pods total"),
    ]
    assert shared_names(registry, states) == {"Groceries Balance": 2}
    assert shared_names(registry, states[2:]) == {}


def test_ports() -> None:
    port = dev_instance.free_port()
    assert dev_instance.port_is_free("127.0.0.1", port)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert not dev_instance.port_is_free("127.0.0.1", busy.getsockname()[1])
    assert dev_instance.free_port("::1") > 0


def test_wait_for() -> None:
    answers = iter([None, 0, "yes"])
    assert wait_for(lambda: next(answers), timeout=5, what="x", interval=0) == "yes"
    with pytest.raises(DevInstanceError, match="gave up waiting for nothing after 0 s"):
        wait_for(lambda: None, timeout=0, what="nothing", interval=0)
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    with pytest.raises(DevInstanceError, match="the process exited with 0"):
        wait_for(lambda: None, timeout=60, what="it", process=done)


# --- A fake Home Assistant ---------------------------------------------------------------------


@dataclass
class FakeHomeAssistant:
    """Just the HTTP and websocket behaviour ``seed`` relies on, as 2026.10 has it."""

    done: list[str] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    pending_http: bool = True
    password: str = dev_instance.DEV_PASSWORD
    flow_result: str = "create_entry"
    flow_inputs: list[Any] = field(default_factory=list)
    options_form: str = "form"
    options_result: str = "create_entry"
    options_inputs: list[Any] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)
    all_states: list[dict[str, Any]] = field(default_factory=list)
    registry: list[dict[str, Any]] = field(default_factory=list)
    promoted: int = 0
    core: str = "RUNNING"
    devices: list[dict[str, Any]] = field(default_factory=list)
    named: list[tuple[str, str]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    subentries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    subentry_flows: dict[str, dict[str, Any]] = field(default_factory=dict)
    subentry_inputs: list[Any] = field(default_factory=list)
    subentry_answer: str = "create_entry"
    """What the flow answers: ``create_entry``; ``form`` (it shows the first form again, with
    an error); ``abort`` at once; or ``no_confirm`` (the confirmation is refused)."""

    def app(self) -> web.Application:
        app = web.Application()
        routes = [
            web.get("/manifest.json", self.manifest),
            web.get("/api/onboarding", self.onboarding),
            web.post("/api/onboarding/users", self.users),
            web.post("/api/onboarding/{step}", self.step),
            web.post("/auth/token", self.token),
            web.post("/auth/login_flow", self.login_flow),
            web.post("/auth/login_flow/{flow_id}", self.login_step),
            web.get("/api/websocket", self.websocket),
            web.get("/api/config/config_entries/entry", self.list_entries),
            web.post("/api/config/config_entries/flow", self.flow),
            web.post("/api/config/config_entries/flow/{flow_id}", self.flow_step),
            web.post("/api/config/config_entries/options/flow", self.options_flow),
            web.post("/api/config/config_entries/options/flow/{flow_id}", self.options_step),
            web.post("/api/config/config_entries/subentries/flow", self.subentry_flow),
            web.post("/api/config/config_entries/subentries/flow/{flow_id}", self.subentry_step),
            web.get("/api/config", self.config),
            web.get("/api/states", self.list_states),
            web.get("/api/states/{entity_id}", self.state),
        ]
        app.add_routes(routes)
        return app

    @staticmethod
    def authorized(request: web.Request) -> None:
        if request.headers.get("Authorization") != "Bearer access-1":
            raise web.HTTPUnauthorized

    async def manifest(self, _: web.Request) -> web.Response:
        return web.json_response({"name": "Home Assistant"})

    async def onboarding(self, _: web.Request) -> web.Response:
        steps = dev_instance.ONBOARDING_STEPS
        if all(step in self.done for step in steps):
            raise web.HTTPNotFound  # Home Assistant drops the onboarding API once done
        return web.json_response([{"step": step, "done": step in self.done} for step in steps])

    async def users(self, request: web.Request) -> web.Response:
        body = await request.json()
        assert body["client_id"].endswith("/")
        assert body["username"] == dev_instance.DEV_USERNAME
        self.done.append("user")
        return web.json_response({"auth_code": "code-1"})

    async def step(self, request: web.Request) -> web.Response:
        self.authorized(request)
        step = request.match_info["step"]
        body = await request.json()
        if step == "integration":
            assert body["redirect_uri"].endswith("/?auth_callback=1")
        self.done.append(step)
        return web.json_response({})

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        assert form["grant_type"] == "authorization_code"
        if form["code"] not in {"code-1", "code-2"}:
            raise web.HTTPBadRequest
        return web.json_response({"access_token": "access-1", "token_type": "Bearer"})

    async def login_flow(self, request: web.Request) -> web.Response:
        body = await request.json()
        assert body["handler"] == ["homeassistant", None]
        return web.json_response({"flow_id": "login-1", "type": "form"})

    async def login_step(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body["password"] != self.password:
            return web.json_response({"type": "form", "errors": {"base": "invalid_auth"}})
        return web.json_response({"type": "create_entry", "result": "code-2"})

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "auth_required"})
        auth = await ws.receive_json()
        if auth.get("access_token") != "access-1":
            await ws.send_json({"type": "auth_invalid"})
            await ws.close()
            return ws
        await ws.send_json({"type": "auth_ok"})
        async for message in ws:
            if message.type is not WSMsgType.TEXT:  # pragma: no cover - the client sends text
                break
            command = json.loads(message.data)
            await ws.send_json({"type": "event", "id": 999})  # noise the client must skip
            try:
                result = self.answer(command)
            except LookupError:
                await ws.send_json({"id": command["id"], "success": False, "error": "?"})
                continue
            await ws.send_json({"id": command["id"], "success": True, "result": result})
        return ws

    def answer(self, command: dict[str, Any]) -> Any:
        """A websocket command's result; ``KeyError`` for one this fake does not know."""
        kind = command["type"]
        if kind == "http/config/promote":
            self.promoted += 1
            self.pending_http = False
            return None
        if kind == "config/device_registry/update":
            self.named.append((command["device_id"], command["name_by_user"]))
            return None
        pending = {"server_port": 1} if self.pending_http else None
        reads = {
            "http/config": lambda: {"pending": pending, "revert_at": "soon" if pending else None},
            "config/entity_registry/list": lambda: self.registry,
            "config/device_registry/list": lambda: self.devices,
            "repairs/list_issues": lambda: {"issues": self.issues},
            "config_entries/subentries/list": lambda: self.subentries.get(command["entry_id"], []),
        }
        return reads[kind]()

    async def list_entries(self, request: web.Request) -> web.Response:
        self.authorized(request)
        domain = request.query["domain"]
        return web.json_response([e for e in self.entries if e["domain"] == domain])

    async def flow(self, request: web.Request) -> web.Response:
        self.authorized(request)
        assert (await request.json())["handler"] == "sequence"
        return web.json_response({"type": "form", "flow_id": "flow-1", "step_id": "user"})

    async def flow_step(self, request: web.Request) -> web.Response:
        self.authorized(request)
        body = await request.json()
        self.flow_inputs.append(body)
        if self.flow_result != "create_entry":
            return web.json_response({"type": self.flow_result, "reason": "nope"})
        credential = body["api_token"]
        if any(entry["credential"] == credential for entry in self.entries):
            return web.json_response({"type": "abort", "reason": "already_configured"})
        self.add_entry(credential)
        entry_id = self.entries[-1]["entry_id"]
        return web.json_response({"type": "create_entry", "result": {"entry_id": entry_id}})

    def add_entry(self, credential: str) -> None:
        """An entry as the integration makes it: the title says the credential's kind; a hub."""
        title = "Sequence (API key)" if credential.startswith("sk_") else "Sequence"
        entry_id = f"entry-{len(self.entries) + 1}"
        self.devices += [
            {"id": f"hub-{entry_id}", "config_entry_id": entry_id, "model": "Sequence account"},
            {"id": f"pod-{entry_id}", "config_entry_id": entry_id, "model": "Pod"},
        ]
        self.entries.append(
            {
                "domain": "sequence",
                "entry_id": entry_id,
                "title": title,
                "state": "loaded",
                "credential": credential,  # not in Home Assistant's answer; for the fake only
            }
        )

    async def options_flow(self, request: web.Request) -> web.Response:
        self.authorized(request)
        handler = (await request.json())["handler"]
        assert handler in {entry["entry_id"] for entry in self.entries}
        if self.options_form != "form":
            return web.json_response({"type": "abort", "reason": "not_loaded"})
        return web.json_response(OPTIONS_FORM)

    async def options_step(self, request: web.Request) -> web.Response:
        self.authorized(request)
        assert request.match_info["flow_id"] == OPTIONS_FORM["flow_id"]
        body = await request.json()
        self.options_inputs.append(body)
        if self.options_result != "create_entry":
            errors = {"activity": "missing_read_transfers"}
            return web.json_response({**OPTIONS_FORM, "errors": errors})
        return web.json_response({"type": "create_entry", "data": body})

    async def subentry_flow(self, request: web.Request) -> web.Response:
        self.authorized(request)
        entry_id, subentry_type = (await request.json())["handler"]
        if self.subentry_answer == "abort":
            return web.json_response({"type": "abort", "reason": "entry_not_loaded"})
        flow_id = f"subflow-{len(self.subentry_flows) + 1}"
        self.subentry_flows[flow_id] = {"entry_id": entry_id, "type": subentry_type}
        step = "user" if subentry_type == "transfer_route" else "api_key"
        return web.json_response({"type": "form", "flow_id": flow_id, "step_id": step})

    async def subentry_step(self, request: web.Request) -> web.Response:
        self.authorized(request)
        flow = self.subentry_flows[request.match_info["flow_id"]]
        body = await request.json()
        self.subentry_inputs.append(body)
        if "confirm" not in body:
            if self.subentry_answer == "form":
                return web.json_response({"type": "form", "step_id": "api_key", "errors": {}})
            flow["input"] = body
            return web.json_response({"type": "form", "step_id": "confirm"})
        if self.subentry_answer == "no_confirm":
            return web.json_response({"type": "form", "errors": {"confirm": "confirm_required"}})
        title = body_title(flow["type"], flow["input"])
        unique_id = flow["input"].get("rule_id") or (
            f"{flow['input']['source']}:{flow['input']['destination']}"
            if flow["type"] == "transfer_route"
            else flow["input"]["trigger_url"].split("/")[-2]
        )
        self.subentries.setdefault(flow["entry_id"], []).append(
            {"subentry_type": flow["type"], "title": title, "unique_id": unique_id}
        )
        self.devices.append(
            {"config_entry_id": flow["entry_id"], "model_id": flow["type"], "name": title}
        )
        return web.json_response({"type": "create_entry", "title": title})

    async def config(self, request: web.Request) -> web.Response:
        self.authorized(request)
        return web.json_response({"state": self.core, "version": "2026.10.4"})

    async def list_states(self, request: web.Request) -> web.Response:
        self.authorized(request)
        return web.json_response(self.all_states)

    async def state(self, request: web.Request) -> web.Response:
        self.authorized(request)
        entity_id = request.match_info["entity_id"]
        if entity_id == "sensor.teapot":
            raise web.HTTPServiceUnavailable
        if entity_id not in self.states:
            raise web.HTTPNotFound
        return web.json_response({"entity_id": entity_id, "state": self.states[entity_id]})


def body_title(subentry_type: str, body: dict[str, Any]) -> str:
    """The title the integration gives a rule (its name) or a route (its accounts)."""
    if subentry_type == "transfer_route":
        names = {platform_id_of("4410023"): "Emergency Fund", platform_id_of("4410024"): "Vacation"}
        return f"{names[body['source']]} → {names[body['destination']]}"
    return str(body["name"])


@contextlib.contextmanager
def serving(app: web.Application) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 from a thread (the code under test is synchronous)."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def fake() -> FakeHomeAssistant:
    return FakeHomeAssistant()


@pytest.fixture
def url(fake: FakeHomeAssistant) -> Iterator[str]:
    with serving(fake.app()) as served:
        yield served


OTHER_TOKEN = "other"


TOKEN_INPUT = {"api_token": "dev-business-token", "advanced": {"base_url": SIMULATOR}}
KEY_INPUT = {"api_token": "sk_test_dev_key", "advanced": {"base_url": SIMULATOR}}


def test_seed_a_fresh_instance_then_again(fake: FakeHomeAssistant, url: str) -> None:
    result = seed(HomeAssistantApi(url), SIMULATOR)
    assert result.onboarded_steps == ["user", "core_config", "analytics", "integration"]
    assert result.created == {"api_key": "entry-1", "access_token": "entry-2"}
    assert fake.promoted == 1
    assert fake.flow_inputs == [KEY_INPUT, TOKEN_INPUT]  # the key first: no _2 on its hub's ids
    assert fake.options_inputs == [options_payload(OPTIONS_FORM, {"activity": True})]
    assert [entry["title"] for entry in fake.entries] == ["Sequence (API key)", "Sequence"]
    assert fake.named == [("hub-entry-2", "Sequence Business")]  # the token's hub only
    assert result.subentries == ["Round-ups", "Emergency Fund → Vacation", "Tax set-aside"]
    assert fake.subentry_inputs == [
        dict(demo_subentries(KIND_API_KEY, SIMULATOR)[0].form),
        {"confirm": True},
        dict(demo_subentries(KIND_API_KEY, SIMULATOR)[1].form),
        {"confirm": True},
        dict(demo_subentries(KIND_ACCESS_TOKEN, SIMULATOR)[0].form),
        {"confirm": True},
    ]
    assert {key: len(items) for key, items in fake.subentries.items()} == {
        "entry-1": 2,
        "entry-2": 1,
    }

    again = seed(HomeAssistantApi(url), SIMULATOR)  # a second start: log in, change nothing
    assert again.onboarded_steps == []
    assert again.created == {}
    assert again.subentries == []
    assert len(fake.subentry_inputs) == 6
    assert fake.promoted == 1
    assert fake.flow_inputs[2:] == [KEY_INPUT, TOKEN_INPUT]  # both flows said already configured
    assert len(fake.entries) == 2
    assert len(fake.options_inputs) == 1  # an existing entry's options are left alone
    assert len(fake.named) == 1  # and so is its hub's name


def test_seed_adds_what_is_missing(fake: FakeHomeAssistant, url: str) -> None:
    fake.done = list(dev_instance.ONBOARDING_STEPS)
    fake.pending_http = False
    fake.add_entry("dev-business-token")
    fake.subentries["entry-1"] = [{"subentry_type": "rule", "unique_id": "ru_20001"}]
    result = seed(HomeAssistantApi(url), SIMULATOR)
    assert result.created == {"api_key": "entry-2"}
    assert len(fake.options_inputs) == 1
    assert fake.named == []
    # The business's entry existed with its rule: only the new entry's rule and route.
    assert result.subentries == ["Round-ups", "Emergency Fund → Vacation"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("abort", "flow for Round-ups did not show its form"),
        ("form", "flow for Round-ups did not ask for the confirmation"),
        ("no_confirm", "flow for Round-ups did not add it"),
    ],
)
def test_seed_when_a_subentry_flow_fails(
    fake: FakeHomeAssistant, url: str, answer: str, message: str
) -> None:
    fake.subentry_answer = answer
    with pytest.raises(DevInstanceError, match=message):
        seed(HomeAssistantApi(url), SIMULATOR)


def test_seed_needs_the_entries_it_adds_rules_to(fake: FakeHomeAssistant, url: str) -> None:
    fake.done = list(dev_instance.ONBOARDING_STEPS)
    fake.pending_http = False
    fake.add_entry("sk_test_dev_key")
    fake.add_entry("dev-business-token")
    fake.entries[1]["title"] = "Renamed"
    with pytest.raises(DevInstanceError, match="no Sequence entry is called 'Sequence'"):
        seed(HomeAssistantApi(url), SIMULATOR)


def test_naming_a_hub_that_is_not_there(fake: FakeHomeAssistant, url: str) -> None:
    api = HomeAssistantApi(url)
    seed(api, SIMULATOR)
    with pytest.raises(DevInstanceError, match="entry-9 has 0 hub devices"):
        api.name_hub("entry-9", "X")


def test_seed_finishes_an_interrupted_onboarding(fake: FakeHomeAssistant, url: str) -> None:
    fake.done = ["user", "core_config"]
    fake.pending_http = False
    result = seed(HomeAssistantApi(url), SIMULATOR, token=OTHER_TOKEN, api_key="sk_other")
    assert result.onboarded_steps == ["analytics", "integration"]
    assert fake.done == ["user", "core_config", "analytics", "integration"]
    assert fake.promoted == 0
    assert [body["api_token"] for body in fake.flow_inputs] == ["sk_other", OTHER_TOKEN]


def test_seed_when_the_options_are_not_saved(fake: FakeHomeAssistant, url: str) -> None:
    fake.options_result = "form"
    with pytest.raises(DevInstanceError, match="did not save the options"):
        seed(HomeAssistantApi(url), SIMULATOR)
    fake.options_form = "abort"
    api = HomeAssistantApi(url)
    api.login(dev_instance.DEV_USERNAME, dev_instance.DEV_PASSWORD)
    with pytest.raises(DevInstanceError, match="did not show its form"):
        api.set_options("entry-1", {"activity": True})


def test_seed_with_a_changed_password(fake: FakeHomeAssistant, url: str) -> None:
    fake.done = list(dev_instance.ONBOARDING_STEPS)
    fake.password = "changed"
    with pytest.raises(DevInstanceError, match="logging in as 'dev' failed"):
        seed(HomeAssistantApi(url), SIMULATOR)


def test_seed_when_the_flow_does_not_create_an_entry(fake: FakeHomeAssistant, url: str) -> None:
    fake.flow_result = "abort"
    with pytest.raises(DevInstanceError, match="did not create an entry"):
        seed(HomeAssistantApi(url), SIMULATOR)


def test_api_errors(fake: FakeHomeAssistant, url: str) -> None:
    api = HomeAssistantApi(url)
    assert api.is_up()
    with pytest.raises(
        DevInstanceError, match=r"GET /api/config/config_entries/entry\?domain=x answered HTTP 401"
    ):
        api.config_entries("x")
    with pytest.raises(DevInstanceError, match="refused the access token"):
        api.websocket({"type": "http/config"})
    seed(api, SIMULATOR)
    with pytest.raises(DevInstanceError, match="websocket nope failed"):
        api.websocket({"type": "nope"})
    assert api.state("sensor.missing") is None
    with pytest.raises(DevInstanceError, match="answered HTTP 503"):
        api.state("sensor.teapot")
    assert api.request("GET", "/api/nothing-here").status == 404
    with refusing_port() as port:
        assert not HomeAssistantApi(f"http://127.0.0.1:{port}").is_up()


async def not_json(_: web.Request) -> web.Response:
    return web.Response(text="<html>oops</html>", status=500)


def test_onboarding_status_when_it_is_not_what_home_assistant_says() -> None:
    app = web.Application()
    app.router.add_get("/api/onboarding", not_json)
    app.router.add_post("/api/config/config_entries/flow", not_json)
    with serving(app) as served:
        api = HomeAssistantApi(served)
        with pytest.raises(DevInstanceError, match="answered HTTP 500"):
            api.onboarding_status()
        answer = api.request("POST", "/api/config/config_entries/flow", json_body={})
        assert answer.body == "<html>oops</html>"


def test_add_entry_refuses_a_flow_without_form(url: str) -> None:
    api = HomeAssistantApi(url)
    seed(api, SIMULATOR)
    with serving(_abort_app()) as other:
        other_api = HomeAssistantApi(other)
        other_api.access_token = api.access_token
        with pytest.raises(DevInstanceError, match="did not show its form"):
            other_api.add_sequence_entry(OTHER_TOKEN, SIMULATOR)


def _abort_app() -> web.Application:
    async def abort(_: web.Request) -> web.Response:
        return web.json_response({"type": "abort", "reason": "single_instance_allowed"})

    app = web.Application()
    app.router.add_post("/api/config/config_entries/flow", abort)
    return app


def test_wait_until_loaded(fake: FakeHomeAssistant, url: str) -> None:
    api = HomeAssistantApi(url)
    seed(api, SIMULATOR)
    fake.states["sensor.sequence_groceries_balance"] = "412.06"
    assert dev_instance.wait_until_loaded(api, "sensor.sequence_groceries_balance") == "412.06"
    fake.states["sensor.sequence_groceries_balance"] = "unavailable"
    with pytest.raises(DevInstanceError, match="loaded entries and a number"):
        dev_instance.wait_until_loaded(api, "sensor.sequence_groceries_balance", timeout=0)
    fake.states["sensor.sequence_groceries_balance"] = "412.06"
    fake.entries[1]["state"] = "setup_retry"  # the other entry counts too
    with pytest.raises(DevInstanceError, match="loaded entries and a number"):
        dev_instance.wait_until_loaded(api, "sensor.sequence_groceries_balance", timeout=0)


def test_wait_until_seeded(fake: FakeHomeAssistant, url: str) -> None:
    api = HomeAssistantApi(url)
    seed(api, SIMULATOR)
    ids = {KEY_ID: "entry-1", TOKEN_ID: "entry-2"}
    fake.registry = [
        {**item, "config_entry_id": ids.get(item["config_entry_id"], item["config_entry_id"])}
        for item in REGISTRY
    ]
    fake.all_states = seeded_states()
    assert dev_instance.wait_until_seeded(api, interval=0) == {
        "sensor.sequence_groceries_balance": "412.06",
        "sensor.sequence_payroll_reserve_balance": "6425.00",
        "sensor.sequence_net_worth": "34515.07",
    }
    fake.all_states = seeded_states("unknown")
    with pytest.raises(
        DevInstanceError,
        match=r"waiting for both Sequence entries after 0 s: sensor.sequence_net_worth is unknown$",
    ):
        dev_instance.wait_until_seeded(api, timeout=0)
    fake.all_states = seeded_states()
    fake.devices = [device for device in fake.devices if device.get("name") != "Tax set-aside"]
    with pytest.raises(
        DevInstanceError, match=r"after 0 s: Sequence has no device for its rule Tax set-aside$"
    ):
        dev_instance.wait_until_seeded(api, timeout=0)
    twin = entity("sensor.sequence_net_worth", "1", friendly_name="Groceries Balance")
    fake.all_states = [*seeded_states()[:3], twin, *seeded_states()[4:]]
    fake.core = "STARTING"
    with pytest.raises(
        DevInstanceError,
        match=r"2 Sequence entities are called 'Groceries Balance'; Home Assistant is STARTING",
    ):
        dev_instance.wait_until_seeded(api, timeout=0)


def test_wait_until_started(fake: FakeHomeAssistant, url: str) -> None:
    api = HomeAssistantApi(url)
    seed(api, SIMULATOR)
    dev_instance.wait_until_started(api, timeout=0)
    fake.entries[0]["state"] = "setup_in_progress"
    with pytest.raises(DevInstanceError, match="Home Assistant to start"):
        dev_instance.wait_until_started(api, timeout=0)
    fake.entries[0]["state"] = "setup_retry"  # set up as far as it goes: the UI says why
    dev_instance.wait_until_started(api, timeout=0)
    fake.core = "STARTING"
    with pytest.raises(DevInstanceError, match="Home Assistant to start"):
        dev_instance.wait_until_started(api, timeout=0)


def test_repair_issues(fake: FakeHomeAssistant, url: str) -> None:
    api = HomeAssistantApi(url)
    seed(api, SIMULATOR)
    fake.issues = [{"domain": "http", "issue_id": "deprecated_yaml"}]
    assert api.repair_issues() == fake.issues


# --- Processes ---------------------------------------------------------------------------------


def test_service_stop_escalates_to_kill() -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(60)"
            ),
        ],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert stubborn.stdout is not None
    stubborn.stdout.readline()
    service = Service("stubborn", stubborn, "")
    service.stop(timeout=0.5)
    assert stubborn.returncode == -9
    service.stop()  # stopping a stopped service does nothing
    stubborn.stdout.close()


def test_simulator_starts_and_stops(tmp_path: Path) -> None:
    log = tmp_path / "simulator.log"
    simulator = dev_instance.start_simulator(token=OTHER_TOKEN, log=log)
    with dev_instance.running(simulator):
        assert simulator.url.startswith("http://127.0.0.1:")
        with contextlib.closing(
            socket.create_connection(("127.0.0.1", int(simulator.url.rsplit(":", 1)[1])))
        ):
            pass
    assert simulator.process.returncode == 0
    assert "Sequence simulator stopped" in log.read_text()
    assert simulator.reader is not None
    assert not simulator.reader.is_alive()  # no thread outlives the service


def test_stopping_waits_for_the_output_reader(tmp_path: Path) -> None:
    """The reader thread ends with the output, which may outlive the process: stop waits for it.

    Here a child that ignores SIGTERM keeps the output open a while after the process is gone.
    """
    fake = tmp_path / "python"
    # Both traps are set before the listening line, after which stop() may come at once; the
    # child is started while SIGTERM is ignored, so it ignores it too.
    fake.write_text(
        "#!/bin/sh\n"
        "trap '' TERM\n"
        "( sleep 1 ) &\n"
        "trap 'exit 0' TERM\n"
        "echo 'Sequence simulator listening on http://127.0.0.1:1 (scenario: ok)'\n"
        "while :; do sleep 0.05; done\n"
    )
    fake.chmod(0o755)
    simulator = dev_instance.start_simulator(python=str(fake))
    assert simulator.url == "http://127.0.0.1:1"
    simulator.stop()
    assert simulator.process.returncode == 0
    assert simulator.reader is not None
    assert not simulator.reader.is_alive()


def test_simulator_that_does_not_start() -> None:
    with pytest.raises(DevInstanceError, match="the simulator did not start"):
        dev_instance.start_simulator(python="/bin/false", timeout=30)


def test_home_assistant_that_does_not_start(tmp_path: Path) -> None:
    with pytest.raises(DevInstanceError, match="the process exited"):
        dev_instance.start_home_assistant(
            tmp_path, dev_instance.free_port(), hass=Path("/bin/false"), log=tmp_path / "log"
        )


# --- Command line ------------------------------------------------------------------------------


def test_cli_prepare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config"
    assert (
        dev_instance.main(["prepare", "--config", str(config), str(dev_instance.free_port())]) == 0
    )
    assert (config / "custom_components" / "sequence").is_symlink()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        assert dev_instance.main(["prepare", "--config", str(config), port]) == 1
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().err


def test_cli_wait(url: str) -> None:
    assert dev_instance.main(["wait", f"{url}/manifest.json"]) == 0
    assert dev_instance.main(["wait", f"{url}/not-there", "--timeout", "5"]) == 0  # 404 answers
    with refusing_port() as port:
        assert dev_instance.main(["wait", f"http://127.0.0.1:{port}/", "--timeout", "0"]) == 1


def test_cli_seed(
    fake: FakeHomeAssistant, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["seed", "--config", str(tmp_path), "--url", url, "--simulator-url", SIMULATOR]
    assert dev_instance.main(args) == 0
    out = capsys.readouterr().out
    assert "onboarded (user, core_config, analytics, integration)" in out
    assert (
        "Sequence set up with the household's API key (activity on) against the simulator "
        f"at {SIMULATOR}\n"
        "dev instance: Sequence set up with the business's access token against the simulator"
    ) in out

    assert dev_instance.main(args) == 0  # storage says nothing, but the API does: no change
    assert capsys.readouterr().out == ""
    assert len(fake.entries) == 2

    write_storage(tmp_path, "onboarding", ALL_DONE)
    write_storage(tmp_path, "core.config_entries", {"entries": [TOKEN_ENTRY, KEY_ENTRY]})
    assert dev_instance.main(args) == 0
    assert "already onboarded with both Sequence entries" in capsys.readouterr().out
    assert len(fake.flow_inputs) == 4  # no flow

    fake.core = "STARTING"  # it waits until Home Assistant has started (the banner comes last)
    assert dev_instance.main([*args, "--timeout", "0"]) == 1
    assert "gave up waiting for Home Assistant to start" in capsys.readouterr().err

    earlier = {**TOKEN_ENTRY, "title": "Sequence", "unique_id": "4410007"}
    write_storage(tmp_path, "core.config_entries", {"entries": [earlier, KEY_ENTRY]})
    fake.core = "RUNNING"
    fake.password = "changed"  # then it cannot wait for the start: it says what it can
    assert dev_instance.main(args) == 0
    captured = capsys.readouterr()
    assert "already onboarded" in captured.out
    assert "Sequence in" in captured.err
    assert "is the earlier demo" in captured.err

    assert dev_instance.main([*args[:2], str(tmp_path / "other"), *args[3:]]) == 1
    assert "logging in as 'dev' failed" in capsys.readouterr().err


@pytest.fixture
def fake_hass(tmp_path: Path) -> Path:
    """A ``hass`` that just waits to be stopped; the fake Home Assistant answers for it."""
    hass = tmp_path / "hass"
    hass.write_text("#!/bin/sh\nexec sleep 60\n")
    hass.chmod(0o755)
    return hass


def test_first_start(fake: FakeHomeAssistant, url: str, tmp_path: Path, fake_hass: Path) -> None:
    """Onboarding (HTTP confirmed) at the first start; then no YAML HTTP; never again."""
    config = tmp_path / "config"
    port = int(url.rsplit(":", 1)[1])
    prepare_config_dir(config, port=port)
    log = tmp_path / "first.log"
    done = dev_instance.first_start(config, port, hass=fake_hass, log=log)
    assert done == ["user", "core_config", "analytics", "integration"]  # the fake had none done
    assert fake.promoted == 1
    assert not (config / dev_instance.FIRST_START_HTTP).exists()
    assert fake.entries == []  # the demo's entries come at the next start
    assert dev_instance.first_start(config, port, hass=Path("/bin/false"), log=log) == []


def test_cli_first_start(
    fake: FakeHomeAssistant,
    url: str,
    tmp_path: Path,
    fake_hass: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "config"
    port = url.rsplit(":", 1)[1]
    prepare_config_dir(config, port=int(port))
    monkeypatch.setattr(sys, "executable", str(fake_hass.with_name("python")))
    args = ["first-start", "--config", str(config), "--port", port, "--log", str(tmp_path / "l")]
    assert dev_instance.main(args) == 0
    assert "first start of" in capsys.readouterr().out
    assert dev_instance.main(args) == 0  # done already: nothing to say
    assert capsys.readouterr().out == ""
