"""Support's "Send her back": copy the link to where she left off, or e-mail it.

Both are on record and on her Activity page; neither changes her integration.
"""

from datetime import timedelta
from typing import Any

from flask import abort
from flask import current_app
from flask import flash
from flask import g
from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user

from wizard.domain import audit
from wizard.domain import customer_mail
from wizard.models import AuditEvent
from wizard.models import Integration
from wizard.models import User
from wizard.platform import locks
from wizard.platform import mail
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.platform.extensions import limiter
from wizard.platform.i18n import N_
from wizard.web.forms import ButtonForm
from wizard.web.limits import integration_and_presser
from wizard.web.support import bp
from wizard.web.support.guard import support_required

# An agent copying her link again and again within this is one event on Activity.
COPY_RECORDED_FOR = timedelta(minutes=5)
# The agent reads these in their own language; her own language's name.
LANGUAGE_WORDS = {"en": N_("English"), "es": N_("Spanish")}


def _email_limit() -> str:
    return current_app.config["SEND_BACK_EMAIL_RATE_LIMIT"]


def resume_link(integration: Integration) -> str:
    """The address that takes her back to where she left off."""
    return current_app.config["PUBLIC_BASE_URL"] + url_for(
        "setup.resume", integration_id=integration.id
    )


def send_back_box(integration: Integration) -> dict[str, Any]:
    """What the Send her back box shows: whom an e-mail would go to, if any."""
    can_mail = mail.configured(current_app)
    to = customer_mail.addressee(integration) if can_mail else None
    return {
        "can_mail": can_mail,
        "to": to,
        "language": gettext(LANGUAGE_WORDS[to.language]) if to else "",
        "copying": request.args.get("copying") == "1",
    }


@bp.context_processor
def _send_back_context() -> dict[str, Any]:
    """Let the integration page ask for the box's contents (only that page does)."""
    return {"send_back": send_back_box}


def _wants_no_page() -> bool:
    """Whether the page's script asked (it wants no page back, only the answer)."""
    accepted = request.accept_mimetypes
    return accepted.accept_json and not accepted.accept_html


@bp.route("/integrations/<id:integration_id>/copy-link", methods=["POST"])
@support_required
def copy_link(integration_id: int) -> ResponseReturnValue:
    """Put the agent's copy of her link on record; without JavaScript, show it ready."""
    found = g.integration
    if ButtonForm().validate_on_submit():
        _record_copy(found, current_user)
        db.session.commit()
    if _wants_no_page():
        return "", 204
    flash(gettext("The link is ready to copy: it is in the box below."))
    # No #fragment: a page with a target element ignores autofocus (HTML's rule),
    # and the focused field scrolls into view by itself.
    return redirect(url_for(".integration", integration_id=found.id, copying=1))


def _record_copy(integration: Integration, agent: User) -> None:
    """Record the copy once per COPY_RECORDED_FOR: repeats are one event for her."""
    recent = (
        db.select(AuditEvent.id)
        .where(
            AuditEvent.actor_id == agent.id,
            AuditEvent.action == "support.copied_link",
            AuditEvent.integration_id == integration.id,
            AuditEvent.at > utcnow() - COPY_RECORDED_FOR,
        )
        .limit(1)
    )
    if db.session.scalar(recent) is not None:
        return
    # Two tabs may both have found nothing: holding the agent's row, the second
    # one to get it sees the first one's record.
    with locks.locked_rows(User, [agent.id]):
        if db.session.scalar(recent) is None:
            audit.record("support.copied_link", actor=agent, integration=integration)


@bp.route("/integrations/<id:integration_id>/email-link", methods=["POST"])
@limiter.limit(_email_limit, key_func=integration_and_presser, methods=["POST"])
@support_required
def email_link(integration_id: int) -> ResponseReturnValue:
    """E-mail her the link to where she left off, in her language."""
    found = g.integration
    if not mail.configured(current_app):
        abort(404)  # no mail server: there is no such button
    back = redirect(
        url_for(".integration", integration_id=found.id, _anchor="send-back")
    )
    to = customer_mail.addressee(found)
    if not ButtonForm().validate_on_submit() or to is None:
        return back
    try:
        customer_mail.email_resume_link(found, current_user, to, resume_link(found))
    except mail.MailError:
        flash(
            gettext(
                "The e-mail was not sent: the mail server could not be reached or "
                "refused it. Copy the link and give it to her another way."
            ),
            "error",
        )
    else:
        flash(gettext("E-mailed her the link, to %(address)s.", address=to.masked))
    db.session.commit()
    return back
