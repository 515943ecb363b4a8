"""Record audit events; callers commit with the rest of their change."""

from typing import Any

from .extensions import db
from .models import AuditEvent
from .models import Integration
from .models import User


def record(
    action: str,
    *,
    actor: User | None = None,
    organization_id: int | None = None,
    integration: Integration | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the session; details must not contain secrets."""
    if integration is not None and organization_id is None:
        organization_id = integration.organization_id
    if actor is not None and organization_id is None:
        organization_id = actor.organization_id
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else "system",
        organization_id=organization_id,
        integration=integration,
        details=details,
    )
    db.session.add(event)
    return event
