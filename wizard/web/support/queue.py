"""The support console's home: who needs help now, newest first, with what to say.

Three reasons bring a customer's integration here: step 4 open now, a problem shown
to her in the last hour, a connection that waits for her to act. One grouped query
finds and orders them; three more load the rows' integrations (with organizations),
latest attempts and where her browser was, so the page costs the same for one row or
fifty.
"""

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy import Subquery
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.orm import joinedload

from wizard.models import AuditEvent
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.models import Presence
from wizard.platform.extensions import db
from wizard.platform.i18n import N_
from wizard.status import Outcome
from wizard.status import Status
from wizard.web.support.right_now import RightNow
from wizard.web.support.right_now import right_now
from wizard.web.words import STATUS_WORDS

# A problem she was shown this recently may still have her stuck.
RECENT = timedelta(hours=1)
# Rows on the page: past this many, the search finds the others.
CAP = 50
# Only she can mend these: authorize again, or choose her list.
WAITS_FOR_HER = (Status.NEEDS_REAUTHORIZATION, Status.LIST_NOT_FOUND)
AUTHORIZING = "authorizing"
PROBLEM = "problem"
WAITING = "waiting"
KINDS = (AUTHORIZING, PROBLEM, WAITING)
REASON_WORDS = {
    AUTHORIZING: N_("Authorizing now: step 4 is open"),
    PROBLEM: N_("Shown a problem in the last hour"),
}


@dataclass(frozen=True)
class Row:
    """One integration in the queue: why it is there, since when, what to say."""

    integration: Integration
    at: datetime
    reasons: list[str]
    now_box: RightNow


def _branch(
    integration_id: QueryableAttribute[Any], reason: str, at: QueryableAttribute[Any]
) -> Select[Any]:
    """One reason's rows: which integration, the reason, and when it happened."""
    # The reason is one of ours, written into the SQL: no value from a request.
    return db.select(
        integration_id.label("integration_id"),
        db.literal_column(f"'{reason}'").label("reason"),
        at.label("at"),
    )


def _reasons(now: datetime) -> Subquery:
    """Every reason any integration is in the queue, one row per event."""
    since = now - RECENT
    attempt = AuthorizationAttempt
    return db.union_all(
        # Open as AuthorizationAttempt.is_open says, with its window not yet passed.
        _branch(attempt.integration_id, AUTHORIZING, attempt.started_at).where(
            attempt.outcome.is_(None), attempt.expires_at > now
        ),
        # A code replaced by a newer one is no problem she saw.
        _branch(attempt.integration_id, PROBLEM, attempt.finished_at).where(
            attempt.finished_at > since,
            attempt.outcome != Outcome.REPLACED,
            db.or_(attempt.error_code.is_not(None), attempt.error_message.is_not(None)),
        ),
        # The index on audit_event.at keeps this to the last hour's events.
        _branch(AuditEvent.integration_id, PROBLEM, AuditEvent.at).where(
            AuditEvent.at > since,
            AuditEvent.action == "setup.error_shown",
            AuditEvent.integration_id.is_not(None),
        ),
        _branch(Integration.id, PROBLEM, Integration.last_checked_at).where(
            Integration.last_checked_at > since,
            db.or_(
                Integration.last_error_code.is_not(None),
                Integration.last_error_message.is_not(None),
            ),
        ),
        _branch(Integration.id, WAITING, Integration.updated_at).where(
            Integration.status.in_(WAITS_FOR_HER)
        ),
    ).subquery()


def _newest(now: datetime) -> list[tuple[int, datetime, set[str]]]:
    """The integrations in the queue, newest first, one past CAP: id, when, why."""
    reasons = _reasons(now)
    latest = db.func.max(reasons.c.at)
    flags = [
        db.func.max(db.case((reasons.c.reason == reason, 1), else_=0))
        for reason in KINDS
    ]
    rows = db.session.execute(
        db.select(reasons.c.integration_id, latest, *flags)
        .group_by(reasons.c.integration_id)
        .order_by(latest.desc(), reasons.c.integration_id.desc())
        .limit(CAP + 1)
    )
    return [
        (found, at, {r for r, on in zip(KINDS, flagged, strict=True) if on})
        for found, at, *flagged in rows
    ]


def _latest_attempts(ids: list[int]) -> dict[int, AuthorizationAttempt]:
    """Each integration's newest attempt, in one query."""
    newest = (
        db.select(db.func.max(AuthorizationAttempt.id))
        .where(AuthorizationAttempt.integration_id.in_(ids))
        .group_by(AuthorizationAttempt.integration_id)
    )
    return {
        attempt.integration_id: attempt
        for attempt in db.session.scalars(
            db.select(AuthorizationAttempt).where(AuthorizationAttempt.id.in_(newest))
        )
    }


def waiting(now: datetime) -> tuple[list[Row], bool]:
    """Who needs help now, newest first, at most CAP; and whether more are waiting."""
    newest = _newest(now)
    ids = [found for found, _, _ in newest[:CAP]]
    if not ids:
        return [], False
    integrations = {
        found.id: found
        for found in db.session.scalars(
            db.select(Integration)
            .options(joinedload(Integration.organization))
            .where(Integration.id.in_(ids))
        )
    }
    attempts = _latest_attempts(ids)
    seen = {
        found.integration_id: found
        for found in db.session.scalars(
            db.select(Presence).where(Presence.integration_id.in_(ids))
        )
    }
    rows = []
    for found_id, at, why in newest[:CAP]:
        found = integrations.get(found_id)
        if found is None:
            continue  # deleted between the two queries
        if why == {PROBLEM} and found.is_active:
            continue  # the problem she was shown is behind her: connected since
        reasons = [REASON_WORDS[r] for r in (AUTHORIZING, PROBLEM) if r in why]
        if WAITING in why:
            reasons.append(STATUS_WORDS[Status(found.status)])
        attempt = attempts.get(found_id)
        now_box = right_now(found, attempt, now, seen.get(found_id))
        rows.append(Row(found, at, reasons, now_box))
    return rows, len(newest) > CAP
