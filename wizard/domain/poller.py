"""Step 4's poller: one per serving process, asking Constant Contact about due
device codes in threads of its own, so no request ever waits on Constant Contact.

Every process runs one (gunicorn starts it in each worker; another server on its
first request), or a host runs `flask integrations poll --forever` instead. They
coordinate through the database only (polling.claim_due), so any number can run.
"""

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from wizard.domain import attempts
from wizard.domain import delivery
from wizard.domain import notices
from wizard.domain import polling
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.platform.threads import background
from wizard.platform.threads import name_this_thread

log = logging.getLogger(__name__)

EXTENSION = "wizard.poller"
# The longest a poller looks away: a code started on another worker or host is
# first asked about at most this long after it fell due.
LOOK_EVERY = 1.0

_starting = threading.Lock()


class Poller:
    """Claims due codes and asks about each in one of ``threads`` threads."""

    def __init__(self, app: Flask, threads: int) -> None:
        self.app = app
        self.threads = max(1, threads)
        self.slots = threading.BoundedSemaphore(self.threads)
        self.pool = ThreadPoolExecutor(
            self.threads,
            thread_name_prefix="poller",
            initializer=name_this_thread,
            initargs=("poll",),
        )
        self.stopped = threading.Event()
        self.pid = os.getpid()
        self.swept_at = 0.0
        self.loop = background("poller", self.run)

    def run(self) -> None:
        """Look for due codes until stopped; a failed look is logged, not fatal."""
        while not self.stopped.is_set():
            try:
                pause = self._round()
            except Exception:  # the database away, say: look again shortly
                log.exception("step 4 poller: looking for due codes failed")
                pause = LOOK_EVERY
            if pause > 0:
                self.stopped.wait(pause)

    def stop(self) -> None:
        """Stop looking and wait for the asks in flight to end."""
        self.stopped.set()
        if self.loop.is_alive():
            self.loop.join()
        self.pool.shutdown(wait=True)

    def _round(self) -> float:
        """Hand each free thread a due code; return how long to wait for the next."""
        free = self._take_slots()
        if not free:
            return 0.0
        with self.app.app_context():
            try:
                self._sweep()
                claimed, later = polling.claim_due(utcnow(), free)
            except Exception:
                self._give_back(free)
                raise
        self._give_back(free - len(claimed))
        for attempt_id in claimed:
            try:
                self.pool.submit(self._ask, attempt_id)
            except RuntimeError:  # the process is exiting: its claims run out
                self.stopped.set()
                return 0.0
        if len(claimed) == free:
            return 0.0  # perhaps more are due: look again once a thread is free
        if later is None:
            return LOOK_EVERY
        return min(LOOK_EVERY, max(0.0, (later - utcnow()).total_seconds()))

    def _sweep(self) -> None:
        """Close windows that passed, at most once per LOOK_EVERY: the Integrations
        page and support see it though her tab is closed."""
        if time.monotonic() - self.swept_at < LOOK_EVERY:
            return
        self.swept_at = time.monotonic()
        attempts.expire_due(utcnow())

    def _take_slots(self) -> int:
        """Wait (a while) for one free thread, then take every other free one."""
        if not self.slots.acquire(timeout=LOOK_EVERY):
            return 0
        taken = 1
        while taken < self.threads and self.slots.acquire(blocking=False):
            taken += 1
        return taken

    def _give_back(self, count: int) -> None:
        for _ in range(count):
            self.slots.release()

    def _ask(self, attempt_id: int) -> None:
        """Ask about one claimed code; deliver the notices its answer owes."""
        try:
            with self.app.app_context():
                polling.ask(attempt_id)
                if db.session.info.pop(notices.OWED, False):
                    delivery.deliver_due()
        except Exception:  # its claim runs out and another poller asks again
            log.exception("step 4 poller: asking about attempt %s failed", attempt_id)
        finally:
            self.slots.release()


def start(app: Flask) -> Poller | None:
    """Start this process's poller, once (again in a forked child); not in tests,
    which take the poller's turn themselves, nor where WIZARD_POLLER is off."""
    if not _runs_here(app):
        return None
    running = app.extensions.get(EXTENSION)
    if running is not None and running.pid == os.getpid():
        return running
    with _starting:
        running = app.extensions.get(EXTENSION)
        if running is not None and running.pid == os.getpid():
            return running
        poller = Poller(app, int(app.config["CC_POLLS_IN_FLIGHT"]))
        app.extensions[EXTENSION] = poller
        poller.loop.start()
        return poller


def init_app(app: Flask) -> None:
    """Start the poller with the first request a process serves, for servers that
    have no hook for it (gunicorn starts it in each worker as the worker starts)."""
    if not _runs_here(app):
        return

    @app.before_request
    def _poller_running() -> None:
        start(app)


def _runs_here(app: Flask) -> bool:
    """Say whether this app polls by itself: not in tests, not with POLLER off."""
    return not app.testing and bool(app.config["POLLER"])
