"""Authlib grants and endpoints, adjusted to behave like Constant Contact's Okta."""

import secrets
import uuid
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import AccessDeniedError
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.errors import UnauthorizedClientError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import AuthorizationPendingError
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint as _DeviceEndpoint
from authlib.oauth2.rfc8628 import DeviceCodeGrant as _DeviceCodeGrant
from authlib.oauth2.rfc8628 import ExpiredTokenError
from authlib.oauth2.rfc8628 import SlowDownError
from flask import current_app
from flask import url_for

from .clock import now
from .models import FLOW_DEVICE
from .models import FLOW_PKCE
from .models import REFRESH_ROTATING
from .models import AccessToken
from .models import Account
from .models import Application
from .models import AuthorizationCode
from .models import DeviceCode
from .models import RefreshToken
from .models import db

# Okta's user codes: 8 letters, no vowels (no accidental words), no look-alikes.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"

# Authlib's defaults differ per grant (basic only, or basic + post); Constant
# Contact takes Basic from auth-code apps and a bare client_id from public apps.
TOKEN_AUTH_METHODS = ["client_secret_basic", "none"]


def state() -> Any:
    """Return the running sandbox's in-process state."""
    return current_app.extensions["cc_sandbox"]


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


class DeviceAuthorizationEndpoint(_DeviceEndpoint):
    """RFC 8628 device authorization with Okta's codes and configurable timing."""

    @property
    def EXPIRES_IN(self) -> int:  # noqa: N802 - Authlib reads this name
        """Return the configured device code lifetime."""
        return int(current_app.config["SANDBOX_DEVICE_CODE_EXPIRES_IN"])

    @property
    def INTERVAL(self) -> int:  # noqa: N802 - Authlib reads this name
        """Return the configured polling interval."""
        return int(current_app.config["SANDBOX_DEVICE_INTERVAL"])

    def authenticate_client(self, request: OAuth2Request) -> Application:
        """Take the client_id from the body; refuse apps not set to Device Flow."""
        client_id = request.payload.client_id
        client = db.session.get(Application, client_id) if client_id else None
        if client is None:
            raise InvalidClientError(description="Invalid value for 'client_id'.")
        if client.flow != FLOW_DEVICE:
            raise UnauthorizedClientError(
                "The client is not authorized to use the provided grant type. "
                "Configured grant types: [authorization_code, refresh_token]."
            )
        request.client = client
        return client

    def create_endpoint_response(self, request: OAuth2Request) -> tuple:
        """Issue codes; an empty scope is refused like Okta does."""
        self.authenticate_client(request)
        if not request.payload.scope:
            raise InvalidScopeError(
                "The authorization server resource does not have any configured "
                "default scopes, 'scope' must be provided."
            )
        state().count("device_authorize")
        return super().create_endpoint_response(request)

    def generate_user_code(self) -> str:
        """Return 8 uppercase letters, Okta style (shown as ABCD-WXYZ)."""
        return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))

    def generate_device_code(self) -> str:
        """Return a UUID, as in Okta's examples."""
        return str(uuid.uuid4())

    def get_verification_uri(self) -> str:
        """Return this sandbox's /activate page."""
        return url_for("activate.activate", _external=True)

    def save_device_credential(
        self, client_id: str, scope: str, data: dict[str, Any]
    ) -> None:
        """Store the codes; Authlib leaves expires_at to us."""
        db.session.add(
            DeviceCode(
                device_code=data["device_code"],
                user_code=data["user_code"],
                client_id=client_id,
                scope=scope or "",
                expires_at=now() + data["expires_in"],
                interval=data["interval"],
            )
        )


class DeviceCodeGrant(_DeviceCodeGrant):
    """Device code polling: pending, slow_down (+5 s for good), expiry, one use."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def query_device_credential(self, device_code: str) -> DeviceCode:
        """Find the code and record the poll; unknown or used is invalid_grant."""
        state().count("device_poll")
        row = db.session.get(DeviceCode, device_code)
        if row is None or row.status == "consumed":
            raise InvalidGrantError("The device code is invalid or has expired.")
        row.previous_poll_at = row.last_poll_at
        row.last_poll_at = now()
        return row

    def query_user_grant(self, user_code: str) -> tuple[Account | None, bool] | None:
        """Return (account, approved) once the user decided, else None."""
        row = db.session.scalar(db.select(DeviceCode).filter_by(user_code=user_code))
        if row is None or row.status == "pending":
            return None
        account = db.session.get(Account, row.account_id) if row.account_id else None
        # A real comparison: bool("False") would be True (Authlib docs pitfall).
        return account, row.status == "approved"

    def validate_device_credential(self, credential: DeviceCode) -> Account:
        """Answer with Okta's wording for each polling state."""
        if credential.is_expired():
            raise ExpiredTokenError("The device code has expired.")
        decision = self.query_user_grant(credential.get_user_code())
        if decision is not None:
            account, approved = decision
            if not approved or account is None:
                raise AccessDeniedError(
                    "The resource owner or authorization server denied the request."
                )
            return account
        if self.should_slow_down(credential):
            state().count("slow_down")
            raise SlowDownError("The client is polling too frequently.")
        raise AuthorizationPendingError(
            "The device authorization is pending. Please try again later."
        )

    def should_slow_down(self, credential: DeviceCode) -> bool:
        """Return True for a poll sooner than the interval, which then grows by 5 s."""
        previous = getattr(credential, "previous_poll_at", None)
        if (
            previous is not None
            and credential.last_poll_at - previous < credential.interval
        ):
            credential.interval += 5
            return True
        return False

    def create_token_response(self) -> tuple:
        """Issue tokens, then consume the device code (Authlib does not)."""
        result = super().create_token_response()
        self.request.credential.status = "consumed"
        return result


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
        state().count("refresh")
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
