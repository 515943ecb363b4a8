"""Plain-language error pages; never a stack trace."""

import math
import time

from flask import Flask
from flask import current_app
from flask import jsonify
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import ngettext
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import SecurityError
from werkzeug.wrappers import Response

from wizard.platform.extensions import db
from wizard.platform.extensions import limiter
from wizard.platform.i18n import N_

MESSAGES = {
    400: (N_("Something went wrong with that request"), N_("Go back and try again.")),
    403: (
        N_("You cannot open this page"),
        N_("Sign in with an account that can see it."),
    ),
    404: (N_("Page not found"), N_("Check the address, or go back to Integrations.")),
    405: (N_("Page not found"), N_("Go back to Integrations and start from there.")),
    429: (N_("Too many attempts"), N_("Wait a minute, then try again.")),
    413: (
        N_("That was too much to send"),
        N_("Go back and paste only the value asked for."),
    ),
    500: (
        N_("Sorry, there is a problem with the service"),
        N_(
            "Try again in a few minutes. If it keeps happening, call support and give "
            "them your support reference from the bottom of this page."
        ),
    ),
}


def _render(code: int, heading: str, advice: str) -> ResponseReturnValue:
    if code >= 500:
        # The failed request may have left the session mid-transaction.
        db.session.rollback()
    # The messages are English ids, translated for the reader here.
    page = render_template(
        "error.html", heading=gettext(heading), advice=gettext(advice)
    )
    return page, code


def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    heading, advice = MESSAGES.get(code, MESSAGES[400 if code < 500 else 500])
    return _render(code, heading, advice)


def _untrusted_host(error: SecurityError) -> ResponseReturnValue:
    """Answer a Host outside TRUSTED_HOSTS: no URL can be built for it, so no layout."""
    heading, advice = (gettext(text) for text in MESSAGES[400])
    page = (
        f"<!doctype html><title>{escape(heading)}</title>"
        f"<h1>{escape(heading)}</h1><p>{escape(advice)}</p>"
    )
    return page, 400


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    return _render(
        400,
        N_("This page timed out"),
        N_("For your security, forms expire. Go back, reload the page and try again."),
    )


def _retry_after_seconds() -> int:
    """Return how long until the limit that was hit lets this person in again."""
    hit = limiter.current_limit
    if hit is None:
        return 60
    return max(1, math.ceil(hit.window.reset_time - time.time()))


def _too_many(error: RateLimitExceeded) -> ResponseReturnValue:
    return too_many(_retry_after_seconds())


def too_many(seconds: int) -> Response:
    """Say when to try again: a page, or JSON for the step 4 status checks."""
    minutes = math.ceil(seconds / 60)
    if minutes <= 1:
        advice = gettext(MESSAGES[429][1])
    else:
        advice = ngettext(
            "Wait %(num)d minute, then try again.",
            "Wait %(num)d minutes, then try again.",
            minutes,
        )
    if request.endpoint == "authorize.status":
        response = jsonify({"state": "limited", "retry_after": seconds, "note": advice})
    else:
        page = render_template(
            "error.html", heading=gettext(MESSAGES[429][0]), advice=advice
        )
        response = current_app.make_response(page)
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


def _unexpected(error: Exception) -> ResponseReturnValue:
    current_app.logger.error("unhandled error", exc_info=error)
    heading, advice = MESSAGES[500]
    return _render(500, heading, advice)


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(SecurityError, _untrusted_host)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(HTTPException, _http_error)
    if not app.debug and not app.testing:
        app.register_error_handler(Exception, _unexpected)
