"""Log lines, plain or JSON, with secrets taken out before anything is written."""

import itertools
import json
import logging
import os
import re
import secrets
import sys
from datetime import UTC
from datetime import datetime
from typing import Any

from flask import Flask
from flask import Response
from flask import g
from flask import has_request_context
from flask import request

# Values that must never reach a log, whatever code wrote the line.
_SECRET_NAMES = (
    "access_token|refresh_token|id_token|client_secret|code_verifier|device_code"
    "|user_code|password|secret|api_key|authorization|cookie|csrf_token"
)
_PATTERNS = (
    # name=value, name: value, "name": "value" (query strings, headers, JSON, reprs)
    re.compile(
        rf"""(?i)(["']?\b(?:{_SECRET_NAMES})["']?\s*[=:]\s*["']?"""
        r"""(?:(?:Bearer|Basic)\s+)?)[^\s"'&,;}]+"""
    ),
    # OAuth query parameters whose names are too common to catch everywhere
    re.compile(r"(?i)([?&](?:code|state)=)[^\s&\"'#]+"),
    re.compile(r"(?i)(\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+"),
    # JSON web tokens, Fernet tokens and the wizard's v2 values, wherever they appear
    re.compile(r"()\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*"),
    re.compile(r"()\bgAAAAA[\w-]{20,}=*"),
    re.compile(r"()\bv2:[\w-]{8}:[\w-]{20,}=*"),
)
REDACTED = "[redacted]"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class _RequestIds:
    """Request ids made here: a random 64-bit prefix per process and a count, 32
    hex digits as uuid4's (a counter, not the kernel's randomness, per request)."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        """Start a new prefix and count (at start, and in each forked worker)."""
        self.prefix = secrets.token_hex(8)
        self.count = itertools.count()

    def make(self) -> str:
        """Return a new id (next() on a count is atomic under the GIL)."""
        return f"{self.prefix}{next(self.count):016x}"


_request_ids = _RequestIds()


def redact(text: str) -> str:
    """Return text with anything that looks like a secret replaced."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactSecrets(logging.Filter):
    """Take secrets out of a record's message and traceback before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drop it."""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request's id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if has_request_context():
            entry.setdefault("request_id", g.get("request_id"))
            entry.setdefault("path", request.path)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def formatter(kind: str) -> logging.Formatter:
    """Return the formatter for "json" or plain text."""
    return JsonFormatter() if kind == "json" else logging.Formatter(TEXT_FORMAT)


def configure(kind: str = "text", level: int = logging.INFO) -> None:
    """Send the process's log records to stderr, redacted, as text or JSON."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_wizard", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(kind))
    handler.addFilter(RedactSecrets())
    handler._wizard = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def _assign_request_id() -> None:
    """Use the proxy's request id when it is sane, else make one."""
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.fullmatch(given) else _request_ids.make()


def _echo_request_id(response: Response) -> Response:
    """Return the request id so a person's report can be matched to log lines."""
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    return response


def init_app(app: Flask) -> None:
    """Give every request an id that log lines and the access log carry."""
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)
