"""Where her browser last was, and when: written from her pages, read by support.

Written at most once per ``every`` per integration and page: the statement itself
writes only when the row is older or names another page, so every worker and host
agrees; a worker's memo (in the web layer) spares it the note in between, and its
notes are written together, once a second.
"""

import logging
from datetime import datetime
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from wizard.models import Presence
from wizard.platform import upsert
from wizard.platform.extensions import db

log = logging.getLogger(__name__)
# Past this, her page is probably closed: step 4's page checks every few seconds.
QUIET_AFTER = timedelta(minutes=2)


def note(seen: dict[int, tuple[str, datetime]], every: timedelta) -> None:
    """Record where each integration's browser was (``seen``: integration ->
    page and when), in one statement, except where already noted recently.

    Never raises: a lost note costs support a few seconds of freshness, nothing
    more; for the same reason PostgreSQL need not wait for the disk here.
    """
    rows = [
        {"integration_id": integration_id, "page": page, "seen_at": at}
        for integration_id, (page, at) in sorted(seen.items())
    ]
    if not rows:
        return
    # Notes written together are at most a second apart: one "recently" for all.
    stale = max(row["seen_at"] for row in rows) - every
    statement = upsert.insert(Presence).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[Presence.integration_id],
        set_={"page": statement.excluded.page, "seen_at": statement.excluded.seen_at},
        where=db.or_(
            Presence.seen_at <= stale,
            Presence.page != statement.excluded.page,
        ),
    )
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(db.text("SET LOCAL synchronous_commit TO OFF"))
        db.session.execute(statement)
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("presence not recorded: %s", type(error).__name__)


def seen(integration_id: int) -> Presence | None:
    """Return where and when her browser was last on the integration's pages."""
    return db.session.get(Presence, integration_id)


def is_quiet(presence: Presence, now: datetime) -> bool:
    """Return whether her page has sent nothing for a while (probably closed)."""
    return now - presence.seen_at > QUIET_AFTER
