"""Add a contact to a connected list, or hold it while the connection cannot be used."""

from wizard.constant_contact.api import Person
from wizard.domain import audit
from wizard.domain import held
from wizard.domain import sending
from wizard.domain import tokens
from wizard.domain import transitions
from wizard.models import Integration
from wizard.platform.extensions import db

HELD = "held"


def add_contact(
    integration: Integration,
    email: str,
    *,
    consent: str,
    first_name: str = "",
    last_name: str = "",
) -> str:
    """Add or update a contact on the integration's list: "created", "updated", or
    "held" when the connection cannot be used now (sent once it can).

    Constant Contact applies the account's opt-in rules. ``consent`` records how the
    person agreed (kept with a held contact and in the audit trail, never sent to
    Constant Contact). Raises ContactRefused when Constant Contact refuses the
    contact itself, ConnectionProblem when the integration is not connected.
    """
    if not consent.strip():
        raise ValueError("say how the contact agreed to be added")
    if not integration.holds_tokens:
        raise tokens.ConnectionProblem("not_connected", integration.flow)
    person = Person(email.strip(), first_name, last_name)
    reason = held.reason_to_hold(integration)
    if reason is None:
        try:
            action = sending.send(integration, person)
        except tokens.ConnectionProblem as problem:
            if problem.code == "not_connected":
                raise  # disconnected meanwhile: nothing to send it to later
            reason = problem.code
    if reason is not None:
        held.hold(integration, person, consent, reason)
        return HELD
    if not integration.is_active:
        transitions.working(integration)
    audit.record(
        "contact.added",
        integration=integration,
        outcome=action,
        email_domain=person.email.rpartition("@")[2],
        consent=consent[:200],
    )
    db.session.commit()
    return action
