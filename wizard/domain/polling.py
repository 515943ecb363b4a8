"""Ask Constant Contact about each device code at most once per its interval.

A page's status check asks about its own attempt and about every other code of
the integration still alive at Constant Contact (listening.py), each when due.
"""

import threading
from datetime import datetime
from datetime import timedelta

from flask import current_app

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

POLL_SLOTS = "wizard.poll_slots"


def poll_codes(
    attempt: AuthorizationAttempt, codes: list[AuthorizationAttempt]
) -> bool:
    """Ask about the attempt, then each other code still listened to, when due.

    Newest first; once one is approved the rest are left to expire. Returns
    whether any was asked.
    """
    asked = poll(attempt)
    approved = attempt.is_approved
    for code in codes:
        if approved:
            break
        if code.id != attempt.id and code.uses_device_flow:
            asked = poll(code) or asked
            approved = code.is_approved
    return asked


def next_due(codes: list[AuthorizationAttempt]) -> datetime | None:
    """Return when the earliest of these device codes is next due to be asked."""
    times = [c.next_poll_at for c in codes if c.uses_device_flow and c.next_poll_at]
    return min(times, default=None)


def poll(attempt: AuthorizationAttempt) -> bool:
    """Ask Constant Contact about a device attempt, at most once per interval.

    Whoever wins the conditional UPDATE of next_poll_at asks; everyone else only
    reads the row. The claim lasts through the request's timeout and is committed
    before the network call; the next poll is due an interval after the answer.
    Returns whether this call asked.
    """
    now = utcnow()
    attempts.expire_if_due(attempt, now)
    if not attempt.uses_device_flow or not listening.is_listening(attempt, now):
        return False
    if attempt.next_poll_at is not None and attempt.next_poll_at > now:
        # Not due by the row just read, so the UPDATE below could not win: most
        # status requests end here, with no write, decryption or upstream call.
        return False
    slots = _poll_slots()
    if not slots.acquire(blocking=False):
        # This process already waits on Constant Contact as often as it may: skip
        # this turn (the poll stays due) rather than tie up another thread.
        return False
    try:
        return _poll_now(attempt, now)
    finally:
        slots.release()


def _poll_slots() -> threading.BoundedSemaphore:
    """Return this process's slots for device polls in flight (CC_POLLS_IN_FLIGHT).

    A bulkhead: however slow Constant Contact gets, most of a worker's threads stay
    free to serve pages and status checks.
    """
    extensions = current_app.extensions
    slots = extensions.get(POLL_SLOTS)
    if slots is None:
        size = max(1, int(current_app.config["CC_POLLS_IN_FLIGHT"]))
        slots = extensions.setdefault(POLL_SLOTS, threading.BoundedSemaphore(size))
    return slots


def _poll_now(attempt: AuthorizationAttempt, now: datetime) -> bool:
    """Claim the due poll, ask Constant Contact, record the answer."""
    client = client_for(attempt.integration)
    interval = attempt.interval or DEFAULT_INTERVAL
    held = timedelta(seconds=interval + client.provider.timeout) + POLL_MARGIN
    claim = db.session.execute(
        db.update(AuthorizationAttempt)
        .where(
            AuthorizationAttempt.id == attempt.id,
            AuthorizationAttempt.next_poll_at <= now,
            listening.clause(now),
        )
        .values(next_poll_at=now + held, poll_count=AuthorizationAttempt.poll_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if claim.rowcount != 1:
        db.session.refresh(attempt)
        return False
    try:
        device_code = attempt.unseal("device_code_encrypted")
    except crypto.DecryptionError:
        attempts.finish(attempt, Outcome.FAILED, "unreadable", now)
        listening.stop(attempt)
        db.session.commit()
        return True
    try:
        tokens = client.poll_device_token(device_code)
    except ProviderError as error:
        _after_poll_error(attempt, error)
        return True
    approval.finish_with_tokens(attempt, tokens, client)
    return True


def _after_poll_error(attempt: AuthorizationAttempt, error: ProviderError) -> None:
    """Schedule the next poll, or stop listening to a code that is over."""
    answered = utcnow()
    db.session.refresh(attempt)
    interval = attempt.interval or DEFAULT_INTERVAL
    if error.code == "slow_down":
        # RFC 8628: add 5 seconds to the interval, for this and every later poll.
        interval += SLOW_DOWN_SECONDS
    if error.code in ("authorization_pending", "slow_down") or error.transient:
        note = error.code if error.transient else None
        db.session.execute(
            db.update(AuthorizationAttempt)
            # Not if another code's approval stopped this one meanwhile.
            .where(
                AuthorizationAttempt.id == attempt.id,
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
    else:
        attempts.finish(attempt, Outcome.FAILED, error.code, answered)
        # Denied, expired or refused: Constant Contact will not answer it otherwise.
        listening.stop(attempt)
    db.session.commit()
    db.session.refresh(attempt)
