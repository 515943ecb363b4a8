"""Find records the signed-in person may see; anything else is 404."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec
from typing import TypeVar

from flask import abort
from flask import current_app
from flask_login import current_user

from wizard.models import Integration
from wizard.platform.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def organization_integration_or_404(integration_id: int) -> Integration:
    """Return an integration of the signed-in customer's organization, or 404."""
    integration = db.session.scalar(
        db.select(Integration).filter_by(
            id=integration_id, organization_id=current_user.organization_id
        )
    )
    if integration is None or current_user.organization_id is None:
        abort(404)
    return integration


def customer_required(view: Callable[P, R]) -> Callable[P, R]:
    """Let only signed-in customers through; support staff get 404 here."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if current_user.is_support or current_user.organization_id is None:
            abort(404)
        return view(*args, **kwargs)

    return wrapped
