"""The sandbox's own database: accounts, lists, contacts, applications and grants."""

import hashlib
import json
import re
import secrets
from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749 import TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc8628 import DeviceCredentialMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from werkzeug.security import check_password_hash

from .clock import now

SCOPES = ("account_read", "account_update", "contact_data", "campaign_data")
SUPPORTED_SCOPES = (*SCOPES, "offline_access")

FLOW_AUTHORIZATION_CODE = "authorization_code"
FLOW_PKCE = "pkce"
FLOW_DEVICE = "device"
FLOWS = (FLOW_AUTHORIZATION_CODE, FLOW_PKCE, FLOW_DEVICE)
DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_ROTATING = "rotating"
REFRESH_LONG_LIVED = "long_lived"


def redirect_uri_matches(registered: str, candidate: str) -> bool:
    """Match exactly, or with a wildcard standing for one subdomain label."""
    if "*" not in registered:
        return registered == candidate
    pattern = re.escape(registered).replace(r"\*", "[a-z0-9-]+")
    return re.fullmatch(pattern, candidate) is not None


class Base(DeclarativeBase):
    """Declarative base for the sandbox's models (separate from the wizard's)."""


db = SQLAlchemy(model_class=Base)


def hash_secret(value: str) -> str:
    """Return the SHA-256 hex digest used to store client secrets."""
    return hashlib.sha256(value.encode()).hexdigest()


class Account(db.Model):
    """A Constant Contact account, with the one login that owns it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_name: Mapped[str] = mapped_column(String(100))
    encoded_account_id: Mapped[str] = mapped_column(String(20), unique=True)
    login_email: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(50))
    last_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(25), default="")
    website: Mapped[str] = mapped_column(String(120), default="")
    country_code: Mapped[str] = mapped_column(String(2), default="US")
    state_code: Mapped[str] = mapped_column(String(2), default="")
    time_zone_id: Mapped[str] = mapped_column(String(50), default="America/New_York")

    def check_password(self, password: str) -> bool:
        """Return True if the password is this login's."""
        return check_password_hash(self.password_hash, password)


class ContactList(db.Model):
    """A contact list; a deleted list keeps its row with deleted_at set."""

    list_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    favorite: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Contact(db.Model):
    """A contact of one account."""

    contact_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    email_address: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str] = mapped_column(String(50), default="")
    last_name: Mapped[str] = mapped_column(String(50), default="")
    # "active" or "unsubscribed": what include_membership_count=active counts.
    status: Mapped[str] = mapped_column(String(20), default="active")
    permission_to_send: Mapped[str] = mapped_column(String(30), default="explicit")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ListMembership(db.Model):
    """A contact's membership of a list."""

    list_id: Mapped[str] = mapped_column(
        ForeignKey("contact_list.list_id"), primary_key=True
    )
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contact.contact_id"), primary_key=True
    )


class Application(db.Model, ClientMixin):
    """A V3 API application made in the developer portal; an OAuth client."""

    client_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    flow: Mapped[str] = mapped_column(String(30))
    refresh_token_type: Mapped[str] = mapped_column(String(20))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    redirect_uris_json: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[float]

    @property
    def redirect_uris(self) -> list[str]:
        """Return the registered redirect URIs."""
        return json.loads(self.redirect_uris_json)

    @redirect_uris.setter
    def redirect_uris(self, uris: list[str]) -> None:
        self.redirect_uris_json = json.dumps(list(uris))

    def new_secret(self) -> str:
        """Make a new client secret, invalidating the old one; return it once."""
        secret = secrets.token_urlsafe(16)
        self.secret_hash = hash_secret(secret)
        return secret

    @property
    def is_public(self) -> bool:
        """Return True for flows that never send a secret (Device, PKCE)."""
        return self.flow != FLOW_AUTHORIZATION_CODE

    def get_client_id(self) -> str:
        """Return the API key."""
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        """Return None: like Okta, redirect_uri must always be sent."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """Return the requested scopes that exist."""
        if not scope:
            return ""
        return list_to_scope([s for s in scope_to_list(scope) if s in SUPPORTED_SCOPES])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Match the redirect URI exactly (or by subdomain wildcard)."""
        return any(redirect_uri_matches(r, redirect_uri) for r in self.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        """Compare a presented secret with the current one."""
        if not self.secret_hash:
            return False
        return secrets.compare_digest(self.secret_hash, hash_secret(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Allow HTTP Basic for auth-code apps and "none" for public apps only."""
        if self.is_public:
            return method == "none"
        return method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        """Allow response_type=code for the two redirect flows."""
        return response_type == "code" and self.flow != FLOW_DEVICE

    def check_grant_type(self, grant_type: str) -> bool:
        """Allow only the grant of the app's configured flow, plus refresh."""
        if grant_type == "refresh_token":
            return True
        if self.flow == FLOW_DEVICE:
            return grant_type == DEVICE_CODE_GRANT_TYPE
        return grant_type == "authorization_code"


class DeviceCode(db.Model, DeviceCredentialMixin):
    """A device authorization: device code, user code and the user's decision."""

    device_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_code: Mapped[str] = mapped_column(String(8), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("application.client_id"))
    scope: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[float]
    interval: Mapped[int]
    last_poll_at: Mapped[float | None]
    # pending -> approved | denied; approved -> consumed once tokens are issued.
    status: Mapped[str] = mapped_column(String(20), default="pending")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))

    def get_client_id(self) -> str:
        """Return the API key the code was issued to."""
        return self.client_id

    def get_scope(self) -> str:
        """Return the requested scope."""
        return self.scope

    def get_user_code(self) -> str:
        """Return the user code."""
        return self.user_code

    def is_expired(self) -> bool:
        """Return True once the sandbox clock passes expires_at."""
        return now() >= self.expires_at


class AuthorizationCode(db.Model):
    """A single-use authorization code."""

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("application.client_id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, default="")
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    expires_at: Mapped[float]
    used: Mapped[bool] = mapped_column(default=False)

    def get_redirect_uri(self) -> str:
        """Return the redirect URI the code was issued for."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """Return the granted scope."""
        return self.scope


class RefreshToken(db.Model, TokenMixin):
    """A refresh token; grant_id ties together everything one consent issued."""

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(String(36), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("application.client_id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    scope: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[float]
    last_used_at: Mapped[float]
    revoked: Mapped[bool] = mapped_column(default=False)

    def check_client(self, client: Application) -> bool:
        """Return True if the token was issued to this client."""
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        """Return the granted scope."""
        return self.scope


class AccessToken(db.Model, TokenMixin):
    """A bearer access token for the v3 API."""

    token: Mapped[str] = mapped_column(String(2048), primary_key=True)
    grant_id: Mapped[str] = mapped_column(String(36), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("application.client_id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    scope: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[float]
    expires_at: Mapped[float]
    revoked: Mapped[bool] = mapped_column(default=False)

    def check_client(self, client: Application) -> bool:
        """Return True if the token was issued to this client."""
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        """Return the granted scope."""
        return self.scope

    def is_active(self) -> bool:
        """Return True if the token is neither revoked nor expired."""
        return not self.revoked and now() < self.expires_at
