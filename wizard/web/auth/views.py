"""Sign in and sign out; end sessions left idle or too old."""

import time
from urllib.parse import urlsplit

from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from wizard.domain import audit
from wizard.models import PASSWORD_METHOD
from wizard.models import User
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.platform.extensions import limiter
from wizard.platform.extensions import login_manager
from wizard.platform.i18n import N_
from wizard.web.auth import bp
from wizard.web.auth.failures import FailedSignIns
from wizard.web.auth.failures import client_address
from wizard.web.auth.forms import SignInForm
from wizard.web.errors import too_many
from wizard.web.limits import on_posts

SIGN_IN_FAILED = N_("Enter the email address and password you were given")

# Compared against when the email is unknown, so both answers take as long.
_DUMMY_HASH = generate_password_hash("not a real password", method=PASSWORD_METHOD)


def _safe_next(target: str | None) -> str | None:
    """Allow only same-site relative paths as the place to return to."""
    if not target:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        # A CR or LF would end the Location header: Werkzeug refuses with a 500.
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    try:
        parts = urlsplit(target)
    except ValueError:  # an unclosed "[" reads as a broken IPv6 host
        return None
    if parts.scheme or parts.netloc:
        return None
    return target


def find_user(email: str) -> User | None:
    """Return the user with this email address, ignoring case."""
    return db.session.scalar(db.select(User).filter_by(email=email.strip().lower()))


def authenticate(email: str, password: str) -> User | None:
    """Return the user if the password matches, taking as long either way."""
    user = find_user(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password):
        return None
    if not user.password_hash.startswith(PASSWORD_METHOD + "$"):
        # Hashed with weaker settings (an older release): upgrade while we have it.
        user.set_password(password)
    return user


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


@bp.route("/sign-in", methods=["GET", "POST"])
@on_posts(limiter.limit(_sign_in_limit, key_func=client_address, methods=["POST"]))
def sign_in() -> ResponseReturnValue:
    """Show the sign-in form and sign the person in."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = SignInForm()
    if form.validate_on_submit():
        failures = FailedSignIns(form.email.data or "")
        wait = failures.wait()
        if wait is not None:
            # Before the password is checked: the answer must not tell a guesser.
            return too_many(wait)
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            _start_session(user)
            return redirect(
                _safe_next(request.args.get("next")) or url_for("pages.home")
            )
        failures.count()
        # Not a validator: holding a guesser and counting failures come first.
        form.email.errors.append(gettext(SIGN_IN_FAILED))
    return render_template("auth/sign_in.html", form=form)


def _start_session(user: User) -> None:
    """Sign the user in with a fresh session: nothing planted before it survives."""
    session.clear()
    login_user(user)
    session["signed_in_at"] = session["seen_at"] = _now()
    user.last_sign_in_at = utcnow()
    # Her language, for what the app e-mails her (domain/customer_mail.py).
    audit.record("user.signed_in", actor=user, language=str(get_locale()))
    db.session.commit()


def _now() -> int:
    """Return the time in whole seconds (tests move it)."""
    return int(time.time())


# Rewriting the cookie on every request would be wasteful: a minute's accuracy will do.
SEEN_ACCURACY_SECONDS = 60


@bp.before_app_request
def end_stale_sessions() -> ResponseReturnValue | None:
    """Sign out a session left unused too long, or too old, then ask to sign in."""
    if "_user_id" not in session:
        return None
    now = _now()
    signed_in_at = session.get("signed_in_at")
    seen_at = session.get("seen_at", signed_in_at)
    config = current_app.config
    if (
        not isinstance(signed_in_at, int)
        or not isinstance(seen_at, int)
        or now - seen_at > int(config["SESSION_IDLE_MINUTES"]) * 60
        or now - signed_in_at > int(config["SESSION_MAX_HOURS"]) * 3600
    ):
        logout_user()
        session.clear()
        # The OAuth callback asks for sign-in itself, keeping its code out of `next`.
        own_answer = (None, "static", "auth.sign_in", "authorize.callback")
        if request.endpoint in own_answer or request.blueprint == "health":
            return None
        return login_manager.unauthorized()
    if now - seen_at >= SEEN_ACCURACY_SECONDS:
        session["seen_at"] = now
    return None


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out() -> ResponseReturnValue:
    """Sign the person out, everywhere their session cookie was copied to."""
    current_user.session_version += 1
    db.session.commit()
    logout_user()
    session.clear()
    flash(gettext("You have signed out."), "info")
    return redirect(url_for("auth.sign_in"))
