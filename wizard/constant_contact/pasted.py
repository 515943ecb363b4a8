"""What copying and pasting adds: invisible characters, quotes, UUIDs in addresses."""

import re
import unicodedata
from urllib.parse import urlsplit

UUID_PATTERN = (
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_UUID_ANYWHERE = re.compile(rf"(?<![0-9a-fA-F-]){UUID_PATTERN}(?![0-9a-fA-F-])")
_UUID_EXACT = re.compile(rf"{UUID_PATTERN}")
# Secrets seen in the wild are 22 URL-safe base64 characters; stay lenient.
SECRET_SHAPE = re.compile(r"[A-Za-z0-9_\-.~+/=]{16,128}")
# Quotes, brackets and punctuation that copying from emails and chats adds.
_QUOTES = "\"'`‘’‚‛“”„‟«»‹›<>()[]{}"
_WRAPPERS = _QUOTES + ".,;:"


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
    return SECRET_SHAPE.fullmatch(value) is not None


def uuids_in(value: str) -> list[str]:
    """Return UUIDs in the order they matter: the path and fragment, else the query."""
    if not is_address(value):
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


def is_address(value: str) -> bool:
    return "://" in value or "/" in value or value.startswith("www.")
