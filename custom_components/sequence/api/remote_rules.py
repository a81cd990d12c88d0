"""Remote API rules: the trigger URL the Sequence app shows, and triggering it with the secret.

A pasted trigger URL is checked once, when the rule is added: it must point at the entry's own
API host (the rule secret travels to whatever it names), and its path must be one of the two
documented shapes, from which the rule id is read. A trigger is ``POST <trigger URL>`` with
``x-sequence-signature: Bearer <secret>``, body ``{}`` and the ``idempotency-key`` header, never
retried. It goes through the same exchange as every other request (:mod:`.transport`), as a
money request: only a connection that could not be made counts as "not sent".

What the answer means (Sequence documents the trigger's success only; the rest is what
clients have seen of the Remote API, whose errors are a flat ``{"code", "message"}``):

* 2xx with a JSON object: triggered.
* 401 or 403, or ``INVALID_API_SECRET``: the rule's secret was refused
  (:class:`~.errors.SequenceRuleSecretError`, never the entry's credential).
* 429 or ``TOO_MANY_REQUESTS``: triggered again too soon; nothing ran.
* Another 4xx (400, 404, ...): refused; nothing ran.
* A 5xx or ``UNEXPECTED_ERROR``, a 2xx that cannot be read, anything else: it may have run.
"""

import logging
import re
from typing import Final
from urllib.parse import SplitResult, urlsplit

import aiohttp

from .errors import (
    SequenceOutcomeUnknownError,
    SequenceRateLimitError,
    SequenceRefusedError,
    SequenceRuleSecretError,
)
from .transport import (
    NOT_JSON,
    Secret,
    async_exchange,
    check_idempotency_key,
    decode_json,
    describe_non_json,
    flat_error_code,
    normalize_credential,
    parse_retry_after,
)

_LOGGER = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "x-sequence-signature"
ROUTE: Final = "POST /remote-api/rules/{id}/trigger"
"""How a trigger is named in the debug log, whichever documented shape its URL has."""
"""What Sequence accepts as an ``idempotency-key``."""
_SECRET_REFUSED: Final = frozenset({"INVALID_API_SECRET", "INVALID_ACCESS_TOKEN"})
_RATE_LIMITED: Final = "TOO_MANY_REQUESTS"
_SERVER_ERROR: Final = "UNEXPECTED_ERROR"

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

    __slots__ = ("_max_response_bytes", "_request_timeout", "_secret", "_session", "_trigger_url")

    def __init__(
        self,
        session: aiohttp.ClientSession,
        trigger_url: str,
        secret: str,
        *,
        request_timeout: float = 30.0,
        max_response_bytes: int = 64 * 1024,
    ) -> None:
        """Keep the shared session, the rule's trigger URL and its secret."""
        self._session = session
        self._trigger_url = trigger_url.strip()
        self._secret = Secret(secret)
        self._request_timeout = request_timeout
        self._max_response_bytes = max_response_bytes

    def __repr__(self) -> str:
        """Nothing of the rule: its URL and secret stay out of logs and tracebacks."""
        return f"{type(self).__name__}()"

    async def async_trigger(self, *, idempotency_key: str) -> None:
        """Trigger the rule once, never retried.

        Raises:
            ValueError: the idempotency key is not one Sequence accepts (nothing was sent).
            SequenceRuleSecretError: the secret was refused, or cannot be sent at all.
            SequenceRateLimitError: too many triggers (nothing ran).
            SequenceRefusedError: Sequence refused it (nothing ran).
            SequenceOutcomeUnknownError: it may have run; no definite answer came.
            SequenceConnectionError: the connection could not be made (nothing was sent).
        """
        check_idempotency_key(idempotency_key)
        secret = self._header_secret()
        reply = await async_exchange(
            self._session,
            "POST",
            self._trigger_url,
            route=ROUTE,
            headers={
                SIGNATURE_HEADER: f"Bearer {secret}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "idempotency-key": idempotency_key,
            },
            body=b"{}",
            money=True,
            request_timeout=self._request_timeout,
            max_bytes=self._max_response_bytes,
            logger=_LOGGER,
        )
        payload = decode_json(reply.body)
        code = flat_error_code(payload)
        status = reply.status
        detail = f"HTTP {status}, {code}" if code else f"HTTP {status}"
        if status in {401, 403} or code in _SECRET_REFUSED:
            msg = f"Sequence refused the rule's API secret ({detail})"
            raise SequenceRuleSecretError(msg)
        if status == 429 or code == _RATE_LIMITED:  # noqa: PLR2004
            msg = f"Sequence refused to trigger the rule again so soon ({detail})"
            raise SequenceRateLimitError(msg, retry_after=parse_retry_after(reply.retry_after))
        if 400 <= status <= 499:  # noqa: PLR2004 - the 4xx range
            msg = f"Sequence refused to trigger the rule ({detail})"
            raise SequenceRefusedError(msg, code=code)
        if 200 <= status <= 299 and code != _SERVER_ERROR:  # noqa: PLR2004 - the 2xx range
            if isinstance(payload, dict):
                _LOGGER.debug("Sequence triggered a Remote API rule")
                return
            unreadable = describe_non_json(reply.body) if payload is NOT_JSON else "not an object"
            detail = f"HTTP {status}, but {unreadable}"
        msg = f"the outcome is unknown (Sequence answered {detail}): the rule may have run"
        raise SequenceOutcomeUnknownError(msg)

    def _header_secret(self) -> str:
        """The secret as it goes after ``Bearer``; a secret that cannot be sent is refused."""
        secret: str | None
        try:
            secret = normalize_credential(self._secret.value, "rule secret")
        except ValueError:
            secret = None
        if secret is None:  # raised outside the except block, as every error of this package
            msg = "the rule's API secret is empty or cannot be sent in a header"
            raise SequenceRuleSecretError(msg)
        return secret
