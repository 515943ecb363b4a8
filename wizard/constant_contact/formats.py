"""Validate and clean what people paste: API Key, Client Secret, List ID.

Every check returns a plain-language message that says what to do, never just
"invalid". Messages name the fields the way Constant Contact and the article do.
They are English message ids (marked N_): pages translate them for the reader and
support records keep them in English.
"""

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from wizard.platform.i18n import N_

UUID_PATTERN = (
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_UUID_ANYWHERE = re.compile(rf"(?<![0-9a-fA-F-]){UUID_PATTERN}(?![0-9a-fA-F-])")
_UUID_EXACT = re.compile(rf"{UUID_PATTERN}")
# Secrets seen in the wild are 22 URL-safe base64 characters; stay lenient.
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_\-.~+/=]{16,128}")
# Quotes, brackets and punctuation that copying from emails and chats adds.
_QUOTES = "\"'`‘’‚‛“”„‟«»‹›<>()[]{}"
_WRAPPERS = _QUOTES + ".,;:"
REDIRECT_PATH = "/callback/constant-contact-auth"

EXAMPLE_UUID = "1a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d"


def clean(value: str | None, *, punctuation: bool = True) -> str:
    """Remove invisible characters and surrounding spaces, quotes and punctuation.

    Secrets pass punctuation=False: their own characters may include "." and "~".
    """
    if not value:
        return ""
    text = "".join(
        ch
        for ch in unicodedata.normalize("NFKC", value)
        if unicodedata.category(ch) not in ("Cf", "Cc") or ch in "\t\n"
    )
    wrappers = _WRAPPERS if punctuation else _QUOTES
    text = text.strip()
    previous = None
    while previous != text:
        previous = text
        text = text.strip(wrappers).strip()
    return text


def normalize_uuid(value: str) -> str:
    """Return a UUID in lowercase 8-4-4-4-12 form."""
    hexdigits = value.replace("-", "").lower()
    return "-".join(
        (
            hexdigits[:8],
            hexdigits[8:12],
            hexdigits[12:16],
            hexdigits[16:20],
            hexdigits[20:],
        )
    )


def is_uuid(value: str) -> bool:
    """Return whether the whole value is a UUID (any version, any case)."""
    return _UUID_EXACT.fullmatch(value) is not None


def looks_like_partial_uuid(value: str) -> bool:
    """Return whether the value is the start of a UUID (hex digits and dashes)."""
    return "-" in value and re.fullmatch(r"[0-9a-fA-F-]+", value) is not None


def looks_like_secret(value: str) -> bool:
    """Return whether the value has the shape of a client secret and not a UUID."""
    if is_uuid(value) or looks_like_partial_uuid(value):
        return False
    return _SECRET_SHAPE.fullmatch(value) is not None


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one field: a clean value or a message."""

    value: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_api_key(raw: str | None) -> Checked:
    """Check an API Key (client_id): a UUID."""
    value = clean(raw)
    if not value:
        return Checked(error=N_("Enter your API Key"))
    if REDIRECT_PATH in value:
        return Checked(
            error=N_(
                "That is the Redirect URI. Paste it into your app in Constant "
                "Contact, then copy the value labelled API Key into this box"
            )
        )
    if _is_address(value):
        return Checked(
            error=N_(
                "That looks like a web address. Copy the value labelled API Key "
                "on your app's page in Constant Contact"
            )
        )
    if is_uuid(value):
        return Checked(normalize_uuid(value))
    if looks_like_secret(value):
        return Checked(
            error=N_(
                "That looks like your Client Secret, not your API Key. Copy the "
                "value labelled API Key: it has 36 letters, numbers and dashes"
            )
        )
    if looks_like_partial_uuid(value):
        return Checked(
            error=N_(
                "That API Key looks incomplete: it should be 36 letters, numbers and "
                "dashes, like 1a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d. Copy all of it "
                "again"
            )
        )
    return Checked(
        error=N_(
            "The API Key should be 36 letters, numbers and dashes, like "
            "1a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d. Copy it again from your app's page "
            "in Constant Contact"
        )
    )


def check_client_secret(raw: str | None, *, api_key: str = "") -> Checked:
    """Check a Client Secret: one word, usually 22 characters, never a UUID."""
    value = clean(raw, punctuation=False)
    if not value:
        return Checked(
            error=N_(
                "Enter your Client Secret. If you can no longer see it, click "
                "Generate Client Secret in Constant Contact to make a new one"
            )
        )
    if is_uuid(value) and api_key and normalize_uuid(value) == api_key:
        return Checked(
            error=N_(
                "That is your API Key. The Client Secret is the other value, shown "
                "after you click Generate Client Secret"
            )
        )
    if is_uuid(value):
        return Checked(
            error=N_(
                "That looks like an API Key, not a Client Secret. Click Generate "
                "Client Secret in Constant Contact and copy what it shows"
            )
        )
    if not _SECRET_SHAPE.fullmatch(value):
        return Checked(
            error=N_(
                "The Client Secret should be one word of letters, numbers, dashes "
                "and underscores, usually 22 characters. Copy it again, or click "
                "Generate Client Secret to make a new one"
            )
        )
    return Checked(value)


@dataclass(frozen=True)
class Credentials:
    """Step 1 checked: each field's outcome, and what may go back in the API Key box."""

    api_key: Checked
    secret: Checked
    api_key_echo: str

    @property
    def ok(self) -> bool:
        return self.api_key.ok and self.secret.ok


def check_credentials(
    raw_api_key: str | None, raw_secret: str | None, *, secret_needed: bool
) -> Credentials:
    """Check the API Key and Client Secret together; never echo a secret.

    A secret pasted into the API Key box is kept as the secret when the flow uses
    one (Constant Contact shows a secret only once), and the key and secret
    pasted the wrong way round are put back the right way.
    """
    cleaned_key = clean(raw_api_key)
    cleaned_secret = clean(raw_secret, punctuation=False)
    key_is_secret = looks_like_secret(clean(raw_api_key, punctuation=False))
    secret_from_key = Checked(clean(raw_api_key, punctuation=False))
    if key_is_secret and is_uuid(cleaned_secret):
        swapped = Checked(
            error=N_(
                "The API Key and Client Secret were the wrong way round. We have "
                "put them in the right boxes: check the API Key and click Continue"
            )
        )
        return Credentials(swapped, secret_from_key, normalize_uuid(cleaned_secret))
    if key_is_secret and secret_needed and not cleaned_secret:
        moved = Checked(
            error=N_(
                "That looks like your Client Secret, not your API Key. We have "
                "saved it as your Client Secret. Now copy the value labelled API Key"
            )
        )
        return Credentials(moved, secret_from_key, "")
    api_key = check_api_key(raw_api_key)
    echo = "" if key_is_secret else cleaned_key
    if not cleaned_secret and not secret_needed:
        return Credentials(api_key, Checked(""), echo)
    return Credentials(
        api_key, check_client_secret(raw_secret, api_key=api_key.value), echo
    )


def extract_list_id(raw: str | None, *, api_key: str = "") -> Checked:
    """Find the List ID in a pasted ID or list address (the last UUID in its path)."""
    value = clean(raw)
    if not value:
        return Checked(error=N_("Enter the List ID, or paste the address of your list"))
    candidates = _uuids_in(value)
    if not candidates:
        return Checked(
            error=N_(
                "We could not find a List ID in what you pasted. Open the list in "
                "Constant Contact and copy the whole address from your browser's "
                "address bar"
            )
        )
    list_id = normalize_uuid(candidates[-1])
    if api_key and list_id == api_key:
        return Checked(
            error=N_(
                "That is your API Key. The List ID is the last part of the "
                "address of your list in Constant Contact"
            )
        )
    return Checked(list_id)


def _uuids_in(value: str) -> list[str]:
    """Return UUIDs in the order they matter: the path and fragment, else the query."""
    if not _is_address(value):
        return _UUID_ANYWHERE.findall(value)
    try:
        parts = urlsplit(value if "://" in value else f"https://{value}")
    except ValueError:
        # Not a parsable address (an unclosed "[" reads as a broken IPv6 host).
        return _UUID_ANYWHERE.findall(value)
    primary = _UUID_ANYWHERE.findall(parts.path) + _UUID_ANYWHERE.findall(
        parts.fragment
    )
    return primary or _UUID_ANYWHERE.findall(parts.query)


def _is_address(value: str) -> bool:
    return "://" in value or "/" in value or value.startswith("www.")


def came_from_address(raw: str | None) -> bool:
    """Return whether the pasted List ID was a web address rather than a bare ID."""
    return _is_address(clean(raw))
