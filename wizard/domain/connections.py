"""Use a saved connection: a valid access token, refreshed once however many ask.

This is the API the rest of the product uses::

    from wizard.domain import connections

    token = connections.access_token(integration)   # refreshed if due
    connections.check(integration)                  # token, then read the list
    connections.add_contact(integration, "ann@example.com", consent="signed up at till")

Each raises :class:`ConnectionProblem` (with a plain-language ``message``) when the
connection cannot be used; ``transient`` says whether trying later may work.

Refresh is single-flight per integration across threads, workers and hosts: the
row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on
SQLite), re-read, refreshed only if still due, and the new refresh token is committed
before anyone uses the new access token. A caller that loses the race adopts the
winner's token.
"""

import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar

from flask import current_app

from wizard.constant_contact import api
from wizard.constant_contact import oauth
from wizard.constant_contact.http import LEAST_SECONDS
from wizard.constant_contact.http import ProviderError
from wizard.constant_contact.http import budget_left
from wizard.domain import audit
from wizard.domain.problems import connection_problem
from wizard.models import STATUS_ACTIVE
from wizard.models import STATUS_DISCONNECTED
from wizard.models import STATUS_NEEDS_REAUTHORIZATION
from wizard.models import Integration
from wizard.models import utcnow
from wizard.platform import crypto
from wizard.platform.extensions import db

T = TypeVar("T")
M = TypeVar("M", bound=db.Model)

# Constant Contact allows 4 calls a second per API key, counted per clock second:
# 0.3 s apart never puts 5 in one second, even with a little jitter.
API_SPACING = timedelta(milliseconds=300)
THROTTLED_PAUSE = 1.1
# A slot lost to another caller this many times in a row: refuse, never call unpaced.
BOOKING_TRIES = 100
# A token answer without expires_in is trusted for an hour, not forever or never.
ASSUMED_LIFETIME_SECONDS = 3600

# Refresh this long before the access token expires (Constant Contact's last 24 h).
REFRESH_AHEAD = timedelta(minutes=5)
# The keep-alive (cron) refreshes tokens expiring within this window...
KEEPALIVE_AHEAD = timedelta(hours=2)
# ...and any refresh token unused this long (Constant Contact forgets them at 180 days).
KEEPALIVE_IDLE = timedelta(days=30)


class ConnectionProblem(Exception):
    """The connection cannot be used right now; ``message`` says why in plain words."""

    def __init__(self, code: str, flow: str = "device") -> None:
        super().__init__(code)
        self.code = code
        self.message = connection_problem(code, flow).text
        self.transient = code in ProviderError.TRANSIENT


def provider() -> oauth.Provider:
    """Return the Constant Contact endpoints from the app's settings."""
    return oauth.Provider.from_config(current_app.config)


def refresh_due(integration: Integration, ahead: timedelta = REFRESH_AHEAD) -> bool:
    """Return whether the access token is missing, expired or about to expire."""
    expires = integration.token_expires_at
    return expires is None or expires - ahead <= utcnow()


def due_for_keepalive() -> list[Integration]:
    """Return connected integrations whose tokens expire soon or have idled too long."""
    now = utcnow()
    return list(
        db.session.scalars(
            db.select(Integration)
            .where(
                Integration.refresh_token_encrypted.is_not(None),
                Integration.status != STATUS_NEEDS_REAUTHORIZATION,
                db.or_(
                    Integration.token_expires_at.is_(None),
                    Integration.token_expires_at <= now + KEEPALIVE_AHEAD,
                    Integration.last_refreshed_at.is_(None),
                    Integration.last_refreshed_at <= now - KEEPALIVE_IDLE,
                ),
            )
            .order_by(Integration.id)
        )
    )


@contextmanager
def locked(integration_id: int) -> Iterator[Integration]:
    """Hold the integration's row (or SQLite's write lock) and yield it fresh."""
    with locked_rows(Integration, [integration_id]) as rows:
        if not rows:
            db.session.rollback()
            raise ConnectionProblem("not_found")
        yield rows[0]


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


def access_token(integration: Integration, *, force: bool = False) -> str:
    """Return a valid access token, refreshing it once if it is due."""
    if not integration.refresh_token_encrypted:
        raise ConnectionProblem("not_connected", integration.flow)
    if not force and not refresh_due(integration):
        return _decrypt(integration, "access_token_encrypted")
    # When the tokens we saw were issued; `keys rotate` rewrites the ciphertext
    # without issuing anything, so the ciphertext itself cannot tell us.
    seen = (integration.last_refreshed_at, integration.token_expires_at)
    waiting_since = utcnow()
    with locked(integration.id) as row:
        if row.refresh_token_encrypted is None:
            raise ConnectionProblem("not_connected", row.flow)  # disconnected meanwhile
        issued = (row.last_refreshed_at, row.token_expires_at)
        if issued != seen or (not force and not refresh_due(row)):
            # Someone refreshed while we waited for the lock: adopt their token.
            return _decrypt(row, "access_token_encrypted")
        failed = row.last_error_code
        if failed in ProviderError.TRANSIENT and row.updated_at >= waiting_since:
            # Someone tried while we waited and Constant Contact failed them: say so
            # now rather than make every waiter wait out the same timeout again.
            raise ConnectionProblem(failed, row.flow)
        return _refresh(row)


def _decrypt(integration: Integration, column: str) -> str:
    if getattr(integration, column) is None:
        raise ConnectionProblem("not_connected", integration.flow)
    try:
        return integration.unseal(column)
    except crypto.DecryptionError as exc:
        _mark_broken(integration, "unreadable")
        raise ConnectionProblem("unreadable", integration.flow) from exc


def _refresh(row: Integration) -> str:
    """Refresh under the lock; the new refresh token is committed before returning."""
    from wizard.domain.authorization import record_check_failure

    refresh = _decrypt(row, "refresh_token_encrypted")
    secret = (
        _decrypt(row, "client_secret_encrypted")
        if row.client_secret_encrypted
        else None
    )
    try:
        tokens = oauth.refresh_tokens(provider(), row.api_key or "", secret, refresh)
    except ProviderError as error:
        if error.code in ("invalid_grant", "invalid_client", "unauthorized_client"):
            _mark_broken(row, error.code)
        else:
            record_check_failure(row, error)  # "Not working right now", never Active
        db.session.commit()
        raise ConnectionProblem(error.code, row.flow) from error
    now = utcnow()
    row.seal("refresh_token_encrypted", tokens.refresh_token or refresh)
    row.seal("access_token_encrypted", tokens.access_token)
    row.token_expires_at = now + timedelta(
        seconds=tokens.expires_in or ASSUMED_LIFETIME_SECONDS
    )
    row.last_refreshed_at = now
    audit.record("connection.refreshed", integration=row)
    db.session.commit()
    return tokens.access_token


def _mark_broken(integration: Integration, code: str) -> None:
    """Record that Constant Contact refused the connection: re-authorizing helps."""
    integration.status = STATUS_NEEDS_REAUTHORIZATION
    integration.last_error_code = code
    integration.last_error_message = connection_problem(code, integration.flow).text_en
    audit.record(
        "connection.needs_reauthorization", integration=integration, error=code
    )


def pace(integration: Integration) -> None:
    """Wait for this integration's next slot: at most 4 API calls a second, shared by
    every worker and host (a compare-and-set on the row, no lock held while waiting).

    A slot past what is left of the web request's budget is not booked: the call is
    refused as "throttled" at once, so a flood of callers can neither park every
    thread nor push the next slot further for everyone. Outside a request (the CLI)
    there is no budget, and the caller waits for the slot it books.
    """
    for _ in range(BOOKING_TRIES):
        taken = db.session.scalar(
            db.select(Integration.api_next_call_at).filter_by(id=integration.id)
        )
        now = utcnow()
        slot = max(taken or now, now)
        if not _time_to_wait((slot - now).total_seconds()):
            raise ProviderError("throttled", "the next free slot is past the budget")
        same = (
            Integration.api_next_call_at.is_(None)
            if taken is None
            else Integration.api_next_call_at == taken
        )
        claimed = db.session.execute(
            db.update(Integration)
            .where(Integration.id == integration.id, same)
            .values(api_next_call_at=slot + API_SPACING)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if claimed.rowcount == 1:
            wait = (slot - utcnow()).total_seconds()
            if wait > 0:
                time.sleep(wait)
            return
    # Others booked every slot we reached for: calling anyway would break the pace.
    raise ProviderError("throttled", "no slot could be booked")


def _time_to_wait(seconds: float) -> bool:
    """Return whether the request's budget can wait this long and still make a call."""
    return seconds <= budget_left() - LEAST_SECONDS


def call_with_token(
    integration: Integration, request: Callable[[oauth.Provider, str], T]
) -> T:
    """Run an API call with a valid token, at the API's pace.

    After a 401 the token is refreshed once and the call tried again; after
    "throttled" the call waits a second and tries again once, if the request's
    budget leaves time for that.
    """
    checked = integration.last_checked_at
    if (
        integration.last_error_code == "quota_exceeded"
        and checked is not None
        and checked.date() == utcnow().date()
    ):
        # Asking again before midnight UTC only spends tomorrow's quota.
        raise ConnectionProblem("quota_exceeded", integration.flow)
    token = access_token(integration)
    for retry in (True, False):
        pace(integration)
        try:
            return request(provider(), token)
        except ProviderError as error:
            if not retry or error.code not in ("unauthorized", "throttled"):
                raise
            if error.code == "unauthorized":
                token = access_token(integration, force=True)
            elif _time_to_wait(THROTTLED_PAUSE):
                time.sleep(THROTTLED_PAUSE)
            else:
                raise
    raise AssertionError("unreachable")


def check(integration: Integration) -> api.ContactList:
    """Use the connection (token, then read the list) and record what happened."""
    list_id = integration.list_id or ""
    try:
        found = call_with_token(
            integration, lambda p, token: api.get_list(p, token, list_id)
        )
    except ProviderError as error:
        code = "list_not_found" if error.code == "not_found" else error.code
        _record_failure(integration, code)
        raise ConnectionProblem(code, integration.flow) from error
    except ConnectionProblem as problem:
        _record_failure(integration, problem.code)
        raise
    if found.deleted:
        _record_failure(integration, "list_deleted")
        raise ConnectionProblem("list_deleted", integration.flow)
    integration.list_name = found.name[:255]
    integration.list_member_count = found.member_count
    integration.last_checked_at = utcnow()
    _working(integration)
    audit.record(
        "connection.checked", integration=integration, member_count=found.member_count
    )
    db.session.commit()
    return found


def _working(integration: Integration) -> None:
    """A call just worked: the connection is active again.

    Unless Constant Contact refused to renew it: the access token in hand still
    works, but only until it runs out, and only authorizing again mends that.
    """
    if integration.status == STATUS_NEEDS_REAUTHORIZATION:
        return
    integration.status = STATUS_ACTIVE
    integration.last_error_code = None
    integration.last_error_message = None


def _record_failure(integration: Integration, code: str) -> None:
    from wizard.domain.authorization import record_check_failure

    gone = db.session.scalar(db.select(Integration.id).filter_by(id=integration.id))
    if gone is None or code == "not_connected":
        db.session.rollback()  # deleted or disconnected meanwhile: nothing to record
        return
    integration.last_checked_at = utcnow()
    if integration.status != STATUS_NEEDS_REAUTHORIZATION:
        record_check_failure(integration, ProviderError(code))
    db.session.commit()


def add_contact(
    integration: Integration,
    email: str,
    *,
    consent: str,
    first_name: str = "",
    last_name: str = "",
) -> str:
    """Add or update a contact on the integration's list: "created" or "updated".

    Constant Contact applies the account's opt-in rules. ``consent`` records how the
    person agreed (it goes to the audit trail, never to Constant Contact).
    """
    if not consent.strip():
        raise ValueError("say how the contact agreed to be added")
    list_id = integration.list_id or ""
    try:
        action = call_with_token(
            integration,
            lambda p, token: api.sign_up(
                p, token, list_id, email, first_name=first_name, last_name=last_name
            ),
        )
    except ProviderError as error:
        code = "list_not_found" if error.code == "not_found" else error.code
        _record_failure(integration, code)
        raise ConnectionProblem(code, integration.flow) from error
    if integration.status != STATUS_ACTIVE:
        _working(integration)
    audit.record(
        "contact.added",
        integration=integration,
        outcome=action,
        email_domain=email.rpartition("@")[2],
        consent=consent[:200],
    )
    db.session.commit()
    return action


def disconnect(integration: Integration) -> bool:
    """Revoke the tokens at Constant Contact and erase them; return if it confirmed.

    The row lock keeps a refresh from writing new tokens back after they are erased.
    """
    with locked(integration.id) as row:
        return _disconnect(row)


def _disconnect(integration: Integration) -> bool:
    confirmed = True
    try:
        secret = integration.client_secret
        tokens = [
            (
                integration.unseal("refresh_token_encrypted"),
                "refresh_token",
            ),
            (integration.unseal("access_token_encrypted"), "access_token"),
        ]
    except crypto.DecryptionError:
        secret, tokens, confirmed = None, [], False
    for token, hint in tokens:
        try:
            oauth.revoke(provider(), integration.api_key or "", secret, token, hint)
        except ProviderError:
            confirmed = False
    integration.access_token_encrypted = None
    integration.refresh_token_encrypted = None
    integration.token_expires_at = None
    integration.status = STATUS_DISCONNECTED
    integration.last_error_code = None
    integration.last_error_message = None
    audit.record(
        "connection.disconnected",
        integration=integration,
        revocation_confirmed=confirmed,
    )
    return confirmed
