"""Constant Contact sign-in for the sandbox's own pages."""

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue

from .models import Account
from .models import db

bp = Blueprint("signin", __name__)


def current_account() -> Account | None:
    """Return the signed-in account, if any."""
    if "account" not in g:
        account_id = session.get("account_id")
        g.account = db.session.get(Account, account_id) if account_id else None
    return g.account


def safe_next(target: str | None) -> str:
    """Return a local path to go to after sign-in (never another host)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("signin.index")


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send anonymous visitors to the sign-in page, then back."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            return redirect(url_for("signin.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


@bp.get("/")
def index() -> ResponseReturnValue:
    """Show the sandbox's home page with links to its parts."""
    return render_template("sandbox/index.html")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with the account's email and password."""
    next_url = request.values.get("next")
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        account = db.session.scalar(db.select(Account).filter_by(login_email=email))
        if account and account.check_password(request.form.get("password", "")):
            # Keep the rest of the session: an activation in progress lives there.
            session["account_id"] = account.id
            return redirect(safe_next(next_url))
        flash("The username or password you entered is incorrect.")
    return render_template("sandbox/login.html", next_url=next_url)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out."""
    session.clear()
    return redirect(url_for("signin.login"))
