"""The runners' shared part: each reads its own subentries, names its own action, follows."""

from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.sequence.api import SequenceConflictError
from custom_components.sequence.audit import MoneyAction
from custom_components.sequence.follow import Pending
from custom_components.sequence.guard import MoneyCall
from custom_components.sequence.ledger import Follow
from custom_components.sequence.money_runner import MoneyRunner

from .conftest import ROUTE_SUBENTRY_ID, api_key_entry_with, route_subentry


class TitleRunner(MoneyRunner[str, str]):
    """A runner whose settings are the subentry's title, recording each look it makes."""

    _action = MoneyAction.TRANSFER
    _following = "test follow"
    _settings_of = staticmethod(lambda subentry: subentry.title)

    looks: list[tuple[str, str, str, bool]]

    async def _async_check(
        self, client: str, subentry_id: str, follow: Follow, *, last: bool
    ) -> Pending | None:
        self.looks.append((client, subentry_id, follow.reference, last))
        return None


def make_runner(hass: HomeAssistant) -> tuple[TitleRunner, Any]:
    entry = api_key_entry_with(route_subentry())
    entry.add_to_hass(hass)
    runner = TitleRunner(hass, entry, MagicMock(), "client")
    runner.looks = []
    return runner, entry


async def test_settings_are_read_from_the_subentry_until_it_is_removed(
    hass: HomeAssistant,
) -> None:
    runner, entry = make_runner(hass)
    assert runner._settings(ROUTE_SUBENTRY_ID) == "Paycheck → Emergency Fund"
    subentry: ConfigSubentry = entry.subentries[ROUTE_SUBENTRY_ID]
    hass.config_entries.async_remove_subentry(entry, subentry.subentry_id)
    assert runner._settings(ROUTE_SUBENTRY_ID) is None


async def test_a_failure_is_worded_for_the_runner_s_action(hass: HomeAssistant) -> None:
    runner, _entry = make_runner(hass)
    call = MagicMock(spec=MoneyCall, idempotency_key="key-1")
    failure = runner._failure(SequenceConflictError("busy"), call)
    assert failure.error.translation_key == "transfer_in_progress"
    assert failure.error.translation_placeholders == {"idempotency_key": "key-1"}


async def test_a_follow_looks_with_the_client_and_the_subentry(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    runner, _entry = make_runner(hass)
    runner._follow(
        "client",
        ROUTE_SUBENTRY_ID,
        Follow(reference="T-1", key="key-1", started_at=dt_util.utcnow()),
    )
    assert runner._follower.is_following("T-1")
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert runner.looks == [("client", ROUTE_SUBENTRY_ID, "T-1", False)]
    assert not runner._follower.is_following("T-1")
