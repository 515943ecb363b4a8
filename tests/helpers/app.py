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
        engine = sa.create_engine(template)
        with engine.begin() as connection:
            tables = connection.execute(
                sa.text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ).scalars()
            names = ", ".join(f'"{table}"' for table in tables)
            if names:
                connection.execute(
                    sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
                )
        engine.dispose()
    else:
        path = directory / "wizard.sqlite"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"


# The app_with fixture: app_with(**settings) builds an app on the test's database
# with the test's settings plus these.
AppWith = Callable[..., Flask]
