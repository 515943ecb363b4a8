"""Pages that only read: their GETs run without a transaction.

A request's first query opens a transaction (BEGIN) and teardown ends it (ROLLBACK):
two round trips to the database on top of the queries. A page that only reads needs
neither, so its GET runs in autocommit (reading_session.py binds its queries so,
as they come: an answer that needs no row takes no connection). A write there would
be a bug, and one that autocommit could hide, so any statement other than a SELECT
is refused.
"""

from collections.abc import Callable
from typing import Any
from typing import TypeVar

from flask import Flask
from flask import current_app
from flask import g
from flask import has_app_context
from flask import request
from sqlalchemy import event

from wizard.platform import pool
from wizard.platform.reading_session import READING

F = TypeVar("F", bound=Callable[..., Any])


class WriteInReadOnlyPage(RuntimeError):
    """A view marked reads_only sent something other than a SELECT."""


def reads_only(view: F) -> F:
    """Mark a view whose GET and HEAD requests only read the database."""
    view.reads_only = True  # type: ignore[attr-defined]
    return view


def init_app(app: Flask) -> None:
    """Run marked GETs in autocommit, and refuse writes made while one runs."""
    app.before_request(_autocommit_if_reading)
    for engine in pool.engines(app):
        event.listen(engine, "before_cursor_execute", _refuse_writes)


def reading_page() -> bool:
    """Return whether this request is a GET or HEAD of a view marked reads_only."""
    if request.method not in ("GET", "HEAD") or request.endpoint is None:
        return False
    view = current_app.view_functions.get(request.endpoint)
    return bool(getattr(view, "reads_only", False))


def _autocommit_if_reading() -> None:
    """Mark a marked GET, before its first query, to run in autocommit."""
    if reading_page():
        g.setdefault(READING, True)


def _refuse_writes(
    _conn: Any, _cursor: Any, statement: str, _parameters: Any, *_: Any
) -> None:
    """Raise on anything but a SELECT while a marked GET runs."""
    if has_app_context() and g.get(READING):
        if statement.lstrip()[:6].upper() != "SELECT":
            raise WriteInReadOnlyPage(statement.split(None, 1)[0])
