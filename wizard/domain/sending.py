"""Send one contact to the connection's list, and say what stopped it if it failed."""

from wizard.constant_contact.api import Person
from wizard.constant_contact.http import ProviderError
from wizard.domain import verification
from wizard.models import Integration

REFUSED_CONTACT = frozenset({"bad_request"})


class ContactRefused(ValueError):
    """Constant Contact refused the contact itself (say, not a valid address)."""


def send(integration: Integration, person: Person) -> str:
    """Create or update the person on the list: "created" or "updated".

    Raises ConnectionProblem when the connection is what failed (its status is
    recorded), ContactRefused when the list is there and the contact was refused.
    """
    list_id = integration.list_id or ""
    try:
        return verification.call_recorded(
            integration,
            lambda client, token: client.sign_up(token, list_id, person),
            passes=REFUSED_CONTACT,
        )
    except ProviderError as error:
        # A refused sign-up names no reason we can trust: a list deleted since
        # looks the same as a bad address. Reading the list tells them apart (and
        # records what it finds, raising if the list is the problem).
        verification.check(integration)
        raise ContactRefused(
            error.description or "Constant Contact refused this contact."
        ) from error
