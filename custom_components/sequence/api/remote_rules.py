"""Remote API rules: the trigger URL the Sequence app shows, and triggering it with the secret.

A pasted trigger URL is checked once, when the rule is added: it must point at the entry's own
API host (the rule secret travels to whatever it names), and its path must be one of the two
documented shapes, from which the rule id is read. A trigger is ``POST <trigger URL>`` with
``x-sequence-signature: Bearer <secret>``, body ``{}`` and the ``idempotency-key`` header, never
retried.
"""

import re
from typing import Final
from urllib.parse import SplitResult, urlsplit

import aiohttp

from .transport import Secret

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


class RemoteRuleTrigger:
    """Triggers one Remote API rule; the secret is never shown (``repr``, messages, logs)."""

    __slots__ = ("_request_timeout", "_secret", "_session", "_trigger_url")

    def __init__(
        self,
        session: aiohttp.ClientSession,
        trigger_url: str,
        secret: str,
        *,
        request_timeout: float = 30.0,
    ) -> None:
        """Keep the shared session, the rule's trigger URL and its secret."""
        self._session = session
        self._trigger_url = trigger_url
        self._secret = Secret(secret)
        self._request_timeout = request_timeout

    async def async_trigger(self, *, idempotency_key: str) -> None:
        """Trigger the rule once.

        Raises:
            SequenceRuleSecretError: the secret was refused.
            SequenceRateLimitError: too many triggers (nothing ran).
            SequenceOutcomeUnknownError: it may have run; no definite answer came.
            SequenceConnectionError: the request could not be sent.
            SequenceRefusedError: Sequence refused it (nothing ran).
        """
        raise NotImplementedError  # pragma: no cover - the API client work implements it
