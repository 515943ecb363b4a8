"""Note where her browser is from her own page requests, for support's Right now.

A page of an integration that answered 200 to its customer is her presence there;
step 4's status checks (JSON, every few seconds) count as its page. The note is
written after the response has gone (call_on_close), in its own app context, and a
worker's memo skips it while the last one is fresh.
"""

import time
from datetime import timedelta

from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from flask import session

from wizard.domain import presence
from wizard.platform.columns import utcnow
from wizard.platform.i18n import N_

# endpoint -> (step, the page's own title); None: not a step of the four.
PAGES: dict[str, tuple[int | None, str]] = {
    "setup.create_app": (1, N_("Create your app in Constant Contact")),
    "setup.credentials": (1, N_("Paste your API Key")),
    "setup.list_id": (2, N_("Get your List ID")),
    "setup.check": (3, N_("Create your integration")),
    "authorize.before": (4, N_("Before you authorize")),
    "authorize.attempt": (4, N_("Allow access in Constant Contact")),
    "authorize.active": (None, N_("Your integration is now active!")),
    "integrations.change_list": (None, N_("Change List ID")),
    "integrations.test_connection": (None, N_("Test connection")),
    "integrations.disconnect": (None, N_("Disconnect")),
    "integrations.delete": (None, N_("Delete")),
}
# Requests a page makes while open, and the page that makes them.
MADE_BY = {
    "authorize.status": "authorize.attempt",
    "authorize.check_now": "authorize.attempt",
}
# Enough for every integration a worker sees between restarts; past it, start over.
MEMO_MOST = 10_000
MEMO = "wizard.presence"


def _due(integration_id: int, page: str, every: float) -> bool:
    """Say whether this worker should note the page now (and expect it noted)."""
    noted: dict[int, tuple[str, float]] = current_app.extensions[MEMO]
    last = noted.get(integration_id)
    now = time.monotonic()
    if last is not None and last[0] == page and now - last[1] < every:
        return False
    if len(noted) >= MEMO_MOST:
        noted.clear()
    noted[integration_id] = (page, now)
    return True


def _note_presence(response: Response) -> Response:
    """After her page or its status check answered, note it (if due) once sent."""
    page = MADE_BY.get(request.endpoint or "", request.endpoint)
    integration_id = (request.view_args or {}).get("integration_id")
    if response.status_code != 200 or page not in PAGES or integration_id is None:
        return response
    if "_user_id" not in session:
        return response
    every = current_app.config["PRESENCE_SECONDS"]
    if _due(integration_id, page, every):
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        now = utcnow()

        def note() -> None:
            with app.app_context():
                presence.note(integration_id, page, now, timedelta(seconds=every))

        response.call_on_close(note)
    return response


def init_app(app: Flask) -> None:
    """Note her presence after each of her integration's pages answers."""
    app.extensions[MEMO] = {}
    app.after_request(_note_presence)
