"""Reading rule and transfer-route subentries: units, defaults, and no secret in a repr."""

from datetime import timedelta
from types import MappingProxyType

from homeassistant.config_entries import ConfigSubentry

from custom_components.sequence.const import SUBENTRY_ROUTE, SUBENTRY_RULE
from custom_components.sequence.guard import RouteLimits, RuleLimits
from custom_components.sequence.subentry_data import RouteSettings, RuleSettings

SECRET = "rule-secret-DO_NOT_LEAK"


def subentry(kind: str, title: str, data: dict[str, object]) -> ConfigSubentry:
    return ConfigSubentry(
        data=MappingProxyType(data), subentry_type=kind, title=title, unique_id=None
    )


def test_a_remote_api_rule() -> None:
    settings = RuleSettings.from_subentry(
        subentry(
            SUBENTRY_RULE,
            "Round-ups",
            {
                "rule_id": "ru_1",
                "trigger_url": "https://api.getsequence.io/remote-api/rules/ru_1/trigger",
                "secret": SECRET,
                "min_interval_minutes": 5,
                "max_runs_per_day": 3,
            },
        )
    )
    assert settings.is_remote
    assert settings.name == "Round-ups"
    assert settings.secret == SECRET
    assert settings.limits == RuleLimits(min_interval=timedelta(minutes=5), max_runs_per_day=3)
    assert SECRET not in repr(settings)
    assert "ru_1" in repr(settings)


def test_a_platform_api_rule() -> None:
    settings = RuleSettings.from_subentry(
        subentry(
            SUBENTRY_RULE,
            "Payday split",
            {"rule_id": "uuid-1", "min_interval_minutes": 60, "max_runs_per_day": 1},
        )
    )
    assert not settings.is_remote
    assert (settings.trigger_url, settings.secret) == (None, None)


def test_a_transfer_route() -> None:
    settings = RouteSettings.from_subentry(
        subentry(
            SUBENTRY_ROUTE,
            "Paycheck to Vacation",
            {
                "source": "a",
                "destination": "b",
                "max_per_transfer_cents": 5000,
                "max_per_day_cents": 10000,
                "description": None,
            },
        )
    )
    assert (settings.source_id, settings.destination_id, settings.description) == ("a", "b", "")
    assert settings.limits == RouteLimits(max_per_transfer_cents=5000, max_per_day_cents=10000)
