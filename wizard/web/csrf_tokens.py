"""CSRF tokens signed once per session token in each worker, not on every page.

Flask-WTF signs the session's raw token again for each page that shows a form (an
HMAC and a timestamp: 8% of the Integrations page). Tokens have no time limit here
(WTF_CSRF_TIME_LIMIT is None), so an earlier signature of the same raw token is as
good as a new one: each worker keeps the signed form it made for each raw token.
"""

from flask import Flask
from flask import current_app
from flask import g
from flask import request
from flask import session
from werkzeug.wrappers import Response

EXTENSION = "wizard.signed_csrf_tokens"
# Raw tokens are one per session; past this many the worker starts again.
KEPT_MOST = 10_000


def _field() -> str:
    """Return where Flask-WTF keeps the token (in the session, and in g signed)."""
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def _kept() -> dict[str, str] | None:
    """Return this worker's signed tokens by raw token, or None where a signature
    may not be reused (a time limit needs a fresh timestamp on each page)."""
    if current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return None
    return current_app.extensions[EXTENSION]


def _offer_signed_token() -> None:
    """Give Flask-WTF the signed token this worker made for the session's token."""
    kept = _kept()
    if kept is None:
        return
    # Static files and first visits have no session worth reading.
    if request.endpoint == "static" or (
        current_app.config["SESSION_COOKIE_NAME"] not in request.cookies
    ):
        return
    field = _field()
    raw = session.get(field)
    signed = kept.get(raw) if raw else None
    if signed is not None:
        setattr(g, field, signed)


def _keep_signed_token(response: Response) -> Response:
    """Keep the token Flask-WTF signed for this session's token, if it signed one."""
    field = _field()
    signed = g.get(field)
    kept = _kept()
    if signed is None or kept is None:
        return response
    raw = session.get(field)  # read already: Flask-WTF made the token from it
    if raw and kept.get(raw) != signed:
        if len(kept) >= KEPT_MOST:
            kept.clear()
        kept[raw] = signed
    return response


def init_app(app: Flask) -> None:
    """Sign each session's CSRF token once per worker."""
    app.extensions[EXTENSION] = {}
    app.before_request(_offer_signed_token)
    app.after_request(_keep_signed_token)
