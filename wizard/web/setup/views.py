"""Steps 1-3: load the draft, check the form, save it, go to the next step."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm

from wizard.constant_contact.client import redirect_uri
from wizard.domain import app_checks
from wizard.domain import audit
from wizard.domain import drafts
from wizard.models import Integration
from wizard.platform.extensions import db
from wizard.platform.reads import reads_only
from wizard.web.access import customer_required
from wizard.web.access import pull_integration
from wizard.web.forms import ButtonForm
from wizard.web.forms import english_errors
from wizard.web.setup import bp
from wizard.web.setup.forms import CredentialsForm
from wizard.web.setup.forms import ListIdForm
from wizard.web.setup.forms import StartForm

P = ParamSpec("P")

bp.before_request(pull_integration)


def editable_only(
    view: Callable[P, ResponseReturnValue],
) -> Callable[P, ResponseReturnValue]:
    """Send people to Integrations from steps 1-2 of a connected integration."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if not drafts.editable(g.integration):
            flash(
                gettext(
                    "This integration is connected: its details are kept as they are."
                ),
                "info",
            )
            return redirect(url_for("integrations.index"))
        return view(*args, **kwargs)

    return wrapped


def _next_after_save(integration: Integration, endpoint: str) -> ResponseReturnValue:
    """Go on with setup, or back to step 4 for an integration already created."""
    if request.args.get("from") == "check":
        endpoint = "setup.check"
    if not integration.is_draft:
        flash(
            gettext("Saved. Now authorize again with the corrected details."),
            "success",
        )
        endpoint = "authorize.before"
    return redirect(url_for(endpoint, integration_id=integration.id))


def _record_errors(integration: Integration, step: int, form: FlaskForm) -> None:
    """Keep the messages a person was shown (never what they typed), for support.

    They are kept as English message ids, so support reads them in their language.
    """
    messages = english_errors(form)
    if not messages:
        return
    audit.record(
        "setup.error_shown",
        actor=current_user,
        integration=integration,
        step=step,
        messages=messages,
    )
    db.session.commit()


@bp.route("/new", methods=["GET", "POST"])
@customer_required
def start() -> ResponseReturnValue:
    """Step 1, first page: create the app in Constant Contact; Continue starts one."""
    form = StartForm()
    if form.validate_on_submit() and form.token.data:
        integration, created = drafts.start_draft(current_user, form.token.data[:64])
        if created:
            audit.record("setup.started", actor=current_user, integration=integration)
        db.session.commit()
        return redirect(url_for("setup.credentials", integration_id=integration.id))
    form.token.data = drafts.new_creation_token()
    unfinished = drafts.unfinished_drafts(current_user.organization_id)
    return render_template("setup/start.html", form=form, unfinished=unfinished)


@bp.route("/<id:integration_id>/create-app")
@reads_only
@customer_required
@editable_only
def create_app(integration_id: int) -> ResponseReturnValue:
    """Step 1, first page again, for a draft: how to create the app."""
    return render_template("setup/start.html", integration=g.integration)


@bp.route("/<id:integration_id>/setup")
@reads_only
@customer_required
@editable_only
def resume(integration_id: int) -> ResponseReturnValue:
    """Show the four steps as a task list, with Continue to the first one left."""
    integration = g.integration
    attempt = integration.attempts[-1] if integration.attempts else None
    steps = drafts.steps(
        integration, attempt_open=attempt is not None and attempt.is_open
    )
    step = drafts.current_step(integration)
    return render_template(
        "setup/tasks.html",
        integration=integration,
        steps=steps,
        completed=sum(s.state == "completed" for s in steps),
        next_url=url_for(drafts.STEP_ENDPOINTS[step], integration_id=integration.id),
    )


@bp.route("/<id:integration_id>/api-key", methods=["GET", "POST"])
@reads_only
@customer_required
@editable_only
def credentials(integration_id: int) -> ResponseReturnValue:
    """Step 1, second page: the API Key, checked with Constant Contact at once."""
    integration = g.integration
    saved = {"api_key": integration.api_key}
    form = CredentialsForm(data=saved if request.method == "GET" else None)
    if form.validate_on_submit():
        drafts.save_credentials(integration, **form.answers)
        audit.record(
            "setup.api_key_saved",
            actor=current_user,
            integration=integration,
            api_key_ending=integration.api_key[-4:],
            secret_saved=bool(integration.client_secret_encrypted),
        )
        found = app_checks.check(integration, actor=current_user)
        db.session.commit()
        if not found.passed:
            # The tick list and its fix: shown by the page, from what was saved.
            return redirect(url_for("setup.credentials", integration_id=integration.id))
        flash(str(found), "app_check")
        return _next_after_save(integration, "setup.list_id")
    if form.secret_to_keep:
        drafts.keep_secret(integration, form.secret_to_keep)
        audit.record(
            "setup.client_secret_saved", actor=current_user, integration=integration
        )
        db.session.commit()
    form.client_secret.data = ""
    _record_errors(integration, 1, form)
    return render_template(
        "setup/credentials.html",
        form=form,
        integration=integration,
        found=app_checks.last_check(integration),
        asks_for_secret=app_checks.asks_for_secret(integration)
        or bool(form.client_secret.errors),
        redirect_uri=redirect_uri(),
    )


@bp.route("/<id:integration_id>/list-id", methods=["GET", "POST"])
@reads_only
@customer_required
@editable_only
def list_id(integration_id: int) -> ResponseReturnValue:
    """Step 2: the List ID, or the address of the list to take it from."""
    integration = g.integration
    if drafts.current_step(integration) == 1:
        return redirect(url_for("setup.credentials", integration_id=integration.id))
    form = ListIdForm(
        integration=integration, obj=integration if request.method == "GET" else None
    )
    if form.validate_on_submit():
        drafts.save_list_id(integration, form.checked.value, from_url=form.from_address)
        audit.record(
            "setup.list_id_saved",
            actor=current_user,
            integration=integration,
            list_id=form.checked.value,
            from_address=integration.list_id_from_url,
        )
        db.session.commit()
        return _next_after_save(integration, "setup.check")
    _record_errors(integration, 2, form)
    return render_template("setup/list_id.html", form=form, integration=integration)


@bp.route("/<id:integration_id>/check", methods=["GET", "POST"])
@reads_only
@customer_required
def check(integration_id: int) -> ResponseReturnValue:
    """Step 3: check the answers, then create the integration."""
    integration = g.integration
    form = ButtonForm()
    if not integration.is_draft:
        # A second click or Back after creating: show the result, create nothing.
        return redirect(url_for("authorize.before", integration_id=integration.id))
    step = drafts.current_step(integration)
    if step < 3:
        return redirect(
            url_for(drafts.STEP_ENDPOINTS[step], integration_id=integration.id)
        )
    if form.validate_on_submit():
        if drafts.create(integration):
            audit.record(
                "integration.created",
                actor=current_user,
                integration=integration,
                list_id=integration.list_id,
                flow=integration.flow,
            )
        db.session.commit()
        flash(gettext("Saved. One step left."), "info")
        return redirect(url_for("authorize.before", integration_id=integration.id))
    return render_template("setup/check.html", form=form, integration=integration)


@bp.route("/<id:integration_id>/created")
@customer_required
def created(integration_id: int) -> ResponseReturnValue:
    """The old "Integration created" address: step 4's first page says it now."""
    return redirect(url_for("authorize.before", integration_id=integration_id))
