"""Hold an app's SQL statements, in this process or in gunicorn workers, until released.

Races are proven by holding one side: each statement that starts with the held words
reports to the test's loopback server and waits there until the test lets it go, so
the test knows who has arrived (and from which process) before anything goes on.
"""

import os
import socket
import socketserver
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# Names the hold in the environment of gunicorn workers: "host:port words...".
ENVIRONMENT = "TEST_STATEMENT_HOLD"
# The gunicorn settings whose workers hold their statements as ENVIRONMENT says.
HOLDING_GUNICORN = Path(__file__).resolve().parent / "gunicorn_hold.py"
# A forgotten hold lets go after this long, so a broken test cannot hang the suite.
FORGOTTEN = 60.0


class StatementHold:
    """A loopback server that held statements report to; the test lets them go."""

    def __init__(self, words: str) -> None:
        self.words = words
        self.arrivals: list[int] = []  # the process id of each held statement
        self._changed = threading.Condition()
        self._released = threading.Event()
        hold = self

        class Arrival(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                pid = int(self.rfile.readline())
                with hold._changed:
                    hold.arrivals.append(pid)
                    hold._changed.notify_all()
                hold._released.wait(FORGOTTEN)
                self.wfile.write(b"go\n")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Arrival)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def setting(self) -> str:
        """Return the value that tells an app process where to report and what."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port} {self.words}"

    def wait_for(self, count: int, within: float = 30.0) -> list[int]:
        """Wait until ``count`` statements are held; return their process ids.

        ``within`` only bounds a test that is already broken; nothing is timed by it.
        """
        deadline = time.monotonic() + within
        with self._changed:
            while len(self.arrivals) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{count} statements never reached the hold: {self.arrivals}"
                    )
                self._changed.wait(left)
            return list(self.arrivals)

    def release(self) -> None:
        """Let every held statement go on, and any later one pass at once."""
        self._released.set()

    def __enter__(self) -> "StatementHold":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def hold_statements(engines: list[Engine], setting: str) -> None:
    """Make the engines' statements that start with the held words wait at the hold."""
    address, _, words = setting.partition(" ")
    host, _, port = address.rpartition(":")

    def wait_at_the_hold(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().startswith(words):
            return
        with socket.create_connection((host, int(port)), timeout=FORGOTTEN) as sock:
            sock.sendall(f"{os.getpid()}\n".encode())
            sock.recv(16)  # "go", or nothing when the test has ended

    for engine in engines:
        event.listen(engine, "before_cursor_execute", wait_at_the_hold)


def hold_from_environment(engines: list[Engine]) -> None:
    """Hold statements as the environment says (called in each gunicorn worker)."""
    setting = os.environ.get(ENVIRONMENT)
    if setting:
        hold_statements(engines, setting)
