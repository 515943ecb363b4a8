"""INSERT ... ON CONFLICT for the database in use (PostgreSQL or SQLite)."""

from typing import Any

from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from wizard.platform.extensions import db


def insert(model: Any) -> Any:
    """Return an INSERT for the model that can say what to do on conflict.

    Both dialects spell on_conflict_do_update and on_conflict_do_nothing alike.
    """
    dialect = db.session.get_bind(mapper=model.__mapper__).dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
