"""gunicorn settings for tests that hold statements: production's, in sync workers.

A sync worker takes one request at a time, so two requests held at once are
provably in two processes; each worker reports its held statements to the test
named in TEST_STATEMENT_HOLD (tests/helpers/hold.py). Tests give gunicorn this
file's path (hold.HOLDING_GUNICORN); it runs with the repository as its directory.
"""

import runpy
from pathlib import Path
from typing import Any

from tests.helpers.hold import hold_from_environment
from wizard.platform.pool import engines

_production = runpy.run_path(
    str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py")
)
globals().update({k: v for k, v in _production.items() if not k.startswith("__")})
worker_class = "sync"
threads = 1  # more would make gunicorn switch to gthread


def post_worker_init(worker: Any) -> None:
    """Hold this worker's statements as the test asked."""
    hold_from_environment(engines(worker.wsgi))
