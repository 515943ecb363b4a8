"""Row locks that every worker and host respects (SQLite: its one write lock)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from wizard.platform.extensions import db

M = TypeVar("M", bound=db.Model)


@contextmanager
def locked_rows(model: type[M], ids: list[int]) -> Iterator[list[M]]:
    """Hold these rows (or SQLite's write lock) and yield them fresh, in id order.

    The same lock as a token refresh takes, so whoever comes second sees the
    first one's committed values; in id order, so two holders never deadlock.
    """
    db.session.commit()  # end the caller's transaction; the next one takes the lock
    query = (
        db.select(model)
        .where(model.id.in_(ids))
        .order_by(model.id)
        .execution_options(populate_existing=True)
    )
    if db.engine.dialect.name == "sqlite":
        db.session.execute(db.text("BEGIN IMMEDIATE"))
    else:
        query = query.with_for_update()
    rows = list(db.session.scalars(query))
    try:
        yield rows
    finally:
        if db.session.is_active:
            db.session.commit()
