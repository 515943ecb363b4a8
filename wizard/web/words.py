"""What templates say about integrations and attempts, in the reader's language."""

from flask import Flask
from flask_babel import gettext

from wizard.domain import audit
from wizard.domain import drafts
from wizard.domain.problems import connection_problem
from wizard.models import Integration
from wizard.platform.i18n import N_
from wizard.status import Outcome
from wizard.status import Status

STATUS_WORDS = {
    Status.DRAFT: N_("Setup not finished"),
    Status.CREATED: N_("Waiting for authorization"),
    Status.AUTHORIZING: N_("Authorizing"),
    Status.ACTIVE: N_("Active"),
    Status.LIST_NOT_FOUND: N_("List not found"),
    Status.UNVERIFIED: N_("Authorized, not yet checked"),
    Status.FAILING: N_("Not working right now"),
    Status.NEEDS_REAUTHORIZATION: N_("Needs re-authorization"),
    Status.DISCONNECTED: N_("Disconnected"),
}
OUTCOME_WORDS = {
    Outcome.APPROVED: N_("Access allowed"),
    Outcome.FAILED: N_("Failed"),
    Outcome.EXPIRED: N_("Time ran out"),
    Outcome.REPLACED: N_("Replaced by a newer code"),
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


def activation_code(code: str | None) -> str:
    """Write an activation code one way everywhere: ABCD-WXYZ, as Constant Contact
    shows it (a code of another length as it came)."""
    code = code or ""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 and code.isalnum() else code


def current_step(integration: Integration) -> int:
    """Return the step an integration is on, for templates."""
    return drafts.current_step(integration)


def init_app(app: Flask) -> None:
    """Give templates the filters and the step they read."""
    app.add_template_filter(status_words)
    app.add_template_filter(outcome_words)
    app.add_template_filter(error_words)
    app.add_template_filter(activation_code)
    app.add_template_filter(audit.describe, "activity")
    app.add_template_global(current_step)
