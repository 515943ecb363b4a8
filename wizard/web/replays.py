"""Send held contacts once a page has shown that the connection works again.

The sending runs after the answer has gone, in a thread of its own: the page never
waits on Constant Contact for it. A thread that dies (a worker restart) leaves its
claim to run out; the next replay, or `flask integrations replay` from cron, goes on.
"""

import logging
import threading

from flask import Flask
from flask import Response
from flask import after_this_request
from flask import current_app

from wizard.domain import held
from wizard.models import Integration
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
        thread = threading.Thread(
            target=_replay, args=(app, integration_id), daemon=True
        )
        response.call_on_close(thread.start)
        return response


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
