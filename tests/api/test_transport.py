"""HTTP helpers shared by the clients."""

from datetime import UTC, datetime

import pytest

from custom_components.sequence.api.transport import (
    MISSING,
    NOT_JSON,
    Secret,
    decode_json,
    describe_non_json,
    json_type,
    parse_retry_after,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("17", 17.0),
        (" 0 ", 0.0),
        ("Sat, 21 Nov 2026 12:01:30 GMT", 90.0),
        ("Sat, 21 Nov 2026 11:00:00 GMT", 0.0),
        ("Sat, 21 Nov 2026 12:00:10 -0000", 10.0),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_parse_retry_after_defaults_to_now() -> None:
    assert parse_retry_after("Thu, 01 Jan 2099 00:00:00 GMT") > 0


@pytest.mark.parametrize(
    ("body", "text"),
    [(b"  ", "empty"), (b"<!doctype html>", "HTML"), (b"oops", "not valid JSON")],
)
def test_describe_non_json(body: bytes, text: str) -> None:
    assert text in describe_non_json(body)


def test_decode_json() -> None:
    assert decode_json(b'{"a": [1, 2.5]}') == {"a": [1, 2.5]}
    assert decode_json(b"[NaN]") is NOT_JSON
    assert decode_json(b"\xff") is NOT_JSON
    assert decode_json(b"[" * 200_000) is NOT_JSON


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (MISSING, "missing"),
        (True, "boolean"),
        (3, "number"),
        (2.5, "number"),
        ("x", "string"),
        ([], "array"),
        ({}, "object"),
        (object(), "unsupported"),
    ],
)
def test_json_type(value: object, name: str) -> None:
    assert json_type(value) == name


def test_secret_repr() -> None:
    secret = Secret("sk_test_hidden")
    assert repr(secret) == "<redacted>"
    assert "sk_test_hidden" not in repr([secret])
    assert secret.value == "sk_test_hidden"
