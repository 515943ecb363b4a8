"""Flask-Login's set-up: who a session signs in, and the browser it is bound to."""

import hashlib

from flask import request
from flask_babel import gettext
from sqlalchemy.orm import joinedload

from wizard.models import User
from wizard.platform.extensions import db
from wizard.platform.extensions import login_manager
from wizard.platform.i18n import N_
from wizard.platform.reads import reading_page
from wizard.web.auth.recent_users import recent_users

login_manager.login_view = "auth.sign_in"
login_manager.login_message = N_("Sign in to continue.")
# Flask-Login flashes the message through this, in the reader's language.
login_manager.localize_callback = gettext
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the signed-in user, if their session version is still current.

    A page that only reads may get the user this worker read a moment ago with
    the same session version (recent_users.py says for how long at most).
    """
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()) or len(user_id) > 12:
        return None

    def read() -> User | None:
        # With the organization: every page shows its support reference.
        user = db.session.get(
            User, int(user_id), options=[joinedload(User.organization)]
        )
        return user if user and user.session_version == int(version) else None

    if reading_page():
        return recent_users().get_or_read(int(user_id), int(version), read)
    return read()


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
