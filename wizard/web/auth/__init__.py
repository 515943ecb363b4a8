"""Sign in and sign out."""

import hashlib
import math
import time
from ipaddress import IPv6Address
from ipaddress import IPv6Network
from ipaddress import ip_address
from urllib.parse import urlsplit

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user
from flask_wtf import FlaskForm
from limits import RateLimitItem
from limits import parse_many
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash
from wtforms import EmailField
from wtforms import PasswordField

from wizard.domain import audit
from wizard.models import PASSWORD_METHOD
from wizard.models import User
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.platform.extensions import limiter
from wizard.platform.extensions import login_manager
from wizard.platform.i18n import N_
from wizard.web.errors import too_many

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.sign_in"
login_manager.login_message = N_("Sign in to continue.")
# Flask-Login flashes the message through this, in the reader's language.
login_manager.localize_callback = gettext
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"

SIGN_IN_FAILED = N_("Enter the email address and password you were given")


class SignInForm(FlaskForm):
    """Email address and password."""

    email = EmailField(lazy_gettext("Email address"))
    password = PasswordField(lazy_gettext("Password"))


# Compared against when the email is unknown, so both answers take as long.
_DUMMY_HASH = generate_password_hash("not a real password", method=PASSWORD_METHOD)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the signed-in user, if their session version is still current."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()) or len(user_id) > 12:
        return None
    # With the organization: every page shows its support reference.
    user = db.session.get(User, int(user_id), options=[joinedload(User.organization)])
    if user is None or user.session_version != int(version):
        return None
    return user


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


def browser_identifier() -> str:
    """Identify the browser, for strong session protection and status tickets.

    Flask-Login's own identifier believes X-Forwarded-For as the client sent it;
    request.remote_addr is the address ProxyFix settled on (WIZARD_PROXY_COUNT).
    """
    address, agent = request.remote_addr, request.headers.get("User-Agent")
    # Hashed in Flask-Login's shape, so sessions from before this stay valid.
    base = f"{_as_bytes(address)}|{_as_bytes(agent)}"
    return hashlib.sha512(base.encode()).hexdigest()


def _as_bytes(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


login_manager._session_identifier_generator = browser_identifier


def client_address() -> str:
    """Return the client's address as the sign-in limits count it.

    An IPv6 client counts by its /64, the block one subscriber is given: otherwise
    each of its addresses would be a fresh client.
    """
    address = request.remote_addr or ""
    try:
        parsed = ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is None:
        return str(IPv6Network((parsed, 64), strict=False))
    return address


class FailedSignIns:
    """Failed sign-ins for one email address: from this client, and from anywhere.

    Only this client's own failures hold it (SIGN_IN_ACCOUNT_RATE_LIMIT), so
    nobody can keep the owner out by guessing. Past the ceiling, all clients'
    failures together (SIGN_IN_ACCOUNT_CEILING), a client that has failed for this
    email waits too, and any other gets one try: guessing from many addresses is
    braked, while the right password from an address with no failures still works.
    """

    def __init__(self, email: str) -> None:
        config = current_app.config
        # Like the limiter's own keys, so that several apps can share one Redis.
        prefix = str(config.get("RATELIMIT_KEY_PREFIX") or "")
        email = email.strip().lower()[:320]
        here = (prefix, "sign-in-failed", email, client_address())
        anywhere = (prefix, "sign-in-failed-anywhere", email)
        self.here = [
            (limit, here) for limit in parse_many(config["SIGN_IN_ACCOUNT_RATE_LIMIT"])
        ]
        self.anywhere = [
            (limit, anywhere) for limit in parse_many(config["SIGN_IN_ACCOUNT_CEILING"])
        ]

    def wait(self) -> int | None:
        """Return the seconds this client must wait to try this email, or None."""
        if not limiter.enabled:
            return None
        own = _windows(self.here)
        spent = [reset for reset, left, _ in own if left <= 0]
        if spent:
            return _seconds_until(max(spent))
        failed = [reset for reset, left, amount in own if left < amount]
        full = [reset for reset, left, _ in _windows(self.anywhere) if left <= 0]
        if not failed or not full:
            return None
        # Free once its own failures are forgotten, or when the ceiling's window ends.
        return _seconds_until(min(max(failed), max(full)))

    def count(self) -> None:
        """Count one more failure, here and in the total for the email."""
        if limiter.enabled:
            for limit, key in self.here + self.anywhere:
                limiter.limiter.hit(limit, *key)


def _windows(
    counters: list[tuple[RateLimitItem, tuple[str, ...]]],
) -> list[tuple[float, int, int]]:
    """Return when each counter's window ends, the tries left in it, and its amount."""
    windows = []
    for limit, key in counters:
        reset, left = limiter.limiter.get_window_stats(limit, *key)
        windows.append((reset, left, limit.amount))
    return windows


def _seconds_until(moment: float) -> int:
    return max(1, math.ceil(moment - time.time()))


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, key_func=client_address, methods=["POST"])
def sign_in() -> ResponseReturnValue:
    """Show the sign-in form and sign the person in."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        failures = FailedSignIns(form.email.data or "")
        wait = failures.wait()
        if wait is not None:
            # Before the password is checked: the answer must not tell a guesser.
            return too_many(wait)
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            # A fresh session on sign-in: nothing planted before it survives.
            session.clear()
            login_user(user)
            session["signed_in_at"] = session["seen_at"] = _now()
            user.last_sign_in_at = utcnow()
            audit.record("user.signed_in", actor=user)
            db.session.commit()
            return redirect(
                _safe_next(request.args.get("next")) or url_for("pages.home")
            )
        failures.count()
        error = gettext(SIGN_IN_FAILED)
    return render_template("auth/sign_in.html", form=form, error=error)


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
