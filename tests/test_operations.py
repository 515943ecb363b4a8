"""Operations: health checks, request ids, and log lines that never carry secrets."""

import json
import logging
import os
import re
import threading
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from limits.storage import MemoryStorage
from sqlalchemy import event

from tests.helpers.app import AppWith
from tests.helpers.app import base_config
from tests.helpers.connections import connect
from tests.helpers.live import csrf_token
from tests.helpers.live import gunicorn
from tests.helpers.live import run_python
from tests.helpers.live import signed_in_session
from tests.helpers.live import wizard_environment
from tests.helpers.logs import production_logging
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.users import PASSWORD
from tests.helpers.users import make_user
from tests.helpers.users import signed_in_client
from wizard.models import Integration
from wizard.platform import logs
from wizard.platform import pool
from wizard.platform.extensions import db
from wizard.platform.extensions import guard_memory_storage
from wizard.platform.extensions import limiter

SECRETS = {
    "access_token=AT-1234567890": "AT-1234567890",
    '{"refresh_token": "RT-abcdefghij", "expires_in": 28800}': "RT-abcdefghij",
    "client_secret='cs-very-secret'": "cs-very-secret",
    "Authorization: Bearer tok.en-value_1": "tok.en-value_1",
    "Basic Y2xpZW50OnNlY3JldA==": "Y2xpZW50OnNlY3JldA==",
    "GET /callback/constant-contact-auth?code=CODE123456&state=STATE987": "CODE123456",
    "/callback?state=STATE987&code=x": "STATE987",
    "device_code: DC-0123456789": "DC-0123456789",
    "code_verifier=VERIFIER0123456789": "VERIFIER0123456789",
    "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2ln ends": (
        "eyJhbGciOiJSUzI1NiJ9"
    ),
    "stored gAAAAABnFernetTokenValue0123456789abcdef== here": "gAAAAABnFernet",
    "stored v2:Ab-d_fGh:nOnCeAndCipherText0123456789_-== here": "nOnCeAndCipher",
    "password=hunter2hunter2": "hunter2hunter2",
}


@pytest.mark.parametrize("line", list(SECRETS))
def test_redact_takes_out_every_kind_of_secret(line: str) -> None:
    cleaned = logs.redact(line)
    assert SECRETS[line] not in cleaned
    assert logs.REDACTED in cleaned


@pytest.mark.parametrize(
    "line",
    [
        "integration 42 refreshed in 0.31 s",
        "Constant Contact answered 503 (status code 503)",
        "list 7c5b38ee-81d3-11f0-a43c-fa163ea34668 has 12 members",
    ],
)
def test_redact_leaves_ordinary_lines_alone(line: str) -> None:
    assert logs.redact(line) == line


@pytest.mark.parametrize("kind", ["text", "json"])
def test_log_lines_and_tracebacks_are_redacted(kind: str) -> None:
    logger = logging.getLogger("wizard.domain.tokens")
    with production_logging(kind) as buffer:
        logger.info("token answer %s", {"access_token": "AT-secret-value"})
        try:
            raise RuntimeError("refresh failed: refresh_token=RT-secret-value")
        except RuntimeError:
            logger.exception("refresh of integration %d failed", 7)
    written = buffer.getvalue()
    assert "AT-secret-value" not in written and "RT-secret-value" not in written
    assert "refresh of integration 7 failed" in written
    assert "RuntimeError" in written  # the traceback is still there, cleaned
    if kind == "json":
        entries = [json.loads(line) for line in written.splitlines() if line]
        assert [entry["level"] for entry in entries] == ["info", "error"]
        assert "Traceback" in entries[1]["error"]


def test_json_lines_carry_the_request_id(app: Flask) -> None:
    with (
        production_logging("json") as buffer,
        app.test_request_context("/integrations", headers={"X-Request-ID": "r-77"}),
    ):
        app.preprocess_request()
        logging.getLogger("wizard").warning("something to look at")
    entry = json.loads(buffer.getvalue())
    assert entry["request_id"] == "r-77" and entry["path"] == "/integrations"
    assert entry["message"] == "something to look at"


def test_request_ids_are_echoed_or_made(client: FlaskClient) -> None:
    given = client.get("/sign-in", headers={"X-Request-ID": "abc.DEF-123"})
    assert given.headers["X-Request-ID"] == "abc.DEF-123"
    # An id that could forge or bloat log lines is replaced, not echoed.
    for bad in ('x", "level": "error', "a" * 65, "<script>"):
        forged = client.get("/sign-in", headers={"X-Request-ID": bad})
        assert len(forged.headers["X-Request-ID"]) == 32
        assert forged.headers["X-Request-ID"] != bad


def test_made_request_ids_differ_across_requests_and_forked_workers(
    client: FlaskClient,
) -> None:
    made = {client.get("/sign-in").headers["X-Request-ID"] for _ in range(3)}
    assert len(made) == 3 and all(re.fullmatch("[0-9a-f]{32}", i) for i in made)
    # A worker forked from the same master starts its own prefix.
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        os.write(writer, logs._request_ids.make().encode())
        os._exit(0)
    os.waitpid(child, 0)
    theirs = os.read(reader, 64).decode()
    os.close(reader)
    os.close(writer)
    ours = logs._request_ids.make()
    assert len(theirs) == 32 and theirs[:16] != ours[:16]


def test_healthz_says_the_process_is_up_without_a_session(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_checks_the_database(
    client: FlaskClient, make_app: Callable[[dict[str, Any]], Flask], tmp_path: Path
) -> None:
    assert client.get("/readyz").json == {"status": "ready"}
    # A database that refuses connections: not ready, and nothing about why.
    unreachable = make_app(
        base_config("postgresql+psycopg://postgres@127.0.0.1:1/gone")
    ).test_client()
    response = unreachable.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable"}
    assert "127.0.0.1" not in response.text and "psycopg" not in response.text


@contextmanager
def integrations_refused(database_url: str, message: str) -> Iterator[None]:
    """Make the database refuse every change to an integration, saying ``message``.

    Drivers quote values in their errors; this one quotes tokens.
    """
    engine = sa.create_engine(database_url)
    if engine.dialect.name == "sqlite":
        create = [
            "CREATE TRIGGER refuse BEFORE UPDATE ON integration "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        ]
        drop = ["DROP TRIGGER refuse"]
    else:
        create = [
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$",
            "CREATE TRIGGER refuse BEFORE UPDATE ON integration "
            "FOR EACH ROW EXECUTE FUNCTION refuse()",
        ]
        drop = ["DROP TRIGGER refuse ON integration", "DROP FUNCTION refuse()"]
    try:
        with engine.begin() as connection:
            for statement in create:
                connection.exec_driver_sql(statement)
        yield
    finally:
        with engine.begin() as connection:
            for statement in drop:
                connection.exec_driver_sql(statement)
        engine.dispose()


@pytest.mark.parametrize("kind", ["text", "json"])
def test_production_logs_under_gunicorn_carry_no_secret(
    make_app: Callable[[dict[str, Any]], Flask],
    database_url: str,
    cc: str,
    tmp_path: Path,
    kind: str,
) -> None:
    """gunicorn.conf.py and wsgi.py as deployed: a failure quoting tokens, a callback.

    The app's error line and its traceback are redacted by what `logs.configure()`
    set up; access lines carry no query string or referrer.
    """
    settings = base_config(database_url) | sandbox_settings(cc)
    settings["PUBLIC_BASE_URL"] = "http://127.0.0.1"  # plain-http cookies
    app = make_app(settings)
    make_user(app, "owner@bloom.test", org="Bloom")
    client = signed_in_client(app)
    integration_id = connect(client, app, cc)
    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        refresh = integration.unseal("refresh_token_encrypted")
        access = integration.unseal("access_token_encrypted")
    refused = f"integration {integration_id} is read-only"
    message = f"{refused}: refresh_token={refresh} Authorization: Bearer {access}"
    log_file = tmp_path / "gunicorn.log"
    env = wizard_environment(settings | {"LOG_FORMAT": kind})
    env["GUNICORN_LOG"] = str(log_file)
    with (
        integrations_refused(database_url, message),
        gunicorn(env, workers=1) as base_url,
    ):
        session = signed_in_session(base_url, "owner@bloom.test", PASSWORD)
        test_url = f"{base_url}/integrations/{integration_id}/test"
        form = session.get(test_url, timeout=10)
        assert form.status_code == 200
        failed = session.post(
            test_url, data={"csrf_token": csrf_token(form.text)}, timeout=10
        )
        callback = requests.get(
            f"{base_url}/callback/constant-contact-auth",
            params={"code": "CODE-SECRET-1", "state": "STATE-SECRET-2"},
            headers={
                "X-Request-ID": "req-42",
                "Referer": f"{base_url}/x?user_code=USERCODE-SECRET-3",
            },
            allow_redirects=False,
            timeout=10,
        )
        assert callback.headers["X-Request-ID"] == "req-42"
    assert failed.status_code == 500
    assert "Sorry, there is a problem with the service" in failed.text
    assert refused not in failed.text and access not in failed.text
    written = log_file.read_text()
    for secret in (refresh, access, "CODE-SECRET-1", "STATE-SECRET-2", "USERCODE"):
        assert secret not in written
    failure_id = failed.headers["X-Request-ID"]
    if kind == "json":
        entries = [json.loads(line) for line in written.splitlines()]
        errors = [e for e in entries if e["level"] == "error"]
        # The failed request's own line; any other shows in the message if it fails.
        mine = [e for e in errors if e.get("request_id") == failure_id]
        assert len(mine) == 1, errors
        error = mine[0]
        assert (error["logger"], error["message"]) == ("wizard", "unhandled error")
        assert error["request_id"] == failure_id
        assert error["error"].startswith("Traceback")
        assert f"{refused}: refresh_token={logs.REDACTED}" in error["error"]
        assert f"Authorization: Bearer {logs.REDACTED}" in error["error"]
        access_lines = [e for e in entries if e["logger"] == "gunicorn.access"]
        assert [
            (e["method"], e["path"], e["status"])
            for e in access_lines
            if e["request_id"] in (failure_id, "req-42")
        ] == [
            ("POST", f"/integrations/{integration_id}/test", 500),
            ("GET", "/callback/constant-contact-auth", callback.status_code),
        ]
    else:
        assert " ERROR wizard unhandled error\nTraceback" in written
        assert f"{refused}: refresh_token={logs.REDACTED}" in written
        assert f"Authorization: Bearer {logs.REDACTED}" in written
        lines = [line for line in written.splitlines() if "req-42" in line]
        assert len(lines) == 1
        assert '"GET /callback/constant-contact-auth"' in lines[0]
        assert f" {callback.status_code} " in lines[0]
        (post,) = [line for line in written.splitlines() if failure_id in line]
        assert f'"POST /integrations/{integration_id}/test" 500 ' in post


def test_web_workers_leave_command_line_tools_unloaded(database_url: str) -> None:
    # Alembic and the sandbox cost each worker ~20 MB and serve no web request.
    env = wizard_environment(base_config(database_url))
    loaded = run_python(
        env,
        "-c",
        "import sys, wsgi; print(sorted(m for m in sys.modules if m in "
        "('alembic', 'flask_migrate', 'wizard.cli', 'wizard.sandbox', 'segno')))",
        check=True,
    ).stdout
    assert loaded.strip() == "[]"
    # The command line still has every command, `db` among them.
    commands = run_python(
        env, "-m", "flask", "--app", "wizard", "--help", check=True
    ).stdout
    for name in ("db", "users", "integrations", "demo", "sandbox"):
        assert f"  {name} " in commands


def kill(dbapi_connection: Any, app: Flask) -> None:
    """Break a pooled connection the way a database restart would."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        dbapi_connection.close()
        return
    pid = dbapi_connection.info.backend_pid
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    engine.dispose()


class Clock:
    """A monotonic clock the test moves by hand, instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_only_idle_connections_are_pinged_and_dead_ones_replaced(
    app_with: AppWith, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(pool, "time", clock)  # the clock pool.py reads
    app = app_with(DATABASE_PING_AFTER_SECONDS=30)
    client = app.test_client()
    with app.app_context():
        engine = db.engine
    pings: list[object] = []
    real_ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    pooled: list[Any] = []
    event.listen(engine, "checkin", lambda conn, _record: pooled.append(conn))
    assert client.get("/readyz").status_code == 200
    # Back-to-back requests, or idle just under the setting: no ping.
    for idle in (0, 0, 29.9):
        clock.now += idle
        assert client.get("/readyz").status_code == 200
    assert pings == []
    # Idle past the setting: one ping, and the connection is kept.
    clock.now += 30
    assert client.get("/readyz").status_code == 200
    assert pings == [pooled[-2]] and pooled[-1] is pooled[-2]
    # Idle and dead underneath: the ping fails, a fresh connection serves the request.
    dead = set(pooled)
    for connection in dead:
        kill(connection, app)
    clock.now += 30
    assert client.get("/readyz").status_code == 200
    assert len(pings) == 2 and pings[1] in dead
    assert pooled[-1] not in dead


def test_the_in_memory_limit_counter_restarts_its_timer_one_thread_at_a_time(
    app: Flask,
) -> None:
    """limits 5.8 could start its expiry timer twice at once: a 500 under load."""
    assert "_MemoryStorage__schedule_expiry" in vars(limiter.storage)

    def most_at_once(guarded: bool) -> int:
        storage = MemoryStorage()
        inside: list[int] = [0]
        most: list[int] = [0]
        counting = threading.Lock()
        # The first two threads inside wait there for each other: unguarded they
        # meet (proof that two were inside at once, not a hope that they overlapped);
        # guarded, the first waits out a second alone while the rest queue for the
        # lock, and the broken barrier lets everyone after it straight through.
        met = threading.Barrier(2, timeout=1 if guarded else 30)

        def slow_restart() -> None:  # stands in for check-then-start
            with counting:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            try:
                met.wait()
            except threading.BrokenBarrierError:
                pass
            with counting:
                inside[0] -= 1

        storage._MemoryStorage__schedule_expiry = slow_restart  # type: ignore[attr-defined]
        if guarded:
            guard_memory_storage(storage)
        ready = threading.Barrier(8)

        def count() -> None:
            ready.wait()
            storage.incr("key", 60)

        threads = [threading.Thread(target=count) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert storage.get("key") == 8
        return most[0]

    assert most_at_once(guarded=False) >= 2  # the race the guard closes
    assert most_at_once(guarded=True) == 1
