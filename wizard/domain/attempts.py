"""Step 4's attempts: start one, close it once, expire it, find it by its state.

Every worker on every host may serve any of these calls: coordination happens in the
database (conditional UPDATEs), never in process memory.
"""

import hashlib
from datetime import datetime
from datetime import timedelta

from wizard.constant_contact.client import client_for
from wizard.constant_contact.client import new_pkce_pair
from wizard.constant_contact.http import ProviderError
from wizard.domain import audit
from wizard.domain import listening
from wizard.domain import transitions
from wizard.domain.problems import problem_for
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.models import User
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.status import Outcome


def state_hash(state: str) -> str:
    """Return the lookup form of an OAuth state."""
    return hashlib.sha256(state.encode()).hexdigest()


def latest_attempt(integration: Integration) -> AuthorizationAttempt | None:
    """Return the integration's newest attempt."""
    return db.session.scalar(
        db.select(AuthorizationAttempt)
        .filter_by(integration_id=integration.id)
        .order_by(AuthorizationAttempt.id.desc())
        .limit(1)
    )


def open_attempts(integration: Integration) -> list[AuthorizationAttempt]:
    """Return the integration's attempts that are still open, oldest first."""
    return list(
        db.session.scalars(
            db.select(AuthorizationAttempt)
            .filter_by(integration_id=integration.id, outcome=None)
            .order_by(AuthorizationAttempt.id)
        )
    )


def is_done(attempt: AuthorizationAttempt) -> bool:
    """Return whether step 4 is over and the connection works (and this try did,
    or another of its codes did since it started)."""
    integration = attempt.integration
    if not integration.is_active or open_attempts(integration):
        return False
    return (
        attempt.outcome != Outcome.FAILED or listening.approval_for(attempt) is not None
    )


def is_checking(attempt: AuthorizationAttempt) -> bool:
    """Return whether access was allowed (on this code or a sibling since) and the
    list is being checked right now."""
    integration = attempt.integration
    return (
        integration.is_unverified
        and integration.last_error_code is None
        and listening.approval_for(attempt) is not None
    )


def finish(
    attempt: AuthorizationAttempt,
    outcome: str,
    code: str | None,
    now: datetime,
    *,
    unless: tuple[str, ...] = (),
) -> bool:
    """Close an attempt once; return False if something else closed it first.

    With ``unless``, a closed attempt may be closed again unless its outcome is one
    of those: tokens in hand beat a late "expired" or "replaced". Expired or
    replaced, it keeps its state while Constant Contact's code lives.
    """
    condition = (
        AuthorizationAttempt.outcome.is_(None)
        if not unless
        else db.or_(
            AuthorizationAttempt.outcome.is_(None),
            AuthorizationAttempt.outcome.not_in(unless),
        )
    )
    alive = outcome in listening.STILL_ALIVE and now < attempt.provider_expires_at
    spent = {} if alive else {"state_hash": None, "state_encrypted": None}
    words = problem_for(code, attempt.flow).text_en if code else None
    result = db.session.execute(
        db.update(AuthorizationAttempt)
        .where(AuthorizationAttempt.id == attempt.id, condition)
        .values(outcome=outcome, error_code=code, error_message=words, finished_at=now)
        .values(**spent)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(attempt)
    if result.rowcount != 1:
        return False
    integration = attempt.integration
    if outcome != Outcome.APPROVED and integration.is_authorizing:
        others = bool(open_attempts(integration))
        transitions.stopped_authorizing(integration, others_open=others)
    audit.record(
        f"authorization.{outcome}",
        integration=integration,
        attempt_id=attempt.id,
        flow=attempt.flow,
        error=code,
    )
    return True


def close_older(attempt: AuthorizationAttempt, now: datetime) -> None:
    """Close the integration's older open attempts: the page shows one code.

    Only older ones close, so two tabs starting at once leave the newest open.
    Their codes are still listened to (listening.py) until Constant Contact's
    own expiry: the person may finish in the tab she already had open.
    """
    for other in open_attempts(attempt.integration):
        if other.id < attempt.id:
            finish(other, Outcome.REPLACED, "replaced", now)


def start(
    integration: Integration,
    user: User,
    window_seconds: int,
) -> AuthorizationAttempt:
    """Start step 4 for the integration's flow; ProviderError if that fails at once.

    The window is the shorter of the setting and the code's own life; the code is
    listened to for its whole life. A code-flow state has no stated life at
    Constant Contact: it lives as long as the window.
    """
    now = utcnow()
    attempt = AuthorizationAttempt(
        integration=integration,
        flow=integration.flow,
        started_at=now,
        expires_at=now + timedelta(seconds=window_seconds),
        provider_expires_at=now + timedelta(seconds=window_seconds),
        started_by_id=user.id,
    )
    if integration.uses_device_flow:
        grant = client_for(integration).request_device_authorization()
        lifetime = grant.expires_in or window_seconds
        attempt.expires_at = now + timedelta(seconds=min(lifetime, window_seconds))
        attempt.provider_expires_at = now + timedelta(seconds=lifetime)
        attempt.seal("device_code_encrypted", grant.device_code)
        attempt.user_code = grant.user_code
        attempt.verification_uri = grant.verification_uri
        attempt.verification_uri_complete = grant.verification_uri_complete
        attempt.interval = grant.interval
        # The first poll may go at once; later ones keep to the interval.
        attempt.next_poll_at = now
    else:
        state, verifier = new_pkce_pair()
        attempt.state_hash = state_hash(state)
        attempt.seal("state_encrypted", state)
        attempt.seal("code_verifier_encrypted", verifier)
    db.session.add(attempt)
    db.session.flush()
    close_older(attempt, now)
    transitions.authorizing(integration)
    audit.record(
        "authorization.started",
        actor=user,
        integration=integration,
        attempt_id=attempt.id,
        flow=attempt.flow,
        seconds=attempt.seconds_left(now),
    )
    return attempt


def redirect_target(attempt: AuthorizationAttempt) -> str:
    """Return the authorize URL of a code-flow attempt (the same each time)."""
    return client_for(attempt.integration).authorization_url(
        attempt.unseal("state_encrypted"),
        attempt.unseal("code_verifier_encrypted"),
    )


def expire_due(now: datetime, limit: int = 100) -> int:
    """Close attempts whose window has passed, though no page is open to see it
    (the poller's sweep); return how many it closed."""
    due = db.session.scalars(
        db.select(AuthorizationAttempt)
        .where(
            AuthorizationAttempt.outcome.is_(None),
            AuthorizationAttempt.expires_at <= now,
        )
        .order_by(AuthorizationAttempt.expires_at)
        .limit(limit)
    ).all()
    closed = sum(finish(attempt, Outcome.EXPIRED, "expired", now) for attempt in due)
    db.session.commit()
    return closed


def expire_if_due(attempt: AuthorizationAttempt, now: datetime) -> None:
    """Close the attempt as expired once its window has passed."""
    if attempt.is_open and now >= attempt.expires_at:
        finish(attempt, Outcome.EXPIRED, "expired", now)
        db.session.commit()


def fail(attempt: AuthorizationAttempt, code: str, now: datetime) -> None:
    """Close an attempt with the error Constant Contact sent back."""
    finish(attempt, Outcome.FAILED, ProviderError(code).code, now)


def attempt_for_state(state: str) -> AuthorizationAttempt | None:
    """Find the attempt a callback's state belongs to."""
    if not state or len(state) > 200:
        return None
    return db.session.scalar(
        db.select(AuthorizationAttempt).filter_by(state_hash=state_hash(state))
    )


def waiting_codes(now: datetime) -> dict[int, tuple[str | None, datetime]]:
    """Return the device attempts still waiting (open, in their window, still asked
    about), each with its waiting note's code and its window's end: one indexed read
    for all of them."""
    rows = db.session.execute(
        db.select(
            AuthorizationAttempt.id,
            AuthorizationAttempt.error_code,
            AuthorizationAttempt.expires_at,
        ).where(
            AuthorizationAttempt.outcome.is_(None),
            AuthorizationAttempt.expires_at > now,
            AuthorizationAttempt.next_poll_at.is_not(None),
        )
    )
    return {row.id: (row.error_code, row.expires_at) for row in rows}
