"""The only functions that change a connection's status after it is created."""

from wizard.constant_contact import api
from wizard.constant_contact.http import ProviderError
from wizard.domain import audit
from wizard.domain.problems import connection_problem
from wizard.domain.problems import problem_for
from wizard.models import Integration
from wizard.status import Status


def connected_to(
    integration: Integration, found: api.ContactList, *, rename: bool
) -> None:
    """Record the verified list and call the integration active."""
    if rename:
        integration.name = found.name[:200]
    integration.list_name = found.name[:255]
    integration.list_member_count = found.member_count
    integration.status = Status.ACTIVE
    integration.last_error_code = None
    integration.last_error_message = None


def record_check_failure(integration: Integration, error: ProviderError) -> None:
    """Record why using the connection failed, and the status that follows from it.

    A passing failure (timeout, 5xx, 429) leaves a working connection's status alone
    but is shown beside it; anything else says what is wrong.
    """
    code = "list_not_found" if error.code == "not_found" else error.code
    if code in ("list_not_found", "list_deleted"):
        integration.status = Status.LIST_NOT_FOUND
    elif code in (
        "unauthorized",
        "invalid_grant",
        "invalid_client",
        "unreadable",
        "forbidden",
    ):
        integration.status = Status.NEEDS_REAUTHORIZATION
    elif integration.status in (Status.ACTIVE, Status.FAILING) and (
        error.transient or code == "quota_exceeded"
    ):
        # Never "Active" while calls fail; the next good call makes it active again.
        integration.status = Status.FAILING
    else:
        integration.status = Status.UNVERIFIED
    integration.last_error_code = code
    integration.last_error_message = problem_for(code, integration.flow).text_en
    audit.record("connection.check_failed", integration=integration, error=code)


def mark_broken(integration: Integration, code: str) -> None:
    """Record that Constant Contact refused the connection: re-authorizing helps."""
    integration.status = Status.NEEDS_REAUTHORIZATION
    integration.last_error_code = code
    integration.last_error_message = connection_problem(code, integration.flow).text_en
    audit.record(
        "connection.needs_reauthorization", integration=integration, error=code
    )


def working(integration: Integration) -> None:
    """A call just worked: the connection is active again.

    Unless Constant Contact refused to renew it: the access token in hand still
    works, but only until it runs out, and only authorizing again mends that.
    """
    if integration.status == Status.NEEDS_REAUTHORIZATION:
        return
    integration.status = Status.ACTIVE
    integration.last_error_code = None
    integration.last_error_message = None
