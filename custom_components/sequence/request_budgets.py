"""One request budget per API key, for all of Home Assistant.

Sequence counts requests per key: the entry's polls, a reload's first poll, and every flow step
that checks the same key (setup, reauthentication, reconfigure, options) must stay within one
rate window and one in-flight cap, and all sit out a ``Retry-After``. The budgets live in
``hass.data``, so a reload (and a new flow) gets the one the key already has. They are keyed by
a salted hash of the key, never the key itself.
"""

import hashlib
import hmac
import secrets

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .api import RequestBudget
from .api.platform import normalize_api_key
from .const import DOMAIN

DATA_REQUEST_BUDGETS: HassKey[RequestBudgets] = HassKey(f"{DOMAIN}_request_budgets")


class RequestBudgets:
    """The budgets of the keys in use, by salted hash."""

    __slots__ = ("_by_digest", "_salt")

    def __init__(self) -> None:
        """Start empty, with a salt of this process's own."""
        self._salt = secrets.token_bytes(16)
        self._by_digest: dict[str, RequestBudget] = {}

    def __len__(self) -> int:
        """How many keys have a budget."""
        return len(self._by_digest)

    def for_key(self, api_key: str) -> RequestBudget:
        """The key's budget, made when it has none.

        Making one forgets the idle budgets of other keys (nothing in flight or in the window,
        no ``Retry-After``): a fresh budget is the same, and keys pasted once into a form are
        not kept forever.
        """
        digest = hmac.new(self._salt, api_key.encode(), hashlib.sha256).hexdigest()
        budget = self._by_digest.get(digest)
        if budget is None:
            self._by_digest = {
                other: kept for other, kept in self._by_digest.items() if not kept.is_idle()
            }
            budget = self._by_digest[digest] = RequestBudget()
        return budget


def request_budget(hass: HomeAssistant, api_key: str) -> RequestBudget:
    """The budget every Platform API client of ``api_key`` must use.

    Raises:
        ValueError: the key is unusable (see :func:`.api.platform.normalize_api_key`).
    """
    budgets = hass.data.get(DATA_REQUEST_BUDGETS)
    if budgets is None:
        budgets = hass.data[DATA_REQUEST_BUDGETS] = RequestBudgets()
    return budgets.for_key(normalize_api_key(api_key))
