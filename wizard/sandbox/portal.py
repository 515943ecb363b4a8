"""The developer portal: My Applications, New Application, app details."""

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from .applications import FLOW_LABELS
from .applications import REFRESH_LABELS
from .applications import ApplicationError
from .applications import check_redirect_uris
from .applications import create_application
from .models import Application
from .models import db
from .signin import current_account
from .signin import login_required

bp = Blueprint("portal", __name__, url_prefix="/pages/dma/portal")


def own_application(client_id: str) -> Application:
    """Return the signed-in account's application or 404."""
    application = db.session.get(Application, client_id)
    if application is None or application.account_id != current_account().id:
        abort(404)
    return application


def render_details(
    application: Application, secret: str | None = None, error: str | None = None
) -> str:
    """Render the app details page, with a new secret or an error if given."""
    return render_template(
        "sandbox/portal_app.html",
        application=application,
        flow_labels=FLOW_LABELS,
        refresh_labels=REFRESH_LABELS,
        secret=secret,
        error=error,
    )


@bp.get("/")
@login_required
def applications() -> ResponseReturnValue:
    """List My Applications."""
    rows = db.session.scalars(
        db.select(Application)
        .filter_by(account_id=current_account().id)
        .order_by(Application.created_at)
    ).all()
    return render_template(
        "sandbox/portal_apps.html", applications=rows, flow_labels=FLOW_LABELS
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_application() -> ResponseReturnValue:
    """Create an application: name, OAuth2 flow, refresh token type."""
    error = None
    if request.method == "POST":
        try:
            application = create_application(
                current_account(),
                request.form.get("name", ""),
                request.form.get("flow", ""),
                request.form.get("refresh_token_type", ""),
            )
        except ApplicationError as exc:
            error = str(exc)
        else:
            db.session.commit()
            # Like the real portal: back to My Applications, where you click Edit.
            flash(f"Application {application.name} created.")
            return redirect(url_for("portal.applications"))
    return render_template(
        "sandbox/portal_new.html",
        flow_labels=FLOW_LABELS,
        refresh_labels=REFRESH_LABELS,
        form=request.form,
        error=error,
    ), (400 if error else 200)


@bp.get("/apps/<client_id>")
@login_required
def application(client_id: str) -> ResponseReturnValue:
    """Show an application's API Key, secret button and redirect URIs."""
    return render_details(own_application(client_id))


@bp.post("/apps/<client_id>/secret")
@login_required
def generate_secret(client_id: str) -> ResponseReturnValue:
    """Generate a client secret, shown on this one response only."""
    application = own_application(client_id)
    secret = application.new_secret()
    db.session.commit()
    return render_details(application, secret=secret)


@bp.post("/apps/<client_id>/redirect-uris")
@login_required
def redirect_uris(client_id: str) -> ResponseReturnValue:
    """Save the redirect URIs, one per line."""
    application = own_application(client_id)
    try:
        uris = check_redirect_uris(request.form.get("redirect_uris", "").splitlines())
    except ApplicationError as exc:
        return render_details(application, error=str(exc)), 400
    application.redirect_uris = uris
    db.session.commit()
    flash("Redirect URIs saved.")
    return redirect(url_for("portal.application", client_id=client_id))
