"""Which of an integration's codes Constant Contact may still answer, and which won.

A code replaced by a newer one, or past the page's window, is still alive at
Constant Contact until its own expires_in: the person may allow access in the tab
she already had open. So step 4 keeps listening to every code it asked for until
then. The first approval wins; the others are then left to expire, never asked
about again, and their tokens (if any arrive all the same) are never saved.
"""

from datetime import datetime
from datetime import timedelta

from sqlalchemy import ColumnElement

from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.platform.extensions import db
from wizard.status import Outcome

# What listening to a code no more clears: its next poll, and its code-flow state.
_FORGET = {"next_poll_at": None, "state_hash": None, "state_encrypted": None}
# Closed for the page, not at Constant Contact: still worth listening to.
STILL_ALIVE = (Outcome.REPLACED, Outcome.EXPIRED)
# The active page says when Constant Contact confirmed a late approval while the
# moment is fresh; later, a bare time of day would only puzzle.
LATE_NOTE_FOR = timedelta(hours=1)


def clause(now: datetime) -> ColumnElement[bool]:
    """Return the SQL condition for an attempt Constant Contact may still answer."""
    return db.and_(
        db.or_(
            AuthorizationAttempt.outcome.is_(None),
            AuthorizationAttempt.outcome.in_(STILL_ALIVE),
        ),
        AuthorizationAttempt.provider_expires_at > now,
        # A device code is asked about until next_poll_at is cleared; a code-flow
        # attempt's callback is accepted while its state is kept.
        db.or_(
            AuthorizationAttempt.next_poll_at.is_not(None),
            AuthorizationAttempt.state_hash.is_not(None),
        ),
    )


def is_listening(attempt: AuthorizationAttempt, now: datetime) -> bool:
    """Return whether Constant Contact may still answer this attempt (and we ask)."""
    return (
        (attempt.outcome is None or attempt.outcome in STILL_ALIVE)
        and now < attempt.provider_expires_at
        and (attempt.next_poll_at is not None or attempt.state_hash is not None)
    )


def codes(integration: Integration, now: datetime) -> list[AuthorizationAttempt]:
    """Return the integration's attempts still listened to, newest first."""
    return list(
        db.session.scalars(
            db.select(AuthorizationAttempt)
            .where(AuthorizationAttempt.integration_id == integration.id, clause(now))
            .order_by(AuthorizationAttempt.id.desc())
        )
    )


def stop(attempt: AuthorizationAttempt) -> None:
    """Listen to this attempt no more: no poll, no callback (left to expire)."""
    db.session.execute(
        db.update(AuthorizationAttempt)
        .where(AuthorizationAttempt.id == attempt.id)
        .values(**_FORGET)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(attempt)


def stop_others(winner: AuthorizationAttempt) -> None:
    """The first approval won: listen to none of the integration's other codes."""
    db.session.execute(
        db.update(AuthorizationAttempt)
        .where(
            AuthorizationAttempt.integration_id == winner.integration_id,
            AuthorizationAttempt.id != winner.id,
        )
        .values(**_FORGET)
        .execution_options(synchronize_session=False)
    )


def approval_for(attempt: AuthorizationAttempt) -> AuthorizationAttempt | None:
    """Return the approval that answers this attempt: its own, or another code's
    that Constant Contact confirmed after this one started."""
    if attempt.is_approved:
        return attempt
    return db.session.scalar(
        db.select(AuthorizationAttempt)
        .where(
            AuthorizationAttempt.integration_id == attempt.integration_id,
            AuthorizationAttempt.id != attempt.id,
            AuthorizationAttempt.outcome == Outcome.APPROVED,
            AuthorizationAttempt.finished_at >= attempt.started_at,
        )
        .order_by(AuthorizationAttempt.finished_at.desc())
        .limit(1)
    )


def late_approval(integration: Integration, now: datetime) -> datetime | None:
    """Return when Constant Contact confirmed the latest approval, if it came on an
    older code or after the page's window (and not long ago); else None."""
    approved = db.session.scalar(
        db.select(AuthorizationAttempt)
        .filter_by(integration_id=integration.id, outcome=Outcome.APPROVED)
        .order_by(AuthorizationAttempt.finished_at.desc())
        .limit(1)
    )
    if approved is None or approved.finished_at is None:
        return None
    confirmed = approved.finished_at
    if now - confirmed > LATE_NOTE_FOR:
        return None
    newer_code = db.session.scalar(
        db.select(AuthorizationAttempt.id)
        .where(
            AuthorizationAttempt.integration_id == integration.id,
            AuthorizationAttempt.id > approved.id,
            AuthorizationAttempt.started_at <= confirmed,
        )
        .limit(1)
    )
    if newer_code is not None or confirmed > approved.expires_at:
        return confirmed
    return None
