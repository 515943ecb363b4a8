"""The support console's pages: who needs help, search, a customer, her integration."""

from datetime import timedelta
from typing import Any

from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload

from wizard.constant_contact.api import ContactList
from wizard.domain import audit
from wizard.domain import drafts
from wizard.domain import held
from wizard.domain import presence
from wizard.domain import tokens
from wizard.domain import verification
from wizard.models import Integration
from wizard.models import Organization
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.web.access import names_integration
from wizard.web.forms import ButtonForm
from wizard.web.limits import connection_action_limit
from wizard.web.support import bp
from wizard.web.support import queue
from wizard.web.support import records
from wizard.web.support.guard import support_required
from wizard.web.support.records import on_record
from wizard.web.support.right_now import right_now

REFRESH_TOKEN_LIFETIME = timedelta(days=180)
# Far past any real list; keeps the OFFSET a database is asked for small.
MAX_PAGE = 10_000


@bp.before_request
def pull_integration() -> None:
    """Load the integration the URL names into g, for support staff (else None).

    None is answered by support_required, once the rate limits have counted.
    """
    if names_integration():
        integration_id = request.view_args["integration_id"]
        is_support = current_user.is_authenticated and current_user.is_support
        g.integration = (
            db.session.get(Integration, integration_id) if is_support else None
        )


@bp.route("")
@support_required
def index() -> ResponseReturnValue:
    """Who needs help now; with a search, the customers it finds."""
    query = request.args.get("q", "")
    if not query.strip():
        now = utcnow()
        rows, capped = queue.waiting(now)
        return render_template(
            "support/queue.html", rows=rows, capped=capped, cap=queue.CAP, now=now
        )
    exact = records.exactly(query)
    if exact is not None:
        # A whole reference or e-mail: straight to what she is doing now.
        found = records.in_progress(exact)
        if found is not None:
            return redirect(url_for(".integration", integration_id=found.id))
        return redirect(url_for(".organization", organization_id=exact.id))
    return _organizations_page(query)


@bp.route("/organizations")
@support_required
def organizations() -> ResponseReturnValue:
    """Every organization, a page at a time."""
    return _organizations_page("")


def _organizations_page(query: str) -> ResponseReturnValue:
    """The organizations a search finds (all of them without one), by page."""
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > MAX_PAGE:
        page = 1
    found, more = records.find_organizations(query, page)
    return render_template(
        "support/index.html", query=query, organizations=found, page=page, more=more
    )


@bp.route("/organizations/<id:organization_id>")
@support_required
def organization(organization_id: int) -> ResponseReturnValue:
    """Show an organization, its people and its integrations."""
    found = db.session.scalar(
        db.select(Organization)
        .options(
            selectinload(Organization.integrations), selectinload(Organization.users)
        )
        .filter_by(id=organization_id)
    )
    if found is None:
        abort(404)
    if not on_record("support.viewed_organization", organization_id=found.id):
        return render_template("support/open.html", name=found.name)
    return render_template("support/organization.html", organization=found)


def _now_and_told(found: Integration) -> dict[str, Any]:
    """What the Right now box shows, and what the page around it reads too."""
    attempts = found.attempts
    latest = attempts[-1] if attempts else None
    events = audit.newest(100, integration_id=found.id)
    now = utcnow()
    return {
        "integration": found,
        "attempt": latest,
        "events": events,
        "now": now,
        "now_box": right_now(found, latest, now, presence.seen(found.id)),
        "messages": records.messages_shown(found, events),
        "waiting": held.waiting(found.id),
    }


@bp.route("/integrations/<id:integration_id>")
@support_required
def integration(integration_id: int) -> ResponseReturnValue:
    """Show where a customer's integration stands, in the customer's own words."""
    found = g.integration
    if not on_record("support.viewed_integration", integration=found):
        return render_template("support/open.html", name=found.name)
    shown = _now_and_told(found)
    latest = shown["attempt"]
    runway = (
        found.last_refreshed_at + REFRESH_TOKEN_LIFETIME - shown["now"]
        if found.holds_tokens and found.last_refreshed_at
        else None
    )
    return render_template(
        "support/integration.html",
        restarts=max(0, len(found.attempts) - 1),
        steps=drafts.steps(found, attempt_open=latest is not None and latest.is_open),
        runway_days=runway.days if runway is not None else None,
        resume_link=current_app.config["PUBLIC_BASE_URL"]
        + url_for("setup.resume", integration_id=found.id),
        form=ButtonForm(),
        **shown,
    )


@bp.route("/integrations/<id:integration_id>/right-now")
@support_required
def right_now_box(integration_id: int) -> ResponseReturnValue:
    """The Right now box alone, for the page to update itself without a reload.

    It is covered by the page's view on record (one per agent per half hour) and
    records none itself: with none on record, 204 tells the page to reload, and the
    reload is the view that goes on record.
    """
    found = g.integration
    if not on_record("support.viewed_integration", integration=found):
        return "", 204
    return render_template("support/_right_now.html", **_now_and_told(found))


@bp.route("/integrations/<id:integration_id>/test", methods=["POST"])
@connection_action_limit
@support_required
def test_connection(integration_id: int) -> ResponseReturnValue:
    """Run Test connection for the customer (it reads, it changes nothing)."""
    found = g.integration
    if ButtonForm().validate_on_submit() and found.holds_tokens:
        try:
            result = verification.check(found)
        except tokens.ConnectionProblem as problem:
            flash(
                gettext("Test connection: %(message)s", message=problem.message),
                "error",
            )
        else:
            _say_it_worked(found, result)
        audit.record("support.tested_connection", actor=current_user, integration=found)
        db.session.commit()
    return redirect(url_for(".integration", integration_id=found.id))


def _say_it_worked(found: Integration, result: ContactList) -> None:
    """Flash what Test connection found, and whether it will keep working."""
    flash(
        gettext("Test connection worked: %(list)s.", list=result.name)
        if result.member_count is None
        else ngettext(
            "Test connection worked: %(list)s, %(num)s member.",
            "Test connection worked: %(list)s, %(num)s members.",
            result.member_count,
            list=result.name,
        )
    )
    if found.needs_reauthorization:
        flash(
            gettext(
                "It works only until the access token runs out (within a "
                "day): Constant Contact will not renew it. The customer "
                "needs to authorize again."
            ),
            "error",
        )
