"""Deliver owed notices: e-mails to customers in their language, signed webhooks.

Each notice is claimed (a lease) before it is sent and deleted with the audit
event that says it went, like held contacts; a failed try is retried later, on a
growing backoff, and given up (audited) after the last one.
"""

import time
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext

from wizard.domain import audit
from wizard.domain import notices
from wizard.domain.customer_mail import closing_lines
from wizard.domain.customer_mail import language_of
from wizard.domain.problems import connection_problem
from wizard.models import Integration
from wizard.models import Notice
from wizard.models import User
from wizard.models.held import held_count
from wizard.platform import leases
from wizard.platform import mail
from wizard.platform import webhooks
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.platform.i18n import DEFAULT_LANGUAGE

# Seconds to wait after each failed try; after the last, the notice is given up.
BACKOFF = (60, 300, 1800, 7200, 21600, 43200)
LEASE = timedelta(minutes=2)


class NotSent(Exception):
    """A try that failed; ``reason`` is short and holds no secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Delivered:
    """What one round of delivery did."""

    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    given_up: int = 0


def deliver_due(most: int = 100) -> Delivered:
    """Send the notices that are due, oldest first, at most ``most`` of them."""
    done = Delivered()
    for _ in range(most):
        claimed = _claim_due(utcnow())
        if claimed is None:
            break
        notice, claim = claimed
        integration = db.session.get(Integration, notice.integration_id)
        try:
            outcome = _send(notice, integration)
        except NotSent as failure:
            _failed(notice, claim, integration, failure.reason, done)
            continue
        _finish(notice, claim, integration, outcome)
        if outcome == "sent":
            done.sent += 1
        else:
            done.skipped += 1
    return done


def _claim_due(now: datetime) -> tuple[Notice, str] | None:
    """Claim the oldest due notice nobody else is sending."""
    due = db.session.scalar(
        db.select(Notice.id)
        .where(Notice.next_attempt_at <= now, leases.free(Notice, now))
        .order_by(Notice.id)
        .limit(1)
    )
    if due is None:
        return None
    claim = leases.claim(Notice, due, now, LEASE, attempts=Notice.attempts + 1)
    if claim is None:
        return _claim_due(now)
    return db.session.get(Notice, due, populate_existing=True), claim


def _send(notice: Notice, integration: Integration) -> str:
    """Send one notice: "sent", or why it was not needed ("mended", "no_mail")."""
    if notice.kind == "webhook":
        config = current_app.config
        try:
            webhooks.post(
                config["WEBHOOK_URL"],
                str(config["WEBHOOK_SECRET"]),
                notice.payload,
                int(time.time()),
            )
        except webhooks.WebhookError as problem:
            raise NotSent(str(problem)) from None
        return "sent"
    if integration.status not in notices.BROKEN:
        return "mended"  # fixed before we could tell her: nothing to say
    user = db.session.get(User, notice.user_id)
    subject, text = break_letter(integration, language_of(user) or DEFAULT_LANGUAGE)
    try:
        sent = mail.send(current_app, to=user.email, subject=subject, text=text)
    except mail.MailError as problem:
        raise NotSent(problem.reason) from None
    return "sent" if sent else "no_mail"


def break_letter(integration: Integration, language: str) -> tuple[str, str]:
    """Return the subject and text telling a customer her connection broke."""
    brand = current_app.config["BRAND_NAME"]
    waiting = held_count(integration.id)
    code = integration.last_error_code or integration.status
    with force_locale(language):
        subject = gettext("Your Constant Contact connection needs you")
        lines = [
            gettext("Hello,"),
            "",
            gettext(
                "%(brand)s can no longer add contacts to your Constant Contact "
                "list %(list)s.",
                brand=brand,
                list=integration.list_name or integration.list_id or "",
            ),
            connection_problem(code, integration.flow).text,
            "",
            gettext("To fix it, open this page and follow the steps:"),
            notices.fix_url(integration),
            "",
            gettext(
                "Nothing is lost: contacts added meanwhile are kept and added once "
                "the connection works again (%(num)s waiting now).",
                num=waiting,
            ),
            *closing_lines(integration),
        ]
    return subject, "\n".join(lines) + "\n"


def _finish(notice: Notice, claim: str, integration: Integration, outcome: str) -> None:
    """Delete the notice if still ours, with the event that says what became of it."""
    gone = leases.take(Notice, notice.id, claim)
    said = {"kind": notice.kind, "event": notice.event, "to": _to(notice)}
    if gone and outcome == "sent":
        audit.record("notice.sent", integration=integration, **said)
    elif gone:
        audit.record("notice.skipped", integration=integration, reason=outcome, **said)
    db.session.commit()


def _failed(
    notice: Notice, claim: str, integration: Integration, reason: str, done: Delivered
) -> None:
    """Try again later, or give up after the last try (audited either way)."""
    if notice.attempts > len(BACKOFF):
        _finish(notice, claim, integration, f"gave_up:{reason}")
        done.given_up += 1
        return
    wait = timedelta(seconds=BACKOFF[notice.attempts - 1])
    leases.release(Notice, notice.id, claim, next_attempt_at=utcnow() + wait)
    audit.record(
        "notice.not_sent",
        integration=integration,
        kind=notice.kind,
        event=notice.event,
        to=_to(notice),
        reason=reason[:120],
        retry_in_seconds=int(wait.total_seconds()),
    )
    db.session.commit()
    done.retrying += 1


def _to(notice: Notice) -> str:
    """Say to whom, as people may see it: a masked address, or "webhook"."""
    if notice.kind != "email":
        return "webhook"
    user = db.session.get(User, notice.user_id)
    return mail.mask(user.email) if user else "…"
