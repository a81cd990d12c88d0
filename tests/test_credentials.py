"""Tests for credential checking: kind detection, the right API, precise errors."""

from unittest.mock import MagicMock

from homeassistant.core import HomeAssistant
import pytest

from custom_components.sequence.api import (
    Permission,
    PermissionCheck,
    SequenceAuthError,
    SequenceConnectionError,
    SequencePermissionError,
)
from custom_components.sequence.const import (
    CONF_API_TOKEN,
    CONF_BASE_URL,
    CONF_CREDENTIAL_KIND,
    KIND_ACCESS_TOKEN,
    KIND_API_KEY,
    SECTION_ADVANCED,
)
from custom_components.sequence.credentials import (
    CredentialError,
    async_has_read_transfers,
    async_validate_credential,
    normalize_base_url,
)

from .conftest import API_KEY, BASE_URL, PLATFORM_ANCHOR_ID, TOKEN


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://api.getsequence.io/", "https://api.getsequence.io"),
        ("HTTPS://api.getsequence.io", "https://api.getsequence.io"),
        (" http://localhost:8765 ", "http://localhost:8765"),
        ("http://[::1]:8765", "http://[::1]:8765"),
        ("http://127.0.0.2", "http://127.0.0.2"),
    ],
)
def test_normalize_base_url(raw: str, expected: str) -> None:
    assert normalize_base_url(raw) == expected


EXAMPLE = {"example_url": "https://api.getsequence.io"}


@pytest.mark.parametrize(
    ("raw", "key", "placeholders"),
    [
        ("http://api.getsequence.io", "insecure_url", {}),
        ("http://192.168.1.20:8765", "insecure_url", {}),
        ("http://sequence.local", "insecure_url", {}),
        ("api.getsequence.io", "url_scheme", EXAMPLE),
        ("api.getsequence.io:443", "url_scheme", EXAMPLE),
        ("ftp://api.getsequence.io", "url_scheme", EXAMPLE),
        ("not a url", "url_scheme", EXAMPLE),
        ("https://", "invalid_url", EXAMPLE),
        ("https://api.getsequence.io:99999", "invalid_url", EXAMPLE),
        ("https://user:secret@api.getsequence.io", "url_extras", {}),
        ("https://api.getsequence.io/?token=x", "url_extras", {}),
        ("https://api.getsequence.io/#x", "url_extras", {}),
        (
            "https://api.getsequence.io/platform/v1",
            "url_path",
            {"host_url": "https://api.getsequence.io"},
        ),
        ("http://127.0.0.1:8765/sim/", "url_path", {"host_url": "http://127.0.0.1:8765"}),
    ],
)
def test_normalize_base_url_says_what_is_wrong(
    raw: str, key: str, placeholders: dict[str, str]
) -> None:
    with pytest.raises(CredentialError) as raised:
        normalize_base_url(raw)
    assert (raised.value.key, raised.value.field) == (key, SECTION_ADVANCED)
    assert raised.value.placeholders == placeholders


async def test_api_key_is_checked_on_the_platform_api(
    hass: HomeAssistant, mock_platform_client: MagicMock
) -> None:
    credential = await async_validate_credential(hass, f" Bearer {API_KEY} ", BASE_URL)
    assert credential.kind == KIND_API_KEY
    assert credential.data == {
        CONF_API_TOKEN: API_KEY,
        CONF_BASE_URL: BASE_URL,
        CONF_CREDENTIAL_KIND: KIND_API_KEY,
    }
    assert credential.anchor == PLATFORM_ANCHOR_ID
    assert len(credential.account_ids) == 6
    assert credential.permissions is not None
    mock_platform_client.async_check_permissions.assert_awaited_once()


async def test_api_key_without_read_accounts(
    hass: HomeAssistant, mock_platform_client: MagicMock
) -> None:
    mock_platform_client.async_check_permissions.return_value = PermissionCheck(
        granted=frozenset({Permission.READ_TRANSFERS}),
        missing=frozenset({Permission.READ_ACCOUNTS, Permission.READ_RULES}),
    )
    with pytest.raises(CredentialError) as raised:
        await async_validate_credential(hass, API_KEY, BASE_URL)
    assert (raised.value.key, raised.value.field) == ("missing_read_accounts", CONF_API_TOKEN)
    mock_platform_client.async_list_accounts.assert_not_awaited()


@pytest.mark.parametrize(
    ("error", "key", "field"),
    [
        (SequenceAuthError("x"), "invalid_auth_api_key", CONF_API_TOKEN),
        (
            SequencePermissionError("x", permission="READ_ACCOUNTS"),
            "missing_permission",
            CONF_API_TOKEN,
        ),
        (SequenceConnectionError("x"), "cannot_connect", "base"),
        (RuntimeError("x"), "unknown", "base"),
    ],
)
async def test_api_key_errors(
    hass: HomeAssistant,
    mock_platform_client: MagicMock,
    error: Exception,
    key: str,
    field: str,
) -> None:
    mock_platform_client.async_list_accounts.side_effect = error
    with pytest.raises(CredentialError) as raised:
        await async_validate_credential(hass, API_KEY, BASE_URL)
    assert (raised.value.key, raised.value.field) == (key, field)


async def test_api_key_with_no_accounts(
    hass: HomeAssistant, mock_platform_client: MagicMock
) -> None:
    mock_platform_client.async_list_accounts.return_value = ()
    with pytest.raises(CredentialError) as raised:
        await async_validate_credential(hass, API_KEY, BASE_URL)
    assert raised.value.key == "no_accounts_api_key"


@pytest.mark.parametrize(
    ("pasted", "kind", "key"),
    [
        (API_KEY, KIND_ACCESS_TOKEN, "wrong_kind_access_token"),
        (f"Bearer {API_KEY}", KIND_ACCESS_TOKEN, "wrong_kind_access_token"),
        (TOKEN, KIND_API_KEY, "wrong_kind_api_key"),
        (" Bearer ", KIND_API_KEY, "invalid_auth_api_key"),
        (" ", KIND_ACCESS_TOKEN, "invalid_auth_access_token"),
    ],
)
async def test_a_credential_of_the_other_kind_is_refused_unasked(
    hass: HomeAssistant,
    mock_sequence_client: MagicMock,
    mock_platform_client: MagicMock,
    pasted: str,
    kind: str,
    key: str,
) -> None:
    """Replacing an entry's credential: the other kind is named, and Sequence is not asked."""
    with pytest.raises(CredentialError) as raised:
        await async_validate_credential(hass, pasted, BASE_URL, kind=kind)
    assert (raised.value.key, raised.value.field) == (key, CONF_API_TOKEN)
    mock_sequence_client.async_get_accounts.assert_not_called()
    mock_platform_client.async_check_permissions.assert_not_called()


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (PermissionCheck(granted=frozenset(), missing=frozenset()), True),
        (
            PermissionCheck(granted=frozenset(), missing=frozenset({Permission.READ_TRANSFERS})),
            False,
        ),
        (SequenceConnectionError("down"), True),
    ],
)
async def test_has_read_transfers(
    hass: HomeAssistant,
    mock_platform_client: MagicMock,
    check: PermissionCheck | Exception,
    expected: bool,
) -> None:
    if isinstance(check, Exception):
        mock_platform_client.async_check_permissions.side_effect = check
    else:
        mock_platform_client.async_check_permissions.return_value = check
    assert await async_has_read_transfers(hass, API_KEY, BASE_URL) is expected
