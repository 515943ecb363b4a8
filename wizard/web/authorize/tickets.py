"""Status tickets: let step 4's status checks skip their own rows while waiting.

A device attempt can only change when Constant Contact is next asked about it or
about another code of its integration still listened to (next_poll_at), when its
window closes, or when she starts again. Each status answer of a
waiting attempt carries a signed ticket; the page sends it back with the next
check. Until the attempt's next poll the ticket alone answers: no user row, no
attempt row, no write. After it, the worker's board of waiting codes (board.py,
read once a second at most) answers: an attempt still on it with the same note and
window is still waiting. Anything else reads the rows.

A ticket is bound to the attempt and its integration (so an answered check proves
the address names her own integration), the signed-in session and its browser (the
strong session protection identifier, auth/sessions.py's browser_identifier), and
lasts at most LONGEST_SECONDS, so a session signed out elsewhere shows within it.
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
from wizard.web.authorize import board

HEADER = "X-Status-Ticket"
# A session signed out in another browser keeps its tab's countdown this long at
# most (the answer tells nothing the page did not show); any change to the attempt
# itself shows within the board's second.
LONGEST_SECONDS = 30.0
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
    """Return a ticket for a device attempt still waiting and still asked about.

    It answers alone until the next poll of its code or (``others_due``) of another
    code still listened to; after that, with the board.
    """
    if not attempt.uses_device_flow or not attempt.is_open:
        return None
    if now >= attempt.expires_at or attempt.next_poll_at is None:
        return None
    good_until = min(attempt.expires_at.timestamp(), now.timestamp() + LONGEST_SECONDS)
    quiet_until = min(
        attempt.next_poll_at.timestamp(),
        others_due.timestamp() if others_due else float("inf"),
        good_until,
    )
    # The attempt id leads, so a client can tell its tickets apart without parsing.
    fields = "|".join(
        (
            str(attempt.id),
            f"{quiet_until:.3f}",
            f"{good_until:.3f}",
            board.mark(attempt.expires_at),
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
    if len(parts) != 5 or parts[0] != str(attempt_id):
        return None
    try:
        quiet_until, good_until, expires_at = map(float, parts[1:4])
    except ValueError:
        return None
    if now.timestamp() >= good_until:
        return None
    try:
        if not _signer().verify_signature(_bound(fields, integration_id), signature):
            return None
    except BadSignature:
        return None
    code, ends = parts[4] or None, parts[3]
    if now.timestamp() >= quiet_until and not board.vouches(attempt_id, code, ends):
        return None
    return waiting(max(0, int(expires_at - now.timestamp())), code)


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
