"""Moving money between one bank's accounts, as rules and transfers do (integer cents).

The source pays; a Sequence account or a deposit account receives; paying a liability (a card,
a loan) lowers what is owed. An account with a provider error has no balance: it can neither
pay nor be paid.
"""

from .state import AccountKind, Bank, ExternalType, SimAccount, UnknownAccountError


def can_be_source(account: SimAccount) -> bool:
    """Money may leave it: a Pod, an Income Source or a deposit account."""
    return account.kind is not AccountKind.EXTERNAL_ACCOUNT or (
        account.external_type is ExternalType.DEPOSITORY
    )


def can_be_destination(account: SimAccount) -> bool:
    """Money may arrive: anything but an investment account (a card or loan is paid down)."""
    return account.external_type is not ExternalType.INVESTMENT


def account(bank: Bank, account_id: str) -> SimAccount | None:
    """The live account with that Remote API id, or None (unknown or removed)."""
    try:
        return bank.get(account_id)
    except UnknownAccountError:
        return None


def balance(bank: Bank, account_id: str) -> int | None:
    """The account's balance now; None when it is gone or its provider reports an error."""
    found = account(bank, account_id)
    return None if found is None else bank.balance_cents(found)


def funded(bank: Bank, source: str, amount_cents: int) -> bool:
    """Whether ``source`` holds at least ``amount_cents`` now."""
    available = balance(bank, source)
    return available is not None and available >= amount_cents


def move(bank: Bank, source: str, destination: str, amount_cents: int) -> None:
    """Take ``amount_cents`` from ``source`` and give it to ``destination`` (now)."""
    paid = balance(bank, source)
    if paid is not None:
        bank.set_balance(source, paid - amount_cents)
    received = balance(bank, destination)
    target = account(bank, destination)
    if received is not None and target is not None:
        owed = target.kind is AccountKind.EXTERNAL_ACCOUNT and target.liability is not None
        bank.set_balance(destination, received - amount_cents if owed else received + amount_cents)
