"""Sequence's ``idempotency-key`` rules, for every request that moves money.

A key is remembered for 24 hours with a fingerprint of the request body and what the first
request created. Within that time the same key with the same body is answered with the first
result (nothing runs again), unless the first request is still "in flight" (the first
``Timing.in_flight_seconds``), which is 409; the same key with another body is 400
``IDEMPOTENCY_KEY_MISMATCH``. Each route has its own keys (``scope``).
"""

from collections.abc import Callable
from dataclasses import dataclass
import json

from .platform_records import IDEMPOTENCY_SECONDS, Timing

IDEMPOTENCY_KEY_MAX = 36
IDEMPOTENCY_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:/|-"
)


class IdempotencyMismatchError(Exception):
    """An ``idempotency-key`` came back with another request body."""


class InFlightError(Exception):
    """The first request with this key is still being processed."""


def valid_key(key: str) -> bool:
    """1 to 36 of the characters Sequence allows."""
    return 1 <= len(key) <= IDEMPOTENCY_KEY_MAX and set(key) <= IDEMPOTENCY_CHARACTERS


def fingerprint(body: object) -> str:
    """What makes two bodies the same request (key order does not count)."""
    return json.dumps(body, sort_keys=True)


@dataclass(frozen=True, slots=True)
class _Remembered:
    fingerprint: str
    result: str
    at: float


class IdempotencyMemory:
    """The keys of the last 24 hours, on the bank's clock."""

    def __init__(self, clock: Callable[[], float], timing: Timing) -> None:
        """Remember on ``clock``; how long a request is in flight is ``timing``'s."""
        self._clock = clock
        self._timing = timing
        self._keys: dict[tuple[str, str], _Remembered] = {}

    def recall(self, scope: str, key: str | None, body_fingerprint: str) -> str | None:
        """What an earlier request with ``key`` created; None for a new request.

        Raises:
            IdempotencyMismatchError: the key came with another body.
            InFlightError: the first request with the key is still in flight.
        """
        if key is None:
            return None
        now = self._clock()
        remembered = self._keys.get((scope, key))
        if remembered is None or now - remembered.at >= IDEMPOTENCY_SECONDS:
            return None
        if remembered.fingerprint != body_fingerprint:
            raise IdempotencyMismatchError
        if now - remembered.at < self._timing.in_flight_seconds:
            raise InFlightError
        return remembered.result

    def remember(self, scope: str, key: str | None, body_fingerprint: str, result: str) -> None:
        """Keep what a new request with ``key`` created (nothing without a key)."""
        if key is not None:
            self._keys[scope, key] = _Remembered(body_fingerprint, result, self._clock())

    def clear(self) -> None:
        """Forget every key."""
        self._keys.clear()
