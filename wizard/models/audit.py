"""The audit trail: an append-only record of who did what."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from wizard.models.integrations import Integration
from wizard.platform.columns import UTCDateTime
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db


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
