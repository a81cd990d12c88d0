"""Read-only probe of Sequence's real Remote API: what shape does it answer in?

Reads the token from ``SEQUENCE_API_TOKEN``, calls only ``POST /accounts`` (read-only), and prints
a summary of the answer's shape: accounts per type, and for every field how often each JSON type
(or absence) was seen. Names, ids and amounts are printed only with ``--show-values``. It also says
whether the integration's parser accepts the answer, and if not, why.

    SEQUENCE_API_TOKEN=... .venv/bin/python -m tools.probe [--base-url URL] [--show-values]
"""

import argparse
import asyncio
from collections import Counter
from collections.abc import Sequence
import json
import os
import sys
from typing import Any

import aiohttp

from custom_components.sequence.api import (
    DEFAULT_BASE_URL,
    SequenceError,
    normalize_token,
    parse_accounts_payload,
)
from custom_components.sequence.api.remote import TOKEN_HEADER

TOKEN_VARIABLE = "SEQUENCE_API_TOKEN"  # noqa: S105 - the variable's name, not a secret
MAX_BODY_BYTES = 8 * 1024 * 1024


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type."""
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
        case _:
            return "object"


def shape_of(
    value: object, path: str = "$", shapes: dict[str, Counter[str]] | None = None
) -> dict[str, Counter[str]]:
    """For every path in a JSON document (``[]`` for list items), count the types seen there."""
    shapes = {} if shapes is None else shapes
    shapes.setdefault(path, Counter())[json_type(value)] += 1
    if isinstance(value, dict):
        for key, item in value.items():
            shape_of(item, f"{path}.{key}", shapes)
    elif isinstance(value, list):
        for item in value:
            shape_of(item, f"{path}[]", shapes)
    return shapes


def accounts_in(payload: object) -> list[Any]:
    """The ``data.accounts`` list of the documented envelope, or [] when there is none."""
    data = payload.get("data") if isinstance(payload, dict) else None
    accounts = data.get("accounts") if isinstance(data, dict) else None
    return accounts if isinstance(accounts, list) else []


def account_fields(accounts: list[Any]) -> dict[str, Counter[str]]:
    """Per account field, how often each type was seen, with absence counted as "missing"."""
    objects = [account for account in accounts if isinstance(account, dict)]
    keys = sorted({key for account in objects for key in account})
    return {
        key: Counter(json_type(a[key]) if key in a else "missing" for a in objects) for key in keys
    }


def summarize(status: int, payload: object, *, show_values: bool) -> tuple[list[str], bool]:
    """The report's lines and whether the integration accepts the answer.

    Values (names, ids, amounts) are in the lines only when ``show_values``.
    """
    lines = [f"HTTP status: {status}"]
    if not isinstance(payload, dict):
        lines.append(f"body: JSON {json_type(payload)} (not an object)")
    accounts = accounts_in(payload)
    fields = account_fields(accounts)
    types = Counter(
        str(a.get("type")) if isinstance(a, dict) else f"<{json_type(a)}>" for a in accounts
    )
    lines.append(f"accounts: {len(accounts)}")
    lines.extend(f"  type {name!r}: {count}" for name, count in sorted(types.items()))
    lines.append("account fields (type: count, null rate):")
    for key, seen in fields.items():
        total = sum(seen.values())
        detail = ", ".join(f"{kind}: {count}" for kind, count in sorted(seen.items()))
        lines.append(f"  {key}: {detail} (null {seen['null'] / total:.0%})")
    lines.append("document shape:")
    for path, seen in shape_of(payload).items():
        detail = ", ".join(f"{kind}: {count}" for kind, count in sorted(seen.items()))
        lines.append(f"  {path}: {detail}")
    try:
        snapshot = parse_accounts_payload(payload)
    except SequenceError as err:
        lines.append(f"integration verdict: REJECTED ({err})")
        return lines, False
    lines.append(f"integration verdict: accepted, {len(snapshot.accounts)} accounts")
    if show_values:
        lines.append("values:")
        lines.extend(
            f"  {account.id}  {account.type_name!r}  {account.name!r}  "
            f"{account.balance if account.balance is not None else '-'}  "
            f"{account.balance_error or ''}".rstrip()
            for account in snapshot.accounts.values()
        )
    return lines, True


async def fetch(base_url: str, token: str, request_timeout: float) -> tuple[int, object]:
    """POST {base}/accounts once; return the status and the decoded body (or a description)."""
    headers = {TOKEN_HEADER: f"Bearer {token}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=request_timeout)) as session,
        session.post(
            f"{base_url.rstrip('/')}/accounts", json={}, headers=headers, allow_redirects=False
        ) as response,
    ):
        body = await response.content.read(MAX_BODY_BYTES + 1)
        status = response.status
    if len(body) > MAX_BODY_BYTES:
        return status, f"<body over {MAX_BODY_BYTES} bytes>"
    try:
        return status, json.loads(body)
    except ValueError:
        return status, f"<not JSON: {len(body)} bytes>"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the probe; exit 0 when the integration accepts the answer, 1 otherwise, 2 on usage."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.probe",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
    )
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="API base URL")
    parser.add_argument(
        "--show-values", action="store_true", help="also print names, ids and balances"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for the request")
    args = parser.parse_args(argv)
    raw = os.environ.get(TOKEN_VARIABLE, "")
    try:
        token = normalize_token(raw)
    except ValueError:
        print(f"Set {TOKEN_VARIABLE} to a Sequence Remote API access token.", file=sys.stderr)
        return 2
    try:
        status, payload = asyncio.run(fetch(args.base_url, token, args.timeout))
    except (aiohttp.ClientError, TimeoutError) as err:
        print(f"Could not reach {args.base_url}: {type(err).__name__}", file=sys.stderr)
        return 1
    lines, accepted = summarize(status, payload, show_values=args.show_values)
    print("\n".join(lines))
    return 0 if accepted else 1


if __name__ == "__main__":
    sys.exit(main())
