"""Triggering a rule through the Remote API, with the rule's own API secret.

The interface is fixed by the money actions' design; the request itself
(``POST <trigger URL>`` with ``x-sequence-signature: Bearer <secret>``, body ``{}``, the
``idempotency-key`` header, never retried) arrives with the API client work.
"""

import aiohttp

from .transport import Secret


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
