"""Step 4 through the test client: start an attempt, move its clock, ask its status."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.integrations import REDIRECT_URI
from tests.helpers.sandbox import approve_in_sandbox
from tests.helpers.sandbox import settled
from wizard.constant_contact import client as cc_client
from wizard.domain import polling
from wizard.models import AuthorizationAttempt
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox.testing import advance_clock
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import hold
from wizard.sandbox.testing import release
from wizard.sandbox.testing import wait_until_held

# What step 4 says while it keeps polling after a passing failure.
KEEP_CHECKING = "Constant Contact is slow to answer. We keep checking."
SLOWER = "Constant Contact asked us to slow down. We keep checking."


def start_attempt(client: FlaskClient, integration_id: int) -> Any:
    """Press step 4's button; return the answer."""
    return client.post(f"/integrations/{integration_id}/authorize")


def attempt_of(app: Flask, integration_id: int) -> AuthorizationAttempt:
    """Return the integration's latest attempt, detached from the session."""
    with app.app_context():
        attempt = db.session.scalars(
            db.select(AuthorizationAttempt)
            .filter_by(integration_id=integration_id)
            .order_by(AuthorizationAttempt.id.desc())
        ).first()
        db.session.expunge(attempt)
        return attempt


def started(
    client: FlaskClient, app: Flask, integration_id: int
) -> AuthorizationAttempt:
    """Start an attempt, check the answer leads to its page, and return it."""
    response = start_attempt(client, integration_id)
    attempt = attempt_of(app, integration_id)
    assert response.headers["Location"] == (
        f"/integrations/{integration_id}/authorize/{attempt.id}"
    )
    return attempt


def make_due(
    app: Flask,
    attempt_id: int,
    *,
    seconds_left: int | None = None,
    sandbox: str | None = None,
) -> None:
    """Move the attempt's clock: its next poll is due now (and its window shrinks).

    A code no longer asked about (next_poll_at cleared) stays so: time passing
    does not bring it back. Given the sandbox's address, its clock moves as far,
    so the poll made due is not too soon for it (a slow_down adds 5 s for good).
    """
    with app.app_context():
        attempt = db.session.get(AuthorizationAttempt, attempt_id)
        now = utcnow()
        moved = timedelta(seconds=1)
        if attempt.next_poll_at is not None:
            moved = max(moved, attempt.next_poll_at - now + timedelta(seconds=1))
            attempt.next_poll_at = now - timedelta(seconds=1)
        if seconds_left is not None:
            expires_at = now + timedelta(seconds=seconds_left)
            moved = max(moved, attempt.expires_at - expires_at)
            attempt.expires_at = expires_at
        db.session.commit()
    if sandbox is not None:
        advance_clock(sandbox, moved.total_seconds())


def age(app: Flask, attempt_id: int, seconds: int) -> AuthorizationAttempt:
    """Make the attempt ``seconds`` old by moving its row back in time: its window
    and its code's life at Constant Contact move with it."""
    with app.app_context():
        attempt = db.session.get(AuthorizationAttempt, attempt_id)
        shift = attempt.started_at - (utcnow() - timedelta(seconds=seconds))
        attempt.started_at -= shift
        attempt.expires_at -= shift
        attempt.provider_expires_at -= shift
        db.session.commit()
        db.session.refresh(attempt)
        db.session.expunge(attempt)
        return attempt


def pollers_turn(app: Flask) -> int:
    """Let the poller ask about every code due now, as the served app's thread does;
    return how many it asked about."""
    with app.app_context():
        return polling.poll_due()


@contextmanager
def pollers_turn_held_at(app: Flask, cc: str, endpoint: str) -> Iterator[None]:
    """Run the poller's turn in a thread while the sandbox holds its first call to
    ``endpoint``; inside the block that call is provably in flight. Leaving it lets
    the call go and waits for the turn to end."""
    settled(cc)
    hold(cc, endpoint, count=1)
    turn = threading.Thread(target=pollers_turn, args=(app,))
    turn.start()
    try:
        wait_until_held(cc, endpoint, 1)
        yield
    finally:
        release(cc)
        turn.join(30)


def status(client: FlaskClient, integration_id: int, attempt_id: int) -> dict[str, Any]:
    """The poller takes its turn, then the page's script asks the attempt's status;
    return the answer."""
    pollers_turn(client.application)
    path = f"/integrations/{integration_id}/authorize/{attempt_id}/status"
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def poll_count(app: Flask, attempt_id: int) -> int:
    """Return how often the attempt has asked Constant Contact."""
    with app.app_context():
        return db.session.get(AuthorizationAttempt, attempt_id).poll_count


def open_window(client: FlaskClient, integration_id: int, attempt_id: int) -> str:
    """Open Constant Contact's consent page (code flow); return its address."""
    response = client.get(f"/integrations/{integration_id}/authorize/{attempt_id}/open")
    location = response.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert "code_verifier" not in location
    return location


def callback(client: FlaskClient, redirect: str) -> Any:
    """Arrive as Constant Contact sends the browser back; return the page shown.

    The callback answers with a 303 to its bare path, so the code and state leave
    the address bar at once.
    """
    parts = urlsplit(redirect)
    assert redirect.startswith(REDIRECT_URI)
    landed = client.get(f"{parts.path}?{parts.query}")
    assert landed.status_code == 303, landed.status_code
    assert landed.headers["Location"] == parts.path
    return client.get(parts.path)


def tamper(
    monkeypatch: pytest.MonkeyPatch, carrying: str, field: str, value: Any
) -> None:
    """Let the sandbox answer, then set ``field`` in answers that carry ``carrying``:
    a provider that answers oddly, over the same real HTTP."""
    real = cc_client.call

    def odd(*args: Any, **kwargs: Any) -> Any:
        body = real(*args, **kwargs)
        if isinstance(body, dict) and carrying in body:
            body[field] = value
        return body

    monkeypatch.setattr(cc_client, "call", odd)


def allowed_at_sandbox(
    client: FlaskClient, app: Flask, integration_id: int
) -> tuple[AuthorizationAttempt, str]:
    """Start a code-flow attempt and allow access at the sandbox; return the attempt
    and the redirect that sends the browser back."""
    attempt = started(client, app, integration_id)
    return attempt, approve_in_sandbox(open_window(client, integration_id, attempt.id))


def state_sent(client: FlaskClient, app: Flask, integration_id: int) -> str:
    """Start a code-flow attempt and open Constant Contact's window; return the
    state the window's address carries."""
    attempt = started(client, app, integration_id)
    location = open_window(client, integration_id, attempt.id)
    return parse_qs(urlsplit(location).query)["state"][0]


def allowed_on_device(
    client: FlaskClient, app: Flask, cc: str, integration_id: int
) -> dict[str, Any]:
    """Start a device attempt, allow it at the sandbox and ask once a poll is due;
    return the status answer."""
    attempt = started(client, app, integration_id)
    approve_device(cc, attempt.user_code)
    make_due(app, attempt.id)
    return status(client, integration_id, attempt.id)
