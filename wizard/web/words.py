"""What templates say about integrations and attempts, in the reader's language."""

from flask import Flask
from flask_babel import gettext

from wizard.domain import audit
from wizard.domain import drafts
from wizard.domain.problems import connection_problem
from wizard.models import Integration
from wizard.platform.i18n import N_

STATUS_WORDS = {
    "draft": N_("Setup not finished"),
    "created": N_("Waiting for authorization"),
    "authorizing": N_("Authorizing"),
    "active": N_("Active"),
    "list_not_found": N_("List not found"),
    "unverified": N_("Authorized, not yet checked"),
    "failing": N_("Not working right now"),
    "needs_reauthorization": N_("Needs re-authorization"),
    "disconnected": N_("Disconnected"),
}
OUTCOME_WORDS = {
    "approved": N_("Access allowed"),
    "failed": N_("Failed"),
    "expired": N_("Time ran out"),
    "replaced": N_("Replaced by a newer code"),
}


def status_words(status: str) -> str:
    """Say an integration's status in words."""
    if status in STATUS_WORDS:
        return gettext(STATUS_WORDS[status])
    return status.replace("_", " ").capitalize()


def outcome_words(outcome: str) -> str:
    """Say how an authorization attempt ended, in words."""
    return gettext(OUTCOME_WORDS[outcome]) if outcome in OUTCOME_WORDS else outcome


def error_words(integration: Integration) -> str:
    """Say the integration's last problem in the reader's language, from its code."""
    if integration.last_error_code:
        return connection_problem(integration.last_error_code, integration.flow).text
    return integration.last_error_message or ""


def current_step(integration: Integration) -> int:
    """Return the step an integration is on, for templates."""
    return drafts.current_step(integration)


def init_app(app: Flask) -> None:
    """Give templates the filters and the step they read."""
    app.add_template_filter(status_words)
    app.add_template_filter(outcome_words)
    app.add_template_filter(error_words)
    app.add_template_filter(audit.describe, "activity")
    app.add_template_global(current_step)
