"""OAuth 2.0 with Constant Contact: device flow (RFC 8628), authorization code with
PKCE (RFC 7636), token parsing. Endpoints come from settings, so any
standards-compliant server works."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from wizard.constant_contact.http import ProviderError
from wizard.constant_contact.http import call

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5


@dataclass(frozen=True)
class Provider:
    """Where Constant Contact's OAuth endpoints and API are, and how long to wait."""

    authorization_url: str
    token_url: str
    device_authorization_url: str
    revocation_url: str
    api_base_url: str
    scopes: str
    timeout: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Provider":
        """Read the CC_* settings."""
        return cls(
            authorization_url=config["CC_AUTHORIZATION_URL"],
            token_url=config["CC_TOKEN_URL"],
            device_authorization_url=config["CC_DEVICE_AUTHORIZATION_URL"],
            revocation_url=config["CC_REVOCATION_URL"],
            api_base_url=str(config["CC_API_BASE_URL"]).rstrip("/"),
            scopes=config["CC_SCOPES"],
            timeout=float(config["CC_HTTP_TIMEOUT_SECONDS"]),
        )


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


def request_device_authorization(
    provider: Provider, client_id: str
) -> DeviceAuthorization:
    """Ask for a device code and an activation code for this API key."""
    body = call(
        "POST",
        provider.device_authorization_url,
        data={"client_id": client_id, "scope": provider.scopes},
        timeout=provider.timeout,
    )
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


def _token_set(body: Any) -> TokenSet:
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


def poll_device_token(provider: Provider, client_id: str, device_code: str) -> TokenSet:
    """Ask once whether the person approved; ProviderError says what instead."""
    body = call(
        "POST",
        provider.token_url,
        data={
            "grant_type": DEVICE_GRANT,
            "device_code": device_code,
            "client_id": client_id,
        },
        timeout=provider.timeout,
    )
    return _token_set(body)


def new_pkce_pair() -> tuple[str, str]:
    """Return a fresh state and PKCE code verifier."""
    return generate_token(43), generate_token(64)


def authorization_url(
    provider: Provider, client_id: str, redirect_uri: str, state: str, verifier: str
) -> str:
    """Build the authorize URL with an S256 challenge."""
    return add_params_to_uri(
        provider.authorization_url,
        [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", provider.scopes),
            ("state", state),
            ("code_challenge", create_s256_code_challenge(verifier)),
            ("code_challenge_method", "S256"),
        ],
    )


def exchange_code(
    provider: Provider,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    verifier: str,
) -> TokenSet:
    """Trade an authorization code for tokens, authenticating with HTTP Basic."""
    body = call(
        "POST",
        provider.token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(client_id, client_secret),
        timeout=provider.timeout,
    )
    return _token_set(body)


def revoke(
    provider: Provider,
    client_id: str,
    client_secret: str | None,
    token: str,
    hint: str | None = None,
) -> None:
    """Revoke a token (RFC 7009): Basic auth with a secret, else client_id in body."""
    data = {"token": token}
    if hint:
        data["token_type_hint"] = hint
    if not client_secret:
        data["client_id"] = client_id
    call(
        "POST",
        provider.revocation_url,
        data=data,
        auth=(client_id, client_secret) if client_secret else None,
        timeout=provider.timeout,
    )


def refresh_tokens(
    provider: Provider, client_id: str, client_secret: str | None, refresh_token: str
) -> TokenSet:
    """Trade a refresh token for new tokens (the same scope as before).

    Rotating refresh tokens come back new; long-lived ones come back the same or not
    at all, in which case the one we have stays.
    """
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if not client_secret:
        data["client_id"] = client_id
    body = call(
        "POST",
        provider.token_url,
        data=data,
        auth=(client_id, client_secret) if client_secret else None,
        timeout=provider.timeout,
    )
    tokens = _token_set(body)
    if tokens.refresh_token is None:
        return TokenSet(
            tokens.access_token, refresh_token, tokens.expires_in, tokens.scope
        )
    return tokens
