"""Blueprint for support staff: find a customer and see where they are stuck.

Read-only but for Test connection. The customer's organization sees each agent's
look at a page (once per half hour) and every action on its Activity page; a page
another site made the browser ask for shows no details until the agent opens it.
Secrets appear only as fingerprints.
"""

from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import ngettext
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from wizard.domain import audit
from wizard.domain import drafts
from wizard.domain import tokens
from wizard.domain import verification
from wizard.domain.problems import problem_for
from wizard.models import AuditEvent
from wizard.models import Integration
from wizard.models import Organization
from wizard.models import User
from wizard.platform import locks
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.web.integrations import connection_action_limit
from wizard.web.integrations import error_words

bp = Blueprint("support", __name__, url_prefix="/support")

REFRESH_TOKEN_LIFETIME = timedelta(days=180)
# Crockford's base32 reads I and L as 1 and O as 0: forgive what was heard.
_HEARD = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
# Organizations per page of the support console's list.
PAGE_SIZE = 50
# Far past any real list; keeps the OFFSET a database is asked for small.
MAX_PAGE = 10_000
# An agent's look at a page is on record this long: the live page reloads every 5 s,
# and a row per reload would bury the customer's own events on Activity.
VIEW_RECORDED_FOR = timedelta(minutes=30)


def support_required(view: Any) -> Any:
    """Let only support staff through; everyone else gets 404."""

    @login_required
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_support:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def normalize_reference(text: str) -> str:
    """Turn what was read over the phone into a reference code like K7Q-4M2P."""
    chars = "".join(ch for ch in text.upper() if ch.isalnum()).translate(_HEARD)
    return f"{chars[:3]}-{chars[3:]}" if len(chars) == 7 else ""


def find_organizations(query: str, page: int = 1) -> tuple[list[Organization], bool]:
    """Find organizations by reference code, name, or a user's email, a page at a time.

    Returns the page's organizations (their integrations loaded in one more query, so
    a page costs the same with ten tenants or ten thousand) and whether more follow.
    """
    query = query.strip()[:200]
    select = db.select(Organization).options(selectinload(Organization.integrations))
    if query:
        code = normalize_reference(query)
        pattern = f"%{query.lower()}%"
        by_user = db.select(User.organization_id).where(
            db.func.lower(User.email).like(pattern)
        )
        select = select.where(
            db.or_(
                Organization.reference_code == code,
                db.func.lower(Organization.name).like(pattern),
                Organization.id.in_(by_user),
            )
        )
    # One row past the page says whether there is a next one, without a COUNT(*).
    found = list(
        db.session.scalars(
            select.order_by(Organization.name, Organization.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


def on_record(
    action: str,
    *,
    organization_id: int | None = None,
    integration: Integration | None = None,
) -> bool:
    """Record the agent's look at a page once per VIEW_RECORDED_FOR; say if on record.

    Counted in the database, so every worker and host agrees. Only a page the agent
    opened (:func:`audit.navigated_here`) is recorded; anything another site made
    the browser ask for records nothing, and is on record only if a recent view is.
    """
    page = (
        AuditEvent.integration_id == integration.id
        if integration is not None
        else AuditEvent.organization_id == organization_id
    )
    recent = (
        db.select(AuditEvent.id)
        .where(
            AuditEvent.actor_id == current_user.id,
            AuditEvent.action == action,
            page,
            AuditEvent.at > utcnow() - VIEW_RECORDED_FOR,
        )
        .limit(1)
    )
    if db.session.scalar(recent) is not None:
        return True
    if not audit.navigated_here():
        return False
    # Two tabs or workers may both have found nothing: holding the agent's row, the
    # second one to get it sees the first one's view.
    with locks.locked_rows(User, [current_user.id]):
        if db.session.scalar(recent) is None:
            audit.record(
                action,
                actor=current_user,
                organization_id=organization_id,
                integration=integration,
            )
    return True


@bp.route("")
@support_required
def index() -> ResponseReturnValue:
    """Search for a customer's organization; with no search, list them all by page."""
    query = request.args.get("q", "")
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > MAX_PAGE:
        page = 1
    organizations, more = find_organizations(query, page)
    return render_template(
        "support/index.html",
        query=query,
        organizations=organizations,
        page=page,
        more=more,
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


@bp.route("/integrations/<id:integration_id>")
@support_required
def integration(integration_id: int) -> ResponseReturnValue:
    """Show where a customer's integration stands, in the customer's own words."""
    found = db.get_or_404(Integration, integration_id)
    if not on_record("support.viewed_integration", integration=found):
        return render_template("support/open.html", name=found.name)
    attempts = found.attempts
    latest = attempts[-1] if attempts else None
    events = db.session.scalars(
        db.select(AuditEvent)
        .filter_by(integration_id=found.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(100)
    ).all()
    now = utcnow()
    runway = (
        found.last_refreshed_at + REFRESH_TOKEN_LIFETIME - now
        if found.holds_tokens and found.last_refreshed_at
        else None
    )
    return render_template(
        "support/integration.html",
        integration=found,
        attempt=latest,
        restarts=max(0, len(attempts) - 1),
        seconds_left=latest.seconds_left(now) if latest and latest.is_open else None,
        steps=drafts.steps(found, attempt_open=latest is not None and latest.is_open),
        events=events,
        runway_days=runway.days if runway is not None else None,
        resume_link=current_app.config["PUBLIC_BASE_URL"]
        + url_for("setup.resume", integration_id=found.id),
        messages=_messages_shown(found, events),
        form=FlaskForm(),
    )


def _messages_shown(
    integration: Integration, events: list[AuditEvent]
) -> list[tuple[Any, str]]:
    """The plain-language messages the customer saw, newest first, with when.

    Each is said in the reader's language: steps 1-2 kept English message ids,
    and attempts and the integration kept their problem codes.
    """
    shown = [
        (event.at, gettext(message))
        for event in events
        if event.action == "setup.error_shown"
        for message in event.details.get("messages", [])
    ]
    shown += [
        (
            a.finished_at,
            problem_for(a.error_code, a.flow).text if a.error_code else a.error_message,
        )
        for a in integration.attempts
        if a.error_message or a.error_code
    ]
    if integration.last_error_message or integration.last_error_code:
        shown.append((integration.last_checked_at, error_words(integration)))
    return sorted(shown, key=lambda item: item[0] or utcnow(), reverse=True)


@bp.route("/integrations/<id:integration_id>/test", methods=["POST"])
@connection_action_limit
@support_required
def test_connection(integration_id: int) -> ResponseReturnValue:
    """Run Test connection for the customer (it reads, it changes nothing)."""
    found = db.get_or_404(Integration, integration_id)
    if FlaskForm().validate_on_submit() and found.holds_tokens:
        try:
            result = verification.check(found)
        except tokens.ConnectionProblem as problem:
            flash(
                gettext("Test connection: %(message)s", message=problem.message),
                "error",
            )
        else:
            worked = (
                gettext("Test connection worked: %(list)s.", list=result.name)
                if result.member_count is None
                else ngettext(
                    "Test connection worked: %(list)s, %(num)s member.",
                    "Test connection worked: %(list)s, %(num)s members.",
                    result.member_count,
                    list=result.name,
                )
            )
            flash(worked)
            if found.needs_reauthorization:
                flash(
                    gettext(
                        "It works only until the access token runs out (within a "
                        "day): Constant Contact will not renew it. The customer "
                        "needs to authorize again."
                    ),
                    "error",
                )
        audit.record("support.tested_connection", actor=current_user, integration=found)
        db.session.commit()
    return redirect(url_for(".integration", integration_id=found.id))
