"""Checking and cleaning what people paste: API Key, Client Secret, List ID."""

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wizard.constant_contact import formats

KEY = "1d2c3b4a-5e6f-4a1b-8c9d-0e1f2a3b4c5d"
SECRET = "Xy3_kq9ZpL0mN2bV4cD6eQ"
LIST_ID = "7c5b38ee-81d3-11f0-a43c-fa163ea34668"


@pytest.mark.parametrize(
    "pasted",
    [
        KEY,
        KEY.upper(),
        f"  {KEY}  ",
        f'"{KEY}"',
        f"'{KEY}'.",
        f"“{KEY}”",
        f"\u200b{KEY}\ufeff",
        f"\u00a0{KEY}\n",
        f"<{KEY}>",
        KEY.replace("-", ""),
    ],
)
def test_api_key_is_cleaned_and_normalized(pasted: str) -> None:
    assert formats.check_api_key(pasted) == formats.Checked(KEY)


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("", "Enter your API Key"),
        ("   ", "Enter your API Key"),
        (
            "https://wizard.test/callback/constant-contact-auth",
            "That is the Redirect URI",
        ),
        (
            "https://app.constantcontact.com/pages/dma/portal/",
            "looks like a web address",
        ),
        (SECRET, "looks like your Client Secret, not your API Key"),
        ("1d2c3b4a-5e6f-4a1b-8c9d", "looks incomplete"),
        ("hello world", "should be 36 letters, numbers and dashes"),
    ],
)
def test_api_key_mistakes_get_specific_messages(pasted: str, message: str) -> None:
    checked = formats.check_api_key(pasted)
    assert not checked.ok
    assert message in (checked.error or "")


@pytest.mark.parametrize("version", [1, 3, 4, 5])
def test_api_key_accepts_any_uuid_version(version: int) -> None:
    value = {
        1: uuid.uuid1,
        3: lambda: uuid.uuid3(uuid.NAMESPACE_DNS, "a"),
        4: uuid.uuid4,
        5: lambda: uuid.uuid5(uuid.NAMESPACE_DNS, "a"),
    }[version]()
    assert formats.check_api_key(str(value)).value == str(value)


def test_swapped_key_and_secret_are_put_right_and_never_echoed() -> None:
    checked = formats.check_credentials(SECRET, KEY)
    assert "wrong way round" in (checked.api_key.error or "")
    assert checked.secret == formats.Checked(SECRET)
    assert checked.api_key_echo == KEY
    assert not checked.ok


def test_secret_in_the_key_box_is_kept_as_the_secret() -> None:
    # Constant Contact shows a secret once: kept, the app check decides its use.
    moved = formats.check_credentials(SECRET, "")
    assert "saved it as your Client Secret" in (moved.api_key.error or "")
    assert moved.secret == formats.Checked(SECRET) and moved.api_key_echo == ""


def test_secret_keeps_its_own_punctuation() -> None:
    checked = formats.check_credentials(KEY, f' "{SECRET}." ')
    assert checked.secret == formats.Checked(f"{SECRET}.")


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", "Enter your Client Secret"),
        (KEY, "That is your API Key"),
        ("0e1f2a3b-5e6f-4a1b-8c9d-1d2c3b4a4c5d", "looks like an API Key"),
        ("short", "should be one word"),
        ("has spaces inside it ok", "should be one word"),
    ],
)
def test_secret_mistakes(secret: str, message: str) -> None:
    checked = formats.check_client_secret(secret, api_key=KEY)
    assert message in (checked.error or "")
    if secret:  # typed beside the API Key, the same words
        beside = formats.check_credentials(KEY, secret).secret
        assert message in (beside.error or "")


def test_secret_is_optional_and_cleaned_when_given() -> None:
    empty = formats.check_credentials(KEY, "  ")
    assert empty.secret == formats.Checked("") and empty.ok
    given = formats.check_credentials(KEY, f' "{SECRET}" ')
    assert given.secret == formats.Checked(SECRET)


@pytest.mark.parametrize(
    "pasted",
    [
        LIST_ID,
        LIST_ID.upper(),
        f"https://app.constantcontact.com/contacts/lists/{LIST_ID}",
        f"app.constantcontact.com/contacts/lists/{LIST_ID}",
        f"www.constantcontact.com/contacts/lists/{LIST_ID}/",
        f"https://app.constantcontact.com/contacts/lists/{LIST_ID}?tab=contacts#top",
        f"https://app.constantcontact.com/pages/contacts/ui#lists/{LIST_ID}",
        f" <https://app.constantcontact.com/contacts/lists/{LIST_ID}> ",
        f"https://app.constantcontact.com/contacts/lists/{LIST_ID.upper()}",
    ],
)
def test_list_id_found_in_ids_and_addresses(pasted: str) -> None:
    assert formats.extract_list_id(pasted) == formats.Checked(LIST_ID)


def test_list_id_from_the_path_wins_over_the_query() -> None:
    other = "00000000-0000-4000-8000-000000000000"
    pasted = f"https://app.constantcontact.com/contacts/lists/{LIST_ID}?ref={other}"
    assert formats.extract_list_id(pasted).value == LIST_ID


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("", "Enter the List ID, or paste the address of your list"),
        ("https://app.constantcontact.com/pages/contacts/ui#lists", "could not find"),
        ("Newsletter", "could not find"),
        ("7c5b38ee-81d3-11f0-a43c", "could not find"),
    ],
)
def test_list_id_mistakes(pasted: str, message: str) -> None:
    checked = formats.extract_list_id(pasted)
    assert message in (checked.error or "")


def test_api_key_pasted_as_list_id() -> None:
    checked = formats.extract_list_id(KEY.upper(), api_key=KEY)
    assert "That is your API Key" in (checked.error or "")


def test_came_from_address() -> None:
    assert formats.came_from_address(f"https://x.test/lists/{LIST_ID}")
    assert formats.came_from_address(
        f"app.constantcontact.com/contacts/lists/{LIST_ID}"
    )
    assert not formats.came_from_address(LIST_ID)


def test_an_address_without_scheme_reads_like_one_with() -> None:
    other = "00000000-0000-4000-8000-000000000000"
    address = f"app.constantcontact.com/contacts/lists/{LIST_ID}?ref={other}"
    assert formats.extract_list_id(address).value == LIST_ID
    assert formats.extract_list_id(f"https://{address}").value == LIST_ID


uuids = st.uuids().map(str)
no_hex = st.text(alphabet="ghijklmnopqrstuvwxyz/?=&#._~", max_size=30)
junk = st.sampled_from(["", " ", "\u200b", '"', "'", "\n", "\t", "“", "<", ">", "."])


@given(
    list_id=uuids,
    upper=st.booleans(),
    path_prefix=no_hex,
    suffix=st.sampled_from(["", "/", "?a=b", "#x", "/?tab=1"]),
    before=junk,
    after=junk,
)
def test_list_id_extracted_from_any_list_address(
    list_id: str, upper: bool, path_prefix: str, suffix: str, before: str, after: str
) -> None:
    shown = list_id.upper() if upper else list_id
    prefix = path_prefix.replace("?", "").replace("#", "")
    pasted = f"{before}https://app.example.test/{prefix}/{shown}{suffix}{after}"
    assert formats.extract_list_id(pasted) == formats.Checked(list_id)


@given(list_id=uuids, before=junk, after=junk)
def test_bare_list_id_survives_decoration(
    list_id: str, before: str, after: str
) -> None:
    assert formats.extract_list_id(f"{before}{list_id}{after}").value == list_id


@given(
    text=st.text(alphabet=st.characters(exclude_characters="0123456789abcdefABCDEF"))
)
def test_no_list_id_is_invented(text: str) -> None:
    checked = formats.extract_list_id(text)
    assert not checked.ok and checked.value == ""


@pytest.mark.parametrize("pasted", ["0[/", "https://[x/lists/" + LIST_ID, "a]b/c"])
def test_addresses_that_do_not_parse_are_read_as_text(pasted: str) -> None:
    """urlsplit raises on an unclosed "[" (found by tests/test_bad_input.py)."""
    checked = formats.extract_list_id(pasted)
    assert checked.value == (LIST_ID if LIST_ID in pasted else "")
    assert checked.ok == (LIST_ID in pasted)


@given(value=st.text())
def test_checks_never_crash(value: str) -> None:
    for checked in (
        formats.check_api_key(value),
        formats.extract_list_id(value),
        formats.check_credentials(value, value).api_key,
        formats.check_credentials(value, value).secret,
    ):
        assert checked.ok == (checked.error is None)
