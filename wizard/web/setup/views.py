"""Steps 1-3: read the form, check it, save to the draft, go to the next step."""

from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user

from wizard.constant_contact import formats
from wizard.domain import audit
from wizard.domain import drafts
from wizard.models import Integration
from wizard.platform.extensions import db
from wizard.platform.i18n import N_
from wizard.platform.reads import reads_only
from wizard.status import Flow
from wizard.web.access import customer_required
from wizard.web.access import organization_integration_or_404
from wizard.web.setup import bp
from wizard.web.setup.forms import CreateForm
from wizard.web.setup.forms import CredentialsForm
from wizard.web.setup.forms import ListIdForm
from wizard.web.setup.forms import StartForm

FLOW_ERROR = N_("Choose the OAuth2 flow you picked for your app in Constant Contact")


def redirect_uri() -> str:
    """Return the Redirect URI people paste into their Constant Contact app."""
    return current_app.config["PUBLIC_BASE_URL"] + formats.REDIRECT_PATH


def _back_to_check() -> bool:
    return request.args.get("from") == "check"


def _draft_or_redirect(integration_id: int) -> Integration | ResponseReturnValue:
    """Return the integration if steps 1-2 may change it, else a redirect."""
    integration = organization_integration_or_404(integration_id)
    if not drafts.editable(integration):
        flash(
            gettext("This integration is connected: its details are kept as they are."),
            "info",
        )
        return redirect(url_for("integrations.index"))
    return integration


def _next_after_save(integration: Integration, endpoint: str) -> ResponseReturnValue:
    """Go on with setup, or back to step 4 for an integration already created."""
    if _back_to_check():
        endpoint = "setup.check"
    if not integration.is_draft:
        flash(
            gettext("Saved. Now authorize again with the corrected details."),
            "success",
        )
        endpoint = "authorize.before"
    return redirect(url_for(endpoint, integration_id=integration.id))


def _record_errors(integration: Integration, step: int, errors: dict[str, str]) -> None:
    """Keep the messages a person was shown (never what they typed), for support.

    They are kept as English message ids, so support reads them in their language.
    """
    if not errors:
        return
    audit.record(
        "setup.error_shown",
        actor=current_user,
        integration=integration,
        step=step,
        messages=list(errors.values()),
    )
    db.session.commit()


def _translated(errors: dict[str, str]) -> dict[str, str]:
    """Return the messages in the reader's language, for the page."""
    return {name: gettext(message) for name, message in errors.items()}


@bp.route("/new", methods=["GET", "POST"])
@customer_required
def start() -> ResponseReturnValue:
    """Show what you need and the four steps; Start now begins a draft."""
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


@bp.route("/<id:integration_id>/setup")
@reads_only
@customer_required
def resume(integration_id: int) -> ResponseReturnValue:
    """Show the four steps as a task list, with Continue to the first one left."""
    found = _draft_or_redirect(integration_id)
    if not isinstance(found, Integration):
        return found
    attempt = found.attempts[-1] if found.attempts else None
    steps = drafts.steps(found, attempt_open=attempt is not None and attempt.is_open)
    step = drafts.current_step(found)
    return render_template(
        "setup/tasks.html",
        integration=found,
        steps=steps,
        completed=sum(s.state == "completed" for s in steps),
        next_url=url_for(drafts.STEP_ENDPOINTS[step], integration_id=found.id),
    )


@bp.route("/<id:integration_id>/api-key", methods=["GET", "POST"])
@reads_only
@customer_required
def credentials(integration_id: int) -> ResponseReturnValue:
    """Step 1: the app's OAuth2 flow, API Key and Client Secret."""
    found = _draft_or_redirect(integration_id)
    if not isinstance(found, Integration):
        return found
    integration = found
    saved = None
    if request.method == "GET":
        saved = {"flow": integration.flow, "api_key": integration.api_key}
    form = CredentialsForm(data=saved)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not form.validate():
            errors["flow"] = FLOW_ERROR
        else:
            needs_secret = drafts.needs_secret(
                integration,
                form.flow.data,
                formats.check_api_key(form.api_key.data).value,
            )
            checked = formats.check_credentials(
                form.api_key.data, form.client_secret.data, secret_needed=needs_secret
            )
            form.api_key.data = checked.api_key_echo
            if checked.ok:
                drafts.save_credentials(
                    integration,
                    flow=form.flow.data,
                    api_key=checked.api_key.value,
                    client_secret=checked.secret.value or None,
                )
                audit.record(
                    "setup.api_key_saved",
                    actor=current_user,
                    integration=integration,
                    flow=integration.flow,
                    api_key_ending=integration.api_key[-4:],
                    secret_saved=bool(integration.client_secret_encrypted),
                )
                db.session.commit()
                return _next_after_save(integration, "setup.list_id")
            for name, outcome in (
                ("api_key", checked.api_key),
                ("client_secret", checked.secret),
            ):
                if outcome.error:
                    errors.setdefault(name, outcome.error)
            if form.flow.data == Flow.AUTHORIZATION_CODE and checked.secret.value:
                # Keep a good secret so nobody has to generate a new one.
                drafts.keep_secret(integration, checked.secret.value)
                audit.record(
                    "setup.client_secret_saved",
                    actor=current_user,
                    integration=integration,
                )
                db.session.commit()
    form.client_secret.data = ""
    _record_errors(integration, 1, errors)
    return render_template(
        "setup/credentials.html",
        form=form,
        errors=_translated(errors),
        integration=integration,
        redirect_uri=redirect_uri(),
    )


@bp.route("/<id:integration_id>/list-id", methods=["GET", "POST"])
@reads_only
@customer_required
def list_id(integration_id: int) -> ResponseReturnValue:
    """Step 2: the List ID, or the address of the list to take it from."""
    found = _draft_or_redirect(integration_id)
    if not isinstance(found, Integration):
        return found
    integration = found
    if drafts.current_step(integration) == 1:
        return redirect(url_for("setup.credentials", integration_id=integration.id))
    form = ListIdForm(obj=integration if request.method == "GET" else None)
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        checked = formats.extract_list_id(
            form.list_id.data, api_key=integration.api_key or ""
        )
        if checked.ok:
            drafts.save_list_id(
                integration,
                checked.value,
                from_url=formats.came_from_address(form.list_id.data),
            )
            audit.record(
                "setup.list_id_saved",
                actor=current_user,
                integration=integration,
                list_id=checked.value,
                from_address=integration.list_id_from_url,
            )
            db.session.commit()
            return _next_after_save(integration, "setup.check")
        errors["list_id"] = checked.error or ""
    _record_errors(integration, 2, errors)
    return render_template(
        "setup/list_id.html",
        form=form,
        errors=_translated(errors),
        integration=integration,
    )


@bp.route("/<id:integration_id>/check", methods=["GET", "POST"])
@reads_only
@customer_required
def check(integration_id: int) -> ResponseReturnValue:
    """Step 3: check the answers, then create the integration."""
    integration = organization_integration_or_404(integration_id)
    form = CreateForm()
    if not integration.is_draft:
        # A second click or Back after creating: show the result, create nothing.
        return redirect(url_for("setup.created", integration_id=integration.id))
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
        return redirect(url_for("setup.created", integration_id=integration.id))
    return render_template("setup/check.html", form=form, integration=integration)


@bp.route("/<id:integration_id>/created")
@reads_only
@customer_required
def created(integration_id: int) -> ResponseReturnValue:
    """Confirm the integration exists and say that authorizing comes next."""
    integration = organization_integration_or_404(integration_id)
    if integration.is_draft:
        return redirect(url_for("setup.resume", integration_id=integration.id))
    return render_template("setup/created.html", integration=integration)
