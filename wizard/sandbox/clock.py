"""The one clock every expiry check reads, shiftable by the test control API."""

import time
from datetime import UTC
from datetime import datetime

from flask import current_app


def now() -> float:
    """Return the sandbox's current time in epoch seconds (real time plus offset)."""
    return time.time() + current_app.extensions["cc_sandbox"].clock_offset


def utcnow() -> datetime:
    """Return the sandbox's current time as a naive UTC datetime (SQLite-friendly)."""
    return datetime.fromtimestamp(now(), UTC).replace(tzinfo=None)
