"""Authlib grants and endpoints, adjusted to behave like Constant Contact's Okta."""

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import current_app

from .clock import now
from .models import FLOW_PKCE
from .models import REFRESH_ROTATING
from .models import AccessToken
from .models import Account
from .models import Application
from .models import AuthorizationCode
from .models import RefreshToken
from .models import db
from .state import current_state

# Authlib's defaults differ per grant (basic only, or basic + post); Constant
# Contact takes Basic from auth-code apps and a bare client_id from public apps.
TOKEN_AUTH_METHODS = ["client_secret_basic", "none"]


class S256CodeChallenge(CodeChallenge):
    """PKCE that, like Okta, accepts only S256 and requires it of PKCE apps."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        """Refuse plain (explicit or implied) and a PKCE app without a challenge."""
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        challenge = data.get("code_challenge")
        if not challenge and grant.request.client.flow == FLOW_PKCE:
            raise InvalidRequestError(
                "PKCE code challenge is required when the token endpoint "
                "authentication method is 'NONE'."
            )
        if challenge and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "PKCE code challenge method is required and must be 'S256'."
            )


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """Authorization code grant with single-use codes that live 300 s."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def validate_authorization_request(self) -> str:
        """Validate as Authlib does, and require a scope like Okta."""
        redirect_uri = super().validate_authorization_request()
        if not self.request.payload.scope:
            raise InvalidScopeError(
                "The authorization server resource does not have any configured "
                "default scopes, 'scope' must be provided.",
                redirect_uri=redirect_uri,
            )
        return redirect_uri

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        """Store the code with its PKCE challenge and expiry."""
        data = request.payload.data
        lifetime = int(current_app.config["SANDBOX_AUTH_CODE_EXPIRES_IN"])
        db.session.add(
            AuthorizationCode(
                code=code,
                client_id=request.client.client_id,
                account_id=request.user.id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                expires_at=now() + lifetime,
            )
        )

    def query_authorization_code(
        self, code: str, client: Application
    ) -> AuthorizationCode | None:
        """Return the code if it is this client's, unused and unexpired."""
        row = db.session.get(AuthorizationCode, code)
        if row and row.client_id == client.client_id and not row.used:
            if now() < row.expires_at:
                return row
        return None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Mark the code used, so a second exchange gets invalid_grant."""
        authorization_code.used = True

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Account:
        """Return the account that approved the code."""
        return db.session.get(Account, authorization_code.account_id)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Refresh with rotating or long-lived tokens that die after idle time."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        """Return the token unless revoked or unused for too long."""
        row = db.session.get(RefreshToken, refresh_token)
        if row is None or row.revoked:
            return None
        idle = float(current_app.config["SANDBOX_REFRESH_TOKEN_IDLE_SECONDS"])
        if now() - row.last_used_at > idle:
            return None
        return row

    def authenticate_user(self, refresh_token: RefreshToken) -> Account:
        """Return the account the token belongs to."""
        return db.session.get(Account, refresh_token.account_id)

    def issue_token(self, user: Account, refresh_token: RefreshToken) -> dict[str, Any]:
        """Mint a new set; rotating apps get a new refresh token, others the same."""
        scope = self.request.payload.scope or refresh_token.get_scope()
        rotating = self.request.client.refresh_token_type == REFRESH_ROTATING
        token = self.generate_token(
            user=user, scope=scope, include_refresh_token=rotating
        )
        if not rotating:
            token["refresh_token"] = refresh_token.token
        self._new_refresh_token = token.get("refresh_token")
        return token

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        """Rotating: expire every earlier refresh token of the grant; else touch it."""
        current_state().count("refresh")
        if self._new_refresh_token == refresh_token.token:
            refresh_token.last_used_at = now()
            return
        db.session.execute(
            db.update(RefreshToken)
            .where(RefreshToken.grant_id == refresh_token.grant_id)
            .where(RefreshToken.token != self._new_refresh_token)
            .values(revoked=True)
        )


class RevocationEndpoint(_RevocationEndpoint):
    """RFC 7009 revocation; revoking a refresh token ends its whole grant."""

    CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def query_token(
        self, token_string: str, token_type_hint: str | None
    ) -> AccessToken | RefreshToken | None:
        """Look the token up, trying the hinted type first."""
        models = [AccessToken, RefreshToken]
        if token_type_hint == "refresh_token":
            models.reverse()
        for model in models:
            row = db.session.get(model, token_string)
            if row is not None:
                return row
        return None

    def authenticate_token(
        self, request: OAuth2Request, client: Application
    ) -> AccessToken | RefreshToken | None:
        """Ignore another client's token: always 200, never reveal it exists."""
        self.check_params(request, client)
        token = self.query_token(
            request.form["token"], request.form.get("token_type_hint")
        )
        if token is not None and not token.check_client(client):
            return None
        return token

    def revoke_token(
        self, token: AccessToken | RefreshToken, request: OAuth2Request
    ) -> None:
        """Revoke an access token alone, or a refresh token with its access tokens."""
        if isinstance(token, AccessToken):
            token.revoked = True
            return
        for model in (RefreshToken, AccessToken):
            db.session.execute(
                db.update(model)
                .where(model.grant_id == token.grant_id)
                .values(revoked=True)
            )
