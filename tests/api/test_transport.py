"""HTTP helpers shared by the clients."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import json
from typing import NoReturn

from hypothesis import assume, given, settings, strategies as st
import pytest

from custom_components.sequence.api.transport import (
    MISSING,
    NOT_JSON,
    Secret,
    decode_json,
    describe_non_json,
    json_type,
    parse_retry_after,
    wire_key,
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
        ("3600", 3600.0),
        ("999999999999", 3600.0),  # an hour at most: one odd header cannot silence a key
        ("Thu, 01 Jan 2099 00:00:00 GMT", 3600.0),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_parse_retry_after_defaults_to_now() -> None:
    in_ten_minutes = format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
    assert 590 <= parse_retry_after(in_ten_minutes) <= 600


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
    "body",
    [
        pytest.param(b"[NaN]", id="nan"),
        pytest.param(b"[Infinity]", id="infinity"),
        pytest.param(b"[-Infinity]", id="minus-infinity"),
        pytest.param(b"[1e400]", id="beyond-a-double"),
        pytest.param(b"", id="empty"),
        pytest.param(b"  ", id="blank"),
        pytest.param(b"<html></html>", id="html"),
        pytest.param(b'{"a": 1} x', id="trailing-text"),
        pytest.param(b"[1,]", id="trailing-comma"),
        pytest.param(b'{"a": "\xff"}', id="invalid-utf8"),
        pytest.param(b'"\\ud800"', id="lone-surrogate"),
        pytest.param(b'\xef\xbb\xbf{"a": 1}', id="byte-order-mark"),
        pytest.param('{"a": 1}'.encode("utf-16"), id="utf-16"),
        pytest.param(b"[" * 1025 + b"]" * 1025, id="1025-levels"),
    ],
)
def test_decode_json_refuses(body: bytes) -> None:
    assert decode_json(body) is NOT_JSON


def test_decode_json_nesting_limit() -> None:
    """1,024 levels decode (Sequence's bodies have four); deeper is refused."""
    assert decode_json(b"[" * 1024 + b"]" * 1024) is not NOT_JSON


def test_decode_json_integers_beyond_64_bits_become_floats() -> None:
    """Documented loss: the parsers refuse a float where a string or an integer belongs."""
    assert decode_json(b"[18446744073709551615, -9223372036854775808]") == [
        18446744073709551615,
        -9223372036854775808,
    ]
    (big,) = decode_json(b"[18446744073709551616]")  # type: ignore[misc]
    assert type(big) is float


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(name)


def strict_stdlib(body: bytes) -> object:
    """What the clients decoded before orjson: ``json.loads`` refusing NaN and infinities."""
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except ValueError, RecursionError:
        return NOT_JSON


def typed(value: object) -> object:
    """A value with its JSON types spelled out (Python says True == 1 == 1.0)."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if type(value) is int and not -(2**63) <= value < 2**64:
        return ("float", float(value))  # beyond 64 bits: orjson's documented float
    return (type(value).__name__, value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
JSON_CHARACTERS = list('{}[],:" \\0123456789.eE+-truefalsnNIinfy\x00\xff')


@settings(max_examples=400, deadline=None)
@given(json_values, st.data())
def test_decode_json_keeps_every_refusal(value: object, data: st.DataObject) -> None:
    """Whatever the standard library refused, orjson refuses; what it accepts is the same JSON.

    Bodies are JSON text, often damaged by one edit (a character inserted, removed or replaced).
    """
    text = json.dumps(value)
    edit = data.draw(st.sampled_from(["none", "insert", "delete", "replace"]))
    at = data.draw(st.integers(0, len(text)))
    character = data.draw(st.sampled_from(JSON_CHARACTERS))
    if edit == "insert":
        text = text[:at] + character + text[at:]
    elif edit == "delete":
        text = text[:at] + text[at + 1 :]
    elif edit == "replace":
        text = text[:at] + character + text[at + 1 :]
    body = text.encode("utf-8", "surrogatepass")
    decoded = decode_json(body)
    expected = strict_stdlib(body)
    if expected is NOT_JSON:
        assert decoded is NOT_JSON
    elif decoded is not NOT_JSON:
        assert typed(decoded) == typed(expected)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_wire_key_of_decoded_json_is_the_same_json(value: object) -> None:
    decoded = decode_json(json.dumps(value).encode())
    assume(decoded is not NOT_JSON)  # infinities
    key = wire_key(decoded)
    assert key is not None
    assert typed(decode_json(key)) == typed(decoded)


def test_wire_key() -> None:
    assert wire_key({"a": 1}) == b'{"a":1}'
    assert len({wire_key(value) for value in (True, 1, 1.0)}) == 3  # all equal to Python
    assert wire_key({"a": 1, "b": 2}) != wire_key({"b": 2, "a": 1})  # wire order counts
    assert wire_key(2**64) is None  # no JSON form orjson writes (never decoded by it)


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
