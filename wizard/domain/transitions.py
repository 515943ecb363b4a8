"""The only functions that change an integration's status, each one transition.

Which status a failure or a success leads to is decided in wizard/status.py; these
functions write it, with the error fields and the audit event that go with it.
"""

from wizard.constant_contact import api
from wizard.constant_contact.http import ProviderError
from wizard.domain import audit
from wizard.domain import notices
from wizard.domain.problems import connection_problem
from wizard.domain.problems import problem_for
from wizard.models import Integration
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.status import RENEWAL_REFUSED
from wizard.status import Status
from wizard.status import after_failure
from wizard.status import after_success
from wizard.status import list_code


def created(integration: Integration, *, name: str) -> bool:
    """Draft to created (step 3), once: False if another request created it first."""
    # A conditional UPDATE, so two requests at once cannot both create it.
    now = utcnow()
    result = db.session.execute(
        db.update(Integration)
        .where(Integration.id == integration.id, Integration.status == Status.DRAFT)
        .values(status=Status.CREATED, created_at=now, updated_at=now, name=name)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(integration)
    return result.rowcount == 1


def authorizing(integration: Integration) -> None:
    """Step 4 started: authorizing, unless a connection is in place already."""
    if not integration.holds_tokens:
        # A connected integration keeps its own status until new tokens prove out.
        _become(integration, Status.AUTHORIZING)


def stopped_authorizing(integration: Integration, *, others_open: bool) -> None:
    """An attempt ended without tokens: with none other open, wait for one again."""
    if (
        integration.status == Status.AUTHORIZING
        and not integration.holds_tokens
        and not others_open
    ):
        _become(integration, Status.CREATED)


def authorized(integration: Integration) -> None:
    """Tokens are saved: authorized, its list not checked yet."""
    _become(integration, Status.UNVERIFIED)
    integration.last_error_code = None
    integration.last_error_message = None


def connected_to(
    integration: Integration, found: api.ContactList, *, rename: bool
) -> None:
    """Record the verified list and call the integration active."""
    if rename:
        integration.name = found.name[:200]
    integration.list_name = found.name[:255]
    integration.list_member_count = found.member_count
    _become(integration, Status.ACTIVE)
    integration.last_error_code = None
    integration.last_error_message = None


def record_check_failure(integration: Integration, error: ProviderError) -> None:
    """Record why using the connection failed, and the status that follows from it."""
    code = list_code(error.code)
    _become(
        integration,
        after_failure(integration.status, code, transient=error.transient),
    )
    integration.last_error_code = code
    integration.last_error_message = problem_for(code, integration.flow).text_en
    audit.record("connection.check_failed", integration=integration, error=code)


def mark_broken(integration: Integration, code: str) -> None:
    """Record that Constant Contact refused the connection: re-authorizing helps."""
    _become(integration, Status.NEEDS_REAUTHORIZATION)
    integration.last_error_code = code
    integration.last_error_message = connection_problem(code, integration.flow).text_en
    audit.record(
        "connection.needs_reauthorization", integration=integration, error=code
    )


def refresh_failed(integration: Integration, error: ProviderError) -> None:
    """A refresh failed: broken if Constant Contact refused it, else a check failure."""
    if error.code in RENEWAL_REFUSED:
        mark_broken(integration, error.code)
    else:
        record_check_failure(integration, error)  # "Not working right now", not Active


def working(integration: Integration) -> None:
    """A call just worked: active again, unless renewing it was refused."""
    if after_success(integration.status) != Status.ACTIVE:
        return
    _become(integration, Status.ACTIVE)
    integration.last_error_code = None
    integration.last_error_message = None


def disconnected(integration: Integration) -> None:
    """The tokens are revoked and erased: disconnected, with no error left over."""
    _become(integration, Status.DISCONNECTED)
    integration.last_error_code = None
    integration.last_error_message = None


def _become(integration: Integration, status: Status) -> None:
    """Write the status, and owe the notices its change calls for (every status
    written here passes through this one place)."""
    before, integration.status = integration.status, status
    notices.status_changed(integration, before)
