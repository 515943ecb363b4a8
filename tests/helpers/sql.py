"""The SQL statements an app sends, noted one by one while a block runs."""

from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event

from wizard.platform.extensions import db


def verb(_conn: Any, statement: str) -> str:
    """A statement's first word: SELECT, UPDATE..."""
    return statement.split(None, 1)[0].upper()


@contextmanager
def statements(
    app: Flask, note: Callable[[Any, str], Any] = verb
) -> Iterator[list[Any]]:
    """Collect, per SQL statement the app sends while the block runs, a note on it."""
    sent: list[Any] = []

    def record(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(note(conn, statement))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
