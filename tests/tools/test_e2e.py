"""tools/e2e.py and script/e2e, without a browser: the checks' helpers and the pins.

Also what the run counts on from others: the integration's strings and logbook words, the
pinned Home Assistant frontend's labels, and the simulator's rules, route pair and timing.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
import json
from pathlib import Path
import re

import hass_frontend
import pytest

from custom_components.sequence.audit import AuditOutcome
from custom_components.sequence.follow import FOLLOW_STEPS
from custom_components.sequence.guard import RULE_MESSAGES, TRANSFER_MESSAGES
from tools import dev_instance, e2e
from tools.e2e import (
    E2EError,
    SimulatorControl,
    artifacts_folder,
    balance_mismatches,
    describe,
    fill_placeholders,
    leaked_secrets,
    leaked_values,
    liabilities_cents,
    month_heading,
    net_worth_cents,
    platform_accounts,
    private_numbers,
    response_fields,
    state_mismatches,
    usd,
)
from tools.simulator.state import platform_id_of

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-abc"

ACCOUNTS = [
    {"id": "4410021", "name": "Groceries", "balance_cents": 41206},
    {"id": "4410022", "name": "Rent", "balance_cents": 185050},
    {"id": "acc-77e1", "name": "Brokerage 9921", "balance_cents": None},
]


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (41206, "$412.06"),
        (185000, "$1,850.00"),
        (0, "$0.00"),
        (5, "$0.05"),
        (-350, "-$3.50"),
        (123456789, "$1,234,567.89"),
    ],
)
def test_usd(cents: int, shown: str) -> None:
    assert usd(cents) == shown


def test_leaked_values() -> None:
    clean = json.dumps({"accounts": {"returned": 3}, "interval": 600.0, "at": "12:00:10.004"})
    assert leaked_values(clean, token=TOKEN, accounts=ACCOUNTS) == []
    leaky = json.dumps({"token": "e2e-abc", "name": "Rent", "balance": 1850.5, "cents": "412.06"})
    assert sorted(leaked_values(leaky, token=TOKEN, accounts=ACCOUNTS)) == sorted(
        ["e2e-abc", "Rent", "1850.5", "412.06"]
    )
    assert leaked_values('{"id": "acc-77e1"}', token=TOKEN, accounts=ACCOUNTS) == ["acc-77e1"]
    inside_a_number = '{"x": 1412.061}'
    assert leaked_values(inside_a_number, token=TOKEN, accounts=ACCOUNTS) == []


def state(entity_id: str, value: str, account_id: str | None) -> dict[str, object]:
    attributes = {"account_id": account_id} if account_id else {}
    return {"entity_id": entity_id, "state": value, "attributes": attributes}


def test_balance_mismatches() -> None:
    states = [
        state("sensor.sequence_groceries_balance", "412.06", "4410021"),
        state("sensor.sequence_rent_balance", "1850.50", "4410022"),
        state("sensor.sequence_brokerage_9921_balance", "unknown", "acc-77e1"),
        state("sensor.sequence_pods_total", "2262.56", None),
        state("sensor.other", "1", "4410021"),
    ]
    assert balance_mismatches(states, ACCOUNTS) == []
    states[1] = state("sensor.sequence_rent_balance", "1850.49", "4410022")
    del states[0]
    assert balance_mismatches(states, ACCOUNTS) == [
        "Groceries: no balance sensor",
        "sensor.sequence_rent_balance is '1850.49', expected '1850.50'",
    ]


STATE_ACCOUNTS = [
    *ACCOUNTS,
    {"id": "acc-9a02", "name": "Sapphire Visa 4417", "balance_cents": 128743},
]
PLATFORM_ITEMS = [
    {"id": "4c4e", "name": "Groceries", "externalAccountType": None},
    {"id": "aeb2", "name": "Rent"},
    {"id": "7bc4", "name": "Brokerage 9921", "externalAccountType": "INVESTMENT"},
    {"id": "a969", "name": "Sapphire Visa 4417", "externalAccountType": "LIABILITY"},
]


def test_platform_accounts() -> None:
    accounts = platform_accounts(STATE_ACCOUNTS, PLATFORM_ITEMS)
    assert accounts == [
        {"id": "4c4e", "name": "Groceries", "balance_cents": 41206, "liability": False},
        {"id": "aeb2", "name": "Rent", "balance_cents": 185050, "liability": False},
        {"id": "7bc4", "name": "Brokerage 9921", "balance_cents": None, "liability": False},
        {"id": "a969", "name": "Sapphire Visa 4417", "balance_cents": 128743, "liability": True},
    ]
    assert net_worth_cents(accounts) == 41206 + 185050 - 128743
    assert liabilities_cents(accounts) == 128743
    assert liabilities_cents(accounts[:3]) == 0
    unknown_debt = [{"balance_cents": None, "liability": True}]
    assert net_worth_cents(unknown_debt) == liabilities_cents(unknown_debt) == 0
    with pytest.raises(E2EError, match=r"not in it: \['Amex'\]"):
        platform_accounts(STATE_ACCOUNTS, [*PLATFORM_ITEMS[:3], {"id": "x", "name": "Amex"}])
    with pytest.raises(E2EError, match=r"differ from the simulator's state \(not in it: \[\]\)"):
        platform_accounts(STATE_ACCOUNTS, PLATFORM_ITEMS[:3])


def test_private_numbers() -> None:
    details = [
        {"id": "a", "routingNumber": "092158462", "bankAccountNumber": "7731489023979939"},
        {"id": "b", "routingNumber": "090239563", "bankAccountNumber": None},
        {"id": "c"},
    ]
    assert private_numbers(details) == {"092158462", "7731489023979939", "090239563"}


def test_state_mismatches() -> None:
    states = [
        state("sensor.sequence_net_worth", "975.13", None),
        state("sensor.sequence_liabilities_total", "1287.4", None),
    ]
    expected = {
        "sensor.sequence_net_worth": 97513,
        "sensor.sequence_liabilities_total": 128740,
        "sensor.sequence_missing": 0,
    }
    assert state_mismatches(states, expected) == [
        "sensor.sequence_liabilities_total is '1287.4', expected '1287.40'",
        "sensor.sequence_missing is None, expected '0.00'",
    ]
    assert state_mismatches(states, {"sensor.sequence_net_worth": 97513}) == []


def test_leaked_secrets() -> None:
    secrets = {"the access token": "e2e-abc", "the rule secret": "dev-rule-secret", "none": ""}
    assert leaked_secrets("Sequence rule Vacation boost was triggered", secrets) == []
    assert leaked_secrets('{"x": "dev-rule-secret", "y": "e2e-abcd"}', secrets) == [
        "the access token",
        "the rule secret",
    ]


def test_fill_placeholders() -> None:
    text = "Up to ${per_transfer} from {source} to {source}."
    filled = fill_placeholders(text, {"per_transfer": "100.00", "source": "Rent", "unused": "x"})
    assert filled == "Up to $100.00 from Rent to Rent."
    assert fill_placeholders("No placeholder.", {}) == "No placeholder."
    with pytest.raises(E2EError, match=r"no value for the placeholder \{name\}"):
        fill_placeholders("Run {name}", {"runs": "3 times"})


def test_response_fields() -> None:
    lines = [
        "transfer_id: aa137f4f-c73d",
        "status: PROCESSING",
        "amount: '50.00'",
        'note: "a: b"',
        "simulated: false",
        "transfers:",
        "  - id: nested",
        "  amount: '1.00'",
        "",
    ]
    assert response_fields(lines) == {
        "transfer_id": "aa137f4f-c73d",
        "status": "PROCESSING",
        "amount": "50.00",
        "note": "a: b",
        "simulated": "false",
    }


def test_month_heading() -> None:
    assert month_heading(date(2026, 12, 8)) == "December 2026"
    assert month_heading(date(2027, 1, 1)) == "January 2027"


def test_describe() -> None:
    playwright_like = AssertionError(
        'Locator expected to be visible\nCall log:\n  - Expect "to_be_visible"\n'
        '  - waiting for get_by_text("$412.06")\n'
    )
    assert describe(playwright_like) == (
        'Locator expected to be visible (waiting for get_by_text("$412.06"))'
    )
    assert describe(ValueError("plain")) == "plain"
    assert describe(KeyError()) == "KeyError"


def test_artifacts_folder(tmp_path: Path) -> None:
    assert artifacts_folder(tmp_path, "2026.11.0") == tmp_path / "2026.11.0"
    assert artifacts_folder(tmp_path, "2026.12.0b1/x") == tmp_path / "2026.12.0b1_x"


@pytest.mark.usefixtures("socket_enabled")
def test_simulator_control(tmp_path: Path) -> None:
    simulator = dev_instance.start_simulator(log=tmp_path / "simulator.log")
    with dev_instance.running(simulator):
        control = SimulatorControl(simulator.url)
        control.freeze_balances()
        accounts = control.accounts()
        assert all(account["drift_cents"] == 0 for account in accounts)
        assert next(a for a in accounts if a["name"] == "Groceries")["balance_cents"] == 41206
        control.scenario("token_revoked")
        control.scenario("ok")
        assert control.balances()["4410021"] == 41206
        control.timing(e2e.FAST_SETTLING)
        details = control.platform_details(dev_instance.DEV_API_KEY)
        assert len(details) == len(accounts)
        assert all(detail["routingNumber"] and detail["bankAccountNumber"] for detail in details)
        joined = platform_accounts(accounts, details)
        card = next(account for account in joined if account["name"] == e2e.CREDIT_CARD)
        assert card["liability"]
        assert [account["name"] for account in joined if account["liability"]] == [e2e.CREDIT_CARD]


@pytest.mark.usefixtures("socket_enabled")
def test_what_the_run_counts_on_in_the_simulator(tmp_path: Path) -> None:
    """The rules, the route's pair and the card the money steps use are the simulator's."""
    simulator = dev_instance.start_simulator(log=tmp_path / "simulator.log")
    with dev_instance.running(simulator):
        control = SimulatorControl(simulator.url)
        key = dev_instance.DEV_API_KEY
        rules = {rule["id"]: rule for rule in control.platform(key, "/rules?pageSize=100")["items"]}
        assert rules[e2e.PLATFORM_RULE]["status"] == "ENABLED"
        assert rules[e2e.PLATFORM_RULE]["isSupported"]
        assert any(rule["status"] != "ENABLED" for rule in rules.values())
        assert any(not rule["isSupported"] for rule in rules.values())
        scheduled = control.platform(key, f"/rules/{e2e.SCHEDULED_RULE}")
        assert (scheduled["trigger"]["type"], scheduled["trigger"]["scheduleType"]) == (
            "SCHEDULED",
            "DAILY",
        )
        state = control.state()
        remote = next(rule for rule in state["remote_rules"] if rule["id"] == e2e.REMOTE_RULE)
        assert remote["beneficiary"] == "household"
        pairs = next(
            grant["transfer_pairs"]
            for grant in state["platform"]["api_keys"]
            if "MANUAL_TRANSFER" in grant["permissions"] and grant["transfer_pairs"]
        )
        route = next(
            pair
            for pair in pairs
            if (pair["source"], pair["target"])
            == (platform_id_of(e2e.ROUTE_SOURCE), platform_id_of(e2e.ROUTE_DESTINATION))
        )
        per_transfer, per_day = e2e.ROUTE_LIMITS_CENTS
        assert e2e.TRANSFER_CENTS <= per_transfer <= per_day
        assert route["max_amount_cents"] is None or route["max_amount_cents"] >= per_transfer
        details = control.platform_details(key)
        card = next(detail for detail in details if detail["name"] == e2e.CREDIT_CARD)
        due = date.fromisoformat(card["balance"]["nextPaymentDueDate"])
        today = datetime.now(UTC).date()
        assert today < due <= today + timedelta(days=31)  # this month or the next
        assert card["balance"]["nextPaymentMinimumInCents"]


def test_transfers_settle_before_the_first_look() -> None:
    """The run's timing: the simulator settles a transfer before the integration looks."""
    assert e2e.FAST_SETTLING["processing_seconds"] < e2e.FAST_SETTLING["settle_seconds"]
    assert e2e.FAST_SETTLING["settle_seconds"] < FOLLOW_STEPS[0].total_seconds()


def test_the_logbook_words_the_run_reads() -> None:
    assert RULE_MESSAGES[AuditOutcome.SENT] == e2e.RULE_LOGBOOK
    outcomes = (AuditOutcome.SIMULATED, AuditOutcome.SENT, AuditOutcome.SUCCEEDED)
    assert tuple(TRANSFER_MESSAGES[outcome] for outcome in outcomes) == e2e.TRANSFER_LOGBOOK


def frontend_texts() -> set[str]:
    """The pinned Home Assistant frontend's English UI texts."""
    folder = Path(hass_frontend.__file__).parent / "static" / "translations"
    texts: set[str] = set()
    for path in folder.rglob("en-*.json"):
        if re.fullmatch(r"en-[0-9a-f]+\.json", path.name):
            texts |= set(json.loads(path.read_text(encoding="utf-8")).values())
    return texts


@pytest.mark.parametrize(
    "label",
    [
        "Tools",  # Settings -> Tools: the developer tools since 2026
        "Actions",
        "YAML mode",
        "Perform action",
        "Response",
        "Activity",
        "Calendar",
        "Next",
        "Created configuration for {name}.",
        "By {name}",
    ],
)
def test_home_assistants_words_the_run_reads(label: str) -> None:
    assert label in frontend_texts()


def test_the_strings_the_run_reads_exist() -> None:
    """tools/e2e.py finds the flow's fields by the integration's own English strings."""
    strings = json.loads(e2e.TRANSLATIONS.read_text(encoding="utf-8"))
    user = strings["config"]["step"]["user"]
    assert user["title"]
    assert user["data"]["api_token"]
    assert user["sections"]["advanced"]["name"]
    assert user["sections"]["advanced"]["data"]["base_url"]
    assert strings["config"]["step"]["reauth_access_token"]["title"]
    assert strings["config"]["step"]["reauth_access_token"]["data"]["api_token"]
    assert strings["exceptions"]["invalid_auth_access_token"]["message"]
    assert strings["exceptions"]["unavailable"]["message"]
    assert "{host_url}" in strings["config"]["error"]["url_path"]
    assert strings["config"]["error"]["wrong_kind_access_token"]
    sensors = strings["entity"]["sensor"]
    assert sensors["liability_balance"]["name"] == "Amount owed"
    assert sensors["net_worth"]["name"]
    assert sensors["liability_total"]["name"]
    assert sensors["balance_status"]["name"]
    assert sensors["balance_status"]["state"]["connection_failed"]


def test_the_money_strings_the_run_reads_exist() -> None:
    """The subentry flows, the money sensors, the calendar and the actions, by their strings."""
    strings = json.loads(e2e.TRANSLATIONS.read_text(encoding="utf-8"))
    sensors = strings["entity"]["sensor"]
    assert sensors["pod_balance"]["name"]
    assert sensors["rule_last_run_result"]["name"]
    assert sensors["rule_last_run_result"]["state"]["triggered"]
    assert sensors["route_left_today"]["name"]
    assert sensors["route_last_transfer_status"]["name"]
    assert sensors["route_last_transfer_status"]["state"]["complete"]
    assert strings["entity"]["calendar"]["payments"]["name"]
    assert strings["services"]["trigger_rule"]["name"]
    rule = strings["config_subentries"]["rule"]
    assert rule["initiate_flow"]["user"]
    assert rule["initiate_flow"]["reconfigure"]
    access_token = rule["step"]["access_token"]
    assert access_token["title"]
    assert {"trigger_url", "secret", "name"} <= set(access_token["data"])
    assert "{api_host}" in rule["error"]["trigger_url_host"]
    assert rule["step"]["api_key"]["title"]
    reconfigure = rule["step"]["reconfigure_access_token"]
    assert "{name}" in reconfigure["title"]
    assert reconfigure["data"]["secret"]
    route = strings["config_subentries"]["transfer_route"]
    assert route["initiate_flow"]["user"]
    assert route["abort"]["transfers_need_api_key"]
    assert route["step"]["user"]["title"]
    assert {"max_per_transfer", "max_per_day", "description"} <= set(route["step"]["user"]["data"])
    for kind, statement in (("rule", e2e.RULE_LIMITS | {"name": "x"}), ("transfer_route", {})):
        confirm = strings["config_subentries"][kind]["step"]["confirm"]
        assert confirm["title"]
        assert confirm["data"]["confirm"]
        assert strings["config_subentries"][kind]["error"]["confirm_required"]
        if statement:
            fill_placeholders(confirm["description"], statement)
    fill_placeholders(
        route["step"]["confirm"]["description"],
        dict.fromkeys(("per_transfer", "per_day", "source", "destination"), "x"),
    )
    assert usd(e2e.ROUTE_LIMITS_CENTS[0]).removeprefix("$") == f"{Decimal(100):.2f}"


def test_newest_version_and_e2e_pins() -> None:
    script = (ROOT / "script" / "e2e").read_text(encoding="utf-8")
    versions = re.findall(r"^HA_NEWEST_VERSION=(\S+)$", script, re.MULTILINE)
    assert len(versions) == 1
    assert re.fullmatch(r"20\d\d\.\d{1,2}\.\d+", versions[0])
    pinned = (ROOT / "requirements_test.txt").read_text(encoding="utf-8")
    assert f"homeassistant=={versions[0]}" not in pinned  # the second run tests something else
    pins = [
        line
        for line in (ROOT / "requirements_e2e.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert pins
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[\w.]+", pin) for pin in pins), pins
    assert any(pin.startswith("playwright==") for pin in pins)


def test_artifacts_are_ignored_by_git() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "artifacts/" in ignored
