"""The trigger URL of a Remote API rule: the entry's host, a documented path, the rule id."""

import pytest

from custom_components.sequence.api.remote_rules import parse_trigger_url

BASE = "https://api.getsequence.io"
LOCAL = "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("url", "base", "rule_id"),
    [
        (f"{BASE}/remote-api/rules/ru_12345/trigger", BASE, "ru_12345"),
        (f"{BASE}/rules/ru_12345/trigger", BASE, "ru_12345"),
        (f"  {BASE}/rules/ru_12345/trigger/\n", BASE, "ru_12345"),
        ("HTTPS://API.GetSequence.io/rules/ru_1/trigger", BASE, "ru_1"),
        ("https://api.getsequence.io:443/rules/ru_1/trigger", BASE, "ru_1"),
        (f"{LOCAL}/remote-api/rules/7f1c-22.a~b/trigger", LOCAL, "7f1c-22.a~b"),
        ("https://localhost:8443/rules/r/trigger", "https://localhost:8443", "r"),
    ],
)
def test_documented_shapes_on_the_entrys_host(url: str, base: str, rule_id: str) -> None:
    assert parse_trigger_url(url, base) == rule_id


@pytest.mark.parametrize(
    ("url", "base", "reason"),
    [
        ("http://api.getsequence.io/rules/ru_1/trigger", BASE, "scheme"),
        ("ftp://api.getsequence.io/rules/ru_1/trigger", BASE, "scheme"),
        ("api.getsequence.io/rules/ru_1/trigger", BASE, "scheme"),
        ("", BASE, "scheme"),
        ("https://127.0.0.1:8765/rules/ru_1/trigger", LOCAL, "scheme"),
        ("https://evil.example/rules/ru_1/trigger", BASE, "host"),
        ("https://api.getsequence.io.evil.example/rules/ru_1/trigger", BASE, "host"),
        ("https://api.getsequence.io:8443/rules/ru_1/trigger", BASE, "host"),
        ("https://api.getsequence.io:99999/rules/ru_1/trigger", BASE, "host"),
        ("https://api.getsequence.io:port/rules/ru_1/trigger", BASE, "host"),
        ("https://user:pw@api.getsequence.io/rules/ru_1/trigger", BASE, "host"),
        ("https://user@api.getsequence.io/rules/ru_1/trigger", BASE, "host"),
        ("http://127.0.0.1:9999/rules/ru_1/trigger", LOCAL, "host"),
        ("http://127.0.0.1/rules/ru_1/trigger", LOCAL, "host"),
        (f"{BASE}/accounts", BASE, "path"),
        (f"{BASE}/rules/ru_1", BASE, "path"),
        (f"{BASE}/rules//trigger", BASE, "path"),
        (f"{BASE}/rules/a/b/trigger", BASE, "path"),
        (f"{BASE}/rules/ru%201/trigger", BASE, "path"),
        (f"{BASE}/platform/v1/rules/ru_1/trigger", BASE, "path"),
        (f"{BASE}/remote-api/rules/ru_1/trigger?secret=x", BASE, "path"),
        (f"{BASE}/remote-api/rules/ru_1/trigger#x", BASE, "path"),
        (f"{BASE}/rules/{'r' * 129}/trigger", BASE, "path"),
    ],
)
def test_anything_else_says_what_is_wrong(url: str, base: str, reason: str) -> None:
    with pytest.raises(ValueError, match=rf"^{reason}$"):
        parse_trigger_url(url, base)
