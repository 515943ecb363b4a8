"""Database models: organizations, users, integrations, attempts, audit events."""

import secrets
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from wizard.platform import crypto
from wizard.platform.columns import UTCDateTime
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.platform.sealing import Sealed
from wizard.status import AttemptQuestions
from wizard.status import Flow
from wizard.status import IntegrationQuestions
from wizard.status import Status

# Crockford's base32 without I, L, O, U: nothing to mishear over the phone.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

ROLE_CUSTOMER = "customer"
ROLE_SUPPORT = "support"
ROLES = (ROLE_CUSTOMER, ROLE_SUPPORT)

TYPE_CONSTANT_CONTACT = "constant_contact"

# OWASP's scrypt option N=2^15, r=8, p=3: as strong as N=2^17, p=1 in 32 MiB.
PASSWORD_METHOD = "scrypt:32768:8:3"


def new_reference_code() -> str:
    """Return a support reference such as K7Q-4M2P."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(7))
    return f"{chars[:3]}-{chars[3:]}"


class Organization(db.Model):
    """A customer company; its users share its integrations."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    reference_code: Mapped[str] = mapped_column(
        String(8), unique=True, default=new_reference_code
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list["User"]] = relationship(back_populates="organization")
    integrations: Mapped[list["Integration"]] = relationship(
        back_populates="organization", order_by="Integration.id"
    )


class User(UserMixin, db.Model):
    """Someone who signs in: a customer of one organization, or support staff."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=ROLE_CUSTOMER)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of the session's user id; bumping it signs out every copy of the cookie.
    session_version: Mapped[int] = mapped_column(default=0)

    organization: Mapped[Organization | None] = relationship(back_populates="users")

    def get_id(self) -> str:
        """Return the id stored in the session: user id and session version."""
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        """Hash and store a new password (scrypt at OWASP's 32 MiB setting)."""
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    def check_password(self, password: str) -> bool:
        """Return whether the password matches."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_support(self) -> bool:
        return self.role == ROLE_SUPPORT


class Integration(IntegrationQuestions, Sealed, db.Model):
    """One organization's connection to one Constant Contact list, from draft on."""

    sealed_columns = (
        "client_secret_encrypted",
        "access_token_encrypted",
        "refresh_token_encrypted",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    type: Mapped[str] = mapped_column(String(40), default=TYPE_CONSTANT_CONTACT)
    name: Mapped[str] = mapped_column(String(200), default="Constant Contact")
    status: Mapped[str] = mapped_column(String(40), default=Status.DRAFT)
    flow: Mapped[str] = mapped_column(String(40), default=Flow.DEVICE)
    api_key: Mapped[str | None] = mapped_column(String(64))
    client_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    client_secret_hint: Mapped[str | None] = mapped_column(String(8))
    list_id: Mapped[str | None] = mapped_column(String(64))
    list_id_from_url: Mapped[bool] = mapped_column(default=False)
    list_name: Mapped[str | None] = mapped_column(String(255))
    list_member_count: Mapped[int | None]
    account_name: Mapped[str | None] = mapped_column(String(255))
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The earliest moment the next v3 API call may go (4 per second per API key).
    api_next_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_code: Mapped[str | None] = mapped_column(String(80))
    last_error_message: Mapped[str | None] = mapped_column(Text)
    api_key_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What Constant Contact said about the app (status.AppCheck), and when.
    app_check: Mapped[str | None] = mapped_column(String(40))
    app_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    list_id_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The one-time token of the form that started this draft: a second submit of
    # the same form finds this row instead of starting another.
    creation_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    organization: Mapped[Organization] = relationship(back_populates="integrations")
    attempts: Mapped[list["AuthorizationAttempt"]] = relationship(
        back_populates="integration",
        order_by="AuthorizationAttempt.id",
        cascade="all, delete-orphan",
    )

    __table_args__ = (Index("ix_integration_org_status", "organization_id", "status"),)

    def owner(self) -> str:
        """Return the organization: a copy into another tenant's row never decrypts."""
        return f"organization:{self.organization_id}"

    @property
    def client_secret(self) -> str | None:
        """Return the decrypted client secret, if one was saved."""
        if self.client_secret_encrypted is None:
            return None
        return self.unseal("client_secret_encrypted")

    @client_secret.setter
    def client_secret(self, value: str | None) -> None:
        if value:
            self.seal("client_secret_encrypted", value)
            self.client_secret_hint = crypto.fingerprint(value)
        else:
            self.seal("client_secret_encrypted", None)
            self.client_secret_hint = None

    @property
    def holds_tokens(self) -> bool:
        """Return whether Constant Contact tokens are stored for it."""
        return bool(self.access_token_encrypted or self.refresh_token_encrypted)


class AuthorizationAttempt(AttemptQuestions, Sealed, db.Model):
    """One press of Authorize: the 5-minute window, the code's life, what came of it."""

    sealed_columns = (
        "device_code_encrypted",
        "state_encrypted",
        "code_verifier_encrypted",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integration.id"), index=True
    )
    flow: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Constant Contact's own end for the code (expires_in): asked about until then.
    provider_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    device_code_encrypted: Mapped[str | None] = mapped_column(Text)
    user_code: Mapped[str | None] = mapped_column(String(32))
    verification_uri: Mapped[str | None] = mapped_column(String(2000))
    verification_uri_complete: Mapped[str | None] = mapped_column(String(2000))
    interval: Mapped[int | None]
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    poll_count: Mapped[int] = mapped_column(default=0)
    # The state is looked up by its hash and kept encrypted so that opening
    # Constant Contact twice sends the same, still single-use, state.
    state_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    state_encrypted: Mapped[str | None] = mapped_column(Text)
    code_verifier_encrypted: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(40))
    error_code: Mapped[str | None] = mapped_column(String(80))
    error_message: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    integration: Mapped[Integration] = relationship(back_populates="attempts")

    def owner(self) -> str:
        """Return the integration the attempt is for."""
        return f"integration:{self.integration_id}"

    def seconds_left(self, now: datetime) -> int:
        """Return the whole seconds left in the window (0 once it has passed)."""
        return max(0, int((self.expires_at - now).total_seconds()))


class AuditEvent(db.Model):
    """An append-only record of who did what; details never hold secrets."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_label: Mapped[str] = mapped_column(String(320), default="system")
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id"), index=True
    )
    # SET NULL so that deleting an integration keeps its audit trail.
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integration.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(80))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    integration: Mapped[Integration | None] = relationship()

    # "Has this agent viewed this page in the last half hour?" on every support view.
    __table_args__ = (
        Index("ix_audit_event_actor_action_at", "actor_id", "action", "at"),
    )
