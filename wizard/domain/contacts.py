"""Add a contact to a connected list."""

from wizard.constant_contact.api import Person
from wizard.constant_contact.http import ProviderError
from wizard.domain import audit
from wizard.domain import pacing
from wizard.domain import tokens
from wizard.domain import transitions
from wizard.domain import verification
from wizard.models import Integration
from wizard.platform.extensions import db
from wizard.status import list_code


def add_contact(
    integration: Integration,
    email: str,
    *,
    consent: str,
    first_name: str = "",
    last_name: str = "",
) -> str:
    """Add or update a contact on the integration's list: "created" or "updated".

    Constant Contact applies the account's opt-in rules. ``consent`` records how the
    person agreed (it goes to the audit trail, never to Constant Contact).
    """
    if not consent.strip():
        raise ValueError("say how the contact agreed to be added")
    list_id = integration.list_id or ""
    person = Person(email, first_name, last_name)
    try:
        action = pacing.call_with_token(
            integration, lambda client, token: client.sign_up(token, list_id, person)
        )
    except ProviderError as error:
        code = list_code(error.code)
        verification.record_failure(integration, code)
        raise tokens.ConnectionProblem(code, integration.flow) from error
    if not integration.is_active:
        transitions.working(integration)
    audit.record(
        "contact.added",
        integration=integration,
        outcome=action,
        email_domain=email.rpartition("@")[2],
        consent=consent[:200],
    )
    db.session.commit()
    return action
