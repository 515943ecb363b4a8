"""Work a page sets off, done after its answer has gone, in a thread of its own:
held contacts once the connection works again, and notices a status change owed.

The page never waits on Constant Contact, a mail server or a webhook receiver for
it. A thread that dies (a worker restart) leaves its claim to run out; the next
page, or `flask integrations replay` from cron, goes on.
"""

import logging
from collections.abc import Callable

from flask import Flask
from flask import Response
from flask import after_this_request
from flask import current_app

from wizard.domain import delivery
from wizard.domain import held
from wizard.domain import notices
from wizard.models import Integration
from wizard.platform import threads
from wizard.platform.extensions import db

log = logging.getLogger(__name__)


def replay_after_response(integration: Integration) -> None:
    """If the integration holds contacts, send them once this answer has gone."""
    if not integration.is_active or not held.waiting(integration.id):
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    integration_id = integration.id

    @after_this_request
    def later(response: Response) -> Response:
        _after(response, _replay, app, integration_id)
        return response


def _after(response: Response, work: Callable[..., None], *args: object) -> None:
    """Start the work in a thread once the response has been sent."""
    response.call_on_close(threads.background("after-answer", work, *args).start)


def _deliver_owed(response: Response) -> Response:
    """If this request owed notices (a connection broke), deliver them afterwards."""
    # registry.has(): a request that never opened a session (a static file) makes none.
    if db.session.registry.has() and db.session.info.pop(notices.OWED, False):
        _after(response, _deliver, current_app._get_current_object())  # type: ignore[attr-defined]
    return response


def _deliver(app: Flask) -> None:
    """Deliver the notices that are due (a thread of its own, its own session)."""
    with app.app_context():
        try:
            done = delivery.deliver_due()
        except Exception:  # a thread's failure must not pass unseen
            log.exception("notices not delivered")
            return
        log.info("notices: %s sent, %s retrying", done.sent, done.retrying)


def init_app(app: Flask) -> None:
    """Deliver owed notices after each answer that owed some."""
    app.after_request(_deliver_owed)


def _replay(app: Flask, integration_id: int) -> None:
    """Send the integration's held contacts (a thread of its own, its own session)."""
    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        if integration is None:
            return
        try:
            done = held.replay(integration)
        except Exception:  # a thread's failure must not pass unseen
            log.exception("held contacts of integration %s not sent", integration_id)
            return
        log.info(
            "held contacts of integration %s: %s sent, %s refused, %s left",
            integration_id,
            done.sent,
            done.refused,
            done.left,
        )
