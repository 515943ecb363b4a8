"""The settings every app under test starts from, and a fresh database for each."""

import base64
import hashlib
import os
import shutil
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from wizard import create_app

# Fixed, so that every test process and every app it serves agrees.
ENCRYPTION_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"wizard tests").digest()
).decode()
POSTGRES_URL = os.environ.get("WIZARD_TEST_DATABASE_URL", "")


def base_config(database_url: str) -> dict[str, Any]:
    """Return the settings every test app starts from."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-to-pass",
        "DATABASE_URL": database_url,
        "ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_BASE_URL": "https://wizard.test",
        # No app built in a test process polls by itself, even one built as in
        # production (TESTING off): a test takes the poller's turn (pollers_turn).
        # A poller left running in the test process would poll later tests' codes.
        "POLLER": False,
    } | UNREACHABLE_CONSTANT_CONTACT


# Tests without the sandbox never reach out: Constant Contact is a closed local port,
# refused at once (step 1's app check then says "could not check", as offline).
_CLOSED = "http://127.0.0.1:9"
UNREACHABLE_CONSTANT_CONTACT = {
    "CC_AUTHORIZATION_URL": f"{_CLOSED}/oauth2/default/v1/authorize",
    "CC_TOKEN_URL": f"{_CLOSED}/oauth2/default/v1/token",
    "CC_DEVICE_AUTHORIZATION_URL": f"{_CLOSED}/oauth2/default/v1/device/authorize",
    "CC_REVOCATION_URL": f"{_CLOSED}/oauth2/default/v1/revoke",
    "CC_API_BASE_URL": f"{_CLOSED}/v3",
}


@contextmanager
def fresh_database(template: str, directory: Path) -> Iterator[str]:
    """Yield an empty, migrated database: a copy of the template, or emptied after."""
    if POSTGRES_URL:
        yield template
        empty(template)
    else:
        path = directory / "wizard.sqlite"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"


# One kept connection per test database that is emptied, and the statements that
# empty it.
_EMPTYING: dict[str, tuple[sa.Engine, list[str]]] = {}


def empty(url: str) -> None:
    """Delete every row of a test database and restart its ids (PostgreSQL, SQLite).

    DELETE, not TRUNCATE: on a few small tables TRUNCATE costs a tenth of a second
    on PostgreSQL (new files for every table and index, synced at commit), DELETE
    about a millisecond. The tables are read from the database itself, children first.
    """
    if url not in _EMPTYING:
        # SQLite: wait for a served worker's write as the app does, never fail at once.
        engine = sa.create_engine(
            url,
            poolclass=sa.pool.StaticPool,
            connect_args={"timeout": 30} if url.startswith("sqlite") else {},
        )
        _EMPTYING[url] = (engine, _emptying_statements(engine))
    engine, statements = _EMPTYING[url]
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def _emptying_statements(engine: sa.Engine) -> list[str]:
    """DELETE each table, children first; then restart the ids where they are kept."""
    schema = sa.MetaData()
    schema.reflect(engine)
    tables = [t.name for t in reversed(schema.sorted_tables)]
    statements = [f'DELETE FROM "{t}"' for t in tables if t != "alembic_version"]
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            sequences = connection.execute(
                sa.text(
                    "SELECT sequencename, start_value FROM pg_sequences "
                    "WHERE schemaname = 'public'"
                )
            ).all()
        # One statement, one round trip.
        restarts = [
            f"SELECT setval('\"{name}\"', {start}, false)" for name, start in sequences
        ]
        return ["; ".join(statements + restarts)]
    # SQLite gives a table without AUTOINCREMENT the next id after the largest, so 1
    # once it is empty; AUTOINCREMENT tables count in sqlite_sequence.
    with engine.connect() as connection:
        counted = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
        ).first()
    return statements + (["DELETE FROM sqlite_sequence"] if counted else [])


def forget(url: str) -> None:
    """Close the connection that empties this database (before it is dropped)."""
    if url in _EMPTYING:
        _EMPTYING.pop(url)[0].dispose()


class TemplateCode(BytecodeCache):
    """Compiled templates kept in memory, by file and source checksum.

    Each app has its own Jinja environment, which compiles every template it renders
    again: 40 ms a page, most of a short test's time. The apps a test process builds
    share the compiled code instead (an edited template has another checksum).
    """

    def __init__(self) -> None:
        self.codes: dict[tuple[str, str], Any] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Hand the bucket the code compiled before from the same source, if any."""
        bucket.code = self.codes.get((bucket.key, bucket.checksum))

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code just compiled."""
        self.codes[(bucket.key, bucket.checksum)] = bucket.code


TEMPLATE_CODE = TemplateCode()


def build_app(settings: dict[str, Any]) -> Flask:
    """Create the wizard app with these settings, sharing compiled templates."""
    app = create_app(settings)
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
    return app


# The app_with fixture: app_with(**settings) builds an app on the test's database
# with the test's settings plus these.
AppWith = Callable[..., Flask]
