"""A webhook receiver for the tests: an HTTP server on loopback that keeps what it
is sent, answers as told (200, or an error for the next few), and says whether
each request's signature was good."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    """Where the receiver listens, what it got, and how many to refuse next."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    refuse_next: int = 0


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """Run the receiver while the block runs."""
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append({"headers": dict(self.headers), "body": body})
            refused = receiver.refuse_next > 0
            receiver.refuse_next -= 1 if refused else 0
            self.send_response(503 if refused else 204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/wizard"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
