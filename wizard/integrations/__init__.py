"""Blueprint for the Integrations page, the customer's home."""

from flask import Blueprint
from flask import abort
from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_login import login_required
from sqlalchemy.orm import selectinload

from .. import drafts
from ..access import customer_required
from ..extensions import db
from ..models import Integration
from ..models import Organization

bp = Blueprint("integrations", __name__)

STATUS_WORDS = {
    "draft": "Setup not finished",
    "created": "Waiting for authorization",
    "authorizing": "Authorizing",
    "active": "Active",
    "needs_reauthorization": "Needs re-authorization",
    "disconnected": "Disconnected",
}


@bp.app_template_filter("status_words")
def status_words(status: str) -> str:
    """Say an integration's status in words."""
    return STATUS_WORDS.get(status, status.replace("_", " ").capitalize())


@bp.app_template_global("current_step")
def current_step(integration: Integration) -> int:
    """Return the step an integration is on, for templates."""
    return drafts.current_step(integration)


@bp.route("/integrations")
@customer_required
def index() -> ResponseReturnValue:
    """List the organization's integrations with their Actions."""
    integrations = db.session.scalars(
        db.select(Integration)
        .filter_by(organization_id=current_user.organization_id)
        .order_by(Integration.started_at.desc(), Integration.id.desc())
    ).all()
    return render_template("integrations/index.html", integrations=integrations)


@bp.route("/support")
@login_required
def support_overview() -> ResponseReturnValue:
    """Show support staff every organization and where its integrations stand."""
    if not current_user.is_support:
        abort(404)
    organizations = db.session.scalars(
        db.select(Organization)
        .options(selectinload(Organization.integrations))
        .order_by(Organization.name)
    ).all()
    return render_template("integrations/support.html", organizations=organizations)
