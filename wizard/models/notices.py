"""Notices owed to people about a connection: e-mails to customers, webhooks."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from wizard.platform.columns import UTCDateTime
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db


class Notice(db.Model):
    """One message owed: written with the status change that calls for it (so it is
    never lost), delivered after, retried with backoff, deleted once delivered.

    ``kind`` is "email" (to ``user_id``, composed in her language when sent) or
    "webhook" (``payload`` as written, signed when sent). Claimed like held
    contacts, so two deliverers never send the same one at once.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integration.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
