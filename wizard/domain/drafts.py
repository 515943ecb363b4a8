"""Steps 1-3 as domain operations on an integration, from draft to created."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from wizard.domain import transitions
from wizard.models import Integration
from wizard.models import User
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.platform.i18n import N_
from wizard.status import SETTING_UP
from wizard.status import AppCheck
from wizard.status import Flow
from wizard.status import Status

# English message ids; pages translate them (step 4 names the brand).
STEP_TITLES = {
    1: N_("Get your API Key and Secret"),
    2: N_("Get your List ID"),
    3: N_("Create your integration"),
    4: N_("Authorize %(brand)s to use your Constant Contact"),
}
STEP_COUNT = 4
STEP_ENDPOINTS = {
    1: "setup.credentials",
    2: "setup.list_id",
    3: "setup.check",
    4: "authorize.before",
}


@dataclass(frozen=True)
class Step:
    """One of the four steps as a task: where it stands, when it was done, its page."""

    number: int
    title: str
    state: str  # completed, in_progress, not_started or cannot_start
    at: datetime | None
    endpoint: str | None


def new_creation_token() -> str:
    """Return a fresh one-time token for the Start now form."""
    return secrets.token_urlsafe(24)


def start_draft(user: User, token: str) -> tuple[Integration, bool]:
    """Return the draft started by this form token, creating it the first time.

    The token is a hidden form field, so it is whatever the browser sends. One that
    another organization's draft holds gets a fresh draft with a token of our own:
    theirs is neither shown nor touched.
    """
    if user.organization_id is None:
        raise ValueError("only customers of an organization create integrations")
    # Three reads at most: the other press's row, or another organization's token
    # once (then the fresh token's own try).
    for _ in range(3):
        holder = db.session.scalar(
            db.select(Integration).filter_by(creation_token=token)
        )
        if holder is not None and holder.organization_id == user.organization_id:
            return holder, False
        if holder is not None:
            token = new_creation_token()
        draft = Integration(
            organization_id=user.organization_id,
            created_by_id=user.id,
            creation_token=token,
        )
        try:
            # Added inside the savepoint, so a refused row leaves with it and the
            # transaction goes on.
            with db.session.begin_nested():
                db.session.add(draft)
        except IntegrityError:
            # The same form was sent twice at once: the other press made the row.
            continue
        return draft, True
    raise RuntimeError("the form token was refused three times")


def unfinished_drafts(organization_id: int) -> list[Integration]:
    """Return the organization's drafts, newest first."""
    return list(
        db.session.scalars(
            db.select(Integration)
            .filter_by(organization_id=organization_id, status=Status.DRAFT)
            .order_by(Integration.started_at.desc(), Integration.id.desc())
        )
    )


def keep_secret(integration: Integration, client_secret: str) -> None:
    """Save a Client Secret on its own (encrypted), e.g. beside a wrong API Key."""
    integration.client_secret = client_secret


def save_credentials(
    integration: Integration, *, api_key: str, client_secret: str | None
) -> None:
    """Save step 1's answers; an empty secret keeps the one already saved.

    A secret belongs to one application: a different API Key drops the old secret
    and what the app check said about the old app.
    """
    if integration.api_key is not None and integration.api_key != api_key:
        integration.client_secret = None
        integration.app_check = None
    if client_secret:
        integration.client_secret = client_secret
    integration.api_key = api_key
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
        integration.flow == Flow.AUTHORIZATION_CODE
        and integration.client_secret_encrypted is None
    )


def editable(integration: Integration) -> bool:
    """Return whether steps 1-2 may still change it: not connected, holds no tokens."""
    return integration.status in SETTING_UP and not integration.holds_tokens


def current_step(integration: Integration) -> int:
    """Return the first step not yet done (4 once the integration is created)."""
    if integration.api_key is None or secret_required(integration):
        return 1
    if integration.app_check and AppCheck(integration.app_check).blocks:
        return 1
    if integration.list_id is None:
        return 2
    if integration.is_draft:
        return 3
    return 4


def steps(integration: Integration, *, attempt_open: bool = False) -> list[Step]:
    """Return the four steps as a task list, for the customer and for support."""
    step = current_step(integration)
    done_at = [
        integration.api_key_saved_at,
        integration.list_id_saved_at,
        integration.created_at,
        integration.last_refreshed_at if integration.holds_tokens else None,
    ]
    rows = []
    for number in range(1, STEP_COUNT + 1):
        if number < step or (number == 4 and integration.holds_tokens):
            state = "completed"
        elif number > step:
            state = "cannot_start"
        elif number == 4 and (attempt_open or integration.is_authorizing):
            state = "in_progress"
        else:
            state = "not_started"
        # Steps 1 and 2 stay open to changes until step 3; later ones only when due.
        reachable = state != "cannot_start" and (number <= 2 or state != "completed")
        rows.append(
            Step(
                number=number,
                title=STEP_TITLES[number],
                state=state,
                at=done_at[number - 1] if state == "completed" else None,
                endpoint=STEP_ENDPOINTS[number] if reachable else None,
            )
        )
    return rows


def create(integration: Integration) -> bool:
    """Finish step 3; return False when it was already created (a second click)."""
    if current_step(integration) != 3:
        raise ValueError("steps 1 and 2 are not finished")
    return transitions.created(integration, name=default_name(integration))


def default_name(integration: Integration) -> str:
    """Name an integration after its list until the list's real name is known."""
    if integration.list_name:
        return integration.list_name
    return (
        f"Constant Contact list ending {integration.list_id[-4:]}"
        if integration.list_id
        else "Constant Contact"
    )
