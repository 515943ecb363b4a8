"""This worker's board of step 4's waiting codes, read once a second at most.

A status ticket alone vouches for an attempt until its next poll; after it, the
ticket is checked against the board: an attempt still on it, with the same note
and window, is still waiting, so the check reads no row of its own. Anything else
that happens to an attempt (allowed, denied, replaced by a new try, another code
allowed, a new note) takes it off the board or changes it, and the check reads its
rows instead. So at 2,000 people waiting a worker reads the board once a second,
not 400 rows.
"""

import threading
import time
from datetime import datetime

from flask import Flask
from flask import current_app

from wizard.domain import attempts
from wizard.platform.columns import utcnow

EXTENSION = "wizard.status_board"
_OFF = object()  # not on the board (a waiting note's code may be None)


def mark(moment: datetime) -> str:
    """Return a moment as tickets carry it and the board compares it."""
    return f"{moment.timestamp():.3f}"


class Board:
    """The waiting attempts, each with its note's code and its window's end (as a
    ticket marks it), as read at ``read_at``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.read_at = float("-inf")
        self.codes: dict[int, tuple[str | None, str]] = {}

    def vouches(
        self, attempt_id: int, code: str | None, ends: str, fresh: float
    ) -> bool:
        """Return whether the attempt still waits with this note and window, as read
        at most ``fresh`` seconds ago (read again first if older)."""
        # One thread reads while the worker's others wait for it: one query a second.
        with self.lock:
            if time.monotonic() - self.read_at >= fresh:
                began = time.monotonic()  # what is read is at least this fresh
                read = attempts.waiting_codes(utcnow())
                self.codes = {
                    attempt: (note, mark(window))
                    for attempt, (note, window) in read.items()
                }
                self.read_at = began
            return self.codes.get(attempt_id, _OFF) == (code, ends)


def vouches(attempt_id: int, code: str | None, ends: str) -> bool:
    """Return whether this app's board says the attempt waits with this note and
    window (``ends``, as marked)."""
    app = current_app
    board: Board = app.extensions[EXTENSION]
    fresh = float(app.config["STATUS_BOARD_SECONDS"])
    return board.vouches(attempt_id, code, ends, fresh)


def init_app(app: Flask) -> None:
    """Give the app its board (one per process: each worker reads its own)."""
    app.extensions[EXTENSION] = Board()
