"""Rate limits the blueprints share: presses that call Constant Contact."""

from flask import current_app
from flask import request
from flask_login import current_user

from wizard.platform.extensions import limiter


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
