"""Constant Contact's answer at the Redirect URI (Authorization Code Flow)."""

import json
from collections.abc import Mapping

from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_url
from werkzeug.wrappers import Response

from wizard.constant_contact import formats
from wizard.domain import approval
from wizard.domain import attempts
from wizard.domain import audit
from wizard.domain import listening
from wizard.domain.problems import problem_for
from wizard.models import AuthorizationAttempt
from wizard.platform import crypto
from wizard.platform.columns import utcnow
from wizard.platform.crypto import DecryptionError
from wizard.platform.extensions import db
from wizard.status import Flow
from wizard.web.authorize import bp

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
    # A newer attempt, or the page's window, does not end this one's state: the
    # person may have allowed access in the window she already had open.
    alive = listening.is_listening(found, now)
    if alive and answer["error"]:
        attempts.fail(found, answer["error"], now)
        listening.stop(found)
    elif alive and answer["code"]:
        code = answer["code"]
        if not approval.exchange(found, state, code):
            # Another callback with this state got there first and exchanges it.
            return _refused("state_used", found)
    db.session.commit()
    if attempts.is_done(found):
        return {"problem": None, "flow": None}
    if listening.approval_for(found) is not None:
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
