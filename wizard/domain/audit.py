"""Record audit events; callers commit with the rest of their change."""

from typing import Any

from flask import request
from flask_babel import gettext

from wizard.models import AuditEvent
from wizard.models import Integration
from wizard.models import User
from wizard.platform.extensions import db
from wizard.platform.i18n import N_


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


def newest(limit: int, **where: int) -> list[AuditEvent]:
    """Return the newest events matching the filter, newest first."""
    return list(
        db.session.scalars(
            db.select(AuditEvent)
            .filter_by(**where)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def navigated_here() -> bool:
    """Return whether the person opened this page themselves (Fetch Metadata).

    A link, button or reload on our own pages says ``same-origin``; the address bar
    or a bookmark says ``none``. What another page made the browser ask for (its
    link, <img>, script or fetch) says ``cross-site``, or ``same-site`` from another
    port or subdomain, or is no page navigation at all: never the person's act.
    Without the headers (browsers from before 2019-2023, plain-http addresses,
    scripts) it counts as theirs: losing those real views would hide more than a
    forged one could add.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is None:
        return True
    return (
        site in ("same-origin", "none")
        and request.headers.get("Sec-Fetch-Mode") == "navigate"
        and request.headers.get("Sec-Fetch-Dest") == "document"
    )


# What each action means, in the words of the pages; the Activity page and the
# support timeline show these, never the codes.
WORDS: dict[str, str] = {
    "user.signed_in": N_("Signed in"),
    "setup.started": N_("Started setting up an integration"),
    "setup.api_key_saved": N_("Saved the API Key (step 1)"),
    "setup.client_secret_saved": N_("Saved the Secret (step 1)"),
    "setup.app_checked": N_("Asked Constant Contact about the app (step 1)"),
    "setup.list_id_saved": N_("Saved the List ID (step 2)"),
    "setup.error_shown": N_("Was shown a problem during setup"),
    "integration.created": N_("Created the integration (step 3)"),
    "integration.deleted": N_("Deleted an integration"),
    "integration.list_changed": N_("Changed the List ID"),
    "authorization.started": N_("Got an Activation Code (step 4)"),
    "authorization.start_failed": N_("Could not get an Activation Code (step 4)"),
    "authorization.opened": N_("Opened Constant Contact to allow access (step 4)"),
    "authorization.approved": N_("Allowed access in Constant Contact (step 4)"),
    "authorization.failed": N_("Step 4 did not go through"),
    "authorization.expired": N_("The 5 minutes for step 4 ran out"),
    "authorization.replaced": N_("Got a new Activation Code instead (step 4)"),
    "authorization.callback_refused": N_(
        "Turned away an answer from Constant Contact that did not match (step 4)"
    ),
    "connection.verified": N_("Access allowed and the list found: connected"),
    "connection.tested": N_("Tested the connection"),
    "connection.checked": N_("Checked the connection"),
    "connection.check_failed": N_("A check found a problem with the connection"),
    "connection.refreshed": N_("Renewed access to Constant Contact"),
    "connection.needs_reauthorization": N_(
        "Constant Contact stopped our access: authorize again"
    ),
    "connection.reauthorized": N_("Authorized again"),
    "connection.disconnected": N_("Disconnected the integration"),
    "contact.added": N_("Added a contact to the list"),
    "contact.held": N_(
        "Kept a contact to add once the connection works again: nothing is lost"
    ),
    "contact.refused": N_("Constant Contact refused a contact (not a valid address)"),
    "contact.dropped": N_("Dropped a contact kept for too long"),
    "notice.sent": N_("Told about the broken connection"),
    "notice.skipped": N_("No need to tell about the broken connection"),
    "notice.not_sent": N_(
        "Could not tell about the broken connection yet: trying again later"
    ),
    "support.viewed_organization": N_("Looked at your organization"),
    "support.viewed_integration": N_("Looked at an integration"),
    "support.tested_connection": N_("Tested the connection"),
    "support.copied_link": N_("Support copied the link to where you left off"),
    "support.emailed_link": N_("Support e-mailed you the link to where you left off"),
    "support.email_link_failed": N_(
        "Support tried to e-mail you the link to where you left off; it was not sent"
    ),
}


def describe(action: str) -> str:
    """Return what an action means, in the reader's language (the code if unknown)."""
    words = WORDS.get(action)
    return gettext(words) if words else action
