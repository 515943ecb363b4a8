"""Database pool: check a connection before use only if it sat idle a while."""

import time
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy import exc
from sqlalchemy.engine import Engine

from wizard.platform.extensions import db

RETURNED_AT = "wizard_returned_at"


def init_app(app: Flask) -> None:
    """Ping connections idle longer than DATABASE_PING_AFTER_SECONDS on checkout.

    SQLAlchemy's pool_pre_ping costs a round trip on every request. A connection
    handed back moments ago is all but certainly alive; one that sat idle may have
    been closed by a database restart, a failover or a proxy's idle timeout, and
    is replaced before a request sees the error.
    """
    idle = float(app.config["DATABASE_PING_AFTER_SECONDS"])
    for engine in engines(app):
        _ping_when_idle(engine, idle)


def engines(app: Flask) -> list[Engine]:
    """Return the app's database engines (Flask-SQLAlchemy makes them at init)."""
    with app.app_context():
        return list(db.engines.values())


def _ping_when_idle(engine: Engine, idle: float) -> None:
    """Note when each connection comes back; ping it on checkout if idle too long."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(RETURNED_AT)
        if returned is None or time.monotonic() - returned < idle:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out a fresh one.
            raise exc.DisconnectionError("idle connection is gone") from error
