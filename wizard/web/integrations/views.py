"""The Integrations page and its Actions (change list, test, disconnect, delete)."""

from functools import cache

from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import Select

from wizard.domain import audit
from wizard.domain import held
from wizard.domain import list_choices
from wizard.domain import tokens
from wizard.domain import verification
from wizard.domain.problems import connection_problem
from wizard.models import Integration
from wizard.models import User
from wizard.platform.extensions import db
from wizard.platform.i18n import N_
from wizard.platform.reads import reads_only
from wizard.web import after_answer
from wizard.web.access import customer_required
from wizard.web.access import pull_integration
from wizard.web.forms import ButtonForm
from wizard.web.integrations import bp
from wizard.web.integrations.forms import ChangeListForm
from wizard.web.limits import connection_action_limit
from wizard.web.limits import connection_page_limit
from wizard.web.limits import on_posts

bp.before_request(pull_integration)

UNCONFIRMED = N_(
    "Constant Contact did not confirm that our access was removed: to be sure, delete "
    "the application in Constant Contact's developer portal (My Applications)."
)


@cache
def _listing() -> Select[tuple[Integration, int]]:
    """Return the Integrations page's query, built once (the page is the most
    visited): an organization's integrations, newest first, each with how many
    contacts it holds."""
    return (
        db.select(Integration, held.waiting_column())
        .where(Integration.organization_id == db.bindparam("organization_id"))
        .order_by(Integration.started_at.desc(), Integration.id.desc())
    )


@bp.route("/integrations")
@reads_only
@customer_required
def index() -> ResponseReturnValue:
    """List the organization's integrations with their Actions."""
    rows = db.session.execute(
        _listing(), {"organization_id": current_user.organization_id}
    ).all()
    integrations = [integration for integration, _ in rows]
    waiting = {integration.id: count for integration, count in rows if count}
    return render_template(
        "integrations/index.html", integrations=integrations, waiting=waiting
    )


@bp.route("/integrations/<id:integration_id>/list", methods=["GET", "POST"])
@connection_page_limit
@customer_required
def change_list(integration_id: int) -> ResponseReturnValue:
    """Choose the list by name, or paste its List ID or address; the list is checked
    in the connected account before it is saved."""
    integration = g.integration
    if not integration.holds_tokens:
        # Not connected yet: step 2 is still the place to change it.
        return redirect(url_for("setup.list_id", integration_id=integration.id))
    form = ChangeListForm(integration=integration)
    if form.validate_on_submit():
        problem = verification.change_list(
            integration, form.checked.value, form.from_address
        )
        if problem is None:
            db.session.commit()
            return redirect(url_for("authorize.active", integration_id=integration.id))
        # Constant Contact's answer, not the form's: said in the reader's language.
        form.refuse(problem)
    choices = list_choices.account_lists(integration)
    form.offer(choices)
    return render_template(
        "integrations/change_list.html",
        integration=integration,
        form=form,
        choices=choices,
    )


@bp.route("/integrations/<id:integration_id>/test", methods=["GET", "POST"])
@on_posts(connection_action_limit)
@customer_required
def test_connection(integration_id: int) -> ResponseReturnValue:
    """Use the connection now and say what Constant Contact answered."""
    integration = g.integration
    form = ButtonForm()
    result = problem = None
    if integration.holds_tokens and form.validate_on_submit():
        try:
            result = verification.check(integration)
        except tokens.ConnectionProblem as error:
            problem = connection_problem(error.code, integration.flow)
        else:
            after_answer.replay_after_response(integration)
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
    integration = g.integration
    form = ButtonForm()
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
    integration = g.integration
    form = ButtonForm()
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


@bp.route("/activity")
@reads_only
@customer_required
def activity() -> ResponseReturnValue:
    """Show the organization's activity, including every support view and action."""
    events = audit.newest(200, organization_id=current_user.organization_id)
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
