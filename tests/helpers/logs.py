"""Production's logging, set up in the test process and written into a buffer."""

import io
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from wizard.platform import logs


@contextmanager
def production_logging(kind: str) -> Iterator[io.StringIO]:
    """Set logging up as wsgi.py does (`logs.configure`), writing into a buffer."""
    buffer = io.StringIO()
    root = logging.getLogger()
    level = root.level
    stderr, sys.stderr = sys.stderr, buffer
    try:
        logs.configure(kind)  # its handler keeps the stream it was given: the buffer
    finally:
        sys.stderr = stderr
    try:
        yield buffer
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_wizard", False)]:
            root.removeHandler(handler)
        root.setLevel(level)
