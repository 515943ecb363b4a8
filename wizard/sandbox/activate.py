"""Okta-style device activation: code, sign-in, Allow Access, outcome."""

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue

from .clock import now
from .models import SUPPORTED_SCOPES
from .models import Account
from .models import Application
from .models import DeviceCode
from .models import db
from .signin import current_account
from .signin import login_required

bp = Blueprint("activate", __name__)


def normalize_user_code(raw: str | None) -> str:
    """Accept a code with or without the hyphen, any case, stray spaces."""
    return "".join(ch for ch in (raw or "") if ch.isalnum()).upper()


def display_user_code(code: str) -> str:
    """Show an 8-letter code as ABCD-WXYZ."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


def pending_device_code(user_code: str) -> DeviceCode | None:
    """Return the pending, unexpired device authorization for a user code."""
    row = db.session.scalar(db.select(DeviceCode).filter_by(user_code=user_code))
    if row is None or row.status != "pending" or now() >= row.expires_at:
        return None
    return row


def decide(row: DeviceCode, account: Account, allow: bool) -> None:
    """Record the user's decision on a device authorization (no commit)."""
    row.status = "approved" if allow else "denied"
    row.account_id = account.id


@bp.route("/activate", methods=["GET", "POST"])
def activate() -> ResponseReturnValue:
    """Ask for the activation code, pre-filled from ?user_code=."""
    if request.method == "GET":
        code = normalize_user_code(request.args.get("user_code"))
        return render_template(
            "sandbox/activate.html", user_code=display_user_code(code), error=None
        )
    code = normalize_user_code(request.form.get("user_code"))
    if pending_device_code(code) is None:
        return render_template(
            "sandbox/activate.html",
            user_code=request.form.get("user_code", ""),
            error="Invalid code. Try again.",
        )
    session["activate_user_code"] = code
    return redirect(url_for("activate.consent"))


@bp.route("/activate/consent", methods=["GET", "POST"])
@login_required
def consent() -> ResponseReturnValue:
    """Show Allow Access for the device, then record the decision."""
    row = pending_device_code(session.get("activate_user_code", ""))
    if row is None:
        return render_template(
            "sandbox/activate.html", user_code="", error="Invalid code. Try again."
        )
    application = db.session.get(Application, row.client_id)
    if request.method == "GET":
        return render_template(
            "sandbox/consent.html",
            application=application,
            scopes=[s for s in row.scope.split() if s in SUPPORTED_SCOPES],
            action=url_for("activate.consent"),
            user_code=display_user_code(row.user_code),
        )
    allow = request.form.get("decision") == "allow"
    decide(row, current_account(), allow)
    db.session.commit()
    session.pop("activate_user_code", None)
    return render_template("sandbox/activated.html", allowed=allow)
