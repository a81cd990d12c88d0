"""Seeded Platform API history: four rules and six weeks of transfers before the bank opened.

Everything is dated back from the bank's start (``origin``) and uses the seeded accounts'
Remote API ids, so ids and amounts are the same on every run. A few transfers are still in
flight at the start and settle an hour or two later, so a poller sees status changes.
"""

from .platform_records import SimAction, SimExecution, SimRule, SimTransfer, new_id

DAY = 24 * 3600.0
HOUR = 3600.0

PAYCHECK = "4410007"
GROCERIES = "4410021"
RENT = "4410022"
EMERGENCY_FUND = "4410023"
VACATION = "4410024"
TAXES = "4410025"
CHECKING = "acc-3c19"
CARD = "acc-9a02"

PAYCHECK_CENTS = 320000
PAYDAY_RULE = new_id("rule", 1)
CARD_RULE = new_id("rule", 2)
TOP_UP_RULE = new_id("rule", 3)
LEGACY_RULE = new_id("rule", 4)


def seed_rules(origin: float) -> list[SimRule]:
    """Payday split (on funds), card payment (monthly), a disabled top-up, an unsupported one."""
    created = origin - 120 * DAY
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
    ]


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
    return seed_rules(origin), history.executions, history.transfers
