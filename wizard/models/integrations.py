"""Integrations (one organization's connection to one list) and their attempts."""

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from wizard.models.people import Organization
from wizard.platform import crypto
from wizard.platform.columns import UTCDateTime
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.platform.sealing import Sealed
from wizard.status import AttemptQuestions
from wizard.status import Flow
from wizard.status import IntegrationQuestions
from wizard.status import Status

TYPE_CONSTANT_CONTACT = "constant_contact"


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
    # Its customers were told it broke: not again until it has worked in between.
    break_noticed: Mapped[bool] = mapped_column(default=False, server_default=false())
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
    # The pollers' sweep closes open attempts whose window has passed.
    __table_args__ = (Index("ix_attempt_open_expires", "outcome", "expires_at"),)

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
    # Indexed: the pollers look for the earliest due codes every second.
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
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
