"""Rules for V3 API applications, shared by the portal and the control API."""

import uuid
from urllib.parse import urlsplit

from .clock import now
from .models import FLOWS
from .models import REFRESH_LONG_LIVED
from .models import REFRESH_ROTATING
from .models import Account
from .models import Application
from .models import db

FLOW_LABELS = {
    "authorization_code": "Authorization Code Flow and Implicit Flow",
    "pkce": "PKCE Flow",
    "device": "Device Flow",
}
REFRESH_LABELS = {REFRESH_ROTATING: "Rotating", REFRESH_LONG_LIVED: "Long Lived"}


class ApplicationError(ValueError):
    """An application setting the portal refuses, with the message it shows."""


def check_name(name: str) -> str:
    """Return the cleaned name, or raise if the portal would refuse it."""
    name = name.strip()
    if not name:
        raise ApplicationError("Enter an application name.")
    if len(name) > 100:
        raise ApplicationError("Application name must be 100 characters or fewer.")
    if "constant contact" in name.lower():
        raise ApplicationError("Application name cannot contain 'Constant Contact'.")
    return name


def check_redirect_uris(uris: list[str]) -> list[str]:
    """Return cleaned redirect URIs, or raise with the first problem found."""
    cleaned = []
    for uri in (u.strip() for u in uris):
        if not uri:
            continue
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApplicationError(f"{uri} is not a valid URL.")
        if "#" in uri:
            raise ApplicationError("Redirect URIs cannot contain a fragment (#).")
        if "*" in uri:
            labels = parts.hostname.split(".")
            stars = uri.count("*")
            if stars > 1 or "*" not in labels[0] or len(labels) < 3:
                raise ApplicationError(
                    "A wildcard is only allowed in the lowest-level subdomain."
                )
        cleaned.append(uri)
    return list(dict.fromkeys(cleaned))


def create_application(
    account: Account,
    name: str,
    flow: str,
    refresh_token_type: str,
    redirect_uris: list[str] | None = None,
) -> Application:
    """Create an application with a new API key (a uuid4); no secret yet."""
    if flow not in FLOWS:
        raise ApplicationError("Choose an OAuth2 flow.")
    if refresh_token_type not in REFRESH_LABELS:
        raise ApplicationError("Choose a refresh token type.")
    application = Application(
        client_id=str(uuid.uuid4()),
        account_id=account.id,
        name=check_name(name),
        flow=flow,
        refresh_token_type=refresh_token_type,
        created_at=now(),
    )
    application.redirect_uris = check_redirect_uris(redirect_uris or [])
    db.session.add(application)
    return application
