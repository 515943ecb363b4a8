"""Where a customer's browser last was in an integration's pages, and when."""

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from wizard.platform.columns import UTCDateTime
from wizard.platform.extensions import db


class Presence(db.Model):
    """Her browser's last page of one integration (an endpoint name) and its time.

    One row per integration, written from her own page requests (no other tracking),
    read by support's Right now. CASCADE: it means nothing once the integration goes.
    """

    __tablename__ = "presence"

    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integration.id", ondelete="CASCADE"), primary_key=True
    )
    page: Mapped[str] = mapped_column(String(80))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
