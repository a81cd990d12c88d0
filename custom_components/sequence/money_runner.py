"""What the rule runner and the transfer runner share around the guard: following and errors."""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import ClassVar

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant

from .api import SequenceError
from .audit import MoneyAction
from .coordinator import SequenceConfigEntry
from .errors import MoneyFailure, money_action_error
from .follow import Follower, Pending
from .guard import MoneyCall, MoneyGuard
from .ledger import Attempt, Follow
from .money import follow_context
from .texts import credential_kind


class MoneyRunner[SettingsT, ClientT]:
    """One entry's money action of one kind: its guard, its client, what it is following.

    A subclass says what it does (``_action``, ``_following``: the follower's task names, how
    to read its subentries' settings), sends the requests, and looks at what it follows with
    ``_async_check``.
    """

    _action: ClassVar[MoneyAction]
    _following: ClassVar[str]
    _settings_of: Callable[[ConfigSubentry], SettingsT]
    _async_check: Callable[..., Awaitable[Pending | None]]
    """One look at a followed reference (``client, subentry_id, follow, *, last``); None once
    there is nothing more to follow."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SequenceConfigEntry,
        guard: MoneyGuard,
        client: ClientT | None,
    ) -> None:
        """Act through ``guard`` and ``client``."""
        self._hass = hass
        self._entry = entry
        self._guard = guard
        self._client = client
        self._follower = Follower(hass, entry, self._following)
        entry.async_on_unload(self._follower.async_stop)

    def _failure(
        self, err: SequenceError, call: MoneyCall, *, simulation: bool = False
    ) -> MoneyFailure:
        return money_action_error(
            err,
            action=self._action,
            credential=credential_kind(self._entry),
            idempotency_key=call.idempotency_key,
            simulation=simulation,
        )

    def _follow(self, client: ClientT, subentry_id: str, follow: Follow) -> None:
        self._follower.async_follow(
            follow.reference,
            follow.started_at,
            partial(self._async_check, client, subentry_id, follow),
        )

    def _followed_call(  # noqa: PLR0913 - keyword-only
        self,
        subentry_id: str,
        title: str,
        follow: Follow,
        attempt: Attempt | None,
        *,
        rule_id: str | None = None,
        source_account_id: str | None = None,
        destination_account_id: str | None = None,
    ) -> MoneyCall:
        """The call a follow belongs to, as the audit trail records it."""
        return MoneyCall(
            action=self._action,
            entry_id=self._entry.entry_id,
            subentry_id=subentry_id,
            title=title,
            idempotency_key=follow.key,
            fingerprint="" if attempt is None else attempt.fingerprint,
            simulated=False,
            context=follow_context(follow),
            amount_cents=None if attempt is None else attempt.amount_cents,
            rule_id=rule_id,
            source_account_id=source_account_id,
            destination_account_id=destination_account_id,
        )

    def _settings(self, subentry_id: str) -> SettingsT | None:
        """The subentry's settings; None once it was removed."""
        subentry = self._entry.subentries.get(subentry_id)
        return None if subentry is None else self._settings_of(subentry)
