"""What Constant Contact's OAuth endpoints answer, read strictly: device codes and
tokens. Anything a browser or the database could choke on is "garbage"."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from wizard.constant_contact.http import ProviderError
from wizard.constant_contact.provider import Provider

DEFAULT_INTERVAL = 5


@dataclass(frozen=True)
class DeviceAuthorization:
    """What the device authorization endpoint hands out."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


@dataclass(frozen=True)
class TokenSet:
    """Tokens from the token endpoint."""

    access_token: str
    refresh_token: str | None
    expires_in: int | None
    scope: str | None


def _text(body: Mapping[str, Any], name: str, longest: int = 4096) -> str:
    value = body.get(name)
    if not _printable(value, longest):
        raise ProviderError("garbage", f"no usable {name}")
    return value


def _printable(value: Any, longest: int) -> bool:
    """Return whether a value is text a token or code can be: printable ASCII only.

    RFC 6749 allows nothing else in tokens. JSON can still carry a lone surrogate
    ("\\ud800"), which no encoder accepts: saved, it would fail after Constant
    Contact had already answered.
    """
    return (
        isinstance(value, str)
        and 0 < len(value) <= longest
        and value.isascii()
        and value.isprintable()
        and " " not in value
    )


# Constant Contact's own hosts: lowercase DNS labels ending in constantcontact.com.
_CONSTANT_CONTACT_HOST = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*constantcontact\.com"
)
# A host and optional port with nothing a browser could read another way: no
# userinfo, backslash, percent-encoding, brackets or non-ASCII letters.
_NETLOC = re.compile(r"(?P<host>[a-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")


def _web_address(value: str, provider: Provider) -> str:
    """Accept only Constant Contact's own web addresses: they become links we tell
    people to type their code into, so another site there would be phishing.

    Browsers parse more loosely than urlsplit (a backslash is a slash to them,
    tabs vanish, look-alike dots become dots), so anything they might read
    differently is refused before the host is compared at all.
    """
    printable = all(33 <= ord(ch) <= 126 for ch in value)
    if len(value) > 2000 or not printable or "\\" in value:
        raise ProviderError("garbage", "verification address has odd characters")
    try:
        parts = urlsplit(value)
    except ValueError as exc:  # e.g. "https://[" : a host that cannot be an address
        raise ProviderError("garbage", "verification address is unreadable") from exc
    ours = urlsplit(provider.device_authorization_url)
    netloc = _NETLOC.fullmatch(parts.netloc)
    same_host = netloc is not None and parts.netloc == ours.netloc.lower()
    constant_contact = (
        netloc is not None
        and netloc["port"] is None
        and _CONSTANT_CONTACT_HOST.fullmatch(netloc["host"]) is not None
    )
    # Plain http only where the provider itself is plain http (the local sandbox).
    allowed_schemes = {"https", ours.scheme} if same_host else {"https"}
    if parts.scheme not in allowed_schemes or not (same_host or constant_contact):
        raise ProviderError("garbage", "verification address is not Constant Contact's")
    return value


def _seconds(value: Any, default: int | None, most: int) -> int | None:
    """Read a number of seconds, kept between 1 and ``most``."""
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ProviderError("garbage", "a number was not a number") from exc
    return min(number, most) if number > 0 else default


def device_authorization(body: Any, provider: Provider) -> DeviceAuthorization:
    """Read the device authorization endpoint's answer."""
    if not isinstance(body, dict):
        raise ProviderError("garbage", "not an object")
    complete = body.get("verification_uri_complete")
    return DeviceAuthorization(
        device_code=_text(body, "device_code"),
        user_code=_text(body, "user_code", longest=32),
        verification_uri=_web_address(_text(body, "verification_uri"), provider),
        verification_uri_complete=(
            _web_address(complete, provider) if isinstance(complete, str) else None
        ),
        expires_in=_seconds(body.get("expires_in"), None, 3600) or 0,
        interval=_seconds(body.get("interval"), DEFAULT_INTERVAL, 60)
        or DEFAULT_INTERVAL,
    )


def token_set(body: Any) -> TokenSet:
    """Read the token endpoint's answer."""
    if not isinstance(body, dict):
        raise ProviderError("garbage", "not an object")
    refresh = body.get("refresh_token")
    scope = body.get("scope")
    if refresh is not None and refresh != "" and not _printable(refresh, 4096):
        raise ProviderError("garbage", "no usable refresh_token")
    return TokenSet(
        access_token=_text(body, "access_token"),
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_in=_seconds(body.get("expires_in"), None, 366 * 86400),
        scope=scope if isinstance(scope, str) and scope.isascii() else None,
    )
