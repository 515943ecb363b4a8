"""Ask Constant Contact about each device code at most once per its interval.

The poller (poller.py) claims the codes that are due and asks; status checks only
read what it recorded. Claims are conditional UPDATEs, so however many pollers run
(threads, workers, hosts), each due moment of a code is asked about once.
"""

from datetime import datetime
from datetime import timedelta

from flask import current_app
from sqlalchemy.orm import joinedload

from wizard.constant_contact.answers import DEFAULT_INTERVAL
from wizard.constant_contact.client import client_for
from wizard.constant_contact.http import ProviderError
from wizard.domain import approval
from wizard.domain import attempts
from wizard.domain import listening
from wizard.models import AuthorizationAttempt
from wizard.platform import crypto
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.status import Outcome

SLOW_DOWN_SECONDS = 5

# Requests arrive a little later or sooner than they leave: keep clear of the edge
# of the interval so Constant Contact never sees two polls closer than it allows.
POLL_MARGIN = timedelta(milliseconds=500)


def next_due(codes: list[AuthorizationAttempt]) -> datetime | None:
    """Return when the earliest of these device codes is next due to be asked."""
    times = [c.next_poll_at for c in codes if c.uses_device_flow and c.next_poll_at]
    return min(times, default=None)


def claim_due(now: datetime, limit: int) -> tuple[list[int], datetime | None]:
    """Claim up to ``limit`` codes that are due, earliest first (newest first when
    due together); return their ids and when the next code not claimed falls due.

    A claim lasts interval + timeout + margin from now: however the ask ends, even
    with its sender dead, Constant Contact never sees two polls closer than that.
    """
    rows = db.session.execute(
        db.select(
            AuthorizationAttempt.id,
            AuthorizationAttempt.interval,
            AuthorizationAttempt.next_poll_at,
        )
        .where(AuthorizationAttempt.next_poll_at.is_not(None), listening.clause(now))
        .order_by(AuthorizationAttempt.next_poll_at, AuthorizationAttempt.id.desc())
        .limit(limit + 1)
        # PostgreSQL: rows another poller is claiming right now are passed over, so
        # pollers take different codes instead of queueing for the same ones.
        .with_for_update(skip_locked=True)
    ).all()
    due = [row for row in rows[:limit] if row.next_poll_at <= now]
    later = [row.next_poll_at for row in rows if row.next_poll_at > now]
    won = [row.id for row in due if _claim(row.id, row.interval, now)]
    db.session.commit()
    if len(won) < len(due):
        later = [now]  # others took some: more may be due, look again at once
    return won, min(later, default=None)


def _claim(attempt_id: int, interval: int | None, now: datetime) -> bool:
    """Take one due code's poll, if no one else took it first."""
    timeout = float(current_app.config["CC_HTTP_TIMEOUT_SECONDS"])
    held = timedelta(seconds=(interval or DEFAULT_INTERVAL) + timeout) + POLL_MARGIN
    claim = db.session.execute(
        db.update(AuthorizationAttempt)
        .where(
            AuthorizationAttempt.id == attempt_id,
            AuthorizationAttempt.next_poll_at <= now,
            listening.clause(now),
        )
        .values(next_poll_at=now + held, poll_count=AuthorizationAttempt.poll_count + 1)
        .execution_options(synchronize_session=False)
    )
    return claim.rowcount == 1


def ask(attempt_id: int) -> None:
    """Ask Constant Contact about a code this poller claimed; record the answer.

    A sibling code approved since the claim stopped this one: it is not asked.
    """
    attempt = db.session.scalar(
        db.select(AuthorizationAttempt)
        .where(AuthorizationAttempt.id == attempt_id)
        .options(joinedload(AuthorizationAttempt.integration))
        .execution_options(populate_existing=True)
    )
    if attempt is None or not listening.is_listening(attempt, utcnow()):
        db.session.commit()
        return
    client = client_for(attempt.integration)
    try:
        device_code = attempt.unseal("device_code_encrypted")
    except crypto.DecryptionError:
        attempts.finish(attempt, Outcome.FAILED, "unreadable", utcnow())
        listening.stop(attempt)
        db.session.commit()
        return
    interval = attempt.interval or DEFAULT_INTERVAL
    # Nothing held open while Constant Contact thinks (SQLite's lock, a PG snapshot).
    db.session.commit()
    try:
        tokens = client.poll_device_token(device_code)
    except ProviderError as error:
        _after_poll_error(attempt, interval, error)
        return
    approval.finish_with_tokens(attempt, tokens, client)


def poll_due(limit: int = 100) -> int:
    """Close the windows that passed, claim the codes due now and ask about each,
    one after another; return how many were asked (the poller's turn, for the CLI
    and the tests)."""
    attempts.expire_due(utcnow(), limit)
    claimed, _ = claim_due(utcnow(), limit)
    for attempt_id in claimed:
        ask(attempt_id)
    return len(claimed)


def _after_poll_error(
    attempt: AuthorizationAttempt, interval: int, error: ProviderError
) -> None:
    """Schedule the next poll, or stop listening to a code that is over."""
    answered = utcnow()
    # Its key as the identity map knows it: reading attempt.id would load the row.
    attempt_id = db.inspect(attempt).identity[0]
    if error.code == "slow_down":
        # RFC 8628: add 5 seconds to the interval, for this and every later poll.
        interval += SLOW_DOWN_SECONDS
    if error.code not in ("authorization_pending", "slow_down") and not error.transient:
        attempts.finish(attempt, Outcome.FAILED, error.code, answered)
        # Denied, expired or refused: Constant Contact will not answer it otherwise.
        listening.stop(attempt)
        db.session.commit()
        return
    note = error.code if error.transient else None
    # The usual answer ("pending"): one UPDATE, nothing read again.
    db.session.execute(
        db.update(AuthorizationAttempt)
        # Not if another code's approval stopped this one meanwhile.
        .where(
            AuthorizationAttempt.id == attempt_id,
            AuthorizationAttempt.next_poll_at.is_not(None),
        )
        .values(
            interval=interval,
            next_poll_at=answered + timedelta(seconds=interval) + POLL_MARGIN,
            # The waiting note is the open attempt's; a closed one keeps its code.
            error_code=db.case(
                (AuthorizationAttempt.outcome.is_(None), note),
                else_=AuthorizationAttempt.error_code,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
