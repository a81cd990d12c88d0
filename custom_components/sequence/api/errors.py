"""One exception tree for every Sequence API client.

Messages are written by this package only, never copied from a request: no token, header or URL
query can end up in ``str(error)`` or ``repr(error)``.
"""


class SequenceError(Exception):
    """Base class of every error the Sequence clients raise."""


class SequenceAuthError(SequenceError):
    """The credential was refused (401; 403 on the Remote API; ``UNAUTHORIZED``, ...)."""


class SequenceRateLimitError(SequenceError):
    """Sequence asked us to slow down (429)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        """Keep the ``Retry-After`` delay in seconds, when Sequence gave one."""
        super().__init__(message)
        self.retry_after = retry_after


class SequenceConnectionError(SequenceError):
    """Sequence could not be reached: timeout, DNS failure, refused or reset connection."""


class SequenceServerError(SequenceConnectionError):
    """Sequence answered with a server error (HTTP 5xx, or the Remote API's ``UNEXPECTED_ERROR``).

    An outage, not a change of the API: nothing is wrong with what was sent or how the answer
    would be read, and the same request is expected to work again later. It subclasses
    :class:`SequenceConnectionError` because it calls for the same handling: retry soon, never
    count it as an unreadable answer, and for a request that changes something, do not assume
    it failed (a 502 or 504 from a gateway may come after Sequence did the work). Callers that
    tell the user what happened check for it first, so an outage is called an outage.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        """Keep the ``Retry-After`` delay in seconds (a 503 may send one)."""
        super().__init__(message)
        self.retry_after = retry_after


class SequenceResponseError(SequenceError):
    """Sequence answered, but not with what the API documents.

    A 2xx body that is not JSON or is off the documented shape, a redirect, or a 4xx other
    than the refusals and rate limits that have their own class: the request this version
    sends, or the answer it reads, no longer matches Sequence's API.
    """


class SequenceNotFoundError(SequenceResponseError):
    """The resource does not exist or is not visible to this credential (404)."""


class SequencePermissionError(SequenceError):
    """The credential is valid but lacks a permission (Platform API 403 ``ACCESS_DENIED``).

    Distinct from :class:`SequenceAuthError`: asking the user to sign in again does not help;
    they must grant the permission to their API key in the Sequence app.
    """

    def __init__(self, message: str, *, permission: str | None = None) -> None:
        """Keep the missing permission's name (e.g. ``READ_ACCOUNTS``), when it is known."""
        super().__init__(message)
        self.permission = permission


class SequenceOutcomeUnknownError(SequenceError):
    """A money request was sent, or may have been, and no definite answer came.

    A timeout or a lost connection after the connection was made, any 5xx to a money request,
    a 2xx whose body cannot be read. Whoever called must not assume it failed: money may have
    moved. Never raised for a request that was certainly not sent.
    """


class SequenceConflictError(SequenceError):
    """A request with the same idempotency key is still being processed (409).

    ``RULE_EXECUTION_IN_PROGRESS`` or ``TRANSFER_IN_PROGRESS``: the first request is running;
    this one did nothing.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        """Keep Sequence's upper-case error code, when it sent one."""
        super().__init__(message)
        self.code = code


class SequenceRefusedError(SequenceError):
    """Sequence definitely refused a money request; nothing ran.

    400 (``MAXIMUM_AMOUNT_EXCEEDED``, ``IDEMPOTENCY_KEY_MISMATCH``, ``INVALID_PARAMETERS``,
    ``INSUFFICIENT_FUNDS``, ...), 403 ``RULE_DEACTIVATED`` / ``INVALID_RULE`` (a 403
    ``ACCESS_DENIED`` stays :class:`SequencePermissionError`), 404 on a money request
    (``RULE_NOT_FOUND``, ...).
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        """Keep Sequence's upper-case error code, when it sent one."""
        super().__init__(message)
        self.code = code


class SequenceRuleSecretError(SequenceError):
    """A Remote API rule trigger's API secret was refused (401/403, ``INVALID_API_SECRET``).

    About that one rule's secret, never the entry's credential: it is not a
    :class:`SequenceAuthError`, so it never starts a reauthentication.
    """
