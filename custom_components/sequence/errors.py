"""One mapping from the clients' errors to Home Assistant's, for coordinators, flows and actions.

A client error's *kind* is also its translation key everywhere it is shown: ``exceptions``
(toasts, the entry's status while setup retries, the log), ``config.error`` (flow forms) and the
API-problem sensor's ``error_kind``; a kind whose text names the credential has one text per
credential kind (:mod:`.texts`), so every mapping here takes the credential it is about. What
differs between the callers is what happens next:

* a coordinator starts reauthentication for a refused credential (and, for the accounts, a key
  that lost ``READ_ACCOUNTS``, which nothing else can fix), and otherwise fails the poll with a
  ``retry_after`` chosen by the caller (see :mod:`.backoff`);
* a flow puts the kind on the form field it is about;
* something the user asked for (the Refresh button now, money actions later) gets a translated
  error and never starts reauthentication: a missing permission says which one to add.
"""

from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.update_coordinator import UpdateFailed

from .api import (
    SequenceAuthError,
    SequenceConnectionError,
    SequenceError,
    SequencePermissionError,
    SequenceRateLimitError,
    SequenceServerError,
)
from .const import CONF_API_TOKEN, DOMAIN
from .texts import text_key

INVALID_AUTH = "invalid_auth"
MISSING_PERMISSION = "missing_permission"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"
CANNOT_CONNECT = "cannot_connect"
UNEXPECTED_RESPONSE = "unexpected_response"
ERROR_KINDS = (
    INVALID_AUTH,
    MISSING_PERMISSION,
    RATE_LIMITED,
    UNAVAILABLE,
    CANNOT_CONNECT,
    UNEXPECTED_RESPONSE,
)
"""Every kind :func:`error_kind` returns."""
PERMISSION_NOT_GRANTED = "permission_not_granted"
"""The exception for a missing permission where signing in again would not help."""

_CREDENTIAL_KINDS = frozenset({INVALID_AUTH, MISSING_PERMISSION})
"""Kinds a flow shows on the credential field rather than on the whole form."""


def error_kind(err: SequenceError) -> str:
    """The kind (and translation key) of a client error.

    An outage (:class:`SequenceServerError`) is checked before the connection errors it
    belongs to, so it is called an outage; ``unexpected_response`` is left for answers that
    cannot be read (and requests Sequence no longer accepts).
    """
    match err:
        case SequenceAuthError():
            return INVALID_AUTH
        case SequencePermissionError():
            return MISSING_PERMISSION
        case SequenceRateLimitError():
            return RATE_LIMITED
        case SequenceServerError():
            return UNAVAILABLE
        case SequenceConnectionError():
            return CANNOT_CONNECT
        case _:
            return UNEXPECTED_RESPONSE


def required_wait(err: SequenceError) -> float | None:
    """Seconds Sequence asked for before the next request (``Retry-After``), if it did.

    A 429's, including the remainder of a block the Platform client is still sitting out, and
    a 5xx's (a 503 may send one).
    """
    if isinstance(err, SequenceRateLimitError | SequenceServerError):
        return err.retry_after
    return None


def update_error(
    err: SequenceError,
    *,
    credential: str,
    retry_after: float | None,
    permission_needs_reauth: bool,
) -> ConfigEntryAuthFailed | UpdateFailed:
    """What a coordinator raises for a failed poll.

    ``permission_needs_reauth``: a missing permission makes this coordinator useless until the
    credential is replaced (the accounts need ``READ_ACCOUNTS``), so it starts reauthentication
    like a refused credential. Otherwise the poll fails and Home Assistant polls again after
    ``retry_after`` seconds (None: at its usual time).
    """
    kind = error_kind(err)
    if kind == INVALID_AUTH or (kind == MISSING_PERMISSION and permission_needs_reauth):
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key=text_key(kind, credential)
        )
    if isinstance(err, SequencePermissionError):
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=PERMISSION_NOT_GRANTED,
            translation_placeholders=_permission_placeholders(err),
            retry_after=retry_after,
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=text_key(kind, credential),
        retry_after=retry_after,
    )


def flow_error(err: SequenceError, credential: str) -> tuple[str, str]:
    """The form error (a ``config.error`` key) and the field it belongs to."""
    kind = error_kind(err)
    return text_key(kind, credential), CONF_API_TOKEN if kind in _CREDENTIAL_KINDS else "base"


def action_error(err: SequenceError | None, credential: str) -> HomeAssistantError:
    """The translated error for something the user asked for; never a reauthentication.

    ``None`` (the request failed, but not with a client error) is an unexpected response.
    """
    if isinstance(err, SequencePermissionError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=PERMISSION_NOT_GRANTED,
            translation_placeholders=_permission_placeholders(err),
        )
    kind = UNEXPECTED_RESPONSE if err is None else error_kind(err)
    return HomeAssistantError(translation_domain=DOMAIN, translation_key=text_key(kind, credential))


def _permission_placeholders(err: SequencePermissionError) -> dict[str, str]:
    return {"permission": err.permission or "required"}
