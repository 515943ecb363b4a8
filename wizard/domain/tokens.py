"""A valid access token for a saved connection, refreshed once however many ask.

Refresh is single-flight per integration across threads, workers and hosts: the
row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on
SQLite), re-read, refreshed only if still due, and the new refresh token is committed
before anyone uses the new access token. A caller that loses the race adopts the
winner's token.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import NoReturn

from wizard.constant_contact.client import client_for
from wizard.constant_contact.http import ProviderError
from wizard.domain import audit
from wizard.domain import transitions
from wizard.domain.problems import connection_problem
from wizard.models import Integration
from wizard.platform import crypto
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.platform.locks import locked_rows
from wizard.status import Code
from wizard.status import Flow
from wizard.status import Status

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

    def __init__(self, code: str, flow: str = Flow.DEVICE) -> None:
        super().__init__(code)
        self.code = code
        self.message = connection_problem(code, flow).text
        self.transient = code in ProviderError.TRANSIENT


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
                Integration.status != Status.NEEDS_REAUTHORIZATION,
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
        _unreadable(integration, exc)


def _unreadable(integration: Integration, exc: crypto.DecryptionError) -> NoReturn:
    """A token or the secret cannot be decrypted: only authorizing again mends it."""
    transitions.mark_broken(integration, Code.UNREADABLE)
    raise ConnectionProblem(Code.UNREADABLE, integration.flow) from exc


def _refresh(row: Integration) -> str:
    """Refresh under the lock; the new refresh token is committed before returning."""

    refresh = _decrypt(row, "refresh_token_encrypted")
    try:
        tokens = client_for(row).refresh_tokens(refresh)
    except crypto.DecryptionError as exc:  # the client secret, read before sending
        _unreadable(row, exc)
    except ProviderError as error:
        transitions.refresh_failed(row, error)
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


def disconnect(integration: Integration) -> bool:
    """Revoke the tokens at Constant Contact and erase them; return if it confirmed.

    The row lock keeps a refresh from writing new tokens back after they are erased.
    """
    with locked(integration.id) as row:
        return _disconnect(row)


def _disconnect(integration: Integration) -> bool:
    confirmed = True
    client = client_for(integration)
    try:
        tokens = [
            (
                integration.unseal("refresh_token_encrypted"),
                "refresh_token",
            ),
            (integration.unseal("access_token_encrypted"), "access_token"),
        ]
    except crypto.DecryptionError:
        tokens, confirmed = [], False
    for token, hint in tokens:
        try:
            client.revoke(token, hint)
        except (ProviderError, crypto.DecryptionError):  # the secret: nothing sent
            confirmed = False
    integration.access_token_encrypted = None
    integration.refresh_token_encrypted = None
    integration.token_expires_at = None
    transitions.disconnected(integration)
    audit.record(
        "connection.disconnected",
        integration=integration,
        revocation_confirmed=confirmed,
    )
    return confirmed
