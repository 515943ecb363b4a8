"""The database session: a GET of a page that only reads runs in autocommit,
on the connection its first query takes (reads.py marks such requests)."""

from typing import Any

from flask import g
from flask import has_app_context
from flask_sqlalchemy.session import Session
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine

# Set in g by reads.py for the whole of a marked GET.
READING = "wizard_reads_only"


class ReadingSession(Session):
    """Flask-SQLAlchemy's session, binding a marked GET's queries to autocommit.

    Chosen per query, not at the request's start, so an answer that needs no row
    (a status check its ticket answers) takes no connection at all.
    """

    def get_bind(self, *args: Any, **kwargs: Any) -> Engine | Connection:
        """Return the engine for this query: its autocommit twin while reading."""
        bind = super().get_bind(*args, **kwargs)
        if isinstance(bind, Engine) and has_app_context() and g.get(READING):
            return _autocommit(bind)
        return bind


def _autocommit(engine: Engine) -> Engine:
    """Return the engine's autocommit twin: the same pool, made once per engine."""
    twin = engine.__dict__.get("_wizard_autocommit")
    if twin is None:
        twin = engine.execution_options(isolation_level="AUTOCOMMIT")
        engine.__dict__["_wizard_autocommit"] = twin
    return twin
