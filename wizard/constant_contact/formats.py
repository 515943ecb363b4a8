"""Validate and clean what people paste: API Key, Client Secret, List ID.

Every check returns a plain-language message that says what to do, never just
"invalid". Messages name the fields the way Constant Contact and the article do.
"""

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

UUID_PATTERN = (
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_UUID_ANYWHERE = re.compile(rf"(?<![0-9a-fA-F-]){UUID_PATTERN}(?![0-9a-fA-F-])")
_UUID_EXACT = re.compile(rf"{UUID_PATTERN}")
# Secrets seen in the wild are 22 URL-safe base64 characters; stay lenient.
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_\-.~+/=]{16,128}")
# Quotes, brackets and punctuation that copying from emails and chats adds.
_WRAPPERS = "\"'`‘’‚‛“”„‟«»‹›<>()[]{}.,;:"
REDIRECT_PATH = "/callback/constant-contact-auth"

EXAMPLE_UUID = "1a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d"


def clean(value: str | None) -> str:
    """Remove invisible characters and surrounding spaces, quotes and punctuation."""
    if not value:
        return ""
    text = "".join(
        ch
        for ch in unicodedata.normalize("NFKC", value)
        if unicodedata.category(ch) not in ("Cf", "Cc") or ch in "\t\n"
    )
    text = text.strip()
    previous = None
    while previous != text:
        previous = text
        text = text.strip(_WRAPPERS).strip()
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


def _looks_like_address(value: str) -> bool:
    return "://" in value or value.startswith("www.") or "/" in value


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
        return Checked(error="Enter your API Key")
    if REDIRECT_PATH in value:
        return Checked(
            error="That is the Redirect URI. Paste it into your app in Constant "
            "Contact, then copy the value labelled API Key into this box"
        )
    if _looks_like_address(value):
        return Checked(
            error="That looks like a web address. Copy the value labelled API Key "
            "on your app's page in Constant Contact"
        )
    if is_uuid(value):
        return Checked(normalize_uuid(value))
    if looks_like_secret(value):
        return Checked(
            error="That looks like your Client Secret, not your API Key. Copy the "
            "value labelled API Key: it has 36 letters, numbers and dashes"
        )
    if looks_like_partial_uuid(value):
        return Checked(
            error="That API Key looks incomplete: it should be 36 letters, numbers "
            f"and dashes, like {EXAMPLE_UUID}. Copy all of it again"
        )
    return Checked(
        error="The API Key should be 36 letters, numbers and dashes, like "
        f"{EXAMPLE_UUID}. Copy it again from your app's page in Constant Contact"
    )


def check_client_secret(raw: str | None, *, api_key: str = "") -> Checked:
    """Check a Client Secret: one word, usually 22 characters, never a UUID."""
    value = clean(raw)
    if not value:
        return Checked(
            error="Enter your Client Secret. If you can no longer see it, click "
            "Generate Client Secret in Constant Contact to make a new one"
        )
    if is_uuid(value) and api_key and normalize_uuid(value) == api_key:
        return Checked(
            error="That is your API Key. The Client Secret is the other value, shown "
            "after you click Generate Client Secret"
        )
    if is_uuid(value):
        return Checked(
            error="That looks like an API Key, not a Client Secret. Click Generate "
            "Client Secret in Constant Contact and copy what it shows"
        )
    if not _SECRET_SHAPE.fullmatch(value):
        return Checked(
            error="The Client Secret should be one word of letters, numbers, dashes "
            "and underscores, usually 22 characters. Copy it again, or click "
            "Generate Client Secret to make a new one"
        )
    return Checked(value)


def check_credentials(
    raw_api_key: str | None, raw_secret: str | None, *, secret_needed: bool
) -> tuple[Checked, Checked]:
    """Check the API Key and Client Secret together, spotting a swap."""
    api_key = check_api_key(raw_api_key)
    cleaned_secret = clean(raw_secret)
    if (
        not api_key.ok
        and is_uuid(cleaned_secret)
        and looks_like_secret(clean(raw_api_key))
    ):
        swapped = (
            "The API Key and Client Secret are the wrong way round. Put the value "
            "with dashes in API Key and the other one in Client Secret"
        )
        return Checked(error=swapped), Checked(error=swapped)
    if not secret_needed and not cleaned_secret:
        return api_key, Checked("")
    return api_key, check_client_secret(raw_secret, api_key=api_key.value)


def extract_list_id(raw: str | None, *, api_key: str = "") -> Checked:
    """Find the List ID in a pasted ID or list address (the last UUID in its path)."""
    value = clean(raw)
    if not value:
        return Checked(error="Enter the List ID, or paste the address of your list")
    candidates = _uuids_in(value)
    if not candidates:
        return Checked(
            error="We could not find a List ID in what you pasted. Open the list in "
            "Constant Contact and copy the whole address from your browser's "
            "address bar"
        )
    list_id = normalize_uuid(candidates[-1])
    if api_key and list_id == api_key:
        return Checked(
            error="That is your API Key. The List ID is the last part of the "
            "address of your list in Constant Contact"
        )
    return Checked(list_id)


def _uuids_in(value: str) -> list[str]:
    """Return UUIDs in the order they matter: the path and fragment, else the query."""
    if "://" not in value and not value.startswith("www."):
        return _UUID_ANYWHERE.findall(value)
    parts = urlsplit(value if "://" in value else f"https://{value}")
    primary = _UUID_ANYWHERE.findall(parts.path) + _UUID_ANYWHERE.findall(
        parts.fragment
    )
    return primary or _UUID_ANYWHERE.findall(parts.query)


def came_from_address(raw: str | None) -> bool:
    """Return whether the pasted List ID was a web address rather than a bare ID."""
    value = clean(raw)
    return "://" in value or value.startswith("www.")
