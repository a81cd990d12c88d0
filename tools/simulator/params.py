"""Checks for the JSON parameters the control API and the scenarios accept."""

from collections.abc import Collection, Mapping

type Params = Mapping[str, object]


class InvalidParamsError(ValueError):
    """A parameter that cannot be used; the text says why (and never echoes a secret)."""


def reject_unknown(params: Params, allowed: Collection[str], what: str) -> None:
    """Fail on any key of ``params`` not in ``allowed``."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        msg = f"{what} takes no parameter {', '.join(map(repr, unknown))}"
        raise InvalidParamsError(msg)


def text(params: Params, key: str) -> str | None:
    """A non-blank string, or None when absent or null."""
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        msg = f"{key} must be a non-empty string"
        raise InvalidParamsError(msg)
    return value


def integer(params: Params, key: str, *, minimum: int | None = None) -> int | None:
    """An integer (not a bool, not a float), or None when absent or null."""
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{key} must be an integer"
        raise InvalidParamsError(msg)
    if minimum is not None and value < minimum:
        msg = f"{key} must be >= {minimum}"
        raise InvalidParamsError(msg)
    return value


def seconds(params: Params, key: str) -> float | None:
    """A non-negative number of seconds, or None when absent or null."""
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        msg = f"{key} must be a number of seconds >= 0"
        raise InvalidParamsError(msg)
    return float(value)
