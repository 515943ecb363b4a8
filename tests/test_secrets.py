"""Secrets at rest: bound to their row, rotated without loss, never shown anywhere."""

import os
import re
import sqlite3
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler
from http.server import HTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.helpers.app import ENCRYPTION_KEY
from tests.helpers.app import AppWith
from tests.helpers.app import base_config
from tests.helpers.attempts import allowed_at_sandbox
from tests.helpers.attempts import attempt_of
from tests.helpers.attempts import callback
from tests.helpers.attempts import make_due
from tests.helpers.attempts import start_attempt
from tests.helpers.attempts import status
from tests.helpers.connections import connect
from tests.helpers.connections import expire
from tests.helpers.integrations import code_flow_integration
from tests.helpers.integrations import load
from tests.helpers.integrations import make_integration
from tests.helpers.live import import_wsgi
from tests.helpers.live import wizard_environment
from tests.helpers.logs import production_logging
from tests.helpers.races import wait_until_waiting_at_the_lock
from tests.helpers.tls import self_signed
from tests.helpers.users import sign_in
from tests.helpers.users import signed_in_client
from wizard.constant_contact import http
from wizard.constant_contact.http import ProviderError
from wizard.domain import tokens
from wizard.domain import verification
from wizard.models import AuditEvent
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.platform import crypto
from wizard.platform import logs
from wizard.platform.extensions import db
from wizard.sandbox import seed
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import set_faults

pytestmark = pytest.mark.sandboxed

NEW_KEY = Fernet.generate_key().decode()
# What `keys status` and `keys rotate` say about values in the old unbound format.
REFUSED_UNTIL_ROTATED = (
    "{n} values in the old format (before v2) are refused by the app until "
    "`flask keys rotate` rewrites them."
)
ACCEPTED_UNTIL_ROTATED = (
    "{n} values in the old format (before v2) are read only because "
    "WIZARD_ACCEPT_UNBOUND_CIPHERTEXT is on: run `flask keys rotate`, then turn it off."
)
SAFE_TO_REFUSE = (
    "No values in the old format (before v2) are left: turn "
    "WIZARD_ACCEPT_UNBOUND_CIPHERTEXT off (the default) and restart."
)
SEALED = {
    Integration: Integration.sealed_columns,
    AuthorizationAttempt: AuthorizationAttempt.sealed_columns,
}


def stored_values(app: Flask) -> dict[str, str]:
    """Return every encrypted value in the database, by table, row and column."""
    found = {}
    with app.app_context():
        for model, columns in SEALED.items():
            for row in db.session.scalars(db.select(model)):
                for column in columns:
                    if getattr(row, column) is not None:
                        found[f"{model.__name__} {row.id} {column}"] = getattr(
                            row, column
                        )
    return found


def plaintexts(app: Flask, skip: set[str] | None = None) -> dict[str, str]:
    """Return every encrypted value decrypted (but those skipped), by table, row and
    column."""
    found = {}
    with app.app_context():
        for model, columns in SEALED.items():
            for row in db.session.scalars(db.select(model)):
                for column in columns:
                    where = f"{model.__name__} {row.id} {column}"
                    if getattr(row, column) is not None and where not in (skip or ()):
                        found[where] = row.unseal(column)
    return found


def without(values: dict[str, str], where: str) -> dict[str, str]:
    """Return the values except one."""
    return {k: v for k, v in values.items() if k != where}


def make_legacy(app: Flask, model: type, row_id: int, column: str) -> str:
    """Store one value as releases before v2 did (plain Fernet, unbound); return it."""
    with app.app_context():
        row = db.session.get(model, row_id)
        plain = row.unseal(column)
        old = Fernet(ENCRYPTION_KEY.encode()).encrypt(plain.encode()).decode()
        setattr(row, column, old)
        db.session.commit()
    return plain


def code_flow_connection(client: FlaskClient, app: Flask, cc: str) -> int:
    """Connect an integration through the real authorization-code flow."""
    integration_id = code_flow_integration(app, cc)
    _, redirect = allowed_at_sandbox(client, app, integration_id)
    assert "Access allowed" in callback(client, redirect).text
    assert load(app, integration_id).status == "active"
    return integration_id


def copy_column(
    app: Flask, source: int, column: str, target: int, into: str | None = None
) -> None:
    """Copy one row's ciphertext into another row (or column), as an attacker could."""
    with app.app_context():
        value = getattr(db.session.get(Integration, source), column)
        db.session.execute(
            db.update(Integration).filter_by(id=target).values({into or column: value})
        )
        db.session.commit()


def test_every_secret_is_stored_as_bound_ciphertext(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    code_flow = code_flow_connection(signed_in, app, cc)
    device = make_integration(app, create_application(cc)["api_key"])
    start_attempt(signed_in, device)
    values, plain = stored_values(app), plaintexts(app)
    columns = {where.split(" ", 2)[2] for where in values}
    assert columns == {
        "client_secret_encrypted",
        "access_token_encrypted",
        "refresh_token_encrypted",
        "code_verifier_encrypted",
        "device_code_encrypted",
    }  # the state is erased once used
    with app.app_context():
        current = crypto.current_key_id()
        assert re.fullmatch(r"[\w-]{8}", current)
    for where, value in values.items():
        assert value.startswith(f"v2:{current}:"), where
        assert plain[where] not in value, where
    assert f"Integration {code_flow} client_secret_encrypted" in values
    assert f"Integration {device} access_token_encrypted" not in values


def test_a_token_copied_into_another_tenants_row_is_refused_not_used(
    client: FlaskClient, app: Flask, cc: str, customer: int, other_customer: int
) -> None:
    sign_in(client, "owner@bloom.test")
    theirs = connect(client, app, cc)
    client.post("/sign-out")
    sign_in(client, "owner@rival.test")
    ours = connect(client, app, cc, organization_id=2)
    with app.app_context():
        assert verification.check(db.session.get(Integration, ours))  # works before
        stolen = db.session.get(Integration, theirs).unseal("refresh_token_encrypted")
    copy_column(app, theirs, "refresh_token_encrypted", ours)
    copy_column(app, theirs, "access_token_encrypted", ours)
    expire(app, ours)
    refreshes = get_stats(cc)["refreshes"]
    with app.app_context():
        with pytest.raises(tokens.ConnectionProblem) as caught:
            tokens.access_token(db.session.get(Integration, ours))
    assert caught.value.code == "unreadable"
    assert stolen not in caught.value.message
    assert get_stats(cc)["refreshes"] == refreshes  # A's token never went out
    assert load(app, ours).status == "needs_reauthorization"
    # The owner of the moved-into row sees a plain message, never a 500.
    listing = client.get("/integrations")
    assert listing.status_code == 200 and "Needs re-authorization" in listing.text
    tested = client.post(f"/integrations/{ours}/test")
    assert tested.status_code == 200
    assert "We could not read what we saved" in tested.text
    assert stolen not in tested.text
    # Tenant A's own connection is untouched.
    with app.app_context():
        assert verification.check(db.session.get(Integration, theirs))


def test_a_value_moved_to_another_column_or_attempt_is_refused(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = code_flow_connection(signed_in, app, cc)
    # The access token where the refresh token belongs, and the other way round.
    with app.app_context():
        row = db.session.get(Integration, integration_id)
        access, refresh = row.access_token_encrypted, row.refresh_token_encrypted
        row.access_token_encrypted, row.refresh_token_encrypted = refresh, access
        db.session.commit()
        for column in ("access_token_encrypted", "refresh_token_encrypted"):
            with pytest.raises(crypto.DecryptionError):
                row.unseal(column)
        with pytest.raises(tokens.ConnectionProblem) as caught:
            tokens.access_token(row, force=True)
    assert caught.value.code == "unreadable"
    # One attempt's device code copied into another attempt's row.
    first = make_integration(signed_in.application, create_application(cc)["api_key"])
    second = make_integration(signed_in.application, create_application(cc)["api_key"])
    start_attempt(signed_in, first)
    start_attempt(signed_in, second)
    source, target = attempt_of(app, first), attempt_of(app, second)
    with app.app_context():
        db.session.execute(
            db.update(AuthorizationAttempt)
            .filter_by(id=target.id)
            .values(device_code_encrypted=source.device_code_encrypted)
        )
        db.session.commit()
    make_due(app, target.id)
    assert status(signed_in, second, target.id)["state"] == "ended"
    page = signed_in.get(f"/integrations/{second}/authorize/{target.id}")
    assert page.status_code == 200 and "We could not read what we saved" in page.text


def invoke(app: Flask, *args: str) -> Any:
    """Run a flask command against this app."""
    return app.test_cli_runner().invoke(args=list(args))


def test_rotation_end_to_end(
    signed_in: FlaskClient, app: Flask, cc: str, app_with: AppWith
) -> None:
    # Old key first: a device connection, a code-flow connection, an open attempt.
    device = connect(signed_in, app, cc, "rotating")
    code_flow = code_flow_connection(signed_in, app, cc)
    waiting = make_integration(app, create_application(cc)["api_key"])
    start_attempt(signed_in, waiting)
    # Client secret, two pairs of tokens, a verifier and two device codes.
    before = plaintexts(app)
    assert len(before) == 8
    # A database from before v2 holds plain Fernet values: make one such secret.
    old_secret = f"Integration {code_flow} client_secret_encrypted"
    make_legacy(app, Integration, code_flow, "client_secret_encrypted")

    # The new key goes first; the old one still decrypts, requests keep working.
    both = app_with(ENCRYPTION_KEYS=f"{NEW_KEY},{ENCRYPTION_KEY}")
    status_before = invoke(both, "keys", "status")
    assert status_before.exit_code == 1
    assert "key 1" in status_before.output and ": 0 values" in status_before.output
    assert "old format (before v2): 1 values" in status_before.output
    assert "keep every key" in status_before.output
    assert REFUSED_UNTIL_ROTATED.format(n=1) in status_before.output
    with both.app_context():
        assert verification.check(db.session.get(Integration, device))
        # The app refuses the old value (the setting's default); the rest decrypt.
        with pytest.raises(crypto.DecryptionError):
            db.session.get(Integration, code_flow).unseal("client_secret_encrypted")
    assert without(plaintexts(both, skip={old_secret}), old_secret) == without(
        before, old_secret
    )

    # `keys rotate` reads the old value although the app refuses it: that is the way
    # out of the old format.
    rotated = invoke(both, "keys", "rotate", "--batch-size", "1")
    assert rotated.exit_code == 0, rotated.output
    assert "8 values re-encrypted under key 1." in rotated.output
    assert "old format" not in rotated.output
    assert plaintexts(both) == before
    assert "key 1" in rotated.output and "key 2" in rotated.output
    assert "the other keys may be removed" in rotated.output
    again = invoke(both, "keys", "rotate")
    assert again.exit_code == 0 and "0 values re-encrypted" in again.output
    assert invoke(both, "keys", "status").exit_code == 0
    for output in (status_before.output, rotated.output, again.output):
        for value in (*before.values(), NEW_KEY, ENCRYPTION_KEY):
            assert value not in output

    # The old key removed: everything still decrypts and the connections work.
    new_only = app_with(ENCRYPTION_KEYS=NEW_KEY)
    assert plaintexts(new_only) == before
    with new_only.app_context():
        current = crypto.current_key_id()
        assert all(
            v.startswith(f"v2:{current}:") for v in stored_values(new_only).values()
        )
        # The code flow's refresh sends the rotated client secret; the sandbox checks.
        tokens.access_token(db.session.get(Integration, code_flow), force=True)
        tokens.access_token(db.session.get(Integration, device), force=True)
        assert verification.check(db.session.get(Integration, device))
        assert verification.check(db.session.get(Integration, code_flow))
    browser = signed_in_client(new_only)
    assert "The connection works" in browser.post(f"/integrations/{device}/test").text
    assert load(new_only, device).status == "active"


def test_rotation_leaves_unreadable_values_alone_and_says_so(
    signed_in: FlaskClient, app: Flask, cc: str, app_with: AppWith
) -> None:
    first = connect(signed_in, app, cc)
    second = connect(signed_in, app, cc)
    copy_column(app, first, "refresh_token_encrypted", second)
    moved = stored_values(app)[f"Integration {second} refresh_token_encrypted"]
    both = app_with(ENCRYPTION_KEYS=f"{NEW_KEY},{ENCRYPTION_KEY}")
    result = invoke(both, "keys", "rotate")
    assert result.exit_code == 1
    assert f"unreadable: integration {second} refresh_token_encrypted" in result.output
    # The first's two tokens, the second's access token, the two device codes.
    assert "5 values re-encrypted" in result.output
    assert "1 values still need an older key" in result.output
    assert moved not in result.output
    assert stored_values(both)[f"Integration {second} refresh_token_encrypted"] == moved


def test_an_old_unbound_token_is_refused_like_any_unreadable_value(
    signed_in: FlaskClient, app: Flask, cc: str, app_with: AppWith
) -> None:
    """Pre-v2 tokens: read while accepted; refused by default, plainly, never a 500."""
    integration_id = connect(signed_in, app, cc)
    for column in ("access_token_encrypted", "refresh_token_encrypted"):
        make_legacy(app, Integration, integration_id, column)
    accepting = app_with(ACCEPT_UNBOUND_CIPHERTEXT=True)
    browser = signed_in_client(accepting)
    assert (
        "The connection works"
        in browser.post(f"/integrations/{integration_id}/test").text
    )
    assert load(accepting, integration_id).status == "active"

    refreshes = get_stats(cc)["refreshes"]
    expire(app, integration_id)
    for _ in range(2):  # and again: a plain page each time, never a 500
        tested = signed_in.post(f"/integrations/{integration_id}/test")
        assert tested.status_code == 200
        assert "We could not read what we saved" in tested.text
    assert get_stats(cc)["refreshes"] == refreshes  # the old token never went out
    assert load(app, integration_id).status == "needs_reauthorization"
    listing = signed_in.get("/integrations")
    assert listing.status_code == 200 and "Needs re-authorization" in listing.text


def test_keys_commands_say_when_old_values_may_be_refused(
    signed_in: FlaskClient, app: Flask, cc: str, app_with: AppWith
) -> None:
    integration_id = connect(signed_in, app, cc)
    before = plaintexts(app)
    make_legacy(app, Integration, integration_id, "refresh_token_encrypted")
    accepting = app_with(ACCEPT_UNBOUND_CIPHERTEXT=True)
    status_accepting = invoke(accepting, "keys", "status")
    assert status_accepting.exit_code == 1
    assert ACCEPTED_UNTIL_ROTATED.format(n=1) in status_accepting.output
    assert SAFE_TO_REFUSE not in status_accepting.output
    assert REFUSED_UNTIL_ROTATED.format(n=1) in invoke(app, "keys", "status").output

    rotated = invoke(accepting, "keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "1 values re-encrypted under key 1." in rotated.output
    assert SAFE_TO_REFUSE in rotated.output
    assert SAFE_TO_REFUSE in invoke(accepting, "keys", "status").output
    # With the default setting nothing is said: there is nothing left to turn off.
    refusing = invoke(app, "keys", "status")
    assert refusing.exit_code == 0 and "old format" not in refusing.output
    assert plaintexts(app) == before


def test_the_web_server_will_not_start_on_old_values_it_would_refuse(
    signed_in: FlaskClient, app: Flask, cc: str, database_url: str
) -> None:
    """An upgrade that skipped `keys rotate` stops at start-up, before any request
    marks a working connection as needing re-authorization."""
    integration_id = connect(signed_in, app, cc)
    make_legacy(app, Integration, integration_id, "refresh_token_encrypted")
    env = wizard_environment(base_config(database_url))
    refused = import_wsgi(env)
    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr
    assert refused.stderr.strip().endswith(
        "The database holds 1 values saved before v2, which this release refuses "
        "(WIZARD_ACCEPT_UNBOUND_CIPHERTEXT is off). Run `flask --app wizard keys "
        "rotate` once to rewrite them, then start again; or set "
        "WIZARD_ACCEPT_UNBOUND_CIPHERTEXT=true until it has run."
    )
    accept = {"WIZARD_ACCEPT_UNBOUND_CIPHERTEXT": "true"}
    accepting = import_wsgi(env | accept)
    assert accepting.returncode == 0, accepting.stderr
    assert SAFE_TO_REFUSE not in accepting.stderr
    assert invoke(app, "keys", "rotate").exit_code == 0
    started = import_wsgi(env)
    assert started.returncode == 0, started.stderr
    assert "before v2" not in started.stderr
    # Still accepting after the rotation: the log says it may now be turned off.
    assert SAFE_TO_REFUSE in import_wsgi(env | accept).stderr
    assert load(app, integration_id).status == "active"


@pytest.mark.parametrize(
    "command",
    [
        ["integrations", "refresh", "--due"],
        ["integrations", "refresh"],
        ["integrations", "check"],
        ["integrations", "add-contact", "1", "ann@example.com", "--consent", "form"],
    ],
)
def test_commands_that_use_connections_wait_for_the_rotation_too(
    signed_in: FlaskClient, app: Flask, cc: str, command: list[str]
) -> None:
    """Cron's keep-alive run between an upgrade and `keys rotate` must not mark a
    working connection as needing re-authorization: like the web server, it stops."""
    # The VIP list: add-contact below adds a member, and other tests count the
    # Newsletter's members.
    integration_id = connect(signed_in, app, cc, list_id=seed.VIP_LIST_ID)
    expire(app, integration_id)  # due for the keep-alive
    make_legacy(app, Integration, integration_id, "refresh_token_encrypted")
    calls = get_stats(cc)["token_requests"]["total"], get_stats(cc)["api_calls"]
    result = invoke(app, *command)
    assert result.exit_code == 1
    assert "The database holds 1 values saved before v2" in result.output
    assert "keys rotate" in result.output
    assert load(app, integration_id).status == "active"
    stats = get_stats(cc)
    assert (stats["token_requests"]["total"], stats["api_calls"]) == calls
    # Rotated, the same command uses the connection as usual.
    assert invoke(app, "keys", "rotate").exit_code == 0
    assert invoke(app, *command).exit_code == 0
    assert load(app, integration_id).status == "active"


def test_rotation_during_a_token_refresh_loses_nothing(
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    app_with: AppWith,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refresh arrives while rotation holds the row: it waits, then refreshes."""
    integration_id = connect(signed_in, app, cc, "rotating")
    expire(app, integration_id)
    both = app_with(ENCRYPTION_KEYS=f"{NEW_KEY},{ENCRYPTION_KEY}")
    refreshes = get_stats(cc)["refreshes"]
    handed_out: list[str] = []

    def refresh_elsewhere() -> None:
        with both.app_context():
            row = db.session.get(Integration, integration_id)
            handed_out.append(tokens.access_token(row))

    worker = threading.Thread(target=refresh_elsewhere, name="refresh")
    rotation = threading.current_thread()
    order: list[str] = []

    def lock_request(statement: str) -> bool:
        return "FOR UPDATE" in statement or statement.startswith("BEGIN IMMEDIATE")

    def sent(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.current_thread() is worker and lock_request(statement):
            order.append("refresh asks for the lock")

    def done(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.current_thread() is worker and lock_request(statement):
            order.append("refresh has the lock")

    def committed(_conn: Any) -> None:
        if threading.current_thread() is rotation and order:
            order.append("rotation commits")

    with both.app_context():
        event.listen(db.engine, "before_cursor_execute", sent)
        event.listen(db.engine, "after_cursor_execute", done)
        event.listen(db.engine, "commit", committed)
    real_rotate = crypto.rotate

    def rotate_while_a_refresh_waits(value: str, binding: str) -> str:
        if not order:
            # Rotation holds the integration's row (its first batch) right now.
            worker.start()
            assert worker.native_id is not None
            wait_until_waiting_at_the_lock(both, 1, [os.getpid()], {worker.native_id})
        return real_rotate(value, binding)

    monkeypatch.setattr(crypto, "rotate", rotate_while_a_refresh_waits)
    result = invoke(both, "keys", "rotate")
    worker.join(timeout=30)
    # The refresh asked while rotation held the row and got it only after rotation
    # committed (on SQLite perhaps after a later batch too: its lock is not fair).
    assert order[:2] == ["refresh asks for the lock", "rotation commits"]
    assert order.count("refresh has the lock") == 1
    assert result.exit_code == 0, result.output
    assert get_stats(cc)["refreshes"] == refreshes + 1
    with both.app_context():
        row = db.session.get(Integration, integration_id)
        # The refresh's tokens were kept: the access token it handed out is stored,
        # and the stored refresh token is the newest (rotating: the only live one).
        assert handed_out == [row.unseal("access_token_encrypted")]
        assert all(
            crypto.is_current(getattr(row, column))
            for column in ("access_token_encrypted", "refresh_token_encrypted")
        )
        tokens.access_token(row, force=True)
    assert load(both, integration_id).status == "active"


def test_a_backup_holds_ciphertext_only(
    signed_in: FlaskClient, app: Flask, cc: str, database_url: str
) -> None:
    code_flow_connection(signed_in, app, cc)
    device = make_integration(app, create_application(cc)["api_key"])
    start_attempt(signed_in, device)
    secrets_ = list(plaintexts(app).values())
    assert len(secrets_) == 5
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as source:
            dump = "\n".join(source.iterdump())
        assert 'INSERT INTO "integration"' in dump
    else:
        dump = subprocess.run(
            ["pg_dump", "--inserts", database_url.replace("+psycopg", "")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "INSERT INTO public.integration" in dump
    for value in (*secrets_, ENCRYPTION_KEY):
        assert value not in dump


def test_an_error_page_and_its_log_show_no_secret(
    app_with: AppWith, cc: str, customer: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected failure mid-step, in production mode: a plain page, a clean log."""
    production = app_with(TESTING=False)
    client = signed_in_client(production)
    integration_id = connect(client, production, cc)
    with production.app_context():
        token = db.session.get(Integration, integration_id).unseal(
            "refresh_token_encrypted"
        )

    def broken(integration: Integration) -> None:
        raise RuntimeError(f"refresh_token={token} then SELECT * FROM integration")

    monkeypatch.setattr(verification, "check", broken)
    with production_logging("text") as buffer:
        page = client.post(f"/integrations/{integration_id}/test")
    assert page.status_code == 500
    assert "Sorry, there is a problem with the service" in page.text
    assert page.headers["X-Request-ID"]
    for leak in (token, "Traceback", "SELECT", "RuntimeError"):
        assert leak not in page.text
    written = buffer.getvalue()
    assert "RuntimeError" in written and token not in written
    assert f"refresh_token={logs.REDACTED} then SELECT" in written


def test_audit_details_and_logs_hold_no_secret_values(
    signed_in: FlaskClient, app: Flask, cc: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Connect both ways, refresh, fail a refresh, disconnect: nothing leaks."""
    caplog.set_level("DEBUG")
    code_flow = code_flow_connection(signed_in, app, cc)
    connected = connect(signed_in, app, cc, "rotating")
    values = plaintexts(app)
    with app.app_context():
        tokens.access_token(db.session.get(Integration, connected), force=True)
        values |= plaintexts(app)
        tokens.disconnect(db.session.get(Integration, code_flow))
        db.session.commit()
        set_faults(cc, {"token": "503"})
        with pytest.raises(tokens.ConnectionProblem):
            tokens.access_token(db.session.get(Integration, connected), force=True)
        set_faults(cc, {})
        events = list(db.session.scalars(db.select(AuditEvent)))
    actions = {event.action for event in events}
    assert {"authorization.approved", "connection.refreshed"} <= actions
    assert "connection.disconnected" in actions
    details = " ".join(str(event.details) for event in events)
    assert all(event.at.tzinfo is not None for event in events)
    for value in values.values():
        assert value not in details
    for value in stored_values(app).values():
        assert value not in details
    for value in values.values():
        assert value not in caplog.text


def test_keys_new_prints_a_fresh_usable_key(app: Flask, app_with: AppWith) -> None:
    first, second = invoke(app, "keys", "new"), invoke(app, "keys", "new")
    assert first.exit_code == second.exit_code == 0
    key = first.output.strip()
    assert key != second.output.strip() and key != ENCRYPTION_KEY
    Fernet(key.encode())  # a valid key, accepted as the setting
    with app_with(ENCRYPTION_KEYS=key).app_context():
        assert crypto.decrypt(crypto.encrypt("x", "t.c:1/o"), "t.c:1/o") == "x"
    refused = invoke(app, "keys", "rotate", "--batch-size", "0")
    assert refused.exit_code != 0 and "at least 1" in refused.output


def test_a_wrong_key_fails_closed_with_a_plain_message(
    signed_in: FlaskClient, app: Flask, cc: str, app_with: AppWith
) -> None:
    """The key was lost and another set: no plaintext, no 500, re-authorize."""
    integration_id = connect(signed_in, app, cc)
    wrong = app_with(ENCRYPTION_KEYS=NEW_KEY)
    client = signed_in_client(wrong)
    for _ in range(2):  # and again: a plain page each time, never a loop of 500s
        tested = client.post(f"/integrations/{integration_id}/test")
        assert tested.status_code == 200
        assert "We could not read what we saved" in tested.text
    assert load(wrong, integration_id).status == "needs_reauthorization"
    assert "Re-authorize now" in client.get("/integrations").text
    census = invoke(wrong, "keys", "status")
    assert census.exit_code == 1
    assert "written by a key that is not configured" in census.output


class TokenAnswer(BaseHTTPRequestHandler):
    """A fake token endpoint that hands out a token to anyone who connects."""

    def do_POST(self) -> None:
        """Answer with a token."""
        body = b'{"access_token": "from-an-impostor", "expires_in": 60}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


def test_calls_to_a_server_with_an_untrusted_certificate_fail(tmp_path: Path) -> None:
    cert_path, key_path = self_signed(tmp_path)
    server = HTTPServer(("127.0.0.1", 0), TokenAnswer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{server.server_address[1]}/token"
    try:
        # The same server answers when its certificate is trusted on purpose...
        trusted = requests.post(url, timeout=5, verify=str(cert_path))
        assert trusted.json()["access_token"] == "from-an-impostor"
        # ...and the wizard's client, which trusts only the system's CAs, refuses it.
        with pytest.raises(ProviderError) as caught:
            http.call("POST", url, timeout=5, data={"grant_type": "refresh_token"})
        assert caught.value.code == "unreachable"
    finally:
        server.shutdown()
        server.server_close()
