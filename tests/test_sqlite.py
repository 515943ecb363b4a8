"""SQLite: WAL, a busy timeout and foreign keys, so workers wait for each other.

These run on SQLite whichever database the rest of the suite uses.
"""

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from tests.helpers.app import base_config
from wizard.platform.extensions import db

WAIT = 30  # seconds; only a hang ever waits this long


def sqlite_app(make_app: Callable[[dict[str, Any]], Flask], path: Path) -> Flask:
    """Return an app on a SQLite file of its own."""
    return make_app(base_config(f"sqlite:///{path / 'wal.sqlite'}"))


def test_an_app_connection_uses_wal_a_busy_timeout_and_foreign_keys(
    make_app: Callable[[dict[str, Any]], Flask], tmp_path: Path
) -> None:
    app = sqlite_app(make_app, tmp_path)
    with app.app_context():
        pragmas = {
            name: db.session.execute(sa.text(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        }
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 30000, "foreign_keys": 1}


def test_a_second_writer_waits_for_the_first_instead_of_failing(
    make_app: Callable[[dict[str, Any]], Flask], tmp_path: Path
) -> None:
    """Two of the app's connections take the write lock as a refresh does."""
    app = sqlite_app(make_app, tmp_path)
    with app.app_context():
        engine = db.engine
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE writes (id INTEGER PRIMARY KEY, writer TEXT NOT NULL)"
        )
    holder = engine.raw_connection()
    waiter = engine.raw_connection()
    held, asking = threading.Event(), threading.Event()
    seen_by_waiter: list[list[str]] = []
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            holder.execute("BEGIN IMMEDIATE")
            holder.execute("INSERT INTO writes (writer) VALUES ('holder')")
            held.set()
            # Commit only once the waiter's BEGIN IMMEDIATE has reached SQLite.
            assert asking.wait(WAIT)
            holder.commit()
        except BaseException as error:  # reported by the test, not the thread
            errors.append(error)

    def write() -> None:
        def traced(statement: str) -> None:
            if statement == "BEGIN IMMEDIATE":
                asking.set()

        try:
            assert held.wait(WAIT)
            waiter.driver_connection.set_trace_callback(traced)
            waiter.execute("BEGIN IMMEDIATE")
            # Holding the lock now: the holder's row must already be committed.
            seen = waiter.execute("SELECT writer FROM writes ORDER BY id").fetchall()
            seen_by_waiter.append([writer for (writer,) in seen])
            waiter.execute("INSERT INTO writes (writer) VALUES ('waiter')")
            waiter.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=hold), threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    holder.close()
    waiter.close()
    assert not [t for t in threads if t.is_alive()]
    assert errors == []  # "database is locked" without the busy timeout
    assert seen_by_waiter == [["holder"]]
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, writer FROM writes").fetchall()
    assert [tuple(row) for row in rows] == [(1, "holder"), (2, "waiter")]
