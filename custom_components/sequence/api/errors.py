"""One exception tree for every Sequence API client.

Messages are written by this package only, never copied from a request: no token, header or URL
query can end up in ``str(error)`` or ``repr(error)``.
"""


class SequenceError(Exception):
    """Base class of every error the Sequence clients raise."""


class SequenceAuthError(SequenceError):
    """The credential was refused (401/403, ``INVALID_ACCESS_TOKEN``)."""


class SequenceRateLimitError(SequenceError):
    """Sequence asked us to slow down (429)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        """Keep the ``Retry-After`` delay in seconds, when Sequence gave one."""
        super().__init__(message)
        self.retry_after = retry_after


class SequenceConnectionError(SequenceError):
    """Sequence could not be reached: timeout, DNS failure, refused or reset connection."""


class SequenceResponseError(SequenceError):
    """Sequence answered, but not with what the API documents (5xx, not JSON, wrong shape)."""
