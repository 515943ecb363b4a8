"""What step 4's views share: loading the attempt (and the codes still listened to)."""

from flask import g
from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from wizard.domain import listening
from wizard.platform.columns import utcnow
from wizard.web.access import own_attempt
from wizard.web.access import own_attempt_and
from wizard.web.access import pull_integration


def load_attempt() -> None:
    """Load the URL's attempt and integration into g: the customer's, or None."""
    values = request.view_args or {}
    if "attempt_id" not in values:
        pull_integration()
        return
    g.attempt = own_attempt(values["integration_id"], values["attempt_id"])
    g.integration = g.attempt.integration if g.attempt else None


def load_attempt_and_codes() -> None:
    """Load as load_attempt does, and into g.codes the integration's other codes
    still listened to: one query, for the status checks a page repeats."""
    values = request.view_args or {}
    g.attempt, g.codes = own_attempt_and(
        values["integration_id"], values["attempt_id"], listening.clause(utcnow())
    )
    g.integration = g.attempt.integration if g.attempt else None


def attempt_page(integration_id: int, attempt_id: int) -> ResponseReturnValue:
    """Go to the attempt's page."""
    return redirect(
        url_for(".attempt", integration_id=integration_id, attempt_id=attempt_id)
    )
