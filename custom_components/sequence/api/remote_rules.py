"""Remote API rules: the trigger URL the Sequence app shows for a rule with a "Remote API" trigger.

A pasted trigger URL is checked once, when the rule is added: it must point at the entry's own
API host (the rule secret travels to whatever it names), and its path must be one of the two
documented shapes, from which the rule id is read.
"""

import re
from typing import Final
from urllib.parse import SplitResult, urlsplit

_TRIGGER_PATH: Final = re.compile(r"(?:/remote-api)?/rules/([A-Za-z0-9._~-]{1,128})/trigger/?")
"""``/remote-api/rules/{id}/trigger`` (what most clients call) or ``/rules/{id}/trigger`` (what
Sequence's help centre shows); an id is one path segment of unreserved URL characters."""
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def parse_trigger_url(url: str, base_url: str) -> str:
    """The rule id of a trigger URL the Sequence app shows; ``ValueError(reason)`` otherwise.

    ``base_url`` is the entry's normalized API host (``scheme://host[:port]``, https or, on
    loopback only, http). The URL must have the same scheme, host and port, and a documented
    path with nothing after it (no query, no fragment). ``reason`` (the error's only argument)
    is ``"scheme"``, ``"host"`` or ``"path"``, for a precise form error; the message never
    repeats the URL.
    """
    parts, base = urlsplit(url.strip()), urlsplit(base_url)
    match = _TRIGGER_PATH.fullmatch(parts.path)
    if parts.scheme != base.scheme:
        reason = "scheme"
    elif not _same_host(parts, base):
        reason = "host"
    elif match is None or parts.query or parts.fragment:
        reason = "path"
    else:
        return match.group(1)
    raise ValueError(reason)


def _same_host(parts: SplitResult, base: SplitResult) -> bool:
    """The same host and port (the default port of the scheme when none is written), no user."""
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return False
    default = _DEFAULT_PORTS[base.scheme]
    return (
        parts.username is None
        and parts.password is None
        and parts.hostname == base.hostname
        and (port or default) == (base.port or default)
    )
