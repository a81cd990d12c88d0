"""End-to-end in a real browser: set Sequence up through Home Assistant's UI against the simulator.

Starts the simulator (drift frozen, a random token and a random API key) and a fresh Home
Assistant (temporary config dir, free port) from the current venv, onboards it over the HTTP
API, then drives Debian's Chromium with Playwright through the UI: log in, Settings -> Devices &
services -> Add integration -> "Sequence", token and (in the Advanced section) a base URL with a
path, which the form refuses saying what to enter, keeping the token and opening the section on
its own; then the simulator's URL, the created devices, the integration page, every balance on
its device page (and over the REST API) and the linked account without a balance's "Balance
status" ("Bank connection failed"), the "Download diagnostics" menu item (no token, account name
or balance in the file). Then the token is revoked in the simulator and the Refresh button
pressed: the entry fails to set up with Sequence's refusal (on the Sequence card and on the
integration page) beside the reauthentication card; an API key pasted there is an error on the
form, which stays, and the card outlives the closed form; reauthenticating with the token
(accepted again) succeeds and the entry is loaded again. Then the same accounts once more
through the Platform API: Add integration -> "Sequence" with an API key (``sk_...``) and the
simulator's URL, the created devices, the credit card's "Amount owed" and the hub's "Net worth"
on their device pages (and every balance, the net worth and the liabilities total over the REST
API, all against the simulator's state), the same "Balance status" (Sequence sends a code there),
and the API-key entry's diagnostics (over the REST API) hold no routing or account number the
simulator serves.

Then money and look-ups. "Add rule" on the integration page, for the token's entry: the
simulator's Remote API rule by its trigger URL (one on another host is a field error) and its
API secret, named "Vacation boost"; the confirmation states the limits and refuses until ticked.
The API-key entry's menu -> "Add rule": the list offers only the key's enabled, supported rules;
one is picked and confirmed. "Add transfer route": the token's entry says transfers need an API
key; the API key's offers the accounts Sequence lets send and receive, and the route Emergency
Fund -> Vacation is confirmed with its maximums. Settings -> Tools -> Actions (YAML mode):
``sequence.trigger_rule`` on the Remote API rule's device shows its response (triggered) and
moves the simulator's money, the rule's device page says "Triggered", and Activity reads
"Sequence rule Vacation boost was triggered", by the user. ``sequence.transfer`` on the route
with ``simulate: true`` (response simulated, no money moved, its Activity line), then live
(sent; the simulator moves the money); once the route's device page says "Complete", the API
key's balances over REST and the destination's device page show the simulator's new balances,
and Activity has "sent" and "moved". The Calendar panel shows the card's minimum payment on its
due date and a daily rule's runs; ``sequence.get_transfers`` lists the live transfer. The rule's
"Change rule" form has an empty secret field, and both entries' diagnostics count the subentries
and money actions. After every step, nothing the page shows (text in every shadow root, fields
other than password fields, tooltips, links) is the token, the API key or the rule secret, and
no diagnostics file holds one.

Every step waits on conditions (Playwright's auto-waiting locators and ``expect``), saves a
screenshot as ``artifacts/e2e/<ha-version>/NN-step.png``, and a failure names the step, saves
``NN-FAILED-step.png`` and keeps the Home Assistant and simulator logs beside it.

Usage: ``.venv/bin/python -m tools.e2e [--artifacts DIR] [--headed]`` (``script/e2e`` wraps it).
"""

import argparse
from collections.abc import Callable, Iterator, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
import json
import os
from pathlib import Path
import re
import secrets
import shutil
import sys
import tempfile
import time
from typing import Any, Final
import urllib.request

from playwright.sync_api import (
    Error as PlaywrightError,
    Locator,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from tools import dev_instance
from tools.dev_instance import HomeAssistantApi
from tools.simulator.platform_seed import (
    EMERGENCY_FUND,
    PAYDAY_RULE,
    ROUND_UPS_RULE,
    TAXES,
    VACATION,
)
from tools.simulator.remote_rules import DEV_RULE_SECRET, TRIGGER_PATHS
from tools.simulator.state import platform_id_of

CHROMIUM: Final = Path(os.environ.get("SEQUENCE_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Debian's Chromium on these machines: no sandbox as root, and nothing that calls out (the
closed network refuses Google's hosts); Playwright gives it a new empty profile each launch."""
TIMEOUT_MS: Final = 30_000
"""How long any one UI condition may take (a cold frontend on two cores needs a few seconds)."""
VIEWPORT: Final = ViewportSize(width=1280, height=900)
ROOT: Final = dev_instance.ROOT
TRANSLATIONS: Final = dev_instance.INTEGRATION_DIR / "translations" / "en.json"
GROCERIES_ACCOUNT_ID: Final = "4410021"
CREDIT_CARD: Final = "Sapphire Visa 4417"
"""The simulator's one debt (a LIABILITY on the Platform API)."""
HUB_MODEL: Final = "Sequence account"
TOKEN_ENTRY_TITLE: Final = "Sequence"  # noqa: S105 - an entry title, not a secret
LIABILITY: Final = "LIABILITY"
LIABILITIES_SENSOR: Final = "sensor.sequence_liabilities_total"
PRIVATE_FIELDS: Final = ("routingNumber", "bankAccountNumber")
"""What the Platform API's account details carry that must never reach Home Assistant."""
REMOTE_RULE: Final = "ru_10001"
"""The simulator's household Remote API rule ($25.00 from Taxes to Vacation), which the
token's entry adds with its trigger URL and :data:`DEV_RULE_SECRET`."""
REMOTE_RULE_NAME: Final = "Vacation boost"
PLATFORM_RULE: Final = PAYDAY_RULE
"""The Platform API rule the API key's entry adds, picked from the list (named as in Sequence)."""
SCHEDULED_RULE: Final = ROUND_UPS_RULE
"""A rule Sequence runs every day: the payments calendar shows its runs."""
ROUTE_SOURCE: Final = EMERGENCY_FUND
ROUTE_DESTINATION: Final = VACATION
"""The transfer route the run adds: a pair the simulator's development key may move money on."""
ROUTE_LIMITS_CENTS: Final = (10_000, 25_000)
"""The route's maximum per transfer and per day."""
ROUTE_DESCRIPTION: Final = "Vacation"
TRANSFER_CENTS: Final = 5_000
RULE_LIMITS: Final = {"runs": "3 times", "minutes": "5"}
"""The rule form's default limits, as the confirmation states them (3 live runs a day, at
least 5 minutes apart)."""
RULE_LOGBOOK: Final = "was triggered"
"""What the logbook says after "Sequence rule NAME" once a Remote API rule was triggered."""
TRANSFER_LOGBOOK: Final = (
    "simulated a transfer of ${amount}; no money moved",
    "sent a transfer of ${amount}",
    "moved ${amount}",
)
"""What the logbook says after "Sequence transfer route NAME": the simulation, then the live
transfer sent and completed (``{amount}``: dollars with cents)."""
FAST_SETTLING: Final = {"processing_seconds": 0.5, "settle_seconds": 1.5}
"""The simulator's transfer timing for the run: complete before the integration's first look,
two seconds after it sent the transfer, instead of the default five seconds."""
DEEP_TEXT_JS: Final = """() => {
  const parts = [];
  const visit = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) { parts.push(node.data); continue; }
      if ((node.tagName === "INPUT" && node.type !== "password") || node.tagName === "TEXTAREA") {
        parts.push(node.value);
      }
      for (const name of ["title", "aria-label", "placeholder", "href", "value"]) {
        const value = node.getAttribute(name);
        if (value && !(node.tagName === "INPUT" && node.type === "password")) parts.push(value);
      }
      if (node.shadowRoot) visit(node.shadowRoot);
    }
  };
  visit(document);
  return parts.join("\\n");
}"""
"""Everything the page can show: text (in every shadow root too), the values of fields that are
not password fields, and the attributes a browser shows (tooltips, labels, links)."""


class E2EError(AssertionError):
    """The run found something wrong; the message says what, in user-facing terms."""


# --- Pure helpers (unit-tested) ----------------------------------------------------------------


def usd(cents: int) -> str:
    """How Home Assistant's English frontend shows a USD amount: ``$1,850.00``, ``-$3.50``."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${Decimal(abs(cents)) / 100:,.2f}"


def leaked_values(text: str, *, token: str, accounts: Sequence[Mapping[str, Any]]) -> list[str]:
    """What of the token, the account names and ids, and the balances appears in ``text``.

    Balances are looked for as numbers with two decimals and in their shortest float form
    (``1850.50`` and ``1850.5``), not inside longer numbers (``10.00`` is not ``110.001``).
    """
    found = [token] if token in text else []
    for account in accounts:
        found += [value for value in (account["name"], account["id"]) if value in text]
        cents = account.get("balance_cents")
        if cents is None:
            continue
        dollars = Decimal(cents) / 100
        for shown in {f"{dollars:.2f}", repr(float(dollars))}:
            if re.search(rf"(?<![\d.]){re.escape(shown)}(?![\d])", text):
                found.append(shown)
    return found


def balance_mismatches(
    states: Sequence[Mapping[str, Any]], accounts: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Accounts whose balance sensor (found by its ``account_id``) does not show the simulator's."""
    by_account = {
        state["attributes"].get("account_id"): state
        for state in states
        if state["entity_id"].startswith("sensor.sequence_")
    }
    problems = []
    for account in accounts:
        state = by_account.get(account["id"])
        if state is None:
            problems.append(f"{account['name']}: no balance sensor")
            continue
        cents = account["balance_cents"]
        expected = "unknown" if cents is None else f"{Decimal(cents) / 100:.2f}"
        if state["state"] != expected:
            problems.append(f"{state['entity_id']} is {state['state']!r}, expected {expected!r}")
    return problems


def platform_accounts(
    state_accounts: Sequence[Mapping[str, Any]], items: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The simulator's accounts as the Platform API knows them: its ids, the state's balances.

    ``state_accounts`` from ``/_simulator/state`` (Remote API ids, balances in cents),
    ``items`` from ``GET /platform/v1/accounts``; both APIs show the same bank, joined by name.
    Each account: ``id`` (the Platform API's), ``name``, ``balance_cents`` and ``liability``.
    """
    by_name = {account["name"]: account for account in state_accounts}
    missing = sorted(item["name"] for item in items if item["name"] not in by_name)
    if missing or len(items) != len(state_accounts):
        msg = (
            f"the Platform API's accounts differ from the simulator's state (not in it: {missing})"
        )
        raise E2EError(msg)
    return [
        {
            "id": item["id"],
            "name": item["name"],
            "balance_cents": by_name[item["name"]]["balance_cents"],
            "liability": item.get("externalAccountType") == LIABILITY,
        }
        for item in items
    ]


def net_worth_cents(accounts: Sequence[Mapping[str, Any]]) -> int:
    """Everything held minus everything owed; accounts without a balance are left out."""
    return sum(
        -account["balance_cents"] if account["liability"] else account["balance_cents"]
        for account in accounts
        if account["balance_cents"] is not None
    )


def liabilities_cents(accounts: Sequence[Mapping[str, Any]]) -> int:
    """Everything owed (a debt's balance is the positive amount owed)."""
    return sum(
        account["balance_cents"]
        for account in accounts
        if account["liability"] and account["balance_cents"] is not None
    )


def private_numbers(details: Sequence[Mapping[str, Any]]) -> set[str]:
    """The routing and account numbers in Platform API account details."""
    return {str(detail[name]) for detail in details for name in PRIVATE_FIELDS if detail.get(name)}


def state_mismatches(states: Sequence[Mapping[str, Any]], expected: Mapping[str, int]) -> list[str]:
    """Entities whose state is not the expected amount (``entity_id``: cents)."""
    by_id = {state["entity_id"]: state["state"] for state in states}
    problems = []
    for entity_id, cents in expected.items():
        shown = f"{Decimal(cents) / 100:.2f}"
        if by_id.get(entity_id) != shown:
            problems.append(f"{entity_id} is {by_id.get(entity_id)!r}, expected {shown!r}")
    return problems


def leaked_secrets(text: str, secrets: Mapping[str, str]) -> list[str]:
    """The names of the ``secrets`` (name: value) whose value is in ``text``.

    Names, so that a failure says which secret leaked without repeating it.
    """
    return [name for name, secret in secrets.items() if secret and secret in text]


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """A translation with its ``{name}`` placeholders filled in, as Home Assistant shows it.

    Fails on a placeholder without a value, so a renamed placeholder cannot pass unnoticed.
    """

    def value(match: re.Match[str]) -> str:
        if match[1] not in values:
            msg = f"no value for the placeholder {{{match[1]}}} of {text!r}"
            raise E2EError(msg)
        return values[match[1]]

    return re.sub(r"\{(\w+)\}", value, text)


def response_fields(lines: Sequence[str]) -> dict[str, str]:
    """The top-level ``key: value`` lines of an action's response as the UI shows it (YAML).

    Quotes around a value are dropped (``amount: '50.00'`` is ``50.00``); nested lines and
    keys without a value on their line (lists, mappings) are left out.
    """
    found = {}
    for line in lines:
        match = re.fullmatch(r"([A-Za-z_]\w*): (\S.*)", line.rstrip())
        if match:
            found[match[1]] = match[2].strip("'\"")
    return found


def month_heading(day: date) -> str:
    """The calendar panel's heading for the month of ``day`` (``December 2026``)."""
    return f"{day:%B} {day.year}"


def describe(err: BaseException) -> str:
    """The first line of an error, plus what Playwright was waiting for (its call log)."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    waiting = [line.removeprefix("- ") for line in lines[1:] if "waiting for" in line]
    return lines[0] + (f" ({waiting[-1]})" if waiting else "")


def artifacts_folder(base: Path, ha_version: str) -> Path:
    """Where one run's screenshots go: ``base/<ha-version>``."""
    return base / re.sub(r"[^\w.+-]", "_", ha_version)


# --- The simulator's control API ---------------------------------------------------------------


@dataclass(slots=True)
class SimulatorControl:
    """The simulator's ``/_simulator/`` API."""

    url: str

    def _call(self, method: str, path: str, body: object = None) -> Any:  # noqa: ANN401 - JSON
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the simulator we started, on loopback
            f"{self.url}/_simulator{path}", data=data, method=method
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())

    def state(self) -> dict[str, Any]:
        """``GET /_simulator/state``: accounts, rules, keys' grants (never a secret)."""
        state: dict[str, Any] = self._call("GET", "/state")
        return state

    def accounts(self) -> list[dict[str, Any]]:
        """Every account with its balance in cents now."""
        accounts: list[dict[str, Any]] = self.state()["accounts"]
        return accounts

    def freeze_balances(self) -> None:
        """Stop the slow drift, so what the UI shows can be compared with the state exactly."""
        for account in self.accounts():
            self._call("PATCH", f"/accounts/{account['id']}", {"drift_cents": 0})

    def scenario(self, name: str) -> None:
        """Switch the scenario (``ok``, ``token_revoked``, ...)."""
        self._call("POST", "/scenario", {"scenario": name})

    def balances(self) -> dict[str, int | None]:
        """Every account's balance in cents now, by its (Remote API) id."""
        return {account["id"]: account["balance_cents"] for account in self.accounts()}

    def timing(self, settings: Mapping[str, float]) -> None:
        """How money requests unfold from now on (``processing_seconds``, ...)."""
        self._call("POST", "/timing", dict(settings))

    def platform(self, api_key: str, path: str) -> Any:  # noqa: ANN401 - JSON
        """``GET /platform/v1<path>`` with ``api_key``, as a client does; the ``data``."""
        request = urllib.request.Request(  # noqa: S310 - the simulator we started, on loopback
            f"{self.url}/platform/v1{path}", headers={"Authorization": f"Bearer {api_key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())["data"]

    def platform_details(self, api_key: str) -> list[dict[str, Any]]:
        """Every account's Platform API details (one page holds the simulator's accounts)."""
        items = self.platform(api_key, "/accounts?pageSize=100")["items"]
        return [self.platform(api_key, f"/accounts/{item['id']}") for item in items]


# --- The run -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    """One browser run: the page, where screenshots go, and what the steps share."""

    page: Page
    folder: Path
    ha: HomeAssistantApi
    simulator: SimulatorControl
    token: str
    api_key: str
    strings: Mapping[str, Any]
    accounts: list[dict[str, Any]] = field(default_factory=list)
    platform: list[dict[str, Any]] = field(default_factory=list)
    """The accounts by their Platform API ids (see :func:`platform_accounts`)."""
    details: list[dict[str, Any]] = field(default_factory=list)
    """The Platform API's account details, as the simulator serves them to the API key."""
    devices: dict[str, str] = field(default_factory=dict)
    """Device ids of the rules and the route the run added, by name (from their pages' URLs)."""
    balances: dict[str, int | None] = field(default_factory=dict)
    """The simulator's balances before the live transfer, by Remote API id."""
    route: str = ""
    """The transfer route's name (its device's), once added."""
    transfer_id: str = ""
    """The live transfer's id, as its action's response showed it."""
    screenshots: int = 0
    page_errors: list[str] = field(default_factory=list)

    @property
    def secrets(self) -> dict[str, str]:
        """What no page and no diagnostics file may show, by what it is."""
        return {
            "the access token": self.token,
            "the API key": self.api_key,
            "the rule secret": DEV_RULE_SECRET,
        }

    def assert_shows_no_secret(self) -> None:
        """Nothing on the page (text, fields, tooltips, links) is a credential or rule secret.

        The user's name, deep in the sidebar's shadow roots, must be found: proof that the
        reader sees what the page shows.
        """
        shown = self.page.evaluate(DEEP_TEXT_JS)
        if dev_instance.DEV_NAME not in shown:
            msg = f"the page's text, as read, lacks the sidebar's {dev_instance.DEV_NAME!r}"
            raise E2EError(msg)
        leaks = leaked_secrets(shown, self.secrets)
        if leaks:
            msg = f"the page shows {' and '.join(leaks)}"
            raise E2EError(msg)

    def shot(self, name: str) -> Path:
        """Save a screenshot ``NN-name.png`` of the page as it is now."""
        self.screenshots += 1
        path = self.folder / f"{self.screenshots:02d}-{name}.png"
        # Transitions end at once: a dialog fading in is shown as it will be, not half there.
        self.page.screenshot(path=path, animations="disabled")
        return path

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Run one step: screenshot after it, or a FAILED screenshot and a clear error."""
        started = time.monotonic()
        print(f"  {name} ...", end="", flush=True)
        try:
            yield
            self.assert_shows_no_secret()
        except (PlaywrightError, AssertionError, OSError, dev_instance.DevInstanceError) as err:
            print(" FAILED")
            with contextlib.suppress(PlaywrightError):
                print(f"    screenshot: {self.shot(f'FAILED-{name}')}")
            msg = f"step {name!r} failed: {describe(err)}"
            if self.page_errors:
                msg += f" (browser errors: {'; '.join(self.page_errors[-3:])})"
            raise E2EError(msg) from err
        path = self.shot(name)
        print(f" ok ({time.monotonic() - started:.1f} s) {path.name}")

    def text(self, *keys: str) -> str:
        """A string of the integration's English translation, by its path."""
        value: Any = self.strings
        for key in keys:
            value = value[key]
        if not isinstance(value, str):
            msg = f"translations/en.json has no string at {'.'.join(keys)}"
            raise E2EError(msg)
        return value

    @property
    def names(self) -> list[str]:
        """The simulator's account names."""
        return [account["name"] for account in self.accounts]

    def load(self, path: str | None = None) -> None:
        """Load a page of Home Assistant (``path``), or reload this one, as a person would.

        Returns once the launch screen, which fades out over the page, is gone.
        """
        if path is None:
            self.page.reload()
        else:
            self.page.goto(f"{self.ha.url}{path}")
        expect(self.page.locator("#ha-launch-screen")).to_have_count(0)

    def goto_integrations(self) -> None:
        """Settings -> Devices & services, as a user gets there."""
        self.page.get_by_role("link", name="Settings").first.click()
        self.page.get_by_role("link", name=re.compile(r"^Devices & services")).click()
        expect(self.page.get_by_role("button", name="Add integration")).to_be_visible()

    def open_entry(self, title: str) -> None:
        """Devices & services -> the Sequence card -> the entry titled ``title`` is listed."""
        self.goto_integrations()
        self.page.get_by_role("link", name=re.compile(r"^Sequence\b")).click()
        expect(self.entry_row(title)).to_be_visible()

    def open_integration_page(self) -> None:
        """Devices & services -> the configured Sequence card."""
        self.goto_integrations()
        self.page.get_by_role("link", name=re.compile(r"^Sequence\b")).click()
        expect(self.device_row("Sequence account")).to_be_visible()

    def entry_row(self, title: str) -> Locator:
        """A config entry of the integration page, by its (unique) title."""
        return self.page.locator("ha-config-entry-row").filter(
            has=self.page.get_by_text(title, exact=True)
        )

    def press_refresh(self) -> None:
        """Press the hub device page's Refresh button.

        The first match: while the page re-renders (a state written meanwhile), the frontend
        can briefly hold the old card beside the new one.
        """
        button = self.page.get_by_role("button", name="Press").first
        expect(button).to_be_visible()
        button.click()

    def device_row(self, text: str, *, entry: str | None = None) -> Locator:
        """A device row of the integration page, by its name (or model).

        With ``entry`` (a title), only that entry's: with two entries every name is there twice.
        """
        within = self.entry_row(entry) if entry else self.page
        return within.locator("ha-config-entry-device-row").filter(
            has_text=re.compile(rf"(^|\s){re.escape(text)}(\s|$)")
        )

    def entity_row(self, name: str) -> Locator:
        """The row of a device page's entity card, by the entity's whole name.

        Whole: "Balance" is not the row of "Balance status".
        """
        return self.page.locator("hui-generic-entity-row").filter(
            has=self.page.get_by_text(name, exact=True)
        )

    def balance_status_row(self) -> Locator:
        """A linked account's "Balance status" row, on its device page."""
        return self.entity_row(self.text("entity", "sensor", "balance_status", "name"))

    def balance_status_text(self, account: Mapping[str, Any]) -> str:
        """What the status of a simulator account with a balance error shows (a known reason)."""
        reason = re.sub(r"\W+", "_", account["error"].strip().lower())
        return self.text("entity", "sensor", "balance_status", "state", reason)

    def flow_dialog(self) -> Locator:
        """The config flow dialog (its content is slotted, so not inside role=dialog)."""
        return self.page.locator("dialog-data-entry-flow")

    def base_url_field(self) -> Locator:
        """The setup form's base URL field, in its Advanced section."""
        advanced = ("config", "step", "user", "sections", "advanced")
        return self.flow_dialog().get_by_role(
            "textbox", name=self.text(*advanced, "data", "base_url")
        )

    def reauth_card(self) -> Locator:
        """The card Devices & services shows while Sequence needs a new credential."""
        return self.page.locator("ha-config-flow-card").filter(has_text="Sequence")

    def entry_id(self, title: str) -> str:
        """The id of the Sequence entry titled ``title`` (as its menu's "Copy entry ID" gives)."""
        return str(
            next(
                item["entry_id"]
                for item in self.ha.config_entries(dev_instance.DOMAIN)
                if item["title"] == title
            )
        )

    def account_row(self, name: str, entry: str) -> Locator:
        """An account's device row in ``entry``, by its whole name.

        Whole: the route "Emergency Fund → Vacation" is not the account "Vacation".
        """
        return (
            self.entry_row(entry)
            .locator("ha-config-entry-device-row")
            .filter(has=self.page.get_by_text(name, exact=True))
        )

    def open_device(self, name: str, entry: str) -> str:
        """From the integration page, a device's page (by its whole name); the device's id."""
        self.account_row(name, entry).click()
        expect(self.page).to_have_url(re.compile(r"/config/devices/device/\w+$"))
        device_id = self.page.url.rsplit("/", 1)[1]
        self.devices[name] = device_id
        return device_id

    def start_subentry_flow(self, kind: str, entry: str) -> Locator:
        """The integration page's "Add rule" / "Add transfer route" button, for ``entry``.

        With two entries Home Assistant first asks which one (a list of their titles).
        """
        label = self.text("config_subentries", kind, "initiate_flow", "user")
        self.page.get_by_role("button", name=label).click()
        picker = self.page.locator("ha-dialog").filter(has_text=label)
        picker.get_by_text(entry, exact=True).click()
        return self.flow_dialog()

    def confirm_subentry(self, kind: str, statement: Mapping[str, str], title: str) -> None:
        """The confirmation step: it states what the subentry allows, refuses until ticked.

        Then ticked, it creates the subentry (Home Assistant's "Created configuration for").
        """
        dialog = self.flow_dialog()
        confirm = ("config_subentries", kind, "step", "confirm")
        expect(dialog.get_by_text(self.text(*confirm, "title"))).to_be_visible()
        expect(dialog).to_contain_text(
            fill_placeholders(self.text(*confirm, "description"), statement)
        )
        expect(dialog).to_contain_text(self.text(*confirm, "data", "confirm"))
        dialog.get_by_role("button", name="Submit").click()
        refused = self.text("config_subentries", kind, "error", "confirm_required")
        expect(dialog.locator("ha-alert").filter(has_text=refused)).to_be_visible()
        self.shot(f"{kind}-confirm-required")
        # The switch: 2026.10 gives its input no accessible name (2026.11 names it after
        # the field), and its thumb covers the input, so the visible switch is clicked.
        dialog.locator("ha-switch").click()
        expect(dialog.get_by_role("switch")).to_be_checked()
        dialog.get_by_role("button", name="Submit").click()
        expect(dialog.get_by_text(f"Created configuration for {title}.")).to_be_visible()
        dialog.get_by_role("button", name="Finish").click()
        expect(dialog.get_by_role("button", name="Finish")).to_have_count(0)

    def open_actions(self) -> None:
        """Settings -> Tools -> Actions, in YAML mode (Home Assistant 2026's developer tools)."""
        self.page.get_by_role("link", name="Settings").first.click()
        self.page.get_by_role("link", name=re.compile(r"^Tools")).click()
        self.page.get_by_role("tab", name="Actions").click()
        self.page.get_by_role("button", name="YAML mode").click()
        expect(self.action_editor()).to_be_visible()

    def action_editor(self) -> Locator:
        """The Actions tool's YAML editor (the first code editor: the response has one too)."""
        return self.page.locator("ha-code-editor .cm-content").first

    def perform_action(self, action: str, data: Mapping[str, object], shows: str) -> Locator:
        """Perform ``action`` with ``data`` (YAML mode); once its response ``shows``, the response.

        ``shows`` must be text the previous response did not have: the card keeps the last
        response until the next one arrives.
        """
        lines = [f"action: {action}", "data:"]
        lines += [f"  {key}: {json.dumps(value)}" for key, value in data.items()]
        self.action_editor().fill("\n".join(lines) + "\n")
        self.page.get_by_role("button", name="Perform action").click()
        response = (
            self.page.locator("ha-card").filter(has_text="Response").locator("ha-code-editor")
        )
        expect(response).to_contain_text(shows)
        response.scroll_into_view_if_needed()
        return response

    def response(self, response: Locator) -> dict[str, str]:
        """The top-level fields of a response the Actions tool shows."""
        return response_fields(response.locator(".cm-line").all_inner_texts())

    def logbook_line(self, name: str, message: str) -> Locator:
        """The Activity page's line of a logbook entry: its name, its message, who asked.

        Home Assistant shows the name in bold, then the message, then "By" the user. The list
        draws only the lines in view (and a few more): look for a line soon after its action,
        while a few newer lines are above it.
        """
        line = (
            self.page.locator("ha-logbook-renderer .entry, ha-logbook-renderer .entry-container")
            .filter(has_text=name)
            .filter(has_text=message)
        )
        expect(line.first).to_contain_text(f"By {dev_instance.DEV_NAME}")
        return line.first


def log_in(run: Run) -> None:
    """The login page, with the development credentials."""
    page = run.page
    page.goto(run.ha.url)
    page.get_by_role("textbox", name="Username").fill(dev_instance.DEV_USERNAME)
    page.get_by_role("textbox", name="Password").fill(dev_instance.DEV_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Settings").first).to_be_visible()


def search_integration(run: Run) -> None:
    """Add integration -> search "Sequence"."""
    page = run.page
    run.goto_integrations()
    page.get_by_role("button", name="Add integration").click()
    page.get_by_placeholder("Search for a brand name").fill("Sequence")
    # In the dialog: once Sequence is set up, its card on the page behind says "Sequence" too.
    expect(
        page.locator("dialog-add-integration").get_by_text("Sequence", exact=True)
    ).to_be_visible()


def fill_config_flow(run: Run, credential: str | None = None) -> None:
    """Pick Sequence; the credential, then the simulator's URL in the collapsed Advanced section.

    The credential is the token unless given (the API key).
    """
    credential = credential or run.token
    run.page.locator("dialog-add-integration").get_by_text("Sequence", exact=True).click()
    dialog = run.flow_dialog()
    user = ("config", "step", "user")
    expect(dialog.get_by_text(run.text(*user, "title"))).to_be_visible()
    token = dialog.get_by_role("textbox", name=run.text(*user, "data", "api_token"))
    token.fill(credential)
    base_url = run.base_url_field()
    expect(base_url).to_be_hidden()  # collapsed until opened
    dialog.get_by_role("button", name=run.text(*user, "sections", "advanced", "name")).click()
    expect(base_url).to_be_visible()
    base_url.fill(run.simulator.url)
    expect(base_url).to_have_value(run.simulator.url)
    # Visible is not enough for the screenshot: the section may still be unfolding (clipped).
    expect(base_url).to_be_in_viewport(ratio=1)
    expect(token).to_have_value(credential)


def setup_url_error(run: Run) -> None:
    """A base URL with the Platform API's path: the form says what to enter, keeps the token.

    After the error the form is new: the token field still holds what was pasted (Sequence shows
    a credential once), and the Advanced section is open on its own, with the error above it.
    """
    dialog = run.flow_dialog()
    user = ("config", "step", "user")
    base_url = run.base_url_field()
    base_url.fill(f"{run.simulator.url}/platform/v1")
    dialog.get_by_role("button", name="Submit").click()
    message = run.text("config", "error", "url_path").replace("{host_url}", run.simulator.url)
    expect(dialog.locator("ha-alert").filter(has_text=message)).to_be_visible()
    expect(base_url).to_be_visible()  # opened for the error, not by a click
    expect(base_url).to_have_value(f"{run.simulator.url}/platform/v1")
    token = dialog.get_by_role("textbox", name=run.text(*user, "data", "api_token"))
    expect(token).to_have_value(run.token)
    run.shot("setup-url-error-shown")
    base_url.fill(run.simulator.url)
    expect(base_url).to_be_in_viewport(ratio=1)


def submit_and_see_devices(run: Run, shot: str = "devices-created") -> None:
    """Submit; the success dialog lists a device per account (plus the Sequence hub)."""
    dialog = run.flow_dialog()
    dialog.get_by_role("button", name="Submit").click()
    device_names = dialog.get_by_role("textbox", name="Device name")
    expect(device_names).to_have_count(len(run.accounts) + 1)
    for name in run.names:
        expect(dialog.get_by_placeholder(name, exact=True)).to_have_count(1)
    run.shot(shot)
    dialog.get_by_role("button", name=re.compile("finish", re.IGNORECASE)).click()
    expect(dialog.get_by_role("textbox", name="Device name")).to_have_count(0)


def integration_page_lists_accounts(run: Run) -> None:
    """The integration's page lists a device for every simulator account."""
    run.open_integration_page()
    for name in run.names:
        expect(run.device_row(name)).to_be_visible()
    expect(run.page.locator("ha-config-entry-device-row")).to_have_count(len(run.accounts) + 1)


def balances_match(run: Run) -> None:
    """Every balance, over the REST API and on each account's device page, is the simulator's."""
    states = run.ha.call("GET", "/api/states")
    problems = balance_mismatches(states, run.accounts)
    if problems:
        raise E2EError("REST states differ from the simulator: " + "; ".join(problems))
    page = run.page
    groceries = next(a for a in run.accounts if a["id"] == GROCERIES_ACCOUNT_ID)
    for account in [groceries, *(a for a in run.accounts if a is not groceries)]:
        run.device_row(account["name"]).click()
        cents = account["balance_cents"]
        shown = "Unknown" if cents is None else usd(cents)
        expect(run.entity_row(run.text("entity", "sensor", "pod_balance", "name"))).to_contain_text(
            shown
        )
        if account["error"]:  # why there is no balance: its status, under Diagnostic
            expect(run.balance_status_row()).to_contain_text(run.balance_status_text(account))
            run.shot("balance-status")
        if account is groceries:
            run.shot("groceries-balance")
        page.go_back()
        expect(run.device_row(account["name"])).to_be_visible()
    # The step's own screenshot shows the hub device, with the totals.
    run.device_row("Sequence account").click()
    expect(page.get_by_role("button", name="Press")).to_be_visible()


def download_diagnostics(run: Run) -> None:
    """The entry's menu -> Download diagnostics: no token, account name, id or balance in it."""
    page = run.page
    page.go_back()
    entry = page.locator("ha-config-entry-row").first
    with page.expect_download() as download_info:
        entry.get_by_role("button", name="Menu").first.click()
        page.get_by_role("menuitem", name="Download diagnostics").click()
    path = run.folder / "diagnostics.json"
    download_info.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    diagnostics = json.loads(text)
    accounts = diagnostics["data"]["accounts"]
    if accounts["returned"] != len(run.accounts):
        count = accounts["returned"]
        msg = f"diagnostics count {count} accounts, the simulator has {len(run.accounts)}"
        raise E2EError(msg)
    leaks = leaked_values(text, token=run.token, accounts=run.accounts)
    if leaks:
        msg = f"diagnostics ({path}) contain private values: {leaks}"
        raise E2EError(msg)
    page.keyboard.press("Escape")


def refresh_during_outage(run: Run) -> None:
    """Sequence answers 502 with an HTML page: Refresh calls it an outage, not an API change."""
    run.simulator.scenario("bad_gateway_html")
    page = run.page
    run.device_row("Sequence account").click()
    run.press_refresh()
    expect(page.locator("ha-toast")).to_contain_text(
        run.text("exceptions", "unavailable", "message")
    )

    def api_problem_is_outage() -> bool:
        state = run.ha.state("binary_sensor.sequence_api_problem")
        return bool(state and state["attributes"].get("error_kind") == "unavailable")

    dev_instance.wait_for(api_problem_is_outage, timeout=30, what="the API problem sensor")
    run.shot("outage-toast")
    run.simulator.scenario("ok")
    # Back to the integration page, reloaded: the toast stays 10 s and would otherwise be the
    # one the next step reads (and 2026.11 keeps the device page's Press button in the DOM).
    page.go_back()
    page.reload()
    expect(run.device_row("Sequence account")).to_be_visible()


def refresh_with_revoked_token(run: Run) -> None:
    """The simulator revokes the token; pressing Refresh shows Sequence's refusal."""
    run.simulator.scenario("token_revoked")
    page = run.page
    # A fresh integration page: Home Assistant keeps the last device page's DOM, with its own
    # Press button, when going back to it.
    run.load("/config/integrations/integration/sequence")
    run.device_row("Sequence account").click()
    run.press_refresh()
    expect(page.locator("ha-toast")).to_contain_text(
        run.text("exceptions", "invalid_auth_access_token", "message")
    )

    def entry_failed() -> bool:
        entries = run.ha.config_entries(dev_instance.DOMAIN)
        return bool(entries) and entries[0].get("state") == "setup_error"

    dev_instance.wait_for(entry_failed, timeout=30, what="the entry to say it failed")


def entry_status(run: Run) -> None:
    """While reauthentication is needed, the entry says so, with Sequence's refusal.

    Devices & services counts a failed entry on the Sequence card (beside the Reconfigure card),
    and the integration page shows the entry's reason. A poll that met the refusal left the
    entry loaded, showing nothing; the integration reloads it so that its setup says why.
    """
    page = run.page
    run.load("/config/integrations/dashboard")  # past the toast of the last step
    expect(run.reauth_card().get_by_role("button", name="Reconfigure")).to_be_visible()
    card = page.locator("ha-integration-card").filter(has_text="Sequence")
    expect(card).to_contain_text(re.compile("failed to set up", re.IGNORECASE))
    run.shot("entry-failed-card")
    card.click()
    reason = run.text("exceptions", "invalid_auth_access_token", "message").rstrip(".")
    expect(run.entry_row(TOKEN_ENTRY_TITLE)).to_contain_text(reason)


def reauth_prompt(run: Run) -> None:
    """Devices & services shows the reauthentication card for Sequence."""
    run.goto_integrations()
    expect(run.reauth_card().get_by_role("button", name="Reconfigure")).to_be_visible()


def reauth_wrong_kind(run: Run) -> None:
    """Reconfigure -> the reauth form; an API key pasted there is an error on the form.

    The form stays, with what was pasted, and says this entry uses an access token; closed, the
    card stays too: the flow is still there to finish.
    """
    run.reauth_card().get_by_role("button", name="Reconfigure").click()
    dialog = run.flow_dialog()
    reauth = ("config", "step", "reauth_access_token")
    expect(dialog.get_by_text(run.text(*reauth, "title"))).to_be_visible()
    run.shot("reauth-form")
    token = dialog.get_by_role("textbox", name=run.text(*reauth, "data", "api_token"))
    token.fill(run.api_key)
    dialog.get_by_role("button", name="Submit").click()
    message = run.text("config", "error", "wrong_kind_access_token")
    expect(dialog.locator("ha-alert").filter(has_text=message)).to_be_visible()
    expect(token).to_have_value(run.api_key)
    expect(dialog.get_by_role("button", name="Submit")).to_be_visible()
    run.shot("reauth-wrong-kind")
    dialog.get_by_role("button", name=re.compile("close|dismiss", re.IGNORECASE)).first.click()
    expect(dialog.get_by_role("textbox")).to_have_count(0)
    run.load()
    expect(run.reauth_card().get_by_role("button", name="Reconfigure")).to_be_visible()


def reauthenticate(run: Run) -> None:
    """Reconfigure -> the reauth form; with the token accepted again it succeeds, the card goes."""
    card = run.reauth_card()
    card.get_by_role("button", name="Reconfigure").click()
    dialog = run.flow_dialog()
    reauth = ("config", "step", "reauth_access_token")
    expect(dialog.get_by_text(run.text(*reauth, "title"))).to_be_visible()
    run.simulator.scenario("ok")
    dialog.get_by_role("textbox", name=run.text(*reauth, "data", "api_token")).fill(run.token)
    dialog.get_by_role("button", name="Submit").click()
    # The flow ends (Home Assistant shows its own "Re-authentication was successful" text for
    # this abort reason): the form and its Submit button give way to a Close button.
    expect(dialog.get_by_role("button", name="Submit")).to_have_count(0)
    expect(dialog.get_by_role("textbox")).to_have_count(0)
    run.shot("reauth-done")
    dialog.get_by_role("button", name="Close").last.click()  # the footer's, not the corner X
    expect(card).to_have_count(0)
    value = dev_instance.wait_until_loaded(run.ha, "sensor.sequence_groceries_balance")
    groceries = next(a for a in run.accounts if a["id"] == GROCERIES_ACCOUNT_ID)
    if Decimal(value) * 100 != groceries["balance_cents"]:
        msg = f"after reauth sensor.sequence_groceries_balance is {value}"
        raise E2EError(msg)
    card = run.page.locator("ha-integration-card").filter(has_text="Sequence")
    expect(card).not_to_contain_text(re.compile("failed to set up", re.IGNORECASE))


def add_with_api_key(run: Run) -> None:
    """Add integration -> "Sequence" again, now with the API key and the simulator's URL.

    The toast of the token-revoked step is gone: the entry-status step loaded a page since.
    """
    search_integration(run)
    fill_config_flow(run, run.api_key)


def api_key_devices(run: Run) -> None:
    """Submit; the API key sees the same accounts, so the same devices are offered."""
    submit_and_see_devices(run, "api-key-devices-created")


def amount_owed(run: Run) -> None:
    """The API key's balances over REST, then the credit card's "Amount owed" on its device page.

    Every balance sensor of the API-key entry (found by its Platform API account id) shows the
    simulator's balance; the credit card's is the positive amount owed.
    """
    run.details = run.simulator.platform_details(run.api_key)
    run.platform = platform_accounts(run.simulator.accounts(), run.details)
    card = next(account for account in run.platform if account["name"] == CREDIT_CARD)
    if not card["liability"] or not card["balance_cents"]:
        msg = f"the simulator's {CREDIT_CARD} is not a debt with a balance: {card}"
        raise E2EError(msg)
    problems = balance_mismatches(run.ha.call("GET", "/api/states"), run.platform)
    if problems:
        raise E2EError("REST states differ from the simulator: " + "; ".join(problems))
    run.open_entry(dev_instance.API_KEY_ENTRY_TITLE)
    run.device_row(CREDIT_CARD, entry=dev_instance.API_KEY_ENTRY_TITLE).click()
    owed = run.entity_row(run.text("entity", "sensor", "liability_balance", "name"))
    expect(owed).to_contain_text(usd(card["balance_cents"]))


def net_worth(run: Run) -> None:
    """The API key's hub device shows the net worth and what is owed; REST agrees."""
    expected = {
        dev_instance.NET_WORTH_SENSOR: net_worth_cents(run.platform),
        LIABILITIES_SENSOR: liabilities_cents(run.platform),
    }
    problems = state_mismatches(run.ha.call("GET", "/api/states"), expected)
    if problems:
        raise E2EError("REST states differ from the simulator: " + "; ".join(problems))
    page = run.page
    page.go_back()
    run.device_row(HUB_MODEL, entry=dev_instance.API_KEY_ENTRY_TITLE).click()
    sensor = ("entity", "sensor")
    expect(run.entity_row(run.text(*sensor, "net_worth", "name"))).to_contain_text(
        usd(expected[dev_instance.NET_WORTH_SENSOR])
    )
    expect(run.entity_row(run.text(*sensor, "liability_total", "name"))).to_contain_text(
        usd(expected[LIABILITIES_SENSOR])
    )


def api_key_balance_status(run: Run) -> None:
    """The same reason reads the same on the API-key entry (Sequence sends it as a code there)."""
    page = run.page
    page.go_back()
    failing = next(account for account in run.accounts if account["error"])
    run.device_row(failing["name"], entry=dev_instance.API_KEY_ENTRY_TITLE).click()
    expect(run.balance_status_row()).to_contain_text(run.balance_status_text(failing))


def api_key_diagnostics(run: Run) -> None:
    """The API-key entry's diagnostics, over REST: no routing or account number, and as usual.

    As usual: no key, account name, id or balance. The screenshot shows both entries on the
    integration page.
    """
    page = run.page
    page.go_back()
    title = dev_instance.API_KEY_ENTRY_TITLE
    entry = run.entry_row(title)
    expect(entry).to_be_visible()
    entry.get_by_text(title, exact=True).scroll_into_view_if_needed()
    diagnostics = run.ha.call("GET", f"/api/diagnostics/config_entry/{run.entry_id(title)}")
    path = run.folder / "diagnostics-api-key.json"
    text = json.dumps(diagnostics, indent=2)
    path.write_text(text, encoding="utf-8")
    data = diagnostics["data"]
    if data["entry"]["credential_kind"] != dev_instance.KIND_API_KEY:
        msg = f"diagnostics ({path}) are not of the API-key entry: {data['entry']}"
        raise E2EError(msg)
    accounts = data["accounts"]
    if (accounts["returned"], accounts["liabilities"]) != (len(run.platform), 1):
        msg = f"diagnostics ({path}) count {accounts}, the simulator has {len(run.platform)}"
        raise E2EError(msg)
    numbers = private_numbers(run.details)
    if len(numbers) < 2 * len(run.details):
        msg = f"the simulator served {len(numbers)} routing/account numbers, expected more"
        raise E2EError(msg)
    leaks = sorted(number for number in numbers if number in text)
    leaks += leaked_values(text, token=run.api_key, accounts=run.platform)
    if leaks:
        msg = f"diagnostics ({path}) contain private values: {leaks}"
        raise E2EError(msg)


# --- Moving money and asking about it (rules, transfer routes, look-ups) ----------------------


def add_remote_rule(run: Run) -> None:
    """Add rule (on the integration page) for the access token's entry: a Remote API rule.

    The form says the URL must be on the entry's API host; a trigger URL on another host is a
    field error, the simulator's URL is accepted with the rule's API secret (a password field),
    and the confirmation states the rule's name and limits before the rule is added.
    """
    run.load("/config/integrations/integration/sequence")
    dialog = run.start_subentry_flow("rule", TOKEN_ENTRY_TITLE)
    form = ("config_subentries", "rule", "step", "access_token")
    expect(dialog.get_by_text(run.text(*form, "title"))).to_be_visible()
    expect(dialog).to_contain_text(run.simulator.url)  # the API host the form names
    trigger_path = TRIGGER_PATHS[0].format(id=REMOTE_RULE)
    trigger_url = dialog.get_by_role("textbox", name=run.text(*form, "data", "trigger_url"))
    elsewhere = run.simulator.url.replace("127.0.0.1", "localhost")
    trigger_url.fill(f"{elsewhere}{trigger_path}")
    secret = dialog.get_by_role("textbox", name=run.text(*form, "data", "secret"))
    secret.fill(DEV_RULE_SECRET)
    expect(secret).to_have_attribute("type", "password")
    dialog.get_by_role("textbox", name=run.text(*form, "data", "name")).fill(REMOTE_RULE_NAME)
    dialog.get_by_role("button", name="Submit").click()
    wrong_host = run.text("config_subentries", "rule", "error", "trigger_url_host")
    expect(dialog).to_contain_text(fill_placeholders(wrong_host, {"api_host": run.simulator.url}))
    run.shot("rule-trigger-url-elsewhere")
    trigger_url.fill(f"{run.simulator.url}{trigger_path}")
    dialog.get_by_role("button", name="Submit").click()
    run.confirm_subentry("rule", {"name": REMOTE_RULE_NAME, **RULE_LIMITS}, REMOTE_RULE_NAME)
    run.account_row(REMOTE_RULE_NAME, TOKEN_ENTRY_TITLE).scroll_into_view_if_needed()


def add_platform_rule(run: Run) -> None:
    """The API key's entry menu -> "Add rule": a rule picked from those Sequence lists.

    The list holds the key's enabled rules that Home Assistant can run (the simulator's
    disabled and unsupported ones are not offered); the name left empty is Sequence's.
    """
    rules = run.simulator.platform(run.api_key, "/rules?pageSize=100")["items"]
    offered = sorted(
        (rule["name"] for rule in rules if rule["status"] == "ENABLED" and rule["isSupported"]),
        key=str.lower,
    )
    if len(offered) == len(rules):
        msg = "the simulator has no disabled or unsupported rule to leave out"
        raise E2EError(msg)
    name = next(rule["name"] for rule in rules if rule["id"] == PLATFORM_RULE)
    entry = run.entry_row(dev_instance.API_KEY_ENTRY_TITLE)
    entry.get_by_role("button", name="Menu").first.click()
    add_rule = run.text("config_subentries", "rule", "initiate_flow", "user")
    run.page.get_by_role("menuitem", name=add_rule).click()
    dialog = run.flow_dialog()
    form = ("config_subentries", "rule", "step", "api_key")
    expect(dialog.get_by_text(run.text(*form, "title"))).to_be_visible()
    dialog.locator("ha-select").click()
    options = dialog.get_by_role("menuitem")
    expect(options).to_have_text(offered)
    run.shot("rule-list")
    options.filter(has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")).click()
    dialog.get_by_role("button", name="Submit").click()  # a dry run, then the confirmation
    run.confirm_subentry("rule", {"name": name, **RULE_LIMITS}, name)
    run.account_row(name, dev_instance.API_KEY_ENTRY_TITLE).scroll_into_view_if_needed()


def add_route(run: Run) -> None:
    """Add transfer route: the access token's entry says why it cannot; the API key's can.

    The route's accounts are offered as Sequence allows them (a source can send, a destination
    receive); the confirmation states both maximums and both accounts.
    """
    names = {item["id"]: item["name"] for item in run.details}
    sources = sorted((d["name"] for d in run.details if d["canBeSource"]), key=str.lower)
    destinations = sorted((d["name"] for d in run.details if d["canBeDestination"]), key=str.lower)
    source = names[platform_id_of(ROUTE_SOURCE)]
    destination = names[platform_id_of(ROUTE_DESTINATION)]
    dialog = run.start_subentry_flow("transfer_route", TOKEN_ENTRY_TITLE)
    refusal = run.text("config_subentries", "transfer_route", "abort", "transfers_need_api_key")
    expect(dialog.get_by_text(refusal)).to_be_visible()
    run.shot("route-needs-api-key")
    dialog.get_by_role("button", name="Close").last.click()  # the footer's, not the corner X
    expect(dialog.get_by_text(refusal)).to_have_count(0)
    dialog = run.start_subentry_flow("transfer_route", dev_instance.API_KEY_ENTRY_TITLE)
    form = ("config_subentries", "transfer_route", "step", "user")
    expect(dialog.get_by_text(run.text(*form, "title"))).to_be_visible()
    for field_index, (offered, picked) in enumerate(
        ((sources, source), (destinations, destination))
    ):
        select = dialog.locator("ha-select").nth(field_index)
        select.click()
        options = select.get_by_role("menuitem")
        expect(options).to_have_text(offered)
        options.filter(has_text=re.compile(rf"^\s*{re.escape(picked)}\s*$")).click()
    per_transfer, per_day = ROUTE_LIMITS_CENTS
    data = ("config_subentries", "transfer_route", "step", "user", "data")
    dialog.get_by_role("spinbutton", name=run.text(*data, "max_per_transfer")).fill(
        f"{Decimal(per_transfer) / 100}"
    )
    dialog.get_by_role("spinbutton", name=run.text(*data, "max_per_day")).fill(
        f"{Decimal(per_day) / 100}"
    )
    dialog.get_by_role("textbox", name=run.text(*data, "description")).fill(ROUTE_DESCRIPTION)
    run.shot("route-form")
    dialog.get_by_role("button", name="Submit").click()
    statement = {
        "per_transfer": usd(per_transfer).removeprefix("$"),
        "per_day": usd(per_day).removeprefix("$"),
        "source": source,
        "destination": destination,
    }
    title = run.route = f"{source} → {destination}"
    run.confirm_subentry("transfer_route", statement, title)
    run.account_row(title, dev_instance.API_KEY_ENTRY_TITLE).scroll_into_view_if_needed()


def run_rule(run: Run) -> None:
    """The Remote API rule's device page, then Settings -> Tools -> Actions: run it.

    ``sequence.trigger_rule`` with the rule's device (its id from its page's address), in YAML
    mode; the Actions tool shows the response: triggered, not simulated. The device page then
    says so too ("Last run result").
    """
    device_id = run.open_device(REMOTE_RULE_NAME, TOKEN_ENTRY_TITLE)
    last_result = run.entity_row(run.text("entity", "sensor", "rule_last_run_result", "name"))
    expect(last_result).to_be_visible()
    balances = run.simulator.balances()
    run.open_actions()
    response = run.perform_action("sequence.trigger_rule", {"rule": device_id}, "result: triggered")
    expect(run.page.get_by_text(run.text("services", "trigger_rule", "name"))).to_be_visible()
    shown = run.response(response)
    expected = {"rule_id": REMOTE_RULE, "simulated": "false", "result": "triggered"}
    if shown != expected:
        msg = f"the response shows {shown}, expected {expected}"
        raise E2EError(msg)
    moved = run.simulator.balances()
    if moved[TAXES] == balances[TAXES] or moved[VACATION] == balances[VACATION]:
        msg = "the simulator's Taxes and Vacation balances did not change: the rule did not run"
        raise E2EError(msg)
    run.shot("rule-response")
    run.load(f"/config/devices/device/{device_id}")
    triggered = run.text("entity", "sensor", "rule_last_run_result", "state", "triggered")
    expect(last_result).to_contain_text(triggered)


def rule_logbook(run: Run) -> None:
    """Activity: "Sequence rule Vacation boost was triggered", by the user who ran it."""
    run.page.get_by_role("link", name="Activity").first.click()
    run.logbook_line(f"Sequence rule {REMOTE_RULE_NAME}", RULE_LOGBOOK).scroll_into_view_if_needed()


def transfer_simulated(run: Run) -> None:
    """The route's device page, then Actions: ``sequence.transfer`` with ``simulate: true``.

    The response says simulated; the simulator's balances do not move; Activity shows the
    simulation, by whom.
    """
    run.load("/config/integrations/integration/sequence")
    device_id = run.open_device(run.route, dev_instance.API_KEY_ENTRY_TITLE)
    sensor = ("entity", "sensor")
    expect(run.entity_row(run.text(*sensor, "route_left_today", "name"))).to_contain_text(
        usd(ROUTE_LIMITS_CENTS[1])
    )
    run.balances = run.simulator.balances()
    run.open_actions()
    data = {"route": device_id, "amount": TRANSFER_CENTS / 100, "simulate": True}
    response = run.perform_action("sequence.transfer", data, "simulated: true")
    shown = run.response(response)
    amount = usd(TRANSFER_CENTS).removeprefix("$")
    if shown.get("amount") != amount or shown.get("source_account_id") != platform_id_of(
        ROUTE_SOURCE
    ):
        msg = f"the simulation's response shows {shown}"
        raise E2EError(msg)
    if run.simulator.balances() != run.balances:
        msg = "a simulated transfer moved money in the simulator"
        raise E2EError(msg)
    run.shot("transfer-simulated-response")
    run.page.get_by_role("link", name="Activity").first.click()
    run.logbook_line(
        f"Sequence transfer route {run.route}", TRANSFER_LOGBOOK[0].format(amount=amount)
    )


def transfer_live(run: Run) -> None:
    """Actions again: the same transfer live; the response shows it sent, the money moves.

    The simulator settles it before the integration's first look (:data:`FAST_SETTLING`).
    """
    run.simulator.timing(FAST_SETTLING)
    run.open_actions()
    data = {"route": run.devices[run.route], "amount": TRANSFER_CENTS / 100}
    response = run.perform_action("sequence.transfer", data, "simulated: false")
    shown = run.response(response)
    run.transfer_id = shown.get("transfer_id", "")
    if not run.transfer_id or shown.get("amount") != usd(TRANSFER_CENTS).removeprefix("$"):
        msg = f"the live transfer's response shows {shown}"
        raise E2EError(msg)
    after = run.simulator.balances()
    moved = {
        account: (after[account] or 0) - (run.balances[account] or 0)
        for account in (ROUTE_SOURCE, ROUTE_DESTINATION)
    }
    if moved != {ROUTE_SOURCE: -TRANSFER_CENTS, ROUTE_DESTINATION: TRANSFER_CENTS}:
        msg = f"the simulator's balances moved by {moved} (cents), not the transfer's amount"
        raise E2EError(msg)


def balances_after_transfer(run: Run) -> None:
    """Once the transfer completed, the balances follow: REST and the account's device page.

    The integration asks for a refresh when the transfer completes: the API key's balance
    sensors then show the simulator's new balances (and differ from before); the route's
    device page shows the transfer complete and what is left today.
    """
    run.load(f"/config/devices/device/{run.devices[run.route]}")
    sensor = ("entity", "sensor")
    status = run.entity_row(run.text(*sensor, "route_last_transfer_status", "name"))
    expect(status).to_contain_text(
        run.text(*sensor, "route_last_transfer_status", "state", "complete")
    )
    per_day = ROUTE_LIMITS_CENTS[1]
    expect(run.entity_row(run.text(*sensor, "route_left_today", "name"))).to_contain_text(
        usd(per_day - TRANSFER_CENTS)
    )
    run.shot("route-complete")
    accounts = platform_accounts(run.simulator.accounts(), run.details)

    def balances_followed() -> bool:
        return not balance_mismatches(run.ha.call("GET", "/api/states"), accounts)

    dev_instance.wait_for(balances_followed, timeout=30, what="the balances after the transfer")
    destination = next(a for a in accounts if a["id"] == platform_id_of(ROUTE_DESTINATION))
    if destination["balance_cents"] == run.balances[ROUTE_DESTINATION]:
        msg = f"{destination['name']}'s balance did not change"
        raise E2EError(msg)
    run.load("/config/integrations/integration/sequence")
    run.open_device(destination["name"], dev_instance.API_KEY_ENTRY_TITLE)
    balance = run.entity_row(run.text(*sensor, "pod_balance", "name"))
    expect(balance).to_contain_text(usd(destination["balance_cents"]))


def transfer_logbook(run: Run) -> None:
    """Activity: the live transfer sent, then the money moved, by whom.

    (The simulation before it is a line of its own, as the one the transfer-simulated step
    found.)
    """
    run.page.get_by_role("link", name="Activity").first.click()
    amount = usd(TRANSFER_CENTS).removeprefix("$")
    for message in TRANSFER_LOGBOOK[1:]:
        run.logbook_line(f"Sequence transfer route {run.route}", message.format(amount=amount))


def payments_calendar(run: Run) -> None:
    """The Calendar panel: the card's payment due and a scheduled rule's runs.

    Sapphire's minimum payment is an all-day event on its due date (the month is turned to it
    if need be); the daily rule's runs show as "Rule run: NAME". Clicking the payment shows
    its description, the last statement balance.
    """
    card = next(detail for detail in run.details if detail["name"] == CREDIT_CARD)
    due = date.fromisoformat(card["balance"]["nextPaymentDueDate"])
    minimum = usd(card["balance"]["nextPaymentMinimumInCents"])
    rule = run.simulator.platform(run.api_key, f"/rules/{SCHEDULED_RULE}")["name"]
    page = run.page
    page.get_by_role("link", name="Calendar").first.click()
    calendar_name = f"Sequence {run.text('entity', 'calendar', 'payments', 'name')}"
    expect(page.get_by_role("menuitemcheckbox", name=calendar_name)).to_be_checked()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^\w+ \d{4}$"))
    for _ in range(2):  # the due date is a week away: this month or the next
        if heading.inner_text() == month_heading(due):
            break
        page.get_by_role("button", name="Next").click()
    expect(heading).to_have_text(month_heading(due))
    payment = page.locator(f'[data-date="{due.isoformat()}"]').get_by_text(
        f"{CREDIT_CARD}: {minimum} minimum due"
    )
    expect(payment).to_be_visible()
    expect(page.get_by_text(f"Rule run: {rule}").first).to_be_visible()
    run.shot("calendar-month")
    payment.click()
    statement = usd(card["balance"]["lastStatementBalanceInCents"])
    expect(page.get_by_text(f"Last statement balance: {statement}")).to_be_visible()


def get_transfers(run: Run) -> None:
    """Actions: ``sequence.get_transfers`` for the API key's entry, newest first.

    With ``limit: 1`` the response lists one transfer: the live one, with its amount. (One:
    the editor draws only the lines in view, so a long response cannot be read whole.)
    """
    run.page.keyboard.press("Escape")  # the calendar's event dialog
    run.open_actions()
    entry_id = run.entry_id(dev_instance.API_KEY_ENTRY_TITLE)
    data = {"config_entry_id": entry_id, "limit": 1}
    response = run.perform_action("sequence.get_transfers", data, "transfers:")
    lines = response.locator(".cm-line").all_inner_texts()
    ids = [line.split(":", 1)[1].strip() for line in lines if line.strip().startswith("- id:")]
    if ids != [run.transfer_id]:
        msg = f"get_transfers lists {ids}, not the live transfer {run.transfer_id} alone"
        raise E2EError(msg)
    expect(response).to_contain_text(f"amount: '{usd(TRANSFER_CENTS).removeprefix('$')}'")


def rule_secret_hidden(run: Run) -> None:
    """The Remote API rule's "Change rule" button (its gear): the API secret field is empty.

    The secret is kept, never shown again: the field is for a new one.
    """
    run.load("/config/integrations/integration/sequence")
    subentry = run.page.locator("ha-config-sub-entry-row").filter(has_text=REMOTE_RULE_NAME)
    reconfigure = run.text("config_subentries", "rule", "initiate_flow", "reconfigure")
    subentry.get_by_role("button", name=reconfigure).click()  # the gear, labelled so
    dialog = run.flow_dialog()
    form = ("config_subentries", "rule", "step", "reconfigure_access_token")
    expect(
        dialog.get_by_text(fill_placeholders(run.text(*form, "title"), {"name": REMOTE_RULE_NAME}))
    ).to_be_visible()
    secret = dialog.get_by_role("textbox", name=run.text(*form, "data", "secret"))
    expect(secret).to_have_value("")
    run.shot("rule-reconfigure")
    dialog.get_by_role("button", name="Close").first.click()
    expect(secret).to_have_count(0)


def money_diagnostics(run: Run) -> None:
    """Both entries' diagnostics after the money moved: counts, and no secret.

    The access token's (downloaded from its menu) holds the rule subentry with its secret:
    neither the secret nor the token is in the file; the API key's (over REST) has no key.
    Both count the subentries and the audit trail's outcomes.
    """
    page = run.page
    entry = run.entry_row(TOKEN_ENTRY_TITLE)
    with page.expect_download() as download_info:
        entry.get_by_role("button", name="Menu").first.click()
        page.get_by_role("menuitem", name="Download diagnostics").click()
    path = run.folder / "diagnostics-money.json"
    download_info.value.save_as(path)
    files = {path: path.read_text(encoding="utf-8")}
    api_key_path = run.folder / "diagnostics-api-key-money.json"
    api_key_entry = run.entry_id(dev_instance.API_KEY_ENTRY_TITLE)
    diagnostics = run.ha.call("GET", f"/api/diagnostics/config_entry/{api_key_entry}")
    files[api_key_path] = json.dumps(diagnostics, indent=2)
    api_key_path.write_text(files[api_key_path], encoding="utf-8")
    for file, text in files.items():
        if leaks := leaked_secrets(text, run.secrets):
            msg = f"diagnostics ({file}) contain {' and '.join(leaks)}"
            raise E2EError(msg)
    token_data = json.loads(files[path])["data"]
    api_key_data = diagnostics["data"]
    counts = {
        "access token": (token_data["subentries"], token_data["money_actions"]),
        "API key": (api_key_data["subentries"], api_key_data["money_actions"]),
    }
    expected = {
        "access token": ({"rule": 1}, {"sent": 1}),
        "API key": (
            {"rule": 1, "transfer_route": 1},
            {"simulated": 2, "sent": 1, "succeeded": 1},
        ),
    }
    if counts != expected:
        msg = f"diagnostics count {counts}, expected {expected}"
        raise E2EError(msg)
    page.keyboard.press("Escape")


STEPS: Final[tuple[tuple[str, Callable[[Run], None]], ...]] = (
    ("login", log_in),
    ("add-integration", search_integration),
    ("config-flow", fill_config_flow),
    ("setup-url-error", setup_url_error),
    ("success-dialog", submit_and_see_devices),
    ("integration-page", integration_page_lists_accounts),
    ("balances", balances_match),
    ("diagnostics", download_diagnostics),
    ("outage", refresh_during_outage),
    ("token-revoked", refresh_with_revoked_token),
    ("entry-status", entry_status),
    ("reauth-prompt", reauth_prompt),
    ("reauth-wrong-kind", reauth_wrong_kind),
    ("reauthenticated", reauthenticate),
    ("api-key-config-flow", add_with_api_key),
    ("api-key-success-dialog", api_key_devices),
    ("amount-owed", amount_owed),
    ("net-worth", net_worth),
    ("api-key-balance-status", api_key_balance_status),
    ("api-key-diagnostics", api_key_diagnostics),
    ("add-rule-access-token", add_remote_rule),
    ("add-rule-api-key", add_platform_rule),
    ("add-transfer-route", add_route),
    ("run-rule", run_rule),
    ("rule-logbook", rule_logbook),
    ("transfer-simulated", transfer_simulated),
    ("transfer-live", transfer_live),
    ("balances-after-transfer", balances_after_transfer),
    ("transfer-logbook", transfer_logbook),
    ("payments-calendar", payments_calendar),
    ("get-transfers", get_transfers),
    ("rule-secret-hidden", rule_secret_hidden),
    ("money-diagnostics", money_diagnostics),
)


def run_browser(run: Run) -> None:
    """Every step, in order."""
    for name, action in STEPS:
        with run.step(name):
            action(run)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the whole end-to-end test; the exit code."""
    parser = argparse.ArgumentParser(prog="python -m tools.e2e", description=__doc__)
    parser.add_argument(
        "--artifacts", type=Path, default=ROOT / "artifacts" / "e2e", help="screenshot folder"
    )
    parser.add_argument("--headed", action="store_true", help="show the browser (needs a display)")
    args = parser.parse_args(argv)
    from homeassistant.const import __version__ as ha_version  # noqa: PLC0415 - the venv's HA

    started = time.monotonic()
    folder = artifacts_folder(args.artifacts, ha_version)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"e2e: Home Assistant {ha_version}; screenshots in {folder}")
    if not CHROMIUM.exists():
        print(
            f"e2e: {CHROMIUM} is missing (script/e2e installs Debian's chromium)", file=sys.stderr
        )
        return 1
    token = f"e2e-{secrets.token_hex(8)}"
    api_key = f"sk_e2e_{secrets.token_hex(8)}"
    with (
        tempfile.TemporaryDirectory(prefix="sequence-e2e-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        try:
            simulator = dev_instance.start_simulator(
                token=token, api_key=api_key, log=folder / "simulator.log"
            )
            stack.callback(simulator.stop)  # the stack stops what it started, last first
            control = SimulatorControl(simulator.url)
            control.freeze_balances()
            config = Path(tmp) / "config"
            port = dev_instance.free_port()
            dev_instance.prepare_config_dir(config, port=port)
            home_assistant = dev_instance.start_home_assistant(
                config, port, log=folder / "home-assistant.log"
            )
            stack.callback(home_assistant.stop)
            api = HomeAssistantApi(home_assistant.url)
            dev_instance.onboard(api)
        except (OSError, dev_instance.DevInstanceError) as err:
            print(f"e2e: FAILED to start: {err} (logs in {folder})", file=sys.stderr)
            return 1
        print(
            f"e2e: simulator {simulator.url}, Home Assistant {home_assistant.url} "
            f"({time.monotonic() - started:.1f} s)"
        )
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[flag for flag in CHROMIUM_FLAGS if not (args.headed and flag == "--headless")],
            headless=not args.headed,
        )
        stack.callback(browser.close)
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        page = context.new_page()
        run = Run(
            page=page,
            folder=folder,
            ha=api,
            simulator=control,
            token=token,
            api_key=api_key,
            strings=json.loads(TRANSLATIONS.read_text(encoding="utf-8")),
            accounts=control.accounts(),
        )
        page.on("pageerror", lambda error: run.page_errors.append(str(error)[:200]))
        try:
            run_browser(run)
        except E2EError as err:
            print(f"e2e: FAILED on Home Assistant {ha_version}: {err}", file=sys.stderr)
            print(f"e2e: screenshots and logs in {folder}", file=sys.stderr)
            return 1
    print(
        f"e2e: passed on Home Assistant {ha_version} in {time.monotonic() - started:.0f} s; "
        f"{run.screenshots} screenshots in {folder}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
