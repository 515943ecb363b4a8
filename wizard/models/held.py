"""Contacts held while a connection cannot be used, to be sent once it can."""

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from wizard.platform import crypto
from wizard.platform.columns import UTCDateTime
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.platform.sealing import Sealed


class HeldContact(Sealed, db.Model):
    """A contact the product asked to add while the connection could not be used.

    The person (e-mail, names) and the consent record are one sealed JSON value;
    ``email_hash`` (a keyed hash) finds the same person held again without storing
    the address in clear. Sent in id order; ``claim`` and ``claimed_until`` say who
    is sending it now, so that two senders never send the same row at once.
    """

    __tablename__ = "held_contact"
    sealed_columns = ("contact_encrypted",)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integration.id", ondelete="CASCADE")
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    email_hash: Mapped[str] = mapped_column(String(64))
    contact_encrypted: Mapped[str] = mapped_column(Text)
    # Why it was held: the connection's problem code at the time.
    reason: Mapped[str] = mapped_column(String(80))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    tries: Mapped[int] = mapped_column(default=0)
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("integration_id", "email_hash"),
        # "The oldest held contact of this integration" is every send's question.
        Index("ix_held_contact_integration_id_id", "integration_id", "id"),
    )

    def owner(self) -> str:
        """Return the organization: a copy into another tenant's row never decrypts."""
        return f"organization:{self.organization_id}"

    def binding(self, column: str) -> str:
        """Bind to the integration and the person, known before the row has an id
        (the row is written with one INSERT ... ON CONFLICT)."""
        return sealed_binding(self.integration_id, self.email_hash, self.owner())

    @property
    def contact(self) -> str:
        """Return the sealed person and consent (JSON text)."""
        return self.unseal("contact_encrypted")


def sealed_binding(integration_id: int, email_hash: str, owner: str) -> str:
    """Return where a held contact's sealed value belongs."""
    return f"held_contact.contact_encrypted:{integration_id}/{email_hash}/{owner}"


def seal_contact(
    integration_id: int, organization_id: int, email_hash: str, plaintext: str
) -> str:
    """Encrypt a held contact's JSON for the row it goes into."""
    owner = f"organization:{organization_id}"
    return crypto.encrypt(plaintext, sealed_binding(integration_id, email_hash, owner))


def held_count(integration_id: int) -> int:
    """Return how many contacts are held for the integration (one query)."""
    return db.session.scalar(
        db.select(db.func.count(HeldContact.id)).filter_by(
            integration_id=integration_id
        )
    )
