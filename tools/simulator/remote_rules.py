"""Rules with a Remote API trigger: each has its own API secret and trigger URL.

A rule belongs to one beneficiary's bank and moves fixed amounts between its accounts. A
trigger within ``TRIGGER_WINDOW_SECONDS`` of the rule's last run is refused (429), as
Sequence refuses repeated triggers; an ``idempotency-key`` seen in the last 24 hours with the
same body is answered as the first request was, without running the rule again.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
import hmac
import math

from .idempotency import IdempotencyMemory
from .platform_records import SimAction, Timing

TRIGGER_WINDOW_SECONDS = 60.0
"""A rule triggered again this soon after its last run is answered 429."""
DEV_RULE_SECRET = "dev-rule-secret"  # noqa: S105 - documented development secret
"""The household's seeded rule's API secret (like ``dev-token``, documented, not a secret)."""
DEV_BUSINESS_RULE_SECRET = "dev-business-rule-secret"  # noqa: S105 - documented, as above
TRIGGER_PATHS = ("/remote-api/rules/{id}/trigger", "/rules/{id}/trigger")
"""The two shapes of a trigger URL Sequence's app and clients show (both work)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SimRemoteRule:
    """A rule with a Remote API trigger."""

    id: str
    name: str
    beneficiary: str
    """Whose bank it moves money in (``household`` or ``business``)."""
    secret: str
    actions: tuple[SimAction, ...]

    def trigger_paths(self) -> list[str]:
        """Its trigger URLs' paths, in both shapes."""
        return [path.format(id=self.id) for path in TRIGGER_PATHS]


def seed_remote_rules() -> list[SimRemoteRule]:
    """One rule per beneficiary: the household's boost of Vacation, the business's tax set-aside."""
    return [
        SimRemoteRule(
            id="ru_10001",
            name="Vacation boost",
            beneficiary="household",
            secret=DEV_RULE_SECRET,
            actions=(
                SimAction(kind="FIXED", source="4410025", destination="4410024", amount_cents=2500),
            ),
        ),
        SimRemoteRule(
            id="ru_20001",
            name="Tax set-aside",
            beneficiary="business",
            secret=DEV_BUSINESS_RULE_SECRET,
            actions=(
                SimAction(
                    kind="FIXED", source="6620101", destination="6620102", amount_cents=15000
                ),
            ),
        ),
    ]


class TooSoonError(Exception):
    """The rule ran less than ``TRIGGER_WINDOW_SECONDS`` ago."""

    def __init__(self, retry_after: int) -> None:
        """Keep the seconds until it may run again."""
        super().__init__(retry_after)
        self.retry_after = retry_after


class RemoteRules:
    """The Remote API rules of both beneficiaries, their last runs and idempotency keys."""

    def __init__(self, clock: Callable[[], float]) -> None:
        """Seeded rules, on ``clock``."""
        self._clock = clock
        # The Remote API answers at once: a repeat is never "in flight".
        self.idempotency = IdempotencyMemory(clock, Timing(in_flight_seconds=0))
        self.rules: dict[str, SimRemoteRule] = {}
        self.last_run: dict[str, float] = {}
        self.runs: Counter[str] = Counter()
        self.reset()

    def reset(self) -> None:
        """The seeded rules, never run."""
        self.rules = {rule.id: rule for rule in seed_remote_rules()}
        self.last_run.clear()
        self.runs.clear()
        self.idempotency.clear()

    def signed(self, rule: SimRemoteRule, presented: str | None) -> bool:
        """Whether ``presented`` is the rule's secret (compared in constant time)."""
        return presented is not None and hmac.compare_digest(
            presented.encode(), rule.secret.encode()
        )

    def trigger(
        self,
        rule: SimRemoteRule,
        *,
        idempotency_key: str | None,
        fingerprint: str,
        run: Callable[[SimRemoteRule], None],
    ) -> bool:
        """Run ``rule`` with ``run``; False when an earlier request with the key already did.

        Raises:
            IdempotencyMismatchError: the key came with another body.
            TooSoonError: the rule ran less than ``TRIGGER_WINDOW_SECONDS`` ago.
        """
        scope = f"remote:{rule.id}"
        if self.idempotency.recall(scope, idempotency_key, fingerprint) is not None:
            return False
        now = self._clock()
        last = self.last_run.get(rule.id)
        if last is not None and now - last < TRIGGER_WINDOW_SECONDS:
            raise TooSoonError(max(1, math.ceil(last + TRIGGER_WINDOW_SECONDS - now)))
        run(rule)
        self.last_run[rule.id] = now
        self.runs[rule.id] += 1
        self.idempotency.remember(scope, idempotency_key, fingerprint, rule.id)
        return True

    def describe(self) -> list[dict[str, object]]:
        """For the control API: never the secrets."""
        return [
            {
                "id": rule.id,
                "name": rule.name,
                "beneficiary": rule.beneficiary,
                "trigger_paths": rule.trigger_paths(),
                "runs": self.runs[rule.id],
            }
            for rule in self.rules.values()
        ]
