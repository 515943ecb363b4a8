"""This worker's board of step 4's waiting codes, read once a second at most.

A status ticket alone vouches for an attempt until its next poll; after it, the
ticket is checked against the board: an attempt still on it, with the same note,
is still waiting, so the check reads no row of its own. Anything else that happens
to an attempt (allowed, denied, replaced by a new try, another code allowed, a new
note) takes it off the board or changes its note, and the check reads its rows
instead. So at 2,000 people waiting a worker reads the board once a second, not 400
rows.
"""

import threading
import time

from flask import Flask
from flask import current_app

from wizard.domain import attempts
from wizard.platform.columns import utcnow

EXTENSION = "wizard.status_board"
_OFF = object()  # not on the board (a waiting note's code may be None)


class Board:
    """The waiting attempts and their notes' codes, as read at ``read_at``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.read_at = float("-inf")
        self.codes: dict[int, str | None] = {}

    def vouches(self, attempt_id: int, code: str | None, fresh: float) -> bool:
        """Return whether the attempt still waits with this note, as read at most
        ``fresh`` seconds ago (read again first if older)."""
        # One thread reads while the worker's others wait for it: one query a second.
        with self.lock:
            if time.monotonic() - self.read_at >= fresh:
                began = time.monotonic()  # what is read is at least this fresh
                self.codes = attempts.waiting_codes(utcnow())
                self.read_at = began
            return self.codes.get(attempt_id, _OFF) == code


def vouches(attempt_id: int, code: str | None) -> bool:
    """Return whether this app's board says the attempt waits with this note."""
    app = current_app
    board: Board = app.extensions[EXTENSION]
    return board.vouches(attempt_id, code, float(app.config["STATUS_BOARD_SECONDS"]))


def init_app(app: Flask) -> None:
    """Give the app its board (one per process: each worker reads its own)."""
    app.extensions[EXTENSION] = Board()
