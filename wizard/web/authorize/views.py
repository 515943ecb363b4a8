"""Step 4 pages: before, the live attempt, opening Constant Contact, success."""

from flask import current_app
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup

from wizard.constant_contact.client import redirect_uri
from wizard.constant_contact.http import ProviderError
from wizard.domain import app_checks
from wizard.domain import attempts
from wizard.domain import audit
from wizard.domain import drafts
from wizard.domain import listening
from wizard.domain import verification
from wizard.domain.problems import Problem
from wizard.domain.problems import problem_for
from wizard.domain.problems import waiting_note
from wizard.models import Integration
from wizard.platform.columns import utcnow
from wizard.platform.crypto import DecryptionError
from wizard.platform.extensions import db
from wizard.platform.extensions import limiter
from wizard.web import after_answer
from wizard.web.access import customer_required
from wizard.web.authorize import bp
from wizard.web.authorize.shared import attempt_page
from wizard.web.authorize.shared import load_attempt
from wizard.web.forms import ButtonForm
from wizard.web.limits import connection_action_limit
from wizard.web.limits import integration_and_presser
from wizard.web.limits import on_posts


@bp.before_request
def pull_attempt() -> None:
    """Load the URL's attempt and integration into g, before each view but one.

    A status check loads its own once its rate limit has counted it, and only if
    its ticket cannot answer: the limit and the ticket both spare the database.
    """
    if request.endpoint != "authorize.status":
        load_attempt()


def _ready_to_authorize(integration: Integration) -> bool:
    return not integration.is_draft and drafts.current_step(integration) == 4


def _start_limit() -> str:
    return current_app.config["AUTHORIZE_START_RATE_LIMIT"]


@bp.route("/integrations/<id:integration_id>/authorize", methods=["GET", "POST"])
# Counted before the view, per integration and organization pressing: presses at
# the same moment cannot all slip in, and a stranger's 404s use up none of it.
@on_posts(
    limiter.limit(_start_limit, key_func=integration_and_presser, methods=["POST"])
)
@customer_required
def before(integration_id: int) -> ResponseReturnValue:
    """Say what step 4 asks, then start the 5-minute window."""
    integration = g.integration
    if not _ready_to_authorize(integration):
        return redirect(url_for("setup.resume", integration_id=integration.id))
    form = ButtonForm()
    problem = None
    if form.validate_on_submit():
        if app_checks.recheck_before_clock(integration, actor=current_user):
            # Fix it before any clock starts: step 1 shows what Constant Contact said.
            db.session.commit()
            return redirect(url_for("setup.credentials", integration_id=integration.id))
        try:
            attempt = attempts.start(
                integration,
                current_user,
                int(current_app.config["AUTHORIZATION_WINDOW_SECONDS"]),
            )
        except ProviderError as error:
            db.session.rollback()
            problem = _start_failed(integration, error)
        else:
            if integration.uses_device_flow:
                app_checks.device_answered(integration)
            db.session.commit()
            return attempt_page(integration.id, attempt.id)
        db.session.commit()
    return render_template(
        "authorize/before.html",
        integration=integration,
        form=form,
        problem=problem,
        window_minutes=round(current_app.config["AUTHORIZATION_WINDOW_SECONDS"] / 60),
    )


def _start_failed(integration: Integration, error: ProviderError) -> Problem:
    """Record that Constant Contact refused to start, and say why."""
    audit.record(
        "authorization.start_failed",
        actor=current_user,
        integration=integration,
        error=error.code,
    )
    return problem_for(error.code, integration.flow)


def _qr_code(link: str) -> Markup:
    """Draw the link as an inline SVG QR code (made here, no other site involved)."""
    import segno  # only pages with a QR code need it: keeps workers smaller

    svg = segno.make(link, error="m").svg_inline(
        scale=4, title=gettext("QR code"), omitsize=True
    )
    return Markup(svg)  # segno's own markup: no text from people in it


@bp.route("/integrations/<id:integration_id>/authorize/<id:attempt_id>")
@customer_required
def attempt(integration_id: int, attempt_id: int) -> ResponseReturnValue:
    """Show the live attempt (code, link, timer) or how it ended."""
    found, integration = g.attempt, g.integration
    now = utcnow()
    attempts.expire_if_due(found, now)
    if attempts.is_done(found):
        return redirect(url_for(".active", integration_id=integration.id))
    if attempts.is_checking(found):
        return render_template(
            "authorize/checking.html", integration=integration, attempt=found
        )
    problem = None
    approved = listening.approval_for(found) if found.outcome is not None else None
    if approved is not None:
        problem = problem_for(integration.last_error_code or "unavailable", found.flow)
    elif found.outcome is not None:
        problem = problem_for(found.error_code or found.outcome, found.flow)
    link = found.verification_uri_complete or found.verification_uri
    return render_template(
        "authorize/attempt.html",
        integration=integration,
        attempt=found,
        approved=approved,
        # An ended page keeps checking while a code may still bring an approval.
        listening=bool(problem and listening.codes(integration, now)),
        problem=problem,
        note=waiting_note(found.error_code) if found.is_open else None,
        seconds_left=found.seconds_left(now),
        server_now=now,
        qr_code=_qr_code(link) if link and found.is_open else None,
        form=ButtonForm(),
        redirect_uri=redirect_uri(),
    )


@bp.route("/integrations/<id:integration_id>/authorize/<id:attempt_id>/open")
@customer_required
def open_constant_contact(integration_id: int, attempt_id: int) -> ResponseReturnValue:
    """Send the new window to Constant Contact's authorize page (code flow)."""
    found = g.attempt
    attempts.expire_if_due(found, utcnow())
    if found.uses_device_flow or not found.is_open:
        return attempt_page(integration_id, attempt_id)
    try:
        target = attempts.redirect_target(found)
    except DecryptionError:
        attempts.fail(found, "unreadable", utcnow())
        db.session.commit()
        return attempt_page(integration_id, attempt_id)
    # Another site's link or <img> still gets the redirect, but only the person's
    # own click on step 4 shows on Activity as "Opened Constant Contact".
    if audit.navigated_here():
        audit.record(
            "authorization.opened", actor=current_user, integration=found.integration
        )
        db.session.commit()
    return redirect(target)


@bp.route("/integrations/<id:integration_id>/active")
@customer_required
def active(integration_id: int) -> ResponseReturnValue:
    """Say "Your integration is now active!" with what was connected."""
    integration = g.integration
    if not integration.is_active:
        return redirect(url_for("integrations.index"))
    after_answer.replay_after_response(integration)
    return render_template(
        "authorize/active.html",
        integration=integration,
        confirmed_at=listening.late_approval(integration, utcnow()),
    )


@bp.route("/integrations/<id:integration_id>/verify", methods=["POST"])
@connection_action_limit
@customer_required
def verify(integration_id: int) -> ResponseReturnValue:
    """Check the list again with the saved authorization."""
    integration = g.integration
    if ButtonForm().validate_on_submit() and integration.holds_tokens:
        verification.verify(integration)
    if integration.is_active:
        return redirect(url_for(".active", integration_id=integration.id))
    latest = attempts.latest_attempt(integration)
    if latest is None:
        return redirect(url_for("integrations.index"))
    return attempt_page(integration.id, latest.id)
