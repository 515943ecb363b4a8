"""Gunicorn settings for production; `gunicorn wsgi:app` reads this file itself.

Each value can be changed without editing the file: WEB_CONCURRENCY (workers),
WIZARD_THREADS, WIZARD_BIND, WIZARD_LOG_FORMAT=json. Command-line flags win over both.
"""

import gc
import multiprocessing
import os
from typing import Any

bind = os.environ.get("WIZARD_BIND", "127.0.0.1:5000")
# Requests mostly wait on the database or Constant Contact, so threads help; memory
# grows per process, not per thread.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = int(os.environ.get("WIZARD_THREADS", "4"))
# Longer than the slowest request can legitimately take: each call to Constant Contact
# stops at CC_HTTP_TIMEOUT_SECONDS (10 s), all of one request's at
# CC_REQUEST_BUDGET_SECONDS (25 s); tests/test_faults.py holds the two below this.
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound. Not
# often: a restart drops its kept-alive connections and its memos, and step 4's
# status checks (one per waiting page every 2.5 s) reached 5,000 a worker within
# seconds at 2,000 waiting (bench/README.md: 485 -> 648 requests a second).
max_requests = 50000
max_requests_jitter = 5000
# Access lines without query strings or referrers (they can carry OAuth codes).
accesslog = "-"
logger_class = "wizard.platform.serving.AccessLogger"
# Build the app once in the master: workers share its pages (copy-on-write) instead
# of each importing and compiling it again. Code changes need a restart, not a HUP.
preload_app = True


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Stop glibc giving each thread its own heap arena: they fragment and hold memory.

    The same as MALLOC_ARENA_MAX=2 in the environment; set here so that no one has
    to remember it. Workers forked from this master inherit it.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        ctypes.CDLL(name).mallopt(-8, arenas)  # -8 is M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc
        pass


_limit_malloc_arenas()


def when_ready(server: Any) -> None:
    """Warn in the log when these settings make the rate limits weaker than set.

    Only here are both known: the app's settings and how gunicorn serves it (how many
    workers, and whether it speaks HTTPS itself).
    """
    from wizard.platform import deployment

    app = server.app.wsgi()
    # Only the wizard has these settings (the bench serves a bare Flask app too).
    if "PUBLIC_BASE_URL" in getattr(app, "config", {}):
        deployment.warn_at_start(app, server.cfg.workers, bool(server.cfg.is_ssl))


def on_starting(server: Any) -> None:
    """Build the templates, translations and mappers once, in the master."""
    if not server.cfg.preload_app:
        return
    app = server.app.wsgi()
    if "POLLER" not in getattr(app, "config", {}):
        return  # not the wizard
    from wizard.platform import serving

    serving.warm(app)


def pre_fork(server: Any, worker: Any) -> None:
    """Freeze the preloaded app's objects out of the garbage collector's sight.

    Collections in a worker would otherwise write to every page holding them, and
    each write turns a page shared with the master into the worker's own copy.
    """
    gc.freeze()


def post_fork(server: Any, worker: Any) -> None:
    """Give each worker its own database connections, none inherited from the master."""
    if not server.cfg.preload_app:
        return
    app = worker.app.wsgi()
    sqlalchemy = getattr(app, "extensions", {}).get("sqlalchemy")
    if sqlalchemy is None:
        return
    with app.app_context():
        for engine in sqlalchemy.engines.values():
            # close=False: the master's sockets (if any) stay the master's.
            engine.dispose(close=False)


def post_worker_init(worker: Any) -> None:
    """Start step 4's poller in each worker as it starts, before any request comes."""
    app = worker.wsgi
    if "POLLER" not in getattr(app, "config", {}):
        return  # not the wizard
    from wizard.domain import poller

    poller.start(app)
