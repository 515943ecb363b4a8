"""E-mail to a customer: whom to write to, in her language; the link to her step.

The app keeps no language setting per person: the language she last signed in with
(on her sign-in's audit event) is hers; never signed in since, English.
"""

from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext

from wizard.domain import audit
from wizard.models import ROLE_CUSTOMER
from wizard.models import AuditEvent
from wizard.models import Integration
from wizard.models import User
from wizard.platform import mail
from wizard.platform.extensions import db
from wizard.platform.i18n import DEFAULT_LANGUAGE
from wizard.platform.i18n import LANGUAGES


@dataclass(frozen=True)
class Addressee:
    """A customer to write to: her address masked for people, and her language."""

    user: User
    masked: str
    language: str
    language_known: bool


def language_of(user: User) -> str | None:
    """Return the language she last signed in with, if the app knows it."""
    details = db.session.scalar(
        db.select(AuditEvent.details)
        .filter_by(actor_id=user.id, action="user.signed_in")
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    )
    chosen = (details or {}).get("language")
    return chosen if chosen in LANGUAGES else None


def addressee(integration: Integration) -> Addressee | None:
    """Whom to write to about an integration: who created it, if still one of its
    organization's customers; else its customer who signed in last; else nobody."""
    customers = db.select(User).filter_by(
        organization_id=integration.organization_id, role=ROLE_CUSTOMER
    )
    found = None
    if integration.created_by_id is not None:
        found = db.session.scalar(customers.filter_by(id=integration.created_by_id))
    if found is None:
        found = db.session.scalar(
            customers.order_by(
                User.last_sign_in_at.is_(None),
                User.last_sign_in_at.desc(),
                User.id,
            ).limit(1)
        )
    if found is None:
        return None
    language = language_of(found)
    return Addressee(
        found, mail.mask(found.email), language or DEFAULT_LANGUAGE, bool(language)
    )


def resume_letter(
    integration: Integration, link: str, language: str
) -> tuple[str, str]:
    """Return the subject and text of the e-mail with her link, in that language."""
    config = current_app.config
    brand = config["BRAND_NAME"]
    with force_locale(language):
        subject = gettext("Carry on setting up your %(brand)s integration", brand=brand)
        lines = [
            gettext("Hello,"),
            "",
            gettext(
                "%(brand)s support sent you this link to carry on setting up your "
                "Constant Contact integration where you left off:",
                brand=brand,
            ),
            "",
            link,
            "",
            gettext(
                "If it asks you to sign in, use your %(brand)s e-mail address.",
                brand=brand,
            ),
            *closing_lines(integration),
        ]
    return subject, "\n".join(lines) + "\n"


def closing_lines(integration: Integration) -> list[str]:
    """How every letter to a customer ends: her reference, support's phone, who
    signs (in the language of the force_locale block it is called in)."""
    config = current_app.config
    lines = [
        gettext(
            "Your support reference is %(reference)s: give it when you call us.",
            reference=integration.organization.reference_code,
        )
    ]
    if config.get("SUPPORT_PHONE"):
        lines.append(gettext("Phone: %(phone)s", phone=config["SUPPORT_PHONE"]))
    return [
        *lines,
        "",
        gettext("The %(brand)s support team", brand=config["BRAND_NAME"]),
    ]


def email_resume_link(
    integration: Integration, agent: User, to: Addressee, link: str
) -> bool:
    """E-mail her the link to where she left off; record it, sent or not.

    Returns False when no mail server is set (nothing sent, nothing recorded).
    :raise mail.MailError: it was not sent (recorded as failed).
    """
    subject, text = resume_letter(integration, link, to.language)
    reply_to = str(current_app.config.get("SUPPORT_EMAIL") or "")
    try:
        sent = mail.send(
            current_app, to=to.user.email, subject=subject, text=text, reply_to=reply_to
        )
    except mail.MailError as problem:
        audit.record(
            "support.email_link_failed",
            actor=agent,
            integration=integration,
            to=to.masked,
            problem=problem.reason,
        )
        raise
    if sent:
        audit.record(
            "support.emailed_link",
            actor=agent,
            integration=integration,
            to=to.masked,
            language=to.language,
        )
    return sent
