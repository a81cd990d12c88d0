"""Base entities: the slug in suggested entity ids."""

from homeassistant.util import slugify
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.sequence.entity import name_slug


@settings(max_examples=500, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*", fullmatch=True) | st.text(max_size=20))
def test_name_slug_is_home_assistants_slug(name: str) -> None:
    assert name_slug(name) == slugify(name)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Groceries", "groceries"),
        ("Visa 9921", "visa_9921"),
        ("Emergency  Fund", "emergency_fund"),  # two spaces: not plain, slugified
        ("Café & Co.", "cafe_co"),
        ("", ""),
    ],
)
def test_name_slug(name: str, slug: str) -> None:
    assert name_slug(name) == slug
