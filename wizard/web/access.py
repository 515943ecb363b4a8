"""Find records the signed-in person may see; anything else is 404."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec
from typing import TypeVar

from flask import abort
from flask import current_app
from flask import g
from flask import request
from flask_login import current_user
from sqlalchemy import ColumnElement
from sqlalchemy.orm import contains_eager

from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.platform.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def is_customer() -> bool:
    """Return whether a customer (not support staff) is signed in."""
    return current_user.is_authenticated and current_user.organization_id is not None


def own_integration(integration_id: int) -> Integration | None:
    """Return an integration of the signed-in customer's organization, or None."""
    if not is_customer():
        return None
    return db.session.scalar(
        db.select(Integration).filter_by(
            id=integration_id, organization_id=current_user.organization_id
        )
    )


def own_attempt(integration_id: int, attempt_id: int) -> AuthorizationAttempt | None:
    """Return the attempt with its integration, one query, if the customer's own."""
    if not is_customer():
        return None
    return db.session.scalar(
        db.select(AuthorizationAttempt)
        .join(AuthorizationAttempt.integration)
        .where(
            AuthorizationAttempt.id == attempt_id,
            AuthorizationAttempt.integration_id == integration_id,
            Integration.organization_id == current_user.organization_id,
        )
        .options(contains_eager(AuthorizationAttempt.integration))
    )


def own_attempt_and(
    integration_id: int, attempt_id: int, others: ColumnElement[bool]
) -> tuple[AuthorizationAttempt | None, list[AuthorizationAttempt]]:
    """Return the attempt and those of its integration matching ``others``, with
    the integration, in one query, if the customer's own."""
    if not is_customer():
        return None, []
    rows = db.session.scalars(
        db.select(AuthorizationAttempt)
        .join(AuthorizationAttempt.integration)
        .where(
            AuthorizationAttempt.integration_id == integration_id,
            Integration.organization_id == current_user.organization_id,
            db.or_(AuthorizationAttempt.id == attempt_id, others),
        )
        .options(contains_eager(AuthorizationAttempt.integration))
        .order_by(AuthorizationAttempt.id.desc())
    ).all()
    found = next((row for row in rows if row.id == attempt_id), None)
    return found, [row for row in rows if row.id != attempt_id]


def names_integration() -> bool:
    """Return whether the request's URL names an integration."""
    return "integration_id" in (request.view_args or {})


def pull_integration() -> None:
    """Load the integration the URL names into g.integration: the customer's, or None.

    Runs before each view of a blueprint (as flaskr loads g.user). None is not
    answered here but by customer_required, once the view's rate limits have counted
    the request: a stranger's presses are held like anyone's.
    """
    if names_integration():
        g.integration = own_integration(request.view_args["integration_id"])


def customer_required(view: Callable[P, R]) -> Callable[P, R]:
    """Let only signed-in customers through, to their own integrations; else 404."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if current_user.is_support or current_user.organization_id is None:
            abort(404)
        if names_integration() and g.get("integration") is None:
            # The URL names another organization's integration, or none at all.
            abort(404)
        return view(*args, **kwargs)

    return wrapped
