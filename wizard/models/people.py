"""Who signs in: organizations (customer companies) and their users, support staff."""

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from wizard.platform.columns import UTCDateTime
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db

if TYPE_CHECKING:
    from wizard.models.integrations import Integration

# Crockford's base32 without I, L, O, U: nothing to mishear over the phone.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

ROLE_CUSTOMER = "customer"
ROLE_SUPPORT = "support"
ROLES = (ROLE_CUSTOMER, ROLE_SUPPORT)

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
