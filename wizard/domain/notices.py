"""What people are owed when a connection breaks or works again: notice rows.

Written in the same transaction as the status change, so a notice is never lost
nor owed for a change that was rolled back; domain/delivery.py sends them after.
A break is told once: integration.break_noticed stays set until it works again.
"""

from flask import current_app

from wizard.models import ROLE_CUSTOMER
from wizard.models import Integration
from wizard.models import Notice
from wizard.models import User
from wizard.models.held import held_count
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.status import Status

# The statuses only the customer can mend, and the page that mends each.
BROKEN = {Status.NEEDS_REAUTHORIZATION, Status.LIST_NOT_FOUND}
FIX_PATHS = {
    Status.NEEDS_REAUTHORIZATION: "/integrations/{id}/authorize",
    Status.LIST_NOT_FOUND: "/integrations/{id}/list",
}
BROKE = "connection.broken"
RESTORED = "connection.restored"
# Set on the session when notices are owed: the web layer delivers them after the
# answer (the session's info lives as long as the request's session).
OWED = "wizard.notices_owed"


def status_changed(integration: Integration, before: str) -> None:
    """Owe the notices a status change calls for (called by transitions)."""
    now_broken = integration.status in BROKEN
    if now_broken and before not in BROKEN and not integration.break_noticed:
        integration.break_noticed = True
        # No autoflush: the caller's change is flushed with the notices, not before.
        with db.session.no_autoflush:
            customers = db.session.scalars(
                db.select(User.id).filter_by(
                    organization_id=integration.organization_id, role=ROLE_CUSTOMER
                )
            ).all()
        for user_id in customers:
            _owe(integration, "email", BROKE, user_id=user_id)
        _owe_webhook(integration, BROKE)
    elif integration.status == Status.ACTIVE and integration.break_noticed:
        integration.break_noticed = False
        _owe_webhook(integration, RESTORED)


def fix_url(integration: Integration) -> str:
    """Return the address of the page that mends the integration's break."""
    path = FIX_PATHS.get(Status(integration.status), "/integrations")
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    return base + path.format(id=integration.id)


def _owe_webhook(integration: Integration, event: str) -> None:
    """Owe the product a webhook, if one is set up; its body is fixed now."""
    if not current_app.config.get("WEBHOOK_URL"):
        return
    payload = {
        "event": event,
        "integration_id": integration.id,
        "organization_reference": integration.organization.reference_code,
        "status": integration.status,
        "problem": integration.last_error_code if event == BROKE else None,
        "fix_url": fix_url(integration) if event == BROKE else None,
        "held_contacts": held_count(integration.id),
        "at": utcnow().isoformat(timespec="seconds"),
    }
    _owe(integration, "webhook", event, payload=payload)


def _owe(
    integration: Integration,
    kind: str,
    event: str,
    user_id: int | None = None,
    payload: dict[str, object] | None = None,
) -> None:
    db.session.add(
        Notice(
            integration_id=integration.id,
            kind=kind,
            event=event,
            user_id=user_id,
            payload=payload or {},
        )
    )
    db.session.info[OWED] = True
