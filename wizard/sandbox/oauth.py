"""The Authlib authorization server: token minting, storage and wiring."""

import hashlib
import logging
import secrets
import uuid
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from flask import Flask
from flask import current_app
from flask import request
from joserfc import jwt
from joserfc.jwk import OctKey

from .clock import now
from .device import DeviceAuthorizationEndpoint
from .device import DeviceCodeGrant
from .grants import AuthorizationCodeGrant
from .grants import RefreshTokenGrant
from .grants import RevocationEndpoint
from .grants import S256CodeChallenge
from .models import AccessToken
from .models import Account
from .models import Application
from .models import RefreshToken
from .models import db

API_AUDIENCE = "https://api.cc.email/v3"


class SandboxAuthorizationServer(AuthorizationServer):
    """Authlib's Flask server, issuing refresh tokens only for offline_access."""

    def generate_token(
        self,
        grant_type: str,
        client: Application,
        user: Account | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        """Mint a token; no refresh token without offline_access (like CC)."""
        granted = scope_to_list(client.get_allowed_scope(scope)) or []
        include = include_refresh_token and "offline_access" in granted
        return super().generate_token(
            grant_type, client, user, scope, expires_in, include
        )


def authorization_server() -> SandboxAuthorizationServer:
    """Return the current sandbox app's authorization server."""
    return current_app.extensions["cc_sandbox_oauth"]


def query_client(client_id: str) -> Application | None:
    """Find an application by API key."""
    return db.session.get(Application, client_id)


def access_token_lifetime(client: Application, grant_type: str) -> int:
    """Return the configured access token lifetime (Constant Contact: 24 h)."""
    return int(current_app.config["SANDBOX_ACCESS_TOKEN_EXPIRES_IN"])


def make_access_token(
    client: Application, grant_type: str, user: Account, scope: str
) -> str:
    """Mint a JWT-shaped access token like Okta's (HS256 here; nobody verifies it)."""
    issued = int(now())
    claims = {
        "ver": 1,
        "jti": "AT." + secrets.token_urlsafe(32),
        "iss": request.host_url + "oauth2/default",
        "aud": API_AUDIENCE,
        "iat": issued,
        "exp": issued + access_token_lifetime(client, grant_type),
        "cid": client.client_id,
        "uid": user.encoded_account_id,
        "scp": scope_to_list(scope) or [],
        "sub": user.login_email,
    }
    key = OctKey.import_key(
        hashlib.sha256(current_app.config["SECRET_KEY"].encode()).digest()
    )
    return jwt.encode({"alg": "HS256", "kid": "sandbox"}, claims, key)


def make_refresh_token(**kwargs: Any) -> str:
    """Mint an opaque refresh token of Okta's length (43 characters)."""
    return secrets.token_urlsafe(32)


def save_token(token: dict[str, Any], oauth_request: OAuth2Request) -> None:
    """Store a newly issued access token and any new refresh token (no commit)."""
    issued = now()
    previous: RefreshToken | None = oauth_request.refresh_token
    grant_id = previous.grant_id if previous else str(uuid.uuid4())
    common = {
        "grant_id": grant_id,
        "client_id": oauth_request.client.client_id,
        "account_id": oauth_request.user.id,
        "scope": token.get("scope", ""),
    }
    value = token.get("refresh_token")
    if value and (previous is None or value != previous.token):
        db.session.add(
            RefreshToken(token=value, issued_at=issued, last_used_at=issued, **common)
        )
    db.session.add(
        AccessToken(
            token=token["access_token"],
            issued_at=issued,
            expires_at=issued + token["expires_in"],
            **common,
        )
    )


def init_oauth(app: Flask) -> None:
    """Build this app's authorization server and register grants and endpoints."""
    # Authlib logs whole token responses at DEBUG; the sandbox never logs tokens.
    logging.getLogger("authlib").setLevel(logging.INFO)
    server = SandboxAuthorizationServer()
    server.init_app(app, query_client=query_client, save_token=save_token)
    server.register_token_generator(
        "default",
        BearerTokenGenerator(
            make_access_token, make_refresh_token, access_token_lifetime
        ),
    )
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(DeviceCodeGrant)
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(DeviceAuthorizationEndpoint)
    server.register_endpoint(RevocationEndpoint)
    app.extensions["cc_sandbox_oauth"] = server
