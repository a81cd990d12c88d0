"""The documentation cannot drift from the code: commands, links, YAML, entities, options, events.

README.md makes promises a user builds on: entity ids, option names, event names and data,
commands, working YAML. Each test here reads one of those lists out of the Markdown and compares
it with the code, statically where the code states it (descriptions, strings.json, const.py, the
dict a ``hass.bus.async_fire`` call sends) and by setting the integration up where Home
Assistant decides it (entity ids, the fields a flow shows, what an automation does). Entity ids
the docs show must be ones the demo creates (``script/develop``'s entries, set up here against
the simulator); words of Home Assistant's UI must be the pinned frontend's, and the labels of
the rule and route forms strings.json's; the examples that move money run against a fake
Sequence; the architecture
notes and the API boundary may name only modules, names and tests the code has. A change on
either side that is not made on the other fails here.
"""

import ast
from collections.abc import AsyncIterator, Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import takewhile
import json
from pathlib import Path
import re
import tomllib
from typing import Any
from unittest.mock import AsyncMock, MagicMock

from freezegun.api import FrozenDateTimeFactory
import hass_frontend
from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.components.script.config import (
    async_validate_config_item as async_validate_script,
)
from homeassistant.config_entries import SETUP_RETRY_MAX_WAIT, SOURCE_USER
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.data_entry_flow import FlowResult, FlowResultType, section
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, slugify
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)
import yaml

from custom_components.sequence import const
from custom_components.sequence.api import (
    AccountKind,
    SequenceOutcomeUnknownError,
    TransferDirection,
    parse_accounts_payload,
    remote_rules,
)
from custom_components.sequence.api.models import ExternalTransaction
from custom_components.sequence.api.platform import ROUTE_PERMISSIONS
from custom_components.sequence.audit import AuditRecord
from custom_components.sequence.backoff import RETRY_STEPS, FailureBackoff
from custom_components.sequence.binary_sensor import (
    API_PROBLEM_DESCRIPTIONS,
    AWAITING_APPROVAL_DESCRIPTION,
)
from custom_components.sequence.button import REFRESH_DESCRIPTION
from custom_components.sequence.calendar import PAYMENTS_DESCRIPTION
from custom_components.sequence.const import CONF_BALANCE_EVENTS, DOMAIN
from custom_components.sequence.errors import ERROR_KINDS
from custom_components.sequence.event import TRANSFER_EVENT_DESCRIPTION
from custom_components.sequence.money_entities import ROUTE_SENSORS, RULE_ENABLED, RULE_SENSORS
from custom_components.sequence.sensor import (
    ACTIVITY_DESCRIPTIONS,
    BALANCE_DESCRIPTIONS,
    BALANCE_STATUS_DESCRIPTION,
    DETAIL_DESCRIPTIONS,
    LAST_UPDATE_DESCRIPTION,
    LIABILITY_BALANCE_DESCRIPTION,
    PLATFORM_TOTAL_DESCRIPTIONS,
    TOTAL_DESCRIPTIONS,
)
from tools import dev_instance
from tools.harness import serve_simulator
from tools.simulator.runtime import Simulator
from tools.simulator.state import Bank

from .conftest import (
    FakeSequence,
    MoneySetup,
    api_key_entry_with,
    call_action,
    load_payload,
    load_transfers,
    remote_rule_subentry,
    route_subentry,
    rule_subentry,
    setup_money,
    token_entry_with,
)

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "sequence"
README = (ROOT / "README.md").read_text(encoding="utf-8")
STRINGS = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
DOCS = sorted(
    {
        ROOT / "README.md",
        ROOT / "CONTRIBUTING.md",
        ROOT / "SECURITY.md",
        ROOT / "CHANGELOG.md",
        ROOT / "tools" / "simulator" / "README.md",
        *(ROOT / "docs").glob("*.md"),
    }
)
ENTITY_ID = re.compile(r"^(?:sensor|binary_sensor|button|calendar|event)\.sequence_[a-z0-9_]+$")
NOTIFY = ("persistent_notification", "create")
"""The action every README automation uses: it exists on every Home Assistant."""
MONEY_ACTIONS = {f"{DOMAIN}.trigger_rule", f"{DOMAIN}.transfer"}
"""The integration's actions a README automation may use besides ``NOTIFY``."""
GROCERIES_ID = "0b1e8c6a-1111-4c1b-9f7e-000000000001"  # fixtures/platform_accounts.json
CHECKING_ID = "0b1e8c6a-1111-4c1b-9f7e-000000000004"
HUB_DEVICE_NAME = "Sequence"
"""The name of each entry's hub device (``SequenceCoordinator.async_register_hub``)."""


# --- Reading the Markdown -----------------------------------------------------------------------


def section_of(markdown: str, heading: str) -> str:
    """The text under ``heading`` (e.g. ``"## Examples"``) up to the next heading of its level."""
    level = heading.split(" ", 1)[0]
    lines = markdown.splitlines()
    start = lines.index(heading) + 1
    stop = next(
        (
            index
            for index in range(start, len(lines))
            if re.match(rf"^#{{1,{len(level)}}} ", lines[index])
        ),
        len(lines),
    )
    return "\n".join(lines[start:stop])


def table_of(text: str) -> list[list[str]]:
    """The body rows of the first Markdown table in ``text``, as lists of cell texts."""
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("|"))
    rows = list(takewhile(lambda line: line.startswith("|"), lines[start:]))
    assert len(rows) > 2, "no table found"
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def bold(text: str) -> list[str]:
    return re.findall(r"\*\*([^*]+)\*\*", text)


def yaml_blocks(markdown: str) -> list[Any]:
    return [
        yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", markdown, re.DOTALL)
    ]


def automations() -> list[dict[str, Any]]:
    return [block for block in yaml_blocks(README) if "triggers" in block or "trigger" in block]


def automation(alias: str) -> dict[str, Any]:
    return next(block for block in automations() if block["alias"] == alias)


def cards() -> list[dict[str, Any]]:
    return [block for block in yaml_blocks(README) if "type" in block]


def walk(node: object) -> Iterator[dict[str, Any]]:
    """Every mapping in a parsed YAML tree."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


# --- What the code says -------------------------------------------------------------------------


def entity_name(platform: str, translation_key: str | None) -> str:
    assert translation_key is not None
    name: str = STRINGS["entity"][platform][translation_key]["name"]
    return name


HUB_ENTITIES = {
    f"{platform}.{slugify(f'{HUB_DEVICE_NAME} {entity_name(platform, d.translation_key)}')}": (
        entity_name(platform, d.translation_key),
        d.translation_key,
    )
    for platform, descriptions in (
        (
            "binary_sensor",
            (*API_PROBLEM_DESCRIPTIONS.values(), AWAITING_APPROVAL_DESCRIPTION),
        ),
        ("button", (REFRESH_DESCRIPTION,)),
        ("calendar", (PAYMENTS_DESCRIPTION,)),
        ("event", (TRANSFER_EVENT_DESCRIPTION,)),
        (
            "sensor",
            (
                *TOTAL_DESCRIPTIONS,
                *PLATFORM_TOTAL_DESCRIPTIONS,
                LAST_UPDATE_DESCRIPTION,
                *ACTIVITY_DESCRIPTIONS,
            ),
        ),
    )
    for d in descriptions
}
"""Hub entity id -> (name, translation key); Home Assistant derives the id from both names."""
ACCOUNT_DESCRIPTIONS = (
    *BALANCE_DESCRIPTIONS.values(),
    LIABILITY_BALANCE_DESCRIPTION,
    BALANCE_STATUS_DESCRIPTION,
    *DETAIL_DESCRIPTIONS,
)
"""Account entities are ``sensor.sequence_<account>_<description key>`` (entity.py)."""
SUBENTRY_DESCRIPTIONS = (
    *(("sensor", d) for d in (*RULE_SENSORS, *ROUTE_SENSORS)),
    ("binary_sensor", RULE_ENABLED),
)
"""Rule and route entities are ``<platform>.sequence_<subentry title>_<key>`` (entity.py)."""
RULE_TITLE = "Round-ups"
"""The rule the README's example ids name: the demo's API-key rule (``demo_subentries``)."""


def code_entity(entity_id: str) -> list[tuple[str, str | None]]:
    """The (name, translation key) pairs an entity id can belong to, by the code's id scheme."""
    if entity_id in HUB_ENTITIES:
        return [HUB_ENTITIES[entity_id]]
    subentry_keys = [
        (platform, d)
        for platform, d in SUBENTRY_DESCRIPTIONS
        if entity_id.startswith(f"{platform}.sequence_") and entity_id.endswith(f"_{d.key}")
    ]
    if subentry_keys:
        platform, description = max(subentry_keys, key=lambda pair: len(pair[1].key))
        return [(entity_name(platform, description.translation_key), description.translation_key)]
    keys = [d.key for d in ACCOUNT_DESCRIPTIONS if entity_id.endswith(f"_{d.key}")]
    if not keys or not entity_id.startswith("sensor.sequence_"):
        return []
    key = max(keys, key=len)  # "_available_balance" also ends with "_balance"
    return [
        (entity_name("sensor", d.translation_key), d.translation_key)
        for d in ACCOUNT_DESCRIPTIONS
        if d.key == key
    ]


RECORD_EVENTS = {const.EVENT_MONEY_ACTION: {field.name for field in fields(AuditRecord)}}
"""Events whose data is a record rather than a dict literal: the audit trail's event is an
``AuditRecord.as_dict()``, so its keys are the record's fields."""


def dict_builders(trees: list[ast.Module]) -> dict[str, set[str]]:
    """Functions of the integration that return a dict literal: name -> its keys."""
    return {
        node.name: {key.value for key in returned.keys if isinstance(key, ast.Constant)}
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for statement in node.body
        if isinstance(statement, ast.Return) and isinstance(returned := statement.value, ast.Dict)
    }


def fired_events() -> dict[str, set[str]]:
    """Event type -> the keys of the data dict, for every ``hass.bus.async_fire`` in the code.

    The data is a dict literal, a call of a function returning one, or an audit record.
    """
    names = {name: value for name, value in vars(const).items() if name.startswith("EVENT_")}
    fired: dict[str, set[str]] = {}
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in INTEGRATION.rglob("*.py")]
    builders = dict_builders(trees)
    for path, tree in zip(INTEGRATION.rglob("*.py"), trees, strict=True):
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "async_fire"
            ):
                continue
            event, data = node.args[:2]
            events = [
                names[n.id] for n in ast.walk(event) if isinstance(n, ast.Name) and n.id in names
            ]
            for name in events:
                if isinstance(data, ast.Dict):
                    fired[name] = {key.value for key in data.keys if isinstance(key, ast.Constant)}
                elif (
                    isinstance(data, ast.Call)
                    and isinstance(data.func, ast.Name)
                    and data.func.id in builders
                ):
                    fired[name] = builders[data.func.id]
                else:
                    assert name in RECORD_EVENTS, f"{path.name}: fire events with a dict literal"
                    fired[name] = RECORD_EVENTS[name]
    return fired


# --- Commands and links -------------------------------------------------------------------------


def test_documented_commands_exist() -> None:
    """Every ``script/...`` and ``python -m tools....`` the docs mention is there to run."""
    found = 0
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for script in re.findall(r"\bscript/[a-z][\w-]*", text):
            path = ROOT / script
            assert path.is_file(), f"{doc.name} mentions {script}, which does not exist"
            assert path.stat().st_mode & 0o111, f"{script} is not executable"
            found += 1
        for module in re.findall(r"python -m (tools(?:\.\w+)+)", text):
            path = ROOT.joinpath(*module.split("."))
            runnable = path.with_suffix(".py").is_file() or (path / "__main__.py").is_file()
            assert runnable, f"{doc.name} mentions python -m {module}, which cannot run"
            found += 1
    assert found


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors: lower case, punctuation dropped, spaces to hyphens."""
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", markdown, re.MULTILINE)
    }


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_local_links_resolve(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (doc.parent / path).resolve() if path else doc
        assert linked.exists(), f"{doc.name} links to {target}, which does not exist"
        if anchor and linked.suffix == ".md":
            assert anchor in heading_anchors(linked.read_text(encoding="utf-8")), target


def test_readme_images_are_small() -> None:
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert images, "the README shows the integration"
    for image in images:
        assert (ROOT / image).stat().st_size < 150_000, image


# --- YAML examples ------------------------------------------------------------------------------


def scripts() -> list[dict[str, Any]]:
    return [block for block in yaml_blocks(README) if "sequence" in block]


def test_every_yaml_block_parses() -> None:
    blocks = yaml_blocks(README)
    assert len(automations()) >= 3
    assert cards()
    assert all(isinstance(block, dict) for block in blocks)
    assert len(blocks) == len(automations()) + len(cards()) + len(scripts())


@pytest.mark.parametrize("example", automations(), ids=lambda block: block["alias"])
def test_automations_use_the_current_syntax(example: dict[str, Any]) -> None:
    """``triggers:``/``trigger:`` and ``actions:``/``action:``, never the pre-2024.10 keys."""
    assert {"alias", "triggers", "actions"} <= example.keys()
    assert not {"trigger", "action", "condition"} & example.keys()
    for trigger in example["triggers"]:
        assert "trigger" in trigger
        assert "platform" not in trigger
    for mapping in walk(example["actions"]):
        assert "service" not in mapping
    for action in example["actions"]:
        assert action.keys() & {"action", "variables"}
        if "action" in action:
            assert tuple(action["action"].split(".")) == NOTIFY or action["action"] in MONEY_ACTIONS


@pytest.mark.parametrize("example", automations(), ids=lambda block: block["alias"])
async def test_automations_pass_home_assistants_validation(
    hass: HomeAssistant, example: dict[str, Any]
) -> None:
    """The same validation the automation editor runs (raises on any error)."""
    assert await async_validate_config_item(hass, example["alias"], example)


GAUGE_KEYS = {
    "type",
    "entity",
    "name",
    "attribute",
    "unit",
    "min",
    "max",
    "severity",
    "theme",
    "needle",
    "segments",
    "tap_action",
    "hold_action",
    "double_tap_action",
}
"""The gauge card's config (Home Assistant frontend 2026.11, ``hui-gauge-card-editor``)."""


@pytest.mark.parametrize("card", cards(), ids=lambda card: card["entity"])
def test_cards_are_gauges_with_known_options(card: dict[str, Any]) -> None:
    assert card["type"] == "gauge"
    assert card.keys() <= GAUGE_KEYS, card.keys() - GAUGE_KEYS
    assert card["severity"].keys() <= {"green", "yellow", "red"}
    assert card["min"] < card["max"]


MENTIONED_ID = re.compile(r"\b(?:sensor|binary_sensor|button|calendar|event)\.sequence_[a-z0-9_]+")
ENTITY_DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
"""Where entity ids are promises: the README and the docs (not the changelog's history)."""


def test_every_entity_id_in_the_readme_follows_the_code() -> None:
    mentioned = set(MENTIONED_ID.findall(README))
    assert mentioned
    for entity_id in mentioned:
        # Home Assistant appends _2, _3, ... to the second entry's clashing ids.
        assert code_entity(re.sub(r"_\d+$", "", entity_id)), (
            f"no entity of the code is named like {entity_id}"
        )


# --- Entities -----------------------------------------------------------------------------------


def entity_rows() -> list[tuple[list[str], list[str], str]]:
    """(names, entity ids, credential) per row of the README's entity table."""
    return [
        ([*bold(row[0])], [span for span in code_spans(row[1]) if ENTITY_ID.match(span)], row[3])
        for row in table_of(section_of(README, "## What you get"))
    ]


def test_entity_table_names_and_ids_follow_the_code() -> None:
    """Each row's names are strings.json names, and its ids are how the code names them."""
    documented: set[str] = set()
    for names, entity_ids, _credential in entity_rows():
        assert names, "every row names its entities in bold"
        assert entity_ids, f"{names}: give an example entity id"
        matched = set()
        for entity_id in entity_ids:
            owners = {name for name, _key in code_entity(entity_id)}
            assert owners & set(names), f"{entity_id} is not a {names} entity in the code"
            matched |= owners
        assert set(names) <= matched, f"{names}: an example id for each name"
        documented |= set(names)
    in_code = (
        {name for name, _key in HUB_ENTITIES.values()}
        | {entity_name("sensor", d.translation_key) for d in ACCOUNT_DESCRIPTIONS}
        | {entity_name(platform, d.translation_key) for platform, d in SUBENTRY_DESCRIPTIONS}
    )
    assert documented == in_code, (
        f"missing: {in_code - documented}, not in code: {documented - in_code}"
    )
    all_names = {
        leaf["name"] for platform in STRINGS["entity"].values() for leaf in platform.values()
    }
    assert documented == all_names


def registry_of(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str | None]:
    """Entity id -> translation key of every entity the entry registered (disabled ones too)."""
    return {
        entity.entity_id: entity.translation_key
        for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.mark.usefixtures("mock_sequence_client", "frozen_start")
async def test_entity_table_with_an_access_token(hass: HomeAssistant) -> None:
    """Rows marked "both" exist with an access token; the API key rows' entities do not."""
    entry = await set_up(hass, token_entry_with(remote_rule_subentry(title=RULE_TITLE)))
    registry = registry_of(hass, entry)
    shown = {
        texts[key]["name"]
        for key in registry.values()
        for texts in STRINGS["entity"].values()
        if key in texts
    }
    for names, _entity_ids, credential in entity_rows():
        # The examples are the demo's (its access token is another beneficiary's): by name.
        if credential == "both":
            assert set(names) <= shown, names
        else:
            assert not set(names) & shown, f"{names} exist with an access token"


@pytest.fixture
async def demo(hass: HomeAssistant, socket_enabled: None) -> AsyncIterator[dict[str, str]]:
    """The demo ``script/develop`` seeds, in this Home Assistant: entity id -> credential kind.

    ``tools/dev_instance.DEMO_ENTRIES`` set up through the config flow (and options flow) against
    the simulator, then their rules and route (``demo_subentries``) through the subentry flows,
    as seeding does over HTTP; every entity the entries register, disabled ones too. Entity ids
    depend only on the order and the account, rule and route names, so the frozen parts of
    seeding (a real Home Assistant, its HTTP APIs) are left to ``script/develop --check``.
    """
    simulator = Simulator.create(Bank())
    async with serve_simulator(simulator, tokens=[dev_instance.DEV_TOKEN]) as running:
        kinds: dict[str, str] = {}
        entry_ids = []
        for planned in dev_instance.DEMO_ENTRIES:
            flow = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
            created = await hass.config_entries.flow.async_configure(
                flow["flow_id"],
                {
                    const.CONF_API_TOKEN: planned.credential,
                    const.SECTION_ADVANCED: {const.CONF_BASE_URL: running.base_url},
                },
            )
            assert created["type"] is FlowResultType.CREATE_ENTRY, created
            entry_id = created["result"].entry_id
            entry_ids.append(entry_id)
            if planned.options:
                form = await hass.config_entries.options.async_init(entry_id)
                saved = await hass.config_entries.options.async_configure(
                    form["flow_id"], dict(planned.options)
                )
                assert saved["type"] is FlowResultType.CREATE_ENTRY, saved
            await hass.async_block_till_done()
        for entry_id, planned in zip(entry_ids, dev_instance.DEMO_ENTRIES, strict=True):
            for subentry in dev_instance.demo_subentries(planned.kind, running.base_url):
                step = await hass.config_entries.subentries.async_init(
                    (entry_id, subentry.subentry_type), context={"source": SOURCE_USER}
                )
                step = await hass.config_entries.subentries.async_configure(
                    step["flow_id"], dict(subentry.form)
                )
                assert step.get("step_id") == "confirm", step
                done = await hass.config_entries.subentries.async_configure(
                    step["flow_id"], {const.CONF_CONFIRM: True}
                )
                assert done["type"] is FlowResultType.CREATE_ENTRY, done
                assert done["title"] == subentry.title
            await hass.async_block_till_done()
        registry = er.async_get(hass)
        for entry_id, planned in zip(entry_ids, dev_instance.DEMO_ENTRIES, strict=True):
            for entity in er.async_entries_for_config_entry(registry, entry_id):
                kinds[entity.entity_id] = planned.kind
        yield kinds
        for entry_id in entry_ids:
            await hass.config_entries.async_unload(entry_id)
        await hass.async_block_till_done()


async def test_every_entity_id_in_the_docs_is_one_the_demo_creates(
    demo: dict[str, str],
) -> None:
    """What the README and docs show, ``script/develop`` creates: no example to translate."""
    for doc in ENTITY_DOCS:
        for entity_id in sorted(set(MENTIONED_ID.findall(doc.read_text(encoding="utf-8")))):
            assert entity_id in demo, f"{doc.name}: the demo creates no {entity_id}"


async def test_entity_table_with_the_demos_api_key(demo: dict[str, str]) -> None:
    """With the demo's API key (activity on) every documented entity id exists."""
    with_the_key = {entity_id for entity_id, kind in demo.items() if kind == const.KIND_API_KEY}
    for names, entity_ids, credential in entity_rows():
        assert credential in {
            "both",
            "API key",
            "API key + `READ_TRANSFERS`",
            "API key + `READ_RULES`",
        }
        assert set(entity_ids) <= with_the_key, names


async def test_the_demo_sets_no_account_up_twice(demo: dict[str, str]) -> None:
    """Two beneficiaries: only the second entry's hub ids get ``_2``, never an account's."""
    clashing = {entity_id.removesuffix("_2") for entity_id in demo if entity_id.endswith("_2")}
    assert clashing
    assert clashing <= HUB_ENTITIES.keys()
    assert {demo[entity_id + "_2"] for entity_id in clashing} == {const.KIND_ACCESS_TOKEN}


def test_documented_value_lists_match_the_code() -> None:
    """The README's lists of error kinds, account types and directions are the code's."""
    error_kinds = re.search(r"`error_kind` attribute: ([^.]+)\.", README)
    assert error_kinds
    for description in API_PROBLEM_DESCRIPTIONS.values():
        assert description.translation_key
        sensor = STRINGS["entity"]["binary_sensor"][description.translation_key]
        states = sensor["state_attributes"]["error_kind"]["state"]
        assert set(code_spans(error_kinds.group(1))) == set(states) == set(ERROR_KINDS)
    bullets = re.split(r"\n(?=- )", section_of(README, "### Events"))
    for field, values in (("account_type", AccountKind), ("direction", TransferDirection)):
        bullet = next(item for item in bullets if item.startswith(f"- `{field}` is"))
        assert set(code_spans(bullet)[1:]) == {value.value for value in values}, field


def test_retry_words_are_the_code() -> None:
    """The retry schedule the docs give is backoff.py's, and the setup retry Home Assistant's."""
    steps = [int(step.total_seconds() // 60) for step in RETRY_STEPS]
    retries = " ".join(section_of(README, "## How data refreshes").split())
    listed = re.search(
        r"after ([\d, ]+) and (\d+) minutes for the first (\w+) failed polls", retries
    )
    assert listed, "the README's retry schedule"
    numbers = [int(n) for n in listed.group(1).split(", ")] + [int(listed.group(2))]
    assert numbers == steps
    assert listed.group(3) == ["one", "two", "three", "four", "five", "six"][len(steps) - 1]
    example = re.search(r"with (\d+) minutes: ([\d, ]+), \.\.\. minutes", retries)
    assert example, "the README's example with a short interval"
    backoff = FailureBackoff(timedelta(minutes=int(example.group(1))))
    shown = [int(n) for n in example.group(2).split(", ")]
    assert shown == [int(backoff.failed() // 60) for _ in shown]
    for doc in DOCS:
        text = " ".join(doc.read_text(encoding="utf-8").split())
        for mentioned in re.findall(
            r"\b1, 2, 5(?:, \d+)*,? and \d+ minutes|\b1, 2, 5(?:, \d+)+ minutes", text
        ):
            assert [int(n) for n in re.findall(r"\d+", mentioned)] == steps, doc.name
    setup = re.search(r"waits ([\d, ]+), \.\.\. seconds, at most (\d+) minutes", retries)
    assert setup, "the README's words on Home Assistant's setup retry"
    waits = [int(n) for n in setup.group(1).split(", ")]
    assert waits == [min(5 * 2**tries, SETUP_RETRY_MAX_WAIT) for tries in range(len(waits))]
    assert int(setup.group(2)) * 60 == SETUP_RETRY_MAX_WAIT


# --- Home Assistant's own words ----------------------------------------------------------------


def frontend_strings() -> dict[str, str]:
    """The pinned Home Assistant frontend's English UI texts, by their dotted keys.

    The frontend ships them in fragments (one per panel), each a flat key -> text map.
    """
    folder = Path(hass_frontend.__file__).parent / "static" / "translations"
    merged: dict[str, str] = {}
    for path in sorted(folder.rglob("en-*.json")):
        if re.fullmatch(r"en-[0-9a-f]+\.json", path.name):
            merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


FRONTEND = frontend_strings()
FRONTEND_TEXTS = set(FRONTEND.values())
README_BOLD = {" ".join(phrase.split()) for phrase in bold(README)}
README_LABELS = README_BOLD | {step.strip() for phrase in README_BOLD for step in phrase.split("→")}
"""What the README puts in bold, and each step of its bold navigation paths."""
SEQUENCE_APP_WORDS = {
    "API Keys",
    "Enable Remote API Access",
    "Access Tokens",
    "Create new access token",
}
"""The Sequence app has a Settings page too: these paths are the app's, not Home Assistant's."""
NEWER_HOME_ASSISTANT_WORDS = {"Marketplace"}
"""2026.11's (the README covers it); the pinned frontend has no such page."""
HOME_ASSISTANT_BUTTONS = (
    "Add integration",
    "Configure",
    "Reconfigure",
    "Download diagnostics",
    "Delete",
    "Edit in YAML",
    "Enable debug logging",
    "Restart Home Assistant",
    "Edit dashboard",
    "Add card",
    "Perform action",
    "Response",
    "Activity",
)
"""Buttons and menu items of Home Assistant the README tells the user to press."""


def test_navigation_paths_use_home_assistants_words() -> None:
    """Each step of a **Settings → ...** path is a label of the pinned frontend, as written."""
    paths = [phrase for phrase in README_BOLD if phrase.startswith("Settings →")]
    assert len(paths) >= 5
    for path in paths:
        steps = [step.strip() for step in path.split("→")]
        if set(steps) & SEQUENCE_APP_WORDS:
            continue
        for step in steps:
            known = FRONTEND_TEXTS | NEWER_HOME_ASSISTANT_WORDS | {HUB_DEVICE_NAME}
            assert step in known, f"{path}: Home Assistant has no {step!r}"


@pytest.mark.parametrize("label", HOME_ASSISTANT_BUTTONS)
def test_buttons_are_home_assistants(label: str) -> None:
    assert label in README_LABELS, f"the README no longer says **{label}**: update this list"
    assert label in FRONTEND_TEXTS, f"Home Assistant has no {label!r}"


def test_a_service_device_shows_service_info() -> None:
    """Sequence's devices are services: Home Assistant titles their card "Service info"."""
    devices = "ui.panel.config.devices"
    service_info = FRONTEND[f"{devices}.device_info"].replace(
        "{type}", FRONTEND[f"{devices}.type.service_heading"]
    )
    assert service_info == "Service info"
    assert service_info in README_BOLD
    assert "device page" not in README.lower(), f"Home Assistant calls it {service_info!r}"


def test_the_subentry_forms_are_named_as_they_show() -> None:
    """Moving money names the forms' buttons, fields and tick box as strings.json words them."""
    shown = {" ".join(phrase.split()) for phrase in bold(section_of(README, "## Moving money"))}
    for subentry in STRINGS["config_subentries"].values():
        labels = set(subentry["initiate_flow"].values())
        for step_id, step in subentry["step"].items():
            if not step_id.startswith("reconfigure"):
                labels |= set(step["data"].values())
        assert labels <= shown, labels - shown


# --- Configuration and options ------------------------------------------------------------------


def form_labels(result: FlowResult, strings: dict[str, Any]) -> set[str]:
    """The labels (from strings.json) of every field a flow form shows, sections included."""
    labels: set[str] = set()
    for marker, value in result["data_schema"].schema.items():
        if isinstance(value, section):
            section_strings = strings["sections"][str(marker)]
            labels |= {section_strings["data"][str(key)] for key in value.schema.schema}
        else:
            labels.add(strings["data"][str(marker)])
    return labels


def first_column(heading: str) -> set[str]:
    return {row[0] for row in table_of(section_of(README, heading))}


async def test_configuration_fields_are_the_setup_forms(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    labels = form_labels(result, STRINGS["config"]["step"]["user"])
    assert first_column("## Configuration") == labels


async def test_options_are_the_options_form(
    hass: HomeAssistant, init_platform: MockConfigEntry
) -> None:
    """An API key entry, loaded, shows every option there is."""
    result = await hass.config_entries.options.async_init(init_platform.entry_id)
    labels = form_labels(result, STRINGS["options"]["step"]["api_key"])
    assert labels == set(STRINGS["options"]["step"]["api_key"]["data"].values())
    assert first_column("### Options") == labels


# --- Events -------------------------------------------------------------------------------------


def test_events_and_their_data_are_what_the_code_fires() -> None:
    fired = fired_events()
    assert set(fired) == {value for name, value in vars(const).items() if name.startswith("EVENT_")}
    documented: dict[str, set[str]] = {}
    for row in table_of(section_of(README, "### Events")):
        for event in code_spans(row[0]):
            documented[event] = set(code_spans(row[2]))
    assert documented == fired


# --- Examples that run --------------------------------------------------------------------------


async def start_automation(hass: HomeAssistant, alias: str) -> list[ServiceCall]:
    calls = async_mock_service(hass, *NOTIFY)
    assert await async_setup_component(hass, "automation", {"automation": [automation(alias)]})
    await hass.async_block_till_done()
    return calls


async def poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, client: MagicMock, payload: Any
) -> None:
    client.async_get_accounts.return_value = parse_accounts_payload(payload)
    freezer.tick(const.DEFAULT_SCAN_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_low_balance_example_notifies(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    calls = await start_automation(hass, "Groceries Pod is running low")
    payload = load_payload()
    groceries = payload["data"]["accounts"][0]
    assert groceries["name"] == "Groceries"
    groceries["balance"]["amountInDollars"] = 150.0
    await poll(hass, frozen_start, mock_sequence_client, payload)
    assert calls == []  # still above 100
    groceries["balance"]["amountInDollars"] = 42.5
    await poll(hass, frozen_start, mock_sequence_client, payload)
    assert [call.data["message"] for call in calls] == ["Groceries is down to $42.50."]


async def test_weekly_summary_example_notifies_on_monday_morning(
    hass: HomeAssistant, init_integration: MockConfigEntry, frozen_start: FrozenDateTimeFactory
) -> None:
    calls = await start_automation(hass, "Weekly Sequence summary")
    monday = datetime(2026, 11, 23, 8, tzinfo=dt_util.get_default_time_zone())
    assert monday.weekday() == 0
    assert dt_util.now() < monday
    frozen_start.move_to(monday)
    async_fire_time_changed(hass, monday)
    await hass.async_block_till_done()
    totals = {
        name: hass.states.get(f"sensor.sequence_{name}").state
        for name in ("pods_total", "income_sources_total", "external_accounts_total")
    }
    assert all(Decimal(value) >= 0 for value in totals.values())  # numbers, not "unknown"
    expected = (
        f"Pods: ${totals['pods_total']}, Income Sources: ${totals['income_sources_total']}, "
        f"linked accounts: ${totals['external_accounts_total']}."
    )
    assert [call.data["message"] for call in calls] == [expected]
    await hass.services.async_call(  # detach the time trigger's timer
        "automation", "turn_off", {"entity_id": "all"}, blocking=True
    )


async def test_large_withdrawal_example_names_the_account(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_sequence_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_BALANCE_EVENTS: True})
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    calls = await start_automation(hass, "Large withdrawal in Sequence")
    payload = load_payload()
    groceries, rent = payload["data"]["accounts"][:2]
    assert rent["name"] == "Rent"
    groceries["balance"]["amountInDollars"] -= 20  # a small one: no notification
    rent["balance"]["amountInDollars"] -= 600
    await poll(hass, frozen_start, mock_sequence_client, payload)
    new_rent = hass.states.get("sensor.sequence_rent_balance").state
    assert [call.data["message"] for call in calls] == [
        f"Rent Balance went down by $600.00 to ${new_rent}."
    ]


# --- Scripts with the actions that answer ------------------------------------------------------

LOOKUPS = {
    "get_transfers": "async_get_transfers",
    "get_transfer": "async_get_transfer",
    "get_external_transactions": "async_get_external_transactions",
    "get_accounts": None,
}
"""The actions that answer, and the client method each asks (None: it asks nothing)."""
SCRIPTED = {*LOOKUPS, "trigger_rule", "get_audit_log"}
"""The actions a README script starts with (the transfer's example is an automation)."""
SERVICES: dict[str, Any] = yaml.safe_load((INTEGRATION / "services.yaml").read_text("utf-8"))
ACTION_TABLES = ("### Actions that answer", "### The money actions")
"""The README's tables of actions: one row per action, naming each of its fields."""


def script(alias: str) -> dict[str, Any]:
    return next(block for block in scripts() if block["alias"] == alias)


def example_actions() -> set[str]:
    """Every action the README's scripts and automations perform."""
    steps = [*(s["sequence"] for s in scripts()), *(a["actions"] for a in automations())]
    return {mapping["action"] for mapping in walk(steps) if "action" in mapping}


def test_every_action_has_an_example_and_a_row_naming_its_fields() -> None:
    actions = {f"{DOMAIN}.{name}" for name in SERVICES}
    assert {action for action in example_actions() if action.startswith(f"{DOMAIN}.")} == actions
    assert {f"{DOMAIN}.{name}" for name in SCRIPTED} == {
        example["sequence"][0]["action"] for example in scripts()
    }
    rows = [row for heading in ACTION_TABLES for row in table_of(section_of(README, heading))]
    documented = {code_spans(row[0])[0]: set(code_spans(row[1])) for row in rows}
    assert len(rows) == len(documented) == len(actions)
    assert documented.keys() == actions
    for name, service in SERVICES.items():
        assert set(service["fields"]) <= documented[f"{DOMAIN}.{name}"], name


@pytest.mark.parametrize("example", scripts(), ids=lambda block: block["alias"])
def test_scripts_ask_then_notify(example: dict[str, Any]) -> None:
    first, *rest = example["sequence"]
    assert first["action"].removeprefix(f"{DOMAIN}.") in SCRIPTED
    assert first["response_variable"]
    assert rest
    for step in rest:
        assert tuple(step["action"].split(".")) == NOTIFY
    for mapping in walk(example):
        assert "service" not in mapping


@pytest.mark.parametrize("example", scripts(), ids=lambda block: block["alias"])
async def test_scripts_pass_home_assistants_validation(
    hass: HomeAssistant, example: dict[str, Any]
) -> None:
    """The same validation the script editor runs (raises on any error)."""
    assert await async_validate_script(hass, slugify(example["alias"]), example)


@pytest.fixture
async def answering(
    hass: HomeAssistant,
    platform_config_entry: MockConfigEntry,
    mock_platform_client: MagicMock,
    frozen_start: FrozenDateTimeFactory,
) -> MagicMock:
    """An API-key entry whose client answers the look-ups from the fixtures."""
    client = mock_platform_client
    client.async_get_transfers = AsyncMock(return_value=load_transfers())
    client.async_get_transfer = AsyncMock(return_value=load_transfers()[0])
    client.async_get_external_transactions = AsyncMock(
        return_value=(
            ExternalTransaction(
                id="x-2",
                account_id=CHECKING_ID,
                amount=Decimal("1200.00"),
                direction=TransferDirection.INCOMING,
                status="COMPLETE",
                description="Payroll",
                date=datetime(2026, 11, 20, 17, tzinfo=UTC),
            ),
            ExternalTransaction(
                id="x-1",
                account_id=CHECKING_ID,
                amount=Decimal("4.50"),
                direction=TransferDirection.OUTGOING,
                status="PENDING",
                description="Coffee",
                date=datetime(2026, 11, 18, 16, tzinfo=UTC),
            ),
        )
    )
    await set_up(hass, platform_config_entry)
    return client


async def run_script(hass: HomeAssistant, alias: str, **fields: Any) -> list[str]:
    """Run a README script; the messages it sent, whitespace collapsed."""
    calls = async_mock_service(hass, *NOTIFY)
    assert await async_setup_component(hass, "script", {"script": {"example": script(alias)}})
    await hass.services.async_call("script", "example", fields, blocking=True)
    await hass.async_block_till_done()
    return [" ".join(call.data["message"].split()) for call in calls]


async def test_last_transfers_into_groceries_script(
    hass: HomeAssistant, answering: MagicMock
) -> None:
    messages = await run_script(hass, "Last transfers into Groceries")
    assert messages == ["2026-11-20: $250.00 from Paycheck (pending)"]
    kwargs = answering.async_get_transfers.call_args.kwargs
    assert kwargs["account_ids"] == (GROCERIES_ID,)
    assert kwargs["limit"] == 20


async def test_transfer_status_script(hass: HomeAssistant, answering: MagicMock) -> None:
    transfer_id = load_transfers()[0].id
    messages = await run_script(hass, "Sequence transfer status", transfer_id=transfer_id)
    assert messages == ["$250.00 from Paycheck to Groceries: pending."]
    answering.async_get_transfer.assert_awaited_once_with(transfer_id)


async def test_linked_account_week_script(
    hass: HomeAssistant, answering: MagicMock, frozen_start: FrozenDateTimeFactory
) -> None:
    messages = await run_script(hass, "This week on Everyday Checking")
    assert messages == ["2026-11-20 Payroll: $1200.00 2026-11-18 Coffee: -$4.50"]
    kwargs = answering.async_get_external_transactions.call_args.kwargs
    assert kwargs["account_ids"] == (CHECKING_ID,)
    assert kwargs["since"].isoformat() == "2026-11-14T00:00:00-08:00"  # a week ago, all day


@pytest.mark.parametrize(
    ("name", "message"),
    [("groceries", "Groceries has $412.06."), ("holiday", "No account is called holiday.")],
)
async def test_balance_of_script(
    hass: HomeAssistant, answering: MagicMock, name: str, message: str
) -> None:
    assert await run_script(hass, "Sequence balance of", name=name) == [message]


def returned(action: str) -> set[str]:
    """The keys the README's action tables say ``action`` returns."""
    rows = [row for heading in ACTION_TABLES for row in table_of(section_of(README, heading))]
    return next(set(code_spans(row[2])) for row in rows if code_spans(row[0])[0] == action)


async def test_the_look_ups_return_what_the_table_says(
    hass: HomeAssistant, answering: MagicMock
) -> None:
    config_entry_id = {"config_entry_id": "01JSEQUENCETESTENTRYPLATFORM"}
    checking = er.async_get(hass).async_get("sensor.sequence_everyday_checking_balance")
    assert checking is not None
    assert checking.device_id is not None
    for action, data, key, listed_by in (
        ("get_transfers", {}, "transfers", "get_transfers"),
        ("get_transfer", {"transfer_id": "t-1"}, "transfer", "get_transfers"),  # "as above"
        ("get_external_transactions", {"account": checking.device_id}, "transactions", None),
        ("get_accounts", {}, "accounts", None),
    ):
        response = await call_action(hass, action, {**config_entry_id, **data})
        answer = response[key][0] if isinstance(response[key], list) else response[key]
        documented = returned(f"{DOMAIN}.{action}") | returned(f"{DOMAIN}.{listed_by or action}")
        assert {key, *answer} <= documented, action


# --- Moving money: the README's examples, run -------------------------------------------------

VACATION_ROUTE = "Emergency Fund → Vacation"
"""The demo's route, whose device the README's transfer example names (by its entity ids)."""


@pytest.fixture
async def money_examples(
    hass: HomeAssistant,
    money_client: MagicMock,
    fake_sequence: FakeSequence,
    frozen_start: FrozenDateTimeFactory,
) -> MoneySetup:
    """An API-key entry with the demo's rule and route (their names, the demo's limits)."""
    route = route_subentry(max_per_transfer_cents=10_000, max_per_day_cents=25_000)
    route["title"] = VACATION_ROUTE
    route["data"] = {**route["data"], const.CONF_DESCRIPTION: "Vacation"}
    entry = api_key_entry_with(rule_subentry(remote=False, title=RULE_TITLE), route)
    return await setup_money(hass, entry, fake_sequence, money_client)


def paycheck(amount: str, transfer_id: str = "pay-1") -> dict[str, Any]:
    """A ``sequence_transfer`` event of a paycheck that arrived."""
    return {
        "config_entry_id": "01JSEQUENCETESTENTRYPLATFORM",
        "transfer_id": transfer_id,
        "direction": "incoming",
        "amount": amount,
        "currency": "USD",
        "status": "COMPLETE",
        "previous_status": "PENDING",
        "origin": "DIRECT_DEPOSIT",
        "rule_id": None,
        "created_at": "2026-11-21T11:00:00+00:00",
    }


async def fire(hass: HomeAssistant, event_type: str, data: dict[str, Any]) -> None:
    hass.bus.async_fire(event_type, data)
    await hass.async_block_till_done()


def messages(calls: list[ServiceCall]) -> list[str]:
    return [" ".join(call.data["message"].split()) for call in calls]


async def test_payday_example_moves_money_once_a_day(
    hass: HomeAssistant, money_examples: MoneySetup
) -> None:
    calls = await start_automation(hass, "Payday: $50 to Vacation")
    fake = money_examples.fake
    await fire(hass, const.EVENT_TRANSFER, paycheck("120.00"))  # too small a paycheck
    assert fake.requests == []
    await fire(hass, const.EVENT_TRANSFER, paycheck("1200.00"))
    await fire(hass, const.EVENT_TRANSFER, paycheck("900.00", "pay-2"))  # the same day
    key = f"vacation-{dt_util.now().date()}"
    assert [(r["simulation"], r["amount_cents"], r["description"]) for r in fake.requests] == [
        (True, 5000, "Vacation"),
        (False, 5000, "Vacation"),
    ] * 2
    assert {r["key"] for r in fake.live("create_transfer")} == {key}
    moved = [transfer for transfer in fake._transfers.values() if not transfer.simulated]
    assert len(moved) == 1  # the second run's request was the same transfer
    assert messages(calls) == [
        "$50.00 is on its way to Vacation (processing), after $1200.00 came in.",
        "$50.00 is on its way to Vacation (processing), after $900.00 came in.",
    ]


async def test_money_action_failure_example_notifies(
    hass: HomeAssistant, money_examples: MoneySetup
) -> None:
    calls = await start_automation(hass, "Sequence money action did not go through")
    route = {"route": money_examples.route_device}
    await call_action(hass, "transfer", {**route, "amount": 20})  # simulated, then sent
    assert calls == []
    with pytest.raises(ServiceValidationError):
        await call_action(hass, "transfer", {**route, "amount": 150})
    money_examples.client.async_create_transfer.side_effect = answer_then_lose(money_examples.fake)
    with pytest.raises(HomeAssistantError):
        await call_action(hass, "transfer", {**route, "amount": 30, "idempotency_key": "k-30"})
    await hass.async_block_till_done()
    assert messages(calls) == [
        "Transfer of $150.00 refused (transfer_over_maximum).",
        (
            "Transfer of $30.00 unknown (transfer_result_unknown). Check Sequence before trying "
            "again, with the idempotency key k-30."
        ),
    ]


def answer_then_lose(fake: FakeSequence) -> Any:
    """``create_transfer`` answering simulations, and losing the answer of a live request."""

    async def create(**kwargs: Any) -> Any:
        answer = await fake.create_transfer(**kwargs)  # it ran
        if kwargs["simulation"]:
            return answer
        lost = "the answer was lost"
        raise SequenceOutcomeUnknownError(lost)

    return create


async def test_rule_run_ended_example_notifies_live_runs_only(hass: HomeAssistant) -> None:
    calls = await start_automation(hass, "Sequence rule run ended")
    run = {
        "config_entry_id": "01JSEQUENCETESTENTRYPLATFORM",
        "rule_id": "rule-1",
        "execution_id": "exec-1",
        "status": "PARTIAL",
        "transfers_completed": 2,
        "transfers_failed": 1,
    }
    await fire(hass, const.EVENT_RULE_EXECUTED, {**run, "simulated": True})
    await fire(hass, const.EVENT_RULE_EXECUTED, {**run, "simulated": False})
    assert messages(calls) == ["A rule run ended partial: 2 transfers done, 1 failed."]


async def test_round_ups_script_simulates_unless_told(
    hass: HomeAssistant, money_examples: MoneySetup
) -> None:
    assert await run_script(hass, "Run Round-ups") == [
        "Round-ups simulated (execution exec-1); its Last run result shows how it ends."
    ]
    assert await run_script(hass, "Run Round-ups", simulate=False) == [
        "Round-ups started (execution exec-2); its Last run result shows how it ends."
    ]
    requests = money_examples.fake.requests
    assert [(r["kind"], r["simulation"]) for r in requests] == [
        ("trigger_rule", True),
        ("trigger_rule", False),
    ]


async def test_the_money_actions_return_what_the_table_says(
    hass: HomeAssistant, money_examples: MoneySetup
) -> None:
    rule = await call_action(hass, "trigger_rule", {"rule": money_examples.rule_device})
    assert rule.keys() == returned(f"{DOMAIN}.trigger_rule")
    route = {"route": money_examples.route_device, "amount": 20}
    assert (await call_action(hass, "transfer", route)).keys() == returned(f"{DOMAIN}.transfer")
    audit = await call_action(
        hass, "get_audit_log", {"config_entry_id": money_examples.entry.entry_id}
    )
    assert audit.keys() <= returned(f"{DOMAIN}.get_audit_log")
    events = section_of(README, "### Events")
    documented = next(
        set(code_spans(row[2])) for row in table_of(events) if const.EVENT_MONEY_ACTION in row[0]
    )
    assert {key for record in audit["records"] for key in record} == documented


async def test_money_actions_today_script(hass: HomeAssistant, money_examples: MoneySetup) -> None:
    assert await run_script(hass, "Sequence money actions today") == [
        "No money moved, and none was asked to."
    ]
    route = {"route": money_examples.route_device}
    await call_action(hass, "transfer", {**route, "amount": 50})
    with pytest.raises(ServiceValidationError):
        await call_action(hass, "transfer", {**route, "amount": 150})
    assert await run_script(hass, "Sequence money actions today") == [
        "04:00 transfer $50.00: sent. 04:00 transfer $150.00: refused (transfer_over_maximum)."
    ]


# --- The API boundary ---------------------------------------------------------------------------


def method_calls(path: Path) -> Iterator[tuple[str, str, list[ast.expr]]]:
    """(object, method, arguments) of every ``<object>.<method>(...)`` call in a module."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else ast.unparse(owner)
            yield name, node.func.attr, node.args


def exchange_calls(path: Path) -> int:
    """How many times a module calls ``async_exchange(...)``, the one way a request leaves."""
    return sum(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "async_exchange"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )


def test_api_boundary_lists_every_request_the_clients_can_send() -> None:
    """docs/API_BOUNDARY.md's table is exactly what the code can send."""
    boundary = (ROOT / "docs" / "API_BOUNDARY.md").read_text(encoding="utf-8")
    rows = table_of(section_of(boundary, "## What it calls"))
    documented = {code_spans(row[0])[0] for row in rows}
    assert documented == {"POST /accounts", remote_rules.ROUTE, *ROUTE_PERMISSIONS}
    api = INTEGRATION / "api"
    # Only the shared exchange talks to aiohttp, and only the three clients call it, once each.
    session_methods = {
        (path.name, method)
        for path in api.glob("*.py")
        for owner, method, _args in method_calls(path)
        if owner in {"session", "_session"}
    }
    assert session_methods == {("transport.py", "request")}
    assert {
        path.name: exchange_calls(path) for path in api.glob("*.py") if exchange_calls(path)
    } == {
        "remote.py": 1,
        "remote_rules.py": 1,
        "platform.py": 1,
    }
    posted = [
        args[0] for _, method, args in method_calls(api / "remote.py") if method == "_async_post"
    ]
    assert posted
    assert all(isinstance(path, ast.Constant) and path.value == "/accounts" for path in posted)
    routes = {
        args[0].value
        for _, method, args in method_calls(api / "platform.py")
        if method in {"_request", "_paginate", "_probe", "_post"}
        and isinstance(args[0], ast.Constant)
    }
    assert routes == set(ROUTE_PERMISSIONS)


def cited_names(doc: Path) -> set[str]:
    """The code spans of a doc outside its code blocks."""
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.DOTALL)
    return set(code_spans(text))


def defined_names(tree: ast.AST) -> dict[str, ast.AST]:
    """Name -> definition of the functions, classes and assignments directly in ``tree``."""
    found: dict[str, ast.AST] = {}
    for node in getattr(tree, "body", []):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found |= {target.id: node for target in targets if isinstance(target, ast.Name)}
    return found


MODULES: dict[str, list[ast.AST]] = {}
for _path in INTEGRATION.rglob("*.py"):
    MODULES.setdefault(_path.stem, []).append(ast.parse(_path.read_text(encoding="utf-8")))
CLASSES = {
    node.name: node
    for trees in MODULES.values()
    for tree in trees
    for node in ast.walk(tree)
    if isinstance(node, ast.ClassDef)
}
"""The integration's modules (by file name, ``errors`` twice) and classes, parsed."""


def code_exists(span: str) -> bool | None:
    """Whether ``module.name[.member]`` or ``Class.member`` exists; None: not such a name."""
    match = re.fullmatch(r"(?:api/)?(\w+)\.(\w+)(?:\.(\w+))?", span)
    if match is None:
        return None
    first, second, member = match.groups()
    if first in MODULES:
        owners = [defined_names(tree).get(second) for tree in MODULES[first]]
    elif first in CLASSES and member is None:
        owners, member = [CLASSES[first]], second
    else:
        return None
    owner = next((found for found in owners if found is not None), None)
    return owner is not None and (member is None or member in defined_names(owner))


def file_exists(span: str) -> bool | None:
    """Whether a cited test, path or file name exists; None: not such a span."""
    if match := re.fullmatch(r"(tests/[\w/]+\.py)::(test_\w+)", span):
        tree = ast.parse((ROOT / match.group(1)).read_text(encoding="utf-8"))
        return match.group(2) in defined_names(tree)
    if re.fullmatch(r"[\w/]+/[\w.]+\.py", span):
        return (ROOT / span).exists() or (INTEGRATION / span).exists()
    if re.fullmatch(r"\w+\.py", span):
        folders = ("custom_components", "tests", "tools")
        return any(next((ROOT / folder).rglob(span), None) for folder in folders)
    return None


def test_tests_and_code_the_docs_cite_exist() -> None:
    """``tests/x.py::test_y``, paths, ``module.name`` and ``Class.member`` in the docs are real.

    docs/API_BOUNDARY.md says where each money safety rule is enforced and which tests prove
    it: a renamed function or test must take the page with it. Names are checked in docs/
    only (the README's ``calendar.get_events`` is an action, not the module).
    """
    checked = 0
    for doc in DOCS:
        for span in cited_names(doc):
            found = file_exists(span)
            if found is None and doc.parent == ROOT / "docs" and not MENTIONED_ID.fullmatch(span):
                found = code_exists(span)
            if found is not None:
                assert found, f"{doc.name} cites {span}, which does not exist"
                checked += 1
    assert checked >= 60


# --- How the code is organised ------------------------------------------------------------------


def test_architecture_names_code_that_exists() -> None:
    """docs/ARCHITECTURE.md speaks of the code as it is: its modules, classes, private names."""
    architecture = re.sub(
        r"```.*?```",
        "",
        (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8"),
        flags=re.DOTALL,
    )
    modules = {path.name for path in INTEGRATION.rglob("*.py")}
    source = "\n".join(path.read_text(encoding="utf-8") for path in INTEGRATION.rglob("*.py"))
    checked = 0
    for span in set(code_spans(architecture)):
        if re.fullmatch(r"\w+\.py", span):
            assert span in modules, f"ARCHITECTURE.md names {span}, which is not a module"
        elif re.fullmatch(r"(?:[A-Z][a-z]+[A-Z]\w*|_[a-z]\w*)(?:\(\))?", span):
            name = span.removesuffix("()")
            assert re.search(rf"\b{name}\b", source), f"ARCHITECTURE.md names {span}: not in code"
        else:
            continue
        checked += 1
    assert checked >= 20


# --- Releases -----------------------------------------------------------------------------------


def test_changelog_latest_release_is_the_manifest_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "[Keep a Changelog](https://keepachangelog.com/en/1.1.0/)" in changelog
    assert "## [Unreleased]" in changelog
    releases = re.findall(
        r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", changelog, re.MULTILINE
    )
    assert releases, "at least one release"
    manifest = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert releases[0][0] == manifest["version"] == pyproject["project"]["version"]


def test_readme_states_the_minimum_home_assistant() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert f"**{hacs['homeassistant']}** or later" in README


def test_issue_templates_ask_for_what_triage_needs() -> None:
    templates = ROOT / ".github" / "ISSUE_TEMPLATE"
    bug = yaml.safe_load((templates / "bug_report.yml").read_text(encoding="utf-8"))
    ids = {item.get("id") for item in bug["body"]}
    assert {"ha_version", "integration_version", "credential_kind", "diagnostics"} <= ids
    credential = next(item for item in bug["body"] if item.get("id") == "credential_kind")
    assert len(credential["attributes"]["options"]) >= 2
    feature = yaml.safe_load((templates / "feature_request.yml").read_text(encoding="utf-8"))
    assert feature["body"]
    config = yaml.safe_load((templates / "config.yml").read_text(encoding="utf-8"))
    assert config["blank_issues_enabled"] is False
    assert any("security" in link["url"] for link in config["contact_links"])
