"""Step 4 pages: before, the live attempt, its status, the callback, success."""

import json
from collections.abc import Mapping
from datetime import datetime

from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_url
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.orm import contains_eager
from werkzeug.wrappers import Response

from wizard.constant_contact import formats
from wizard.constant_contact.http import ProviderError
from wizard.constant_contact.oauth import Provider
from wizard.domain import approval
from wizard.domain import attempts
from wizard.domain import audit
from wizard.domain import drafts
from wizard.domain import polling
from wizard.domain import verification
from wizard.domain.problems import problem_for
from wizard.domain.problems import waiting_note
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.platform import crypto
from wizard.platform.columns import utcnow
from wizard.platform.crypto import DecryptionError
from wizard.platform.extensions import db
from wizard.platform.extensions import limiter
from wizard.platform.i18n import N_
from wizard.status import Flow
from wizard.web.access import customer_required
from wizard.web.access import organization_integration_or_404
from wizard.web.authorize import bp
from wizard.web.authorize import tickets
from wizard.web.integrations import connection_action_limit
from wizard.web.integrations import integration_and_presser


class ActionForm(FlaskForm):
    """A button that only needs CSRF protection."""


def provider() -> Provider:
    """Return the Constant Contact endpoints from the settings."""
    return Provider.from_config(current_app.config)


def redirect_uri() -> str:
    """Return the Redirect URI registered in the customer's Constant Contact app."""
    return current_app.config["PUBLIC_BASE_URL"] + formats.REDIRECT_PATH


def _attempt_or_404(integration_id: int, attempt_id: int) -> AuthorizationAttempt:
    """Return the attempt with its integration, one query, if the customer's own."""
    attempt = db.session.scalar(
        db.select(AuthorizationAttempt)
        .join(AuthorizationAttempt.integration)
        .where(
            AuthorizationAttempt.id == attempt_id,
            AuthorizationAttempt.integration_id == integration_id,
            Integration.organization_id == current_user.organization_id,
        )
        .options(contains_eager(AuthorizationAttempt.integration))
    )
    if attempt is None or current_user.organization_id is None:
        abort(404)
    return attempt


def _ready_to_authorize(integration: Integration) -> bool:
    return not integration.is_draft and drafts.current_step(integration) == 4


def _start_limit() -> str:
    return current_app.config["AUTHORIZE_START_RATE_LIMIT"]


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


@bp.route("/integrations/<id:integration_id>/authorize", methods=["GET", "POST"])
# Counted before the view, per integration and organization pressing: presses at
# the same moment cannot all slip in, and a stranger's 404s use up none of it.
@limiter.limit(_start_limit, key_func=integration_and_presser, methods=["POST"])
@customer_required
def before(integration_id: int) -> ResponseReturnValue:
    """Say what step 4 asks, then start the 5-minute window."""
    integration = organization_integration_or_404(integration_id)
    if not _ready_to_authorize(integration):
        return redirect(url_for("setup.resume", integration_id=integration.id))
    form = ActionForm()
    problem = None
    if form.validate_on_submit():
        try:
            attempt = attempts.start(
                integration,
                current_user,
                provider(),
                int(current_app.config["AUTHORIZATION_WINDOW_SECONDS"]),
            )
        except ProviderError as error:
            db.session.rollback()
            problem = problem_for(error.code, integration.flow)
            audit.record(
                "authorization.start_failed",
                actor=current_user,
                integration=integration,
                error=error.code,
            )
        else:
            db.session.commit()
            return redirect(
                url_for(
                    ".attempt", integration_id=integration.id, attempt_id=attempt.id
                )
            )
        db.session.commit()
    return render_template(
        "authorize/before.html",
        integration=integration,
        form=form,
        problem=problem,
        window_minutes=round(current_app.config["AUTHORIZATION_WINDOW_SECONDS"] / 60),
    )


def _qr_code(link: str) -> Markup:
    """Draw the link as an inline SVG QR code (made here, no other site involved)."""
    import segno  # only pages with a QR code need it: keeps workers smaller

    svg = segno.make(link, error="m").svg_inline(
        scale=4, title=gettext("QR code"), omitsize=True
    )
    return Markup(svg)  # segno's own markup: no text from people in it


@bp.route("/integrations/<id:integration_id>/authorize/<id:attempt_id>")
@customer_required
def attempt(integration_id: int, attempt_id: int) -> ResponseReturnValue:
    """Show the live attempt (code, link, timer) or how it ended."""
    found = _attempt_or_404(integration_id, attempt_id)
    integration = found.integration
    now = utcnow()
    attempts.expire_if_due(found, now)
    if attempts.is_done(found):
        return redirect(url_for(".active", integration_id=integration.id))
    problem = None
    if attempts.is_checking(found):
        return render_template(
            "authorize/checking.html", integration=integration, attempt=found
        )
    if found.is_approved:
        problem = problem_for(integration.last_error_code or "unavailable", found.flow)
    elif found.outcome is not None:
        problem = problem_for(found.error_code or found.outcome, found.flow)
    link = found.verification_uri_complete or found.verification_uri
    return render_template(
        "authorize/attempt.html",
        integration=integration,
        attempt=found,
        problem=problem,
        note=waiting_note(found.error_code) if found.is_open else None,
        seconds_left=found.seconds_left(now),
        server_now=now,
        qr_code=_qr_code(link) if link and found.is_open else None,
        form=ActionForm(),
        redirect_uri=redirect_uri(),
    )


CHECKING_NOTE = N_("Access allowed. Checking your list in Constant Contact.")


def _status(found: AuthorizationAttempt, now: datetime) -> dict[str, object]:
    """Say where the attempt stands, for the page's script."""
    integration_id = found.integration_id
    page = url_for(".attempt", integration_id=integration_id, attempt_id=found.id)
    if attempts.is_done(found):
        return {
            "state": "done",
            "next": url_for(".active", integration_id=integration_id),
        }
    if attempts.is_checking(found):
        return {"state": "waiting", "seconds_left": 0, "note": gettext(CHECKING_NOTE)}
    if not found.is_open:
        return {"state": "ended", "next": page}
    return tickets.waiting(found.seconds_left(now), found.error_code)


def _ticket_answer() -> dict[str, object] | None:
    """Return what the request's status ticket vouches for (once per request)."""
    if "ticket_answer" not in g:
        g.ticket_answer = tickets.answer(
            request.headers.get(tickets.HEADER),
            (request.view_args or {}).get("attempt_id", 0),
            utcnow(),
        )
    return g.ticket_answer


def _answered_by_ticket() -> bool:
    """The limit guards the database and Constant Contact; a ticket uses neither."""
    return _ticket_answer() is not None


@bp.route("/integrations/<id:integration_id>/authorize/<id:attempt_id>/status")
@limiter.limit(_poll_limit, key_func=_person_key, exempt_when=_answered_by_ticket)
def status(integration_id: int, attempt_id: int) -> ResponseReturnValue:
    """Say where the attempt stands (JSON): from the page's ticket while it holds."""
    known = _ticket_answer()
    if known is None:
        return _status_from_rows(integration_id, attempt_id)
    return _status_response(known, request.headers[tickets.HEADER])


@customer_required
def _status_from_rows(integration_id: int, attempt_id: int) -> ResponseReturnValue:
    """Poll Constant Contact if due, then answer with a ticket until the next poll."""
    found = _attempt_or_404(integration_id, attempt_id)
    polling.poll(found, provider())
    now = utcnow()
    return _status_response(_status(found, now), tickets.issue(found, now))


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
    """Check now (the no-JavaScript way): poll if due, then show the attempt."""
    found = _attempt_or_404(integration_id, attempt_id)
    if ActionForm().validate_on_submit():
        asked = polling.poll(found, provider())
        if found.is_open and not found.uses_device_flow:
            flash(
                gettext(
                    "Not yet: finish in the Constant Contact window. When it sends "
                    "you back, this page updates."
                )
            )
        elif found.is_open and asked:
            flash(
                gettext(
                    "Not yet: Constant Contact is still waiting for you to allow "
                    "access."
                )
            )
        elif found.is_open:
            flash(
                gettext(
                    "We asked Constant Contact a moment ago. Wait a few seconds, then "
                    "check again."
                )
            )
    return redirect(
        url_for(".attempt", integration_id=integration_id, attempt_id=attempt_id)
    )


@bp.route("/integrations/<id:integration_id>/authorize/<id:attempt_id>/open")
@customer_required
def open_constant_contact(integration_id: int, attempt_id: int) -> ResponseReturnValue:
    """Send the new window to Constant Contact's authorize page (code flow)."""
    found = _attempt_or_404(integration_id, attempt_id)
    attempts.expire_if_due(found, utcnow())
    if found.uses_device_flow or not found.is_open:
        return redirect(
            url_for(".attempt", integration_id=integration_id, attempt_id=attempt_id)
        )
    try:
        target = attempts.redirect_target(found, provider(), redirect_uri())
    except DecryptionError:
        attempts.fail(found, "unreadable", utcnow())
        db.session.commit()
        return redirect(
            url_for(".attempt", integration_id=integration_id, attempt_id=attempt_id)
        )
    # Another site's link or <img> still gets the redirect, but only the person's
    # own click on step 4 shows on Activity as "Opened Constant Contact".
    if audit.navigated_here():
        audit.record(
            "authorization.opened", actor=current_user, integration=found.integration
        )
        db.session.commit()
    return redirect(target)


CALLBACK_RESULT = "callback_result"
# Constant Contact's answer to a signed-out browser waits here, sealed, while the
# person signs in: signing in starts a fresh session, so the session cannot hold it.
KEPT_ANSWER_COOKIE = "wizard_callback"
KEPT_ANSWER_BINDING = "cookie.wizard_callback"


@bp.route(formats.REDIRECT_PATH)
def callback() -> ResponseReturnValue:
    """Take Constant Contact's answer, then show the result at the bare path.

    The code and state never stay in the address bar, a page or a sign-in link: a
    signed-in person's answer is used at once and the browser sent on (303); a
    signed-out person's is kept sealed in a cookie for this path until they sign in.
    """
    if request.query_string:
        answer = _answer(request.args)
        if not current_user.is_authenticated:
            return _sign_in_first(answer)
        session[CALLBACK_RESULT] = _use(answer)
        return _private(redirect(formats.REDIRECT_PATH, 303))
    if not current_user.is_authenticated:
        return _sign_in_first(None)
    kept = request.cookies.get(KEPT_ANSWER_COOKIE)
    if kept is not None:
        answer = _kept_answer(kept)
        if answer is not None:
            session[CALLBACK_RESULT] = _use(answer)
    response = _callback_page(session.get(CALLBACK_RESULT))
    if kept is not None:
        response.delete_cookie(KEPT_ANSWER_COOKIE, path=formats.REDIRECT_PATH)
    return response


def _answer(values: Mapping[str, str]) -> dict[str, str]:
    """Read the state, code and error, each cut to what a real one could be."""
    state = values.get("state", "")
    return {
        "state": state if len(state) <= 200 else "",
        "code": values.get("code", "")[:2000],
        "error": values.get("error", "")[:200],
    }


def _sign_in_first(answer: dict[str, str] | None) -> Response:
    """Ask to sign in, then come back to the bare path; keep the answer meanwhile."""
    manager = current_app.login_manager  # type: ignore[attr-defined]
    flash(gettext(manager.login_message), manager.login_message_category)
    response = redirect(login_url(manager.login_view, formats.REDIRECT_PATH), 303)
    if answer is not None:
        response.set_cookie(
            KEPT_ANSWER_COOKIE,
            crypto.encrypt(json.dumps(answer), KEPT_ANSWER_BINDING),
            # The state dies with its attempt's window anyway.
            max_age=int(current_app.config["AUTHORIZATION_WINDOW_SECONDS"]),
            path=formats.REDIRECT_PATH,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            httponly=True,
            samesite="Lax",
        )
    return _private(response)


def _kept_answer(sealed: str) -> dict[str, str] | None:
    """Open the answer kept over sign-in; None if it is not one we sealed."""
    try:
        kept = json.loads(crypto.decrypt(sealed, KEPT_ANSWER_BINDING))
    except (DecryptionError, ValueError):
        return None
    return _answer(kept) if isinstance(kept, dict) else None


def _use(answer: dict[str, str]) -> dict[str, str | None]:
    """Use the answer once, for the signed-in person who started the attempt.

    Returns what the page should say: a problem code (None for success) and the flow
    its words are for. Codes only: nothing secret goes into the session.
    """
    state = answer["state"]
    found = attempts.attempt_for_state(state)
    if found is None:
        return _refused("state_used", None)
    if found.started_by_id != current_user.id:
        return _refused("state_other_user", found)
    now = utcnow()
    attempts.expire_if_due(found, now)
    if found.is_open and answer["error"]:
        attempts.fail(found, answer["error"], now)
    elif found.is_open and answer["code"]:
        code = answer["code"]
        if not approval.exchange(found, state, code, provider(), redirect_uri()):
            # Another callback with this state got there first and exchanges it.
            return _refused("state_used", found)
    db.session.commit()
    if attempts.is_done(found):
        return {"problem": None, "flow": None}
    if found.is_approved:
        return {"problem": found.integration.last_error_code or "", "flow": None}
    return {"problem": found.error_code or "", "flow": found.flow}


def _refused(reason: str, found: AuthorizationAttempt | None) -> dict[str, str | None]:
    """Record a callback that may not be used, and say why."""
    audit.record(
        "authorization.callback_refused",
        actor=current_user,
        integration=found.integration if found else None,
        reason=reason,
    )
    db.session.commit()
    return {"problem": reason, "flow": None}


def _callback_page(result: object) -> Response:
    """Show what came of the callback; with nothing to show, that the code is spent."""
    if not isinstance(result, dict):
        result = {"problem": "state_used", "flow": None}
    code, flow = result.get("problem"), result.get("flow") or Flow.DEVICE
    problem = None if code is None else problem_for(code, flow)
    page = render_template("authorize/callback.html", problem=problem)
    return _private(current_app.make_response(page))


def _private(response: Response) -> Response:
    """Send no more than our origin as the Referer from the callback's responses.

    The address no longer holds the code or state once used; this keeps even the
    path private. The origin alone still satisfies Flask-WTF's HTTPS Referer check,
    so the page's sign-out button keeps working.
    """
    response.headers["Referrer-Policy"] = "strict-origin"
    return response


@bp.route("/integrations/<id:integration_id>/active")
@customer_required
def active(integration_id: int) -> ResponseReturnValue:
    """Say "Your integration is now active!" with what was connected."""
    integration = organization_integration_or_404(integration_id)
    if not integration.is_active:
        return redirect(url_for("integrations.index"))
    return render_template("authorize/active.html", integration=integration)


@bp.route("/integrations/<id:integration_id>/verify", methods=["POST"])
@connection_action_limit
@customer_required
def verify(integration_id: int) -> ResponseReturnValue:
    """Check the list again with the saved authorization."""
    integration = organization_integration_or_404(integration_id)
    if ActionForm().validate_on_submit() and integration.holds_tokens:
        verification.verify(integration, provider())
    if integration.is_active:
        return redirect(url_for(".active", integration_id=integration.id))
    latest = attempts.latest_attempt(integration)
    if latest is None:
        return redirect(url_for("integrations.index"))
    return redirect(
        url_for(".attempt", integration_id=integration.id, attempt_id=latest.id)
    )
