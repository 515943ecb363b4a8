"""Gunicorn settings for production; `gunicorn wsgi:app` reads this file itself.

Each value can be changed without editing the file: WEB_CONCURRENCY (workers),
WIZARD_THREADS, WIZARD_BIND, WIZARD_LOG_FORMAT=json. Command-line flags win over both.
"""

import multiprocessing
import os

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
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
# Access lines without query strings or referrers (they can carry OAuth codes).
accesslog = "-"
logger_class = "wizard.serving.AccessLogger"
