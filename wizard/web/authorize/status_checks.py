"""Step 4's status checks: the page's script asks (JSON), or Check now (a form)."""

from datetime import datetime

from flask import current_app
from flask import flash
from flask import g
from flask import jsonify
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.wrappers import Response

from wizard.domain import attempts
from wizard.domain import listening
from wizard.domain import polling
from wizard.models import AuthorizationAttempt
from wizard.platform.columns import utcnow
from wizard.platform.extensions import limiter
from wizard.platform.i18n import N_
from wizard.platform.reads import reads_only
from wizard.web.access import customer_required
from wizard.web.authorize import bp
from wizard.web.authorize import tickets
from wizard.web.authorize.shared import attempt_page
from wizard.web.authorize.shared import load_attempt_and_codes
from wizard.web.forms import ButtonForm

CHECKING_NOTE = N_("Access allowed. Checking your list in Constant Contact.")


def _poll_limit() -> str:
    return current_app.config["STATUS_POLL_RATE_LIMIT"]


def _person_key() -> str:
    """Count status checks per signed-in person (offices share one address).

    Read from the session, not the user row: a check answered from its ticket
    never loads the user.
    """
    person = str(session.get("_user_id") or "").partition(":")[0]
    if person:
        return f"user:{person}"
    return f"address:{request.remote_addr}"


@bp.route("/integrations/<id:integration_id>/authorize/<id:attempt_id>/status")
@reads_only
def status(integration_id: int, attempt_id: int) -> ResponseReturnValue:
    """Say where the attempt stands (JSON): from the page's ticket while it holds."""
    known = tickets.request_answer()
    if known is None:
        return _status_from_rows()
    return _status_response(known, request.headers[tickets.HEADER])


# Only checks that read rows count: the limit guards the database, and a check its
# ticket answers uses none (nor pays for the limiter's bookkeeping).
@limiter.limit(_poll_limit, key_func=_person_key)
def _status_from_rows() -> ResponseReturnValue:
    """Load the attempt and the codes still listened to, then answer from them."""
    load_attempt_and_codes()
    return _status_of_loaded()


@customer_required
def _status_of_loaded() -> ResponseReturnValue:
    """Answer from the rows the poller keeps, with a ticket until it next asks
    about any of the codes: a read, never a call to Constant Contact."""
    found, codes = g.attempt, g.codes
    now = utcnow()
    ticket = tickets.issue(found, now, polling.next_due(codes))
    return _status_response(_status(found, codes, now), ticket)


def _status(
    found: AuthorizationAttempt, codes: list[AuthorizationAttempt], now: datetime
) -> dict[str, object]:
    """Say where the attempt stands, for the page's script.

    An ended attempt says whether any code is still listened to: its page keeps
    checking until then, for an approval that comes late.
    """
    integration_id = found.integration_id
    page = url_for(".attempt", integration_id=integration_id, attempt_id=found.id)
    if attempts.is_done(found):
        return {
            "state": "done",
            "next": url_for(".active", integration_id=integration_id),
        }
    if attempts.is_checking(found):
        # The poller checks her list right after the approval: the page keeps its
        # countdown (0 would make it reload) and shows the success page after.
        return tickets.waiting(found.seconds_left(now), None) | {
            "note": gettext(CHECKING_NOTE)
        }
    if not found.is_open or now >= found.expires_at:
        # Past its window it has ended; its page or the poller's sweep writes so.
        alive = [code for code in (found, *codes) if listening.is_listening(code, now)]
        return {"state": "ended", "next": page, "listening": bool(alive)}
    return tickets.waiting(found.seconds_left(now), found.error_code)


def _status_response(payload: dict[str, object], ticket: str | None) -> Response:
    """Answer a status check as JSON, never cached, with its ticket if any."""
    if ticket:
        payload = payload | {"ticket": ticket}
    response = jsonify(payload)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route(
    "/integrations/<id:integration_id>/authorize/<id:attempt_id>/check",
    methods=["POST"],
)
@customer_required
def check_now(integration_id: int, attempt_id: int) -> ResponseReturnValue:
    """Check now (the no-JavaScript way): show the attempt as the poller last
    found it, with a word on what that means if it is still open."""
    found = g.attempt
    if ButtonForm().validate_on_submit() and found.is_open:
        if not found.uses_device_flow:
            flash(
                gettext(
                    "Not yet: finish in the Constant Contact window. When it sends "
                    "you back, this page updates."
                )
            )
        elif found.poll_count:
            flash(
                gettext(
                    "Not yet: Constant Contact is still waiting for you to allow "
                    "access."
                )
            )
        else:
            flash(
                gettext(
                    "We are asking Constant Contact now. Wait a few seconds, then "
                    "check again."
                )
            )
    return attempt_page(integration_id, attempt_id)
