"""Blueprint for the Integrations page, the customer's home."""

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm

from wizard.constant_contact import formats
from wizard.constant_contact.oauth import Provider
from wizard.domain import audit
from wizard.domain import drafts
from wizard.domain import tokens
from wizard.domain import verification
from wizard.domain.problems import connection_problem
from wizard.models import AuditEvent
from wizard.models import Integration
from wizard.models import User
from wizard.platform.extensions import db
from wizard.platform.extensions import limiter
from wizard.platform.i18n import N_
from wizard.platform.reads import reads_only
from wizard.status import Outcome
from wizard.status import Status
from wizard.web.access import customer_required
from wizard.web.access import organization_integration_or_404
from wizard.web.setup.forms import ListIdForm

bp = Blueprint("integrations", __name__)

STATUS_WORDS = {
    Status.DRAFT: N_("Setup not finished"),
    Status.CREATED: N_("Waiting for authorization"),
    Status.AUTHORIZING: N_("Authorizing"),
    Status.ACTIVE: N_("Active"),
    Status.LIST_NOT_FOUND: N_("List not found"),
    Status.UNVERIFIED: N_("Authorized, not yet checked"),
    Status.FAILING: N_("Not working right now"),
    Status.NEEDS_REAUTHORIZATION: N_("Needs re-authorization"),
    Status.DISCONNECTED: N_("Disconnected"),
}
OUTCOME_WORDS = {
    Outcome.APPROVED: N_("Access allowed"),
    Outcome.FAILED: N_("Failed"),
    Outcome.EXPIRED: N_("Time ran out"),
    Outcome.REPLACED: N_("Replaced by a newer code"),
}


def _connection_action_limit() -> str:
    return current_app.config["CONNECTION_ACTION_RATE_LIMIT"]


def integration_and_presser() -> str:
    """Count per integration and per organization pressing (support counts as one).

    Another organization's presses end in a 404 and are counted apart, so they
    never use up the owner's. Counted before the view, so presses at once cannot
    all slip in before the first is counted.
    """
    integration_id = (request.view_args or {}).get("integration_id")
    if getattr(current_user, "is_support", False):
        presser = "support"
    else:
        presser = f"organization:{getattr(current_user, 'organization_id', None)}"
    return f"integration:{integration_id}:{presser}"


# Each of these calls Constant Contact in the integration's shared 4-a-second slots:
# one count for all of them, so a flood is refused before it books any slot.
connection_action_limit = limiter.shared_limit(
    _connection_action_limit,
    scope="connection-action",
    key_func=integration_and_presser,
    methods=["POST"],
)


@bp.app_template_filter("status_words")
def status_words(status: str) -> str:
    """Say an integration's status in words."""
    if status in STATUS_WORDS:
        return gettext(STATUS_WORDS[status])
    return status.replace("_", " ").capitalize()


@bp.app_template_filter("outcome_words")
def outcome_words(outcome: str) -> str:
    """Say how an authorization attempt ended, in words."""
    return gettext(OUTCOME_WORDS[outcome]) if outcome in OUTCOME_WORDS else outcome


@bp.app_template_filter("error_words")
def error_words(integration: Integration) -> str:
    """Say the integration's last problem in the reader's language, from its code."""
    if integration.last_error_code:
        return connection_problem(integration.last_error_code, integration.flow).text
    return integration.last_error_message or ""


@bp.app_template_global("current_step")
def current_step(integration: Integration) -> int:
    """Return the step an integration is on, for templates."""
    return drafts.current_step(integration)


@bp.route("/integrations")
@reads_only
@customer_required
def index() -> ResponseReturnValue:
    """List the organization's integrations with their Actions."""
    integrations = db.session.scalars(
        db.select(Integration)
        .filter_by(organization_id=current_user.organization_id)
        .order_by(Integration.started_at.desc(), Integration.id.desc())
    ).all()
    return render_template("integrations/index.html", integrations=integrations)


@bp.route("/integrations/<id:integration_id>/list", methods=["GET", "POST"])
@connection_action_limit
@customer_required
def change_list(integration_id: int) -> ResponseReturnValue:
    """Change the List ID, checked against the connected account before it is saved."""
    integration = organization_integration_or_404(integration_id)
    if not integration.holds_tokens:
        # Not connected yet: step 2 is still the place to change it.
        return redirect(url_for("setup.list_id", integration_id=integration.id))
    form = ListIdForm(data={"list_id": ""} if request.method == "GET" else None)
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        checked = formats.extract_list_id(
            form.list_id.data, api_key=integration.api_key or ""
        )
        # formats gives English message ids; the reader gets their language.
        error = gettext(checked.error) if checked.error else None
        if checked.ok:
            error = verification.change_list(
                integration,
                checked.value,
                formats.came_from_address(form.list_id.data),
                Provider.from_config(current_app.config),
            )
        if error is None:
            db.session.commit()
            return redirect(url_for("authorize.active", integration_id=integration.id))
        errors["list_id"] = error
    return render_template(
        "integrations/change_list.html",
        integration=integration,
        form=form,
        errors=errors,
    )


class ConfirmForm(FlaskForm):
    """The button that confirms an action."""


@bp.route("/integrations/<id:integration_id>/test", methods=["GET", "POST"])
@connection_action_limit
@customer_required
def test_connection(integration_id: int) -> ResponseReturnValue:
    """Use the connection now and say what Constant Contact answered."""
    integration = organization_integration_or_404(integration_id)
    form = ConfirmForm()
    result = problem = None
    if integration.holds_tokens and form.validate_on_submit():
        try:
            result = verification.check(integration)
        except tokens.ConnectionProblem as error:
            problem = connection_problem(error.code, integration.flow)
        audit.record(
            "connection.tested",
            actor=current_user,
            integration=integration,
            ok=result is not None,
        )
        db.session.commit()
    return render_template(
        "integrations/test.html",
        integration=integration,
        form=form,
        result=result,
        problem=problem,
    )


@bp.route("/integrations/<id:integration_id>/disconnect", methods=["GET", "POST"])
@customer_required
def disconnect(integration_id: int) -> ResponseReturnValue:
    """Revoke and erase the tokens; say honestly whether Constant Contact confirmed."""
    integration = organization_integration_or_404(integration_id)
    form = ConfirmForm()
    confirmed = None
    if integration.holds_tokens and form.validate_on_submit():
        confirmed = tokens.disconnect(integration)
        db.session.commit()
    return render_template(
        "integrations/disconnect.html",
        integration=integration,
        form=form,
        confirmed=confirmed,
    )


@bp.route("/integrations/<id:integration_id>/delete", methods=["GET", "POST"])
@customer_required
def delete(integration_id: int) -> ResponseReturnValue:
    """Confirm, then disconnect (if connected) and delete; the audit trail stays."""
    integration = organization_integration_or_404(integration_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        confirmed = tokens.disconnect(integration) if integration.holds_tokens else None
        audit.record(
            "integration.deleted",
            actor=current_user,
            integration=integration,
            deleted_integration_id=integration.id,
            name=integration.name,
            status=integration.status,
        )
        name = integration.name
        db.session.delete(integration)
        db.session.commit()
        message = gettext("%(name)s was deleted.", name=name)
        if confirmed is False:
            message += " " + gettext(UNCONFIRMED)
        flash(message, "info")
        return redirect(url_for("integrations.index"))
    return render_template(
        "integrations/delete.html", integration=integration, form=form
    )


UNCONFIRMED = N_(
    "Constant Contact did not confirm that our access was removed: to be sure, delete "
    "the application in Constant Contact's developer portal (My Applications)."
)


@bp.route("/activity")
@reads_only
@customer_required
def activity() -> ResponseReturnValue:
    """Show the organization's activity, including every support view and action."""
    events = db.session.scalars(
        db.select(AuditEvent)
        .filter_by(organization_id=current_user.organization_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(200)
    ).all()
    # Customers see their colleagues by email; anyone else acting here is support,
    # shown as the brand's support team (their staff's emails stay private).
    colleagues = set(
        db.session.scalars(
            db.select(User.id).filter_by(organization_id=current_user.organization_id)
        )
    )
    return render_template(
        "integrations/activity.html", events=events, colleagues=colleagues
    )
