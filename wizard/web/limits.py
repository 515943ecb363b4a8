"""Rate limits the blueprints share: presses that call Constant Contact."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec
from typing import TypeVar

from flask import current_app
from flask import request
from flask_login import current_user

from wizard.platform.extensions import limiter

P = ParamSpec("P")
R = TypeVar("R")


def on_posts(
    limit: Callable[[Callable[P, R]], Callable[P, R]],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Count a page's POSTs with this limit (given methods=["POST"]); its GETs skip
    Flask-Limiter altogether.

    The limit alone would let a GET through too, but only after resolving and
    filtering the view's limits: a tenth of the sign-in page's time.
    """

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        limited = limit(view)

        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if request.method == "POST":
                return limited(*args, **kwargs)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _connection_action_limit() -> str:
    return current_app.config["CONNECTION_ACTION_RATE_LIMIT"]


def integration_and_presser() -> str:
    """Count per integration and per organization pressing (support counts as one).

    Another organization's presses end in a 404 and are counted apart, so they
    never use up the owner's. Counted before the view, so presses at once cannot
    all slip in before the first is counted.
    """
    integration_id = (request.view_args or {}).get("integration_id")
    if getattr(current_user, "is_support", False):
        presser = "support"
    else:
        presser = f"organization:{getattr(current_user, 'organization_id', None)}"
    return f"integration:{integration_id}:{presser}"


# Each of these calls Constant Contact in the integration's shared 4-a-second slots:
# one count for all of them, so a flood is refused before it books any slot.
connection_action_limit = limiter.shared_limit(
    _connection_action_limit,
    scope="connection-action",
    key_func=integration_and_presser,
    methods=["POST"],
)

# Change List ID reads the account's lists from Constant Contact to show them: its
# page counts with the presses, or reloading it could take the same slots.
connection_page_limit = limiter.shared_limit(
    _connection_action_limit,
    scope="connection-action",
    key_func=integration_and_presser,
    methods=["GET", "POST"],
)
