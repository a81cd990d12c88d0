"""What a rule or transfer-route subentry allows, read once from its stored data.

The subentry flows write the data; the money guard, the runners and the entities read it
through these, so a key name or a unit (cents) lives in one place.
"""

from dataclasses import dataclass
from datetime import timedelta

from homeassistant.config_entries import ConfigSubentry

from .const import (
    CONF_DESCRIPTION,
    CONF_DESTINATION,
    CONF_MAX_PER_DAY_CENTS,
    CONF_MAX_PER_TRANSFER_CENTS,
    CONF_MAX_RUNS_PER_DAY,
    CONF_MIN_INTERVAL_MINUTES,
    CONF_RULE_ID,
    CONF_SECRET,
    CONF_SOURCE,
    CONF_TRIGGER_URL,
)
from .guard import RouteLimits, RuleLimits


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSettings:
    """A rule subentry: which rule, through which API, within which limits."""

    subentry_id: str
    name: str
    rule_id: str
    trigger_url: str | None
    """Remote API rules only: the trigger URL the Sequence app shows."""
    secret: str | None
    """Remote API rules only: the rule's API secret. Never logged, shown or sent elsewhere."""
    limits: RuleLimits

    @property
    def is_remote(self) -> bool:
        """Triggered through the Remote API (with its own secret), not the Platform API."""
        return self.trigger_url is not None

    def __repr__(self) -> str:
        """Everything but the secret."""
        return (
            f"RuleSettings(subentry_id={self.subentry_id!r}, rule_id={self.rule_id!r}, "
            f"remote={self.is_remote}, limits={self.limits!r})"
        )

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> RuleSettings:
        """Read a ``rule`` subentry's data."""
        data = subentry.data
        return cls(
            subentry_id=subentry.subentry_id,
            name=subentry.title,
            rule_id=data[CONF_RULE_ID],
            trigger_url=data.get(CONF_TRIGGER_URL),
            secret=data.get(CONF_SECRET),
            limits=RuleLimits(
                min_interval=timedelta(minutes=data[CONF_MIN_INTERVAL_MINUTES]),
                max_runs_per_day=data[CONF_MAX_RUNS_PER_DAY],
            ),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteSettings:
    """A transfer-route subentry: from which account to which, within which limits."""

    subentry_id: str
    name: str
    source_id: str
    destination_id: str
    description: str
    """The default ACH description ("" for none)."""
    limits: RouteLimits

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> RouteSettings:
        """Read a ``transfer_route`` subentry's data."""
        data = subentry.data
        return cls(
            subentry_id=subentry.subentry_id,
            name=subentry.title,
            source_id=data[CONF_SOURCE],
            destination_id=data[CONF_DESTINATION],
            description=data.get(CONF_DESCRIPTION) or "",
            limits=RouteLimits(
                max_per_transfer_cents=data[CONF_MAX_PER_TRANSFER_CENTS],
                max_per_day_cents=data[CONF_MAX_PER_DAY_CENTS],
            ),
        )
