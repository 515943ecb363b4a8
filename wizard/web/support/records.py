"""What the support console reads: organizations found, views on record, messages."""

from datetime import timedelta
from typing import Any

from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.orm import selectinload

from wizard.domain import audit
from wizard.domain.problems import problem_for
from wizard.models import AuditEvent
from wizard.models import Integration
from wizard.models import Organization
from wizard.models import User
from wizard.platform import locks
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.status import Status
from wizard.web.words import error_words

# Crockford's base32 reads I and L as 1 and O as 0: forgive what was heard.
_HEARD = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
# Working or switched off: what she is busy with is any other.
_SETTLED = frozenset({Status.ACTIVE, Status.DISCONNECTED})
# Organizations per page of the support console's list.
PAGE_SIZE = 50
# An agent's look at a page is on record this long: the live page reloads every 5 s,
# and a row per reload would bury the customer's own events on Activity.
VIEW_RECORDED_FOR = timedelta(minutes=30)


def normalize_reference(text: str) -> str:
    """Turn what was read over the phone into a reference code like K7Q-4M2P."""
    chars = "".join(ch for ch in text.upper() if ch.isalnum()).translate(_HEARD)
    return f"{chars[:3]}-{chars[3:]}" if len(chars) == 7 else ""


def find_organizations(query: str, page: int = 1) -> tuple[list[Organization], bool]:
    """Find organizations by reference code, name, or a user's email, a page at a time.

    Returns the page's organizations (their integrations loaded in one more query, so
    a page costs the same with ten tenants or ten thousand) and whether more follow.
    """
    query = query.strip()[:200]
    select = db.select(Organization).options(selectinload(Organization.integrations))
    if query:
        code = normalize_reference(query)
        pattern = f"%{query.lower()}%"
        by_user = db.select(User.organization_id).where(
            db.func.lower(User.email).like(pattern)
        )
        select = select.where(
            db.or_(
                Organization.reference_code == code,
                db.func.lower(Organization.name).like(pattern),
                Organization.id.in_(by_user),
            )
        )
    # One row past the page says whether there is a next one, without a COUNT(*).
    found = list(
        db.session.scalars(
            select.order_by(Organization.name, Organization.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


def exactly(query: str) -> Organization | None:
    """The organization a whole support reference or a user's whole e-mail names."""
    query = query.strip()[:200]
    code = normalize_reference(query)
    email = query.lower() if "@" in query else ""
    if not code and not email:
        return None  # a name or part of one: nothing to look up exactly
    by_email = db.select(User.organization_id).where(db.func.lower(User.email) == email)
    found = db.session.scalars(
        db.select(Organization)
        .options(selectinload(Organization.integrations))
        .where(
            db.or_(Organization.reference_code == code, Organization.id.in_(by_email))
        )
        .limit(2)
    ).all()
    return found[0] if len(found) == 1 else None


def in_progress(organization: Organization) -> Integration | None:
    """The integration she is most likely busy with: unfinished first, newest first."""
    if not organization.integrations:
        return None
    return max(
        organization.integrations,
        key=lambda found: (found.status not in _SETTLED, found.updated_at, found.id),
    )


def on_record(
    action: str,
    *,
    organization_id: int | None = None,
    integration: Integration | None = None,
) -> bool:
    """Record the agent's look at a page once per VIEW_RECORDED_FOR; say if on record.

    Counted in the database, so every worker and host agrees. Only a page the agent
    opened (:func:`audit.navigated_here`) is recorded; anything another site made
    the browser ask for records nothing, and is on record only if a recent view is.
    """
    page = (
        AuditEvent.integration_id == integration.id
        if integration is not None
        else AuditEvent.organization_id == organization_id
    )
    recent = (
        db.select(AuditEvent.id)
        .where(
            AuditEvent.actor_id == current_user.id,
            AuditEvent.action == action,
            page,
            AuditEvent.at > utcnow() - VIEW_RECORDED_FOR,
        )
        .limit(1)
    )
    if db.session.scalar(recent) is not None:
        return True
    if not audit.navigated_here():
        return False
    # Two tabs or workers may both have found nothing: holding the agent's row, the
    # second one to get it sees the first one's view.
    with locks.locked_rows(User, [current_user.id]):
        if db.session.scalar(recent) is None:
            audit.record(
                action,
                actor=current_user,
                organization_id=organization_id,
                integration=integration,
            )
    return True


def messages_shown(
    integration: Integration, events: list[AuditEvent]
) -> list[tuple[Any, str]]:
    """The plain-language messages the customer saw, newest first, with when.

    Each is said in the reader's language: steps 1-2 kept English message ids,
    and attempts and the integration kept their problem codes.
    """
    shown = [
        (event.at, gettext(message))
        for event in events
        if event.action == "setup.error_shown"
        for message in event.details.get("messages", [])
    ]
    shown += [
        (
            a.finished_at,
            problem_for(a.error_code, a.flow).text if a.error_code else a.error_message,
        )
        for a in integration.attempts
        if a.error_message or a.error_code
    ]
    if integration.last_error_message or integration.last_error_code:
        shown.append((integration.last_checked_at, error_words(integration)))
    return sorted(shown, key=lambda item: item[0] or utcnow(), reverse=True)
