"""Seeded Platform API history: rules, six weeks of transfers, the linked accounts' lines.

Everything is dated back from the bank's start (``origin``) and uses the seeded accounts'
Remote API ids, so ids and amounts are the same on every run. A few transfers are still in
flight at the start and settle an hour or two later, so a poller sees status changes; one waits
for approval. The daily round-ups make more than 100 transfers a month out of Groceries, so
lists have pages to follow. Scheduled rules cover every schedule type, for a calendar.
"""

import hashlib

from .platform_records import (
    SimAction,
    SimExecution,
    SimExternalTransaction,
    SimRule,
    SimTransfer,
    new_id,
)

DAY = 24 * 3600.0
HOUR = 3600.0
ROUND_UP_DAYS = 45
EXTERNAL_DAYS = 60

PAYCHECK = "4410007"
GROCERIES = "4410021"
RENT = "4410022"
EMERGENCY_FUND = "4410023"
VACATION = "4410024"
TAXES = "4410025"
CHECKING = "acc-3c19"
SAVINGS = "acc-51d4"
CARD = "acc-9a02"

PAYCHECK_CENTS = 320000
PAYDAY_RULE = new_id("rule", 1)
CARD_RULE = new_id("rule", 2)
TOP_UP_RULE = new_id("rule", 3)
LEGACY_RULE = new_id("rule", 4)
ROUND_UPS_RULE = new_id("rule", 5)
ALLOWANCE_RULE = new_id("rule", 6)
RENT_RESERVE_RULE = new_id("rule", 7)
FORTNIGHT_RULE = new_id("rule", 8)
TAX_PAYMENT_RULE = new_id("rule", 9)
ROUND_UPS = ((VACATION, 125), (EMERGENCY_FUND, 150), (TAXES, 100), (RENT, 110))
"""Where each day's round-ups from Groceries go, in cents."""


def midnight(origin: float) -> float:
    """UTC midnight of the day the bank opened: schedules start at whole hours from it."""
    return origin - origin % DAY


def seed_rules(origin: float) -> list[SimRule]:
    """Payday split (on funds), a disabled top-up, an unsupported one, and scheduled rules.

    One scheduled rule per schedule type: the card payment (monthly), the round-ups (daily),
    an allowance (weekly), a rent reserve (``BI_WEEKLY``: the 1st and the 15th), a fortnightly
    saving (every other week) and a tax payment (once, ten days after the start).
    """
    created = origin - 120 * DAY
    day0 = midnight(origin)
    return [
        SimRule(
            id=PAYDAY_RULE,
            name="Payday split",
            description="Rent, groceries and 10% to the emergency fund on every paycheck",
            enabled=True,
            trigger_type="ON_FUNDS_TRANSFERRED",
            trigger_account=PAYCHECK,
            actions=(
                SimAction(kind="FIXED", source=PAYCHECK, destination=RENT, amount_cents=185000),
                SimAction(kind="FIXED", source=PAYCHECK, destination=GROCERIES, amount_cents=60000),
                SimAction(
                    kind="PERCENTAGE", source=PAYCHECK, destination=EMERGENCY_FUND, percentage=10
                ),
            ),
            created_at=created,
        ),
        SimRule(
            id=CARD_RULE,
            name="Pay the Sapphire card",
            description=None,
            enabled=True,
            trigger_type="SCHEDULED",
            schedule_type="MONTHLY",
            schedule_start=day0 - 20 * DAY + 15 * HOUR,
            trigger_account=GROCERIES,
            actions=(SimAction(kind="TOTAL_AMOUNT_DUE", source=GROCERIES, destination=CARD),),
            created_at=created + DAY,
        ),
        SimRule(
            id=TOP_UP_RULE,
            name="Vacation top-up",
            description="Paused until spring",
            enabled=False,
            trigger_type="MANUAL",
            trigger_account=VACATION,
            actions=(
                SimAction(kind="FIXED", source=TAXES, destination=VACATION, amount_cents=5000),
            ),
            created_at=created + 2 * DAY,
        ),
        SimRule(
            id=LEGACY_RULE,
            name="Round-ups (legacy)",
            description=None,
            enabled=True,
            supported=False,
            trigger_type="MANUAL",
            trigger_account=CHECKING,
            actions=(
                SimAction(kind="FIXED", source=CHECKING, destination=TAXES, amount_cents=100),
            ),
            created_at=created + 3 * DAY,
        ),
        _scheduled(
            ROUND_UPS_RULE,
            "Daily round-ups",
            schedule_type="DAILY",
            start=day0 - ROUND_UP_DAYS * DAY + 23 * HOUR,
            source=GROCERIES,
            moves=ROUND_UPS,
            created=created + 4 * DAY,
        ),
        _scheduled(
            ALLOWANCE_RULE,
            "Weekly allowance",
            schedule_type="WEEKLY",
            start=day0 - 40 * DAY + 9 * HOUR,
            source=EMERGENCY_FUND,
            moves=((GROCERIES, 5000),),
            created=created + 5 * DAY,
        ),
        _scheduled(
            RENT_RESERVE_RULE,
            "Rent reserve",
            schedule_type="BI_WEEKLY",
            start=day0 - 60 * DAY + 8 * HOUR,
            source=PAYCHECK,
            moves=((RENT, 92500),),
            created=created + 6 * DAY,
        ),
        _scheduled(
            FORTNIGHT_RULE,
            "Fortnightly savings",
            schedule_type="EVERY_OTHER_WEEK",
            start=day0 - 30 * DAY + 10 * HOUR,
            source=PAYCHECK,
            moves=((VACATION, 7500),),
            created=created + 7 * DAY,
        ),
        _scheduled(
            TAX_PAYMENT_RULE,
            "Estimated tax payment",
            schedule_type="ONE_TIME",
            start=day0 + 10 * DAY + 12 * HOUR,
            source=TAXES,
            moves=((CHECKING, 120000),),
            created=created + 8 * DAY,
        ),
    ]


def _scheduled(  # noqa: PLR0913 - one rule, spelled out
    rule_id: str,
    name: str,
    *,
    schedule_type: str,
    start: float,
    source: str,
    moves: tuple[tuple[str, int], ...],
    created: float,
) -> SimRule:
    """An enabled scheduled rule moving fixed amounts out of ``source``."""
    return SimRule(
        id=rule_id,
        name=name,
        description=None,
        enabled=True,
        trigger_type="SCHEDULED",
        schedule_type=schedule_type,
        schedule_start=start,
        trigger_account=source,
        actions=tuple(
            SimAction(kind="FIXED", source=source, destination=destination, amount_cents=cents)
            for destination, cents in moves
        ),
        created_at=created,
    )


class _History:
    """Builds executions and transfers with deterministic ids."""

    def __init__(self) -> None:
        self.executions: list[SimExecution] = []
        self.transfers: list[SimTransfer] = []

    def next_transfer_id(self) -> str:
        return new_id("transfer", len(self.transfers) + 1)

    def transfer(self, transfer: SimTransfer) -> str:
        self.transfers.append(transfer)
        return transfer.id

    def execution(  # noqa: PLR0913 - one seeded run, spelled out
        self,
        rule_id: str,
        at: float,
        moves: list[tuple[str, str, int, str]],
        *,
        trigger_type: str,
        amount_cents: int | None = None,
        mode: str = "LIVE",
        settles_at: float | None = None,
        failed: bool = False,
    ) -> None:
        """One rule run at ``at`` whose ``moves`` are (source, destination, cents, direction)."""
        execution_id = new_id("execution", len(self.executions) + 1)
        ids = []
        settled = "INCOMPLETE" if failed else "COMPLETE"
        for source, destination, cents, direction in moves:
            ids.append(
                self.transfer(
                    SimTransfer(
                        id=self.next_transfer_id(),
                        amount_cents=cents,
                        direction=direction,
                        origin="RULE",
                        source=source,
                        destination=destination,
                        created_at=at,
                        status="PENDING" if settles_at else settled,
                        settles_at=settles_at or at + 4,
                        settled_status=settled,
                        error_code="INSUFFICIENT_FUNDS" if failed else None,
                        execution_mode=mode,
                        rule_id=rule_id,
                        rule_execution_id=execution_id,
                    )
                )
            )
        self.executions.append(
            SimExecution(
                id=execution_id,
                rule_id=rule_id,
                execution_mode=mode,
                trigger_type=trigger_type,
                created_at=at,
                settles_at=at + 4,
                amount_cents=amount_cents,
                transfer_ids=tuple(ids),
                transfers_attempted=len(moves),
            )
        )


def _payday(history: _History, at: float, *, settles_at: float | None = None) -> None:
    history.transfer(
        SimTransfer(
            id=history.next_transfer_id(),
            amount_cents=PAYCHECK_CENTS,
            direction="MONEY_IN",
            origin="DIRECT_DEPOSIT",
            source=None,
            destination=PAYCHECK,
            created_at=at,
        )
    )
    history.execution(
        PAYDAY_RULE,
        at + 300,
        [
            (PAYCHECK, RENT, 185000, "INTERNAL"),
            (PAYCHECK, GROCERIES, 60000, "INTERNAL"),
            (PAYCHECK, EMERGENCY_FUND, PAYCHECK_CENTS // 10, "INTERNAL"),
        ],
        trigger_type="ON_FUNDS_TRANSFERRED",
        amount_cents=PAYCHECK_CENTS,
        settles_at=settles_at,
    )


def seed_history(origin: float) -> tuple[list[SimRule], list[SimExecution], list[SimTransfer]]:
    """Rules, executions and transfers of the six weeks before ``origin``, oldest first."""
    history = _History()
    _payday(history, origin - 29 * DAY)
    history.execution(
        CARD_RULE,
        origin - 20 * DAY,
        [(GROCERIES, CARD, 96412, "MONEY_OUT")],
        trigger_type="SCHEDULED",
    )
    _payday(history, origin - 15 * DAY)
    history.execution(
        TOP_UP_RULE,
        origin - 12 * DAY,
        [(TAXES, VACATION, 5000, "INTERNAL")],
        trigger_type="MANUAL",
        failed=True,
    )
    history.transfer(
        SimTransfer(
            id=history.next_transfer_id(),
            amount_cents=500000,
            direction="INTERNAL",
            origin="USER",
            source=TAXES,
            destination=VACATION,
            created_at=origin - 10 * DAY,
            status="INCOMPLETE",
            settled_status="INCOMPLETE",
            error_code="INSUFFICIENT_FUNDS",
        )
    )
    history.transfer(
        SimTransfer(
            id=history.next_transfer_id(),
            amount_cents=20000,
            direction="MONEY_OUT",
            origin="EXTERNAL_PULL",
            source=GROCERIES,
            destination=None,
            external_party="ATM withdrawal",
            created_at=origin - 6 * DAY,
        )
    )
    history.execution(
        PAYDAY_RULE,
        origin - 4 * DAY,
        [(PAYCHECK, RENT, 185000, "INTERNAL"), (PAYCHECK, GROCERIES, 60000, "INTERNAL")],
        trigger_type="SEQUENCE_API",
        amount_cents=100000,
        mode="SIMULATION",
    )
    history.transfer(
        SimTransfer(
            id=history.next_transfer_id(),
            amount_cents=25000,
            direction="MONEY_IN",
            origin="USER_PULL",
            source=CHECKING,
            destination=VACATION,
            created_at=origin - 3 * DAY,
            status="PENDING",
            settles_at=origin + 6 * HOUR,
        )
    )
    history.execution(
        CARD_RULE,
        origin - 2 * DAY,
        [(GROCERIES, CARD, 128743, "MONEY_OUT")],
        trigger_type="SCHEDULED",
        settles_at=origin + 2 * HOUR,
    )
    _payday(history, origin - 1 * DAY, settles_at=origin + HOUR)
    day0 = midnight(origin)
    for day in range(ROUND_UP_DAYS, 0, -1):
        history.execution(
            ROUND_UPS_RULE,
            day0 - day * DAY + 23 * HOUR,
            [(GROCERIES, target, cents, "INTERNAL") for target, cents in ROUND_UPS],
            trigger_type="SCHEDULED",
        )
    history.transfer(
        SimTransfer(
            id=history.next_transfer_id(),
            amount_cents=200000,
            direction="MONEY_OUT",
            origin="USER",
            source=EMERGENCY_FUND,
            destination=CHECKING,
            created_at=origin - 2 * HOUR,
            status="PENDING_APPROVAL",
            settled_status="PENDING_APPROVAL",
        )
    )
    history.transfers.sort(key=lambda item: item.created_at)
    return seed_rules(origin), history.executions, history.transfers


EXTERNAL_LINES = {
    CHECKING: (
        ("Trader Joe's", 2400, 9500),
        ("Shell", 3000, 6500),
        ("Netflix", 1549, 1549),
        ("Con Edison", 6000, 14000),
        ("Amazon", 1200, 8900),
    ),
    CARD: (
        ("Whole Foods", 1800, 12000),
        ("Delta Air Lines", 18000, 42000),
        ("Spotify", 1199, 1199),
        ("Uber", 900, 4200),
    ),
}
"""Each account's usual spending: (description, least cents, most cents)."""


def seed_external_transactions(origin: float, seed: int) -> list[SimExternalTransaction]:
    """Sixty days of the linked accounts' lines, newest two days still pending.

    Checking: a payroll deposit every two weeks and about two purchases a day; the card: a
    purchase a day and a monthly payment; savings: monthly interest. Amounts and which
    merchant are pseudo-random from ``seed``, the same on every run.
    """
    lines: list[tuple[str, int, str, str, float]] = []
    day0 = midnight(origin)
    for day in range(EXTERNAL_DAYS, 0, -1):
        start = day0 - day * DAY
        if day % 14 == 0:
            lines.append((CHECKING, 412350, "MONEY_IN", "ACME CORP PAYROLL", start + 6 * HOUR))
        if day % 30 == 0:
            lines.append((CARD, 96412, "MONEY_IN", "Payment, thank you", start + 7 * HOUR))
            lines.append((SAVINGS, 5287, "MONEY_IN", "Interest paid", start + 5 * HOUR))
        for account, per_day in ((CHECKING, 2), (CARD, 1)):
            for slot in range(per_day):
                digest = hashlib.blake2b(
                    f"{seed}:{account}:{day}:{slot}".encode(), digest_size=8
                ).digest()
                number = int.from_bytes(digest)
                merchants = EXTERNAL_LINES[account]
                name, low, high = merchants[number % len(merchants)]
                cents = low + number // 7 % (high - low + 1)
                at = start + (11 + 5 * slot) * HOUR + number % 3600
                lines.append((account, cents, "MONEY_OUT", name, at))
    lines.sort(key=lambda line: line[4])
    return [
        SimExternalTransaction(
            id=new_id("external", number),
            account=account,
            amount_cents=cents,
            direction=direction,
            status="PENDING" if at >= day0 - 2 * DAY else "COMPLETE",
            description=description,
            date=at,
        )
        for number, (account, cents, direction, description, at) in enumerate(lines, 1)
    ]
