"""The home redirect: Integrations, the support console, or sign-in."""

from flask import redirect
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from wizard.web.pages import bp


@bp.route("/")
def home() -> ResponseReturnValue:
    """Send people to where they work: Integrations, or the support console."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    if current_user.is_support:
        return redirect(url_for("support.index"))
    return redirect(url_for("integrations.index"))
