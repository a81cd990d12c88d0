"""Tests for the read-only probe, against the simulator."""

import asyncio
import json
from pathlib import Path
import sys
from typing import Any

from aiohttp.test_utils import TestServer
import pytest

from tools.probe import accounts_in, fetch, json_type, main, shape_of, summarize
from tools.simulator.app import build_app
from tools.simulator.runtime import Simulator
from tools.simulator.state import Bank

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-probe-31c9"
FIXTURE = json.loads((ROOT / "tests" / "fixtures" / "accounts.json").read_text(encoding="utf-8"))


@pytest.fixture
async def simulator_url() -> Any:
    server = TestServer(build_app(Simulator.create(Bank(seed=3)), tokens=[TOKEN]))
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


def test_json_type_and_shape() -> None:
    assert [json_type(v) for v in (None, True, 1, 1.5, "x", [], {})] == [
        "null",
        "boolean",
        "number",
        "number",
        "string",
        "array",
        "object",
    ]
    shapes = shape_of({"a": [1, None], "b": {"c": "x"}})
    assert shapes["$.a[]"] == {"number": 1, "null": 1}
    assert shapes["$.b.c"] == {"string": 1}


def test_summary_hides_values_by_default() -> None:
    lines, accepted = summarize(200, FIXTURE, show_values=False)
    text = "\n".join(lines)
    assert accepted
    assert "accounts: 7" in text
    assert "type 'Pod': 3" in text
    assert "integration verdict: accepted, 7 accounts" in text
    for account in FIXTURE["data"]["accounts"]:
        assert account["id"] not in text
        assert account["name"] not in text
        if account["balance"]["amountInDollars"] is not None:
            assert str(account["balance"]["amountInDollars"]) not in text


def test_summary_shows_values_when_asked() -> None:
    lines, _ = summarize(200, FIXTURE, show_values=True)
    text = "\n".join(lines)
    assert "Groceries" in text
    assert "412.06" in text


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ([1, 2], "body: JSON array (not an object)"),
        ({"data": {"balances": [1]}}, "integration verdict: REJECTED"),
        ({"data": {"accounts": [{"id": "1", "name": None}, 3]}}, "type '<number>': 1"),
    ],
)
def test_summary_of_unexpected_shapes(payload: object, expected: str) -> None:
    lines, accepted = summarize(500, payload, show_values=True)
    assert not accepted
    assert any(expected in line for line in lines), lines


def test_accounts_in() -> None:
    assert accounts_in({"data": {"accounts": "nope"}}) == []
    assert accounts_in("text") == []


async def test_fetch_against_the_simulator(simulator_url: str) -> None:
    status, payload = await fetch(simulator_url, TOKEN, 10)
    assert status == 200
    assert len(accounts_in(payload)) >= 8
    status, payload = await fetch(simulator_url, "tok-wrong", 10)
    assert status == 401
    assert isinstance(payload, dict)
    assert payload["code"] == "INVALID_ACCESS_TOKEN"


def test_main_needs_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SEQUENCE_API_TOKEN", raising=False)
    assert main([]) == 2
    assert "SEQUENCE_API_TOKEN" in capsys.readouterr().err


async def run_probe(*args: str, token: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tools.probe",
        *args,
        cwd=ROOT,
        env={"SEQUENCE_API_TOKEN": f"Bearer {token}", "PATH": ""},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_probe_cli_end_to_end(simulator_url: str) -> None:
    code, out, err = await run_probe("--base-url", simulator_url, token=TOKEN)
    assert code == 0, err
    assert "integration verdict: accepted" in out
    assert "Groceries" not in out
    assert TOKEN not in out + err

    code, out, _ = await run_probe("--base-url", simulator_url, "--show-values", token=TOKEN)
    assert code == 0
    assert "Groceries" in out

    code, out, _ = await run_probe("--base-url", simulator_url, token="tok-revoked")
    assert code == 1
    assert "HTTP status: 401" in out

    code, _, err = await run_probe("--base-url", "http://127.0.0.1:9", token=TOKEN)
    assert code == 1
    assert "Could not reach" in err
