"""Claims with a lease on work rows (held contacts, notices): one sender at a time.

A row is claimed by a conditional UPDATE that writes a token and an end to the lease;
the sender deletes it (or gives it back) only while the token is still its own, so
two senders never send the same row at once, and a sender that died leaves the row
to the next one once its lease ends. The model needs ``id``, ``claim`` and
``claimed_until`` columns.
"""

import secrets
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement

from wizard.platform.extensions import db


def free(model: Any, now: datetime) -> ColumnElement[bool]:
    """Rows nobody holds a running lease on."""
    return db.or_(model.claimed_until.is_(None), model.claimed_until <= now)


def claim(
    model: Any, row_id: int, now: datetime, lease: timedelta, **also: Any
) -> str | None:
    """Claim the row unless a lease on it still runs (commits); return the token.

    ``also`` are more values written with the claim (a try counted, say).
    """
    token = secrets.token_hex(8)
    claimed = db.session.execute(
        db.update(model)
        .where(model.id == row_id, free(model, now))
        .values(claim=token, claimed_until=now + lease, **also)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token if claimed.rowcount == 1 else None


def take(model: Any, row_id: int, token: str) -> bool:
    """Delete the row if the claim is still ours; the caller records what became of
    it in the same transaction, then commits."""
    gone = db.session.execute(
        db.delete(model)
        .where(model.id == row_id, model.claim == token)
        .execution_options(synchronize_session=False)
    )
    return gone.rowcount == 1


def release(model: Any, row_id: int, token: str, **values: Any) -> None:
    """Give the row back if the claim is still ours, with these values (the caller
    commits)."""
    db.session.execute(
        db.update(model)
        .where(model.id == row_id, model.claim == token)
        .values(claim=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
