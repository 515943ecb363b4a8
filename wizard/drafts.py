"""Steps 1-3 as domain operations on an integration, from draft to created."""

from .models import STATUS_CREATED
from .models import STATUS_DRAFT
from .models import Integration
from .models import User
from .models import utcnow

STEP_TITLES = {
    1: "Get your API Key and Secret",
    2: "Get your List ID",
    3: "Create your integration",
    4: "Authorize {brand} to use your Constant Contact",
}
STEP_COUNT = 4


def new_draft(user: User) -> Integration:
    """Start a draft integration for the user's organization (not yet added)."""
    if user.organization_id is None:
        raise ValueError("only customers of an organization create integrations")
    return Integration(
        organization_id=user.organization_id, created_by_id=user.id, status=STATUS_DRAFT
    )


def save_credentials(
    integration: Integration, *, flow: str, api_key: str, client_secret: str | None
) -> None:
    """Save step 1's answers; an empty secret keeps the one already saved."""
    integration.flow = flow
    integration.api_key = api_key
    if client_secret:
        integration.client_secret = client_secret
    integration.api_key_saved_at = utcnow()


def save_list_id(integration: Integration, list_id: str, *, from_url: bool) -> None:
    """Save step 2's List ID, forgetting what was verified about an older list."""
    if integration.list_id != list_id:
        integration.list_name = None
        integration.list_member_count = None
    integration.list_id = list_id
    integration.list_id_from_url = from_url
    integration.list_id_saved_at = utcnow()


def secret_required(integration: Integration) -> bool:
    """Return whether the flow needs a Client Secret that is still missing."""
    return (
        integration.flow == "authorization_code"
        and integration.client_secret_encrypted is None
    )


def current_step(integration: Integration) -> int:
    """Return the first step not yet done (4 once the integration is created)."""
    if integration.api_key is None or secret_required(integration):
        return 1
    if integration.list_id is None:
        return 2
    if integration.status == STATUS_DRAFT:
        return 3
    return 4


def create(integration: Integration) -> bool:
    """Finish step 3; return False when it was already created (a second click)."""
    if integration.status != STATUS_DRAFT:
        return False
    if current_step(integration) != 3:
        raise ValueError("steps 1 and 2 are not finished")
    integration.status = STATUS_CREATED
    integration.created_at = utcnow()
    integration.name = default_name(integration)
    return True


def default_name(integration: Integration) -> str:
    """Name an integration after its list until the list's real name is known."""
    if integration.list_name:
        return integration.list_name
    return (
        f"Constant Contact list ending {integration.list_id[-4:]}"
        if integration.list_id
        else "Constant Contact"
    )
