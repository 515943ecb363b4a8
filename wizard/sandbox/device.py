"""Device Authorization Grant (RFC 8628) the way Okta runs it for Constant Contact."""

import secrets
import uuid
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import AccessDeniedError
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.errors import UnauthorizedClientError
from authlib.oauth2.rfc8628 import AuthorizationPendingError
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint as _DeviceEndpoint
from authlib.oauth2.rfc8628 import DeviceCodeGrant as _DeviceCodeGrant
from authlib.oauth2.rfc8628 import ExpiredTokenError
from authlib.oauth2.rfc8628 import SlowDownError
from flask import current_app
from flask import request as http_request
from flask import url_for

from .clock import now
from .grants import TOKEN_AUTH_METHODS
from .models import FLOW_DEVICE
from .models import Account
from .models import Application
from .models import DeviceCode
from .models import db
from .state import current_state

# Okta's user codes: 8 letters, no vowels (no accidental words), no look-alikes.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


def _authenticated(client: Application) -> bool:
    """Return whether the request carries this app's key and secret (HTTP Basic)."""
    sent = http_request.authorization
    return (
        sent is not None
        and sent.username == client.client_id
        and client.check_client_secret(sent.password or "")
    )


class DeviceAuthorizationEndpoint(_DeviceEndpoint):
    """RFC 8628 device authorization with Okta's codes and configurable timing."""

    @property
    def EXPIRES_IN(self) -> int:  # the name Authlib reads
        """Return the configured device code lifetime."""
        return int(current_app.config["SANDBOX_DEVICE_CODE_EXPIRES_IN"])

    @property
    def INTERVAL(self) -> int:  # the name Authlib reads
        """Return the configured polling interval."""
        return int(current_app.config["SANDBOX_DEVICE_INTERVAL"])

    def authenticate_client(self, request: OAuth2Request) -> Application:
        """Take the client_id from the body; refuse apps not set to Device Flow."""
        client_id = request.payload.client_id
        client = db.session.get(Application, client_id) if client_id else None
        if client is None:
            raise InvalidClientError(description="Invalid value for 'client_id'.")
        if not client.is_public and not _authenticated(client):
            # Okta makes a confidential (Authorization Code) app authenticate at
            # every endpoint: without its secret it is not even known to be there.
            raise InvalidClientError(
                description="Client authentication failed. Either the client or the "
                "client credentials are invalid."
            )
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
        current_state().count("device_authorize")
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
        current_state().count("device_poll")
        row = db.session.get(DeviceCode, device_code)
        if row is not None:
            # Per code, by its user code: tests count how often each was asked.
            current_state().count("device_poll_of", "device_poll_code", row.user_code)
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
            current_state().count("slow_down")
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
