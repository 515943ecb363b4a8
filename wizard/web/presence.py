"""Note where her browser is from her own page requests, for support's Right now.

A page of an integration that answered 200 to its customer is her presence there;
step 4's status checks (JSON, every few seconds) count as its page. The note is
kept in memory and written by a thread of the worker's own, once a second, all of
the worker's notes in one statement (in tests, right after the answer has gone); a
worker's memo skips a note while the last one is fresh.
"""

import logging
import os
import threading
import time
from datetime import datetime
from datetime import timedelta

from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from flask import session

from wizard.domain import presence
from wizard.platform import threads
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
NOTES = "wizard.presence_notes"
# How often a worker writes the notes it kept: her page shows in Right now this
# much later at most, and 2,000 pages open cost one statement a second, not 800.
WRITE_EVERY = 1.0
log = logging.getLogger(__name__)


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


class Notes:
    """This process's presence notes not yet written, and the thread that writes
    them together once a second (in tests, right after each answer)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.waiting: dict[int, tuple[str, datetime]] = {}
        self.writer_pid = 0

    def add(self, integration_id: int, page: str, at: datetime) -> None:
        """Keep a note to write with the next batch."""
        with self.lock:
            self.waiting[integration_id] = (page, at)
            if self.writer_pid != os.getpid() and not self.app.testing:
                self.writer_pid = os.getpid()
                threads.background("presence", self._write_often).start()

    def write(self) -> None:
        """Write the notes kept so far, in one statement."""
        with self.lock:
            notes, self.waiting = self.waiting, {}
        if notes:
            every = timedelta(seconds=self.app.config["PRESENCE_SECONDS"])
            with self.app.app_context():
                presence.note(notes, every)

    def _write_often(self) -> None:
        pause = threading.Event()
        while not pause.wait(WRITE_EVERY):
            try:
                self.write()
            except Exception:  # the thread must outlive one bad write
                log.exception("presence notes not written")


def _note_presence(response: Response) -> Response:
    """After her page or its status check answered, keep a note (if due)."""
    page = MADE_BY.get(request.endpoint or "", request.endpoint)
    integration_id = (request.view_args or {}).get("integration_id")
    if response.status_code != 200 or page not in PAGES or integration_id is None:
        return response
    if "_user_id" not in session:
        return response
    if _due(integration_id, page, current_app.config["PRESENCE_SECONDS"]):
        notes: Notes = current_app.extensions[NOTES]
        notes.add(integration_id, page, utcnow())
        if current_app.testing:
            response.call_on_close(notes.write)
    return response


def init_app(app: Flask) -> None:
    """Note her presence after each of her integration's pages answers."""
    app.extensions[MEMO] = {}
    app.extensions[NOTES] = Notes(app)
    app.after_request(_note_presence)
