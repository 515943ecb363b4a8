"""Status tickets: let step 4's status checks skip the database until a poll is due.

A device attempt can only change when Constant Contact is next asked about it or
about another code of its integration still listened to (next_poll_at), or when its
window closes, so until then its status is known. Each status answer
carries a signed ticket saying so; the page sends it back with the next check, and
a valid ticket is answered from itself: no user row, no attempt row, no write.
A ticket is bound to the attempt and its integration (so an answered check proves
the address names her own integration), the signed-in session and its browser (the
strong session protection identifier, auth/sessions.py's browser_identifier), and
lasts at most LONGEST_SECONDS.
"""

from datetime import datetime

from flask import current_app
from flask import g
from flask import request
from flask import session
from itsdangerous import BadSignature
from itsdangerous import Signer

from wizard.domain.problems import waiting_note
from wizard.models import AuthorizationAttempt
from wizard.platform.columns import utcnow

HEADER = "X-Status-Ticket"
# Short, so that a cancelled attempt or a signed-out session shows within seconds
# in another tab; a poll is due every 5 s anyway.
LONGEST_SECONDS = 5.0
# Tickets are a few dozen bytes; anything longer is not one of ours.
MAX_LENGTH = 200


def _signer() -> Signer:
    """Return the signer for tickets, keyed by the app's secret key."""
    return Signer(current_app.secret_key, salt="wizard.status-ticket")


def _bound(fields: str, integration_id: int) -> bytes:
    """Return what the signature covers: the fields, the integration, the session
    and its browser.

    The session and browser are signed but not sent: a ticket is useless to
    anyone else, and says nothing about who holds it.
    """
    browser = current_app.login_manager._session_identifier_generator()  # type: ignore[attr-defined]
    person = session.get("_user_id")
    return f"{fields}|{integration_id}|{person}|{browser}".encode()


def issue(
    attempt: AuthorizationAttempt, now: datetime, others_due: datetime | None = None
) -> str | None:
    """Return a ticket for a device attempt still waiting, if no poll is due yet:
    neither its own nor (``others_due``) that of another code still listened to."""
    if not attempt.uses_device_flow or not attempt.is_open:
        return None
    if now >= attempt.expires_at:
        return None
    if attempt.next_poll_at is None or attempt.next_poll_at <= now:
        return None
    if others_due is not None and others_due <= now:
        return None
    until = min(
        attempt.next_poll_at.timestamp(),
        attempt.expires_at.timestamp(),
        now.timestamp() + LONGEST_SECONDS,
        others_due.timestamp() if others_due else float("inf"),
    )
    # The attempt id leads, so a client can tell its tickets apart without parsing.
    fields = "|".join(
        (
            str(attempt.id),
            f"{until:.3f}",
            f"{attempt.expires_at.timestamp():.3f}",
            attempt.error_code or "",
        )
    )
    signature = _signer().get_signature(_bound(fields, attempt.integration_id))
    return f"{fields}.{signature.decode()}"


def answer(
    ticket: str | None, integration_id: int, attempt_id: int, now: datetime
) -> dict[str, object] | None:
    """Return the status a valid, current ticket vouches for, or None."""
    if not ticket or len(ticket) > MAX_LENGTH or "_user_id" not in session:
        return None
    fields, _, signature = ticket.rpartition(".")
    parts = fields.split("|")
    if len(parts) != 4 or parts[0] != str(attempt_id):
        return None
    try:
        until, expires_at = float(parts[1]), float(parts[2])
    except ValueError:
        return None
    if now.timestamp() >= until:
        return None
    try:
        if not _signer().verify_signature(_bound(fields, integration_id), signature):
            return None
    except BadSignature:
        return None
    return waiting(max(0, int(expires_at - now.timestamp())), parts[3] or None)


def request_answer() -> dict[str, object] | None:
    """Return what this request's ticket vouches for, or None (worked out once)."""
    if "ticket_answer" not in g:
        named = request.view_args or {}
        g.ticket_answer = answer(
            request.headers.get(HEADER),
            named.get("integration_id", 0),
            named.get("attempt_id", 0),
            utcnow(),
        )
    return g.ticket_answer


def waiting(seconds_left: int, code: str | None) -> dict[str, object]:
    """Return the status of an open attempt: the same from its row or its ticket."""
    return {
        "state": "waiting",
        "seconds_left": seconds_left,
        "note": waiting_note(code),
    }
