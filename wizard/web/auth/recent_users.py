"""Signed-in users a worker read a moment ago, for pages that only read.

Every signed-in page needs its user (with the organization, for the support
reference), and reading them costs a database round trip of its own. A GET of a
page marked reads_only takes them from this worker's memo instead, for at most
SIGNED_IN_USER_SECONDS after the row was read. Each entry holds the session version
it was read with, and only a session naming that version gets it: once a version is
bumped (sign out everywhere, a reset password), no worker lets the old session
through a moment longer than that, and the worker that made the bump forgets the
entry when the bump commits. Pages that write, and every POST, read the row.

An entry is column values, never an ORM object: each request gets User and
Organization instances of its own, added to its own session without SQL, so
nothing is shared between threads and nothing is detached.
"""

from collections.abc import Callable
from time import monotonic
from typing import Any

from flask import current_app
from flask import has_app_context
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import set_committed_value

from wizard.models import Organization
from wizard.models import User
from wizard.platform.extensions import db

MEMO = "wizard.recent_users"
ENDED = "wizard.ended_sessions"
# More than the people one worker serves in a second; past it, start over (an
# entry is two small dicts: a full memo is a megabyte or two).
MEMO_MOST = 1_000

Columns = dict[str, Any]
# user id -> (session version, when the row was read (monotonic), user, organization)
Entry = tuple[int, float, Columns, Columns | None]


class RecentUsers:
    """One worker's memo of the users it read in the last few seconds."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.entries: dict[int, Entry] = {}

    def get_or_read(
        self, user_id: int, version: int, read: Callable[[], User | None]
    ) -> User | None:
        """Return the user as read moments ago with this session version; else
        read() them (None: no such user, or not with this version) and remember."""
        entry = self.entries.get(user_id)
        if entry is not None and entry[0] == version:
            if monotonic() - entry[1] < self.seconds:
                return _attached(entry[2], entry[3])
            self.entries.pop(user_id, None)
        # Taken before the query: the entry ages from before the row was read.
        read_at = monotonic()
        user = read()
        if user is not None and self.seconds > 0:
            self._keep(user, read_at)
        return user

    def _keep(self, user: User, read_at: float) -> None:
        """Remember the user as read at read_at."""
        if len(self.entries) >= MEMO_MOST:
            self.entries.clear()
        organization = user.organization
        self.entries[user.id] = (
            user.session_version,
            read_at,
            _columns(user),
            _columns(organization) if organization is not None else None,
        )

    def forget(self, user_ids: set[int]) -> None:
        """Drop these users' entries."""
        for user_id in user_ids:
            self.entries.pop(user_id, None)


def recent_users() -> RecentUsers:
    """Return this app's memo (one per app, so per worker process)."""
    extensions = current_app.extensions
    if MEMO not in extensions:
        seconds = float(current_app.config["SIGNED_IN_USER_SECONDS"])
        extensions.setdefault(MEMO, RecentUsers(seconds))
    return extensions[MEMO]


def _columns(row: User | Organization) -> Columns:
    """Return a row's column values."""
    return {
        column.key: getattr(row, column.key)
        for column in inspect(row).mapper.column_attrs
    }


def _attached(user_columns: Columns, organization_columns: Columns | None) -> User:
    """Make the user (and organization) from their columns, in this request's
    session as if just loaded."""
    session = db.session
    present = session.identity_map.get(session.identity_key(User, user_columns["id"]))
    if present is not None:
        return present  # type: ignore[no-any-return]
    organization = None
    if organization_columns is not None:
        organization = Organization(**organization_columns)
        make_transient_to_detached(organization)
    user = User(**user_columns)
    # As loaded, without the events a change fires (a backref, a pending change).
    set_committed_value(user, "organization", organization)
    make_transient_to_detached(user)
    session.add(user)
    return user


@event.listens_for(User.session_version, "set")
def _note_ended(target: User, _value: int, _old: Any, _initiator: Any) -> None:
    """Note a bumped session version, to forget the user once it commits."""
    session = object_session(target)
    if session is not None and target.id is not None:
        session.info.setdefault(ENDED, set()).add(target.id)


@event.listens_for(Session, "after_commit")
def _forget_ended(session: Session) -> None:
    """Forget users whose session version this commit bumped (in this worker)."""
    ended = session.info.pop(ENDED, None)
    if ended and has_app_context() and MEMO in current_app.extensions:
        current_app.extensions[MEMO].forget(ended)
