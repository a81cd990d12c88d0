"""What a poll changed, and which listeners hear about it."""

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
import logging

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
import pytest

from custom_components.sequence.account_changes import (
    NO_CHANGES,
    AccountChanges,
    AccountListeners,
    AccountTopic,
    ChangesTopic,
    diff_accounts,
    members_topic,
)
from custom_components.sequence.api import Account, AccountKind

POD = Account(id="p", name="Groceries", kind=AccountKind.POD, type_name="Pod", balance=Decimal(1))
PAY = Account(
    id="i",
    name="Paycheck",
    kind=AccountKind.INCOME_SOURCE,
    type_name="Income Source",
    balance=Decimal(2),
)


def test_diff_of_the_same_accounts_is_nothing() -> None:
    accounts = {"p": POD}
    assert diff_accounts(accounts, accounts) is NO_CHANGES
    assert diff_accounts(accounts, {"p": replace(POD)}) is NO_CHANGES  # an equal copy


def test_diff_after_no_poll_is_everything() -> None:
    assert diff_accounts(None, {"p": POD, "i": PAY}).changed == {"p": (None, POD), "i": (None, PAY)}


def test_diff_names_added_changed_and_gone_accounts() -> None:
    richer = replace(POD, balance=Decimal(3))
    new = replace(PAY, id="n")
    changes = diff_accounts({"p": POD, "i": PAY}, {"p": richer, "n": new})
    assert changes.changed == {"p": (POD, richer), "n": (None, new), "i": (PAY, None)}


def test_diff_with_one_replaced_account() -> None:
    """Same count, one gone and one new: both are seen."""
    new = replace(PAY, id="n")
    changes = diff_accounts({"p": POD, "i": PAY}, {"p": POD, "n": new})
    assert changes.changed == {"n": (None, new), "i": (PAY, None)}


@pytest.mark.parametrize(
    ("changes", "moves"),
    [
        (NO_CHANGES, False),
        (AccountChanges({"p": (POD, replace(POD, balance=Decimal(5)))}), False),
        (AccountChanges({"p": (POD, replace(POD, name="Food"))}), True),
        (AccountChanges({"p": (None, POD)}), True),
        (AccountChanges({"p": (POD, None)}), True),
    ],
)
def test_moves_devices(changes: AccountChanges, moves: bool) -> None:
    assert changes.moves_devices() is moves


def test_members_topic() -> None:
    pods = members_topic(lambda account: account.kind is AccountKind.POD)
    assert pods.matches(POD, None)
    assert pods.matches(None, POD)
    assert not pods.matches(PAY, PAY)
    assert not pods.matches(None, None)


class Source:
    """A coordinator's data: the accounts and what the last poll changed."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {"p": POD, "i": PAY}
        self.changes = NO_CHANGES
        self.fail = False

    def set(self, accounts: dict[str, Account]) -> None:
        self.changes = diff_accounts(self.accounts, accounts)
        self.accounts = accounts

    async def update(self) -> dict[str, Account]:
        if self.fail:
            raise UpdateFailed
        return self.accounts


@pytest.fixture
def source() -> Source:
    return Source()


@pytest.fixture
async def coordinator(hass: HomeAssistant, source: Source) -> DataUpdateCoordinator[object]:
    coordinator: DataUpdateCoordinator[object] = DataUpdateCoordinator(
        hass,
        logging.getLogger(__name__),
        config_entry=None,
        name="test",
        update_method=source.update,
    )
    await coordinator.async_refresh()
    return coordinator


class Heard:
    def __init__(self) -> None:
        self.names: list[str] = []

    def listener(self, name: str) -> Callable[[], None]:
        @callback
        def heard() -> None:
            self.names.append(name)

        return heard


async def test_listeners_hear_only_about_their_topic(
    coordinator: DataUpdateCoordinator[object], source: Source
) -> None:
    listeners = AccountListeners(coordinator, lambda: source.changes)
    heard = Heard()
    listeners.async_add(AccountTopic("p"), heard.listener("pod"))
    listeners.async_add(AccountTopic("i"), heard.listener("paycheck"))
    listeners.async_add(AccountTopic("gone"), heard.listener("nobody"))
    listeners.async_add(
        members_topic(lambda account: account.kind is AccountKind.POD), heard.listener("pods")
    )
    listeners.async_add(ChangesTopic(lambda before, _: before is None), heard.listener("added"))

    await coordinator.async_refresh()  # nothing changed
    assert heard.names == []

    source.set({"p": replace(POD, balance=Decimal(9)), "i": PAY})
    await coordinator.async_refresh()
    assert heard.names == ["pod", "pods"]
    heard.names.clear()
    coordinator.async_update_listeners()  # the same poll again: already told
    assert heard.names == []

    source.set({"p": source.accounts["p"], "i": replace(PAY, balance=Decimal(0))})
    await coordinator.async_refresh()
    assert heard.names == ["paycheck"]


async def test_failure_and_recovery_reach_everyone(
    coordinator: DataUpdateCoordinator[object], source: Source
) -> None:
    listeners = AccountListeners(coordinator, lambda: source.changes)
    heard = Heard()
    listeners.async_add(AccountTopic("p"), heard.listener("pod"))
    listeners.async_add(ChangesTopic(lambda _before, _after: False), heard.listener("sum"))

    source.fail = True
    await coordinator.async_refresh()
    assert heard.names == ["pod", "sum"]
    await coordinator.async_refresh()  # still failing: Home Assistant tells no one
    source.fail = False
    await coordinator.async_refresh()
    assert heard.names == ["pod", "sum", "pod", "sum"]


async def test_a_failing_listener_does_not_stop_the_others(
    coordinator: DataUpdateCoordinator[object],
    source: Source,
    caplog: pytest.LogCaptureFixture,
) -> None:
    listeners = AccountListeners(coordinator, lambda: source.changes)
    heard = Heard()

    @callback
    def broken() -> None:
        raise RuntimeError

    listeners.async_add(AccountTopic("p"), broken)
    listeners.async_add(AccountTopic("p"), heard.listener("pod"))
    source.set({"p": replace(POD, name="Food"), "i": PAY})
    await coordinator.async_refresh()
    assert heard.names == ["pod"]
    assert "Unexpected error updating listener" in caplog.text


async def test_the_coordinator_listener_lives_while_topics_have_listeners(
    coordinator: DataUpdateCoordinator[object], source: Source
) -> None:
    listeners = AccountListeners(coordinator, lambda: source.changes)
    heard = Heard()
    remove_pod = listeners.async_add(AccountTopic("p"), heard.listener("pod"))
    remove_sum = listeners.async_add(ChangesTopic(lambda _b, _a: True), heard.listener("sum"))
    assert len(list(coordinator._listeners)) == 1  # what schedules polls
    remove_pod()
    assert len(list(coordinator._listeners)) == 1
    remove_sum()
    assert not coordinator._listeners  # no listener left: polling stops

    listeners.async_add(AccountTopic("p"), heard.listener("again"))
    source.set({"p": replace(POD, name="Food"), "i": PAY})
    await coordinator.async_refresh()
    assert heard.names == ["again"]
