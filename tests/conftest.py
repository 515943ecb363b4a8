"""Fixtures: app, client, runner, on SQLite or PostgreSQL, plus users to sign in as.

The database is built by the migrations once per test session; each test gets a
fresh copy (SQLite) or emptied tables (PostgreSQL). Set WIZARD_TEST_DATABASE_URL to
a PostgreSQL server URL to run the suite there; a throwaway database is created.
"""

import base64
import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner
from flask_migrate import upgrade
from playwright.sync_api import Browser
from playwright.sync_api import sync_playwright
from werkzeug.security import generate_password_hash

from wizard import create_app
from wizard import models
from wizard.models import ROLE_CUSTOMER
from wizard.models import ROLE_SUPPORT
from wizard.models import Organization
from wizard.models import User
from wizard.platform.extensions import db
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import reset
from wizard.sandbox.testing import start_server
from wizard.web.auth import views as auth

PASSWORD = "correct horse battery staple"
# Fixed, so that every copy of this module (pytest's and `tests.conftest`) agrees.
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
    }


def _migrate(database_url: str) -> None:
    app = create_app(base_config(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Build the schema with the migrations once; yield a URL or template path."""
    if POSTGRES_URL:
        name = f"wizard_test_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.make_url(POSTGRES_URL).set(database=name)
        url_text = url.render_as_string(hide_password=False)
        _migrate(url_text)
        yield url_text
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite"
        _migrate(f"sqlite:///{path}")
        yield str(path)


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


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    """Give the test an empty, migrated database."""
    with fresh_database(database_template, tmp_path) as url:
        yield url


@pytest.fixture
def config(database_url: str) -> dict[str, Any]:
    """Settings for the app under test; tests may change them before `app` is used."""
    return base_config(database_url)


@pytest.fixture
def make_app() -> Iterator[Callable[[dict[str, Any]], Flask]]:
    """Build apps with other settings; their database connections close afterwards."""
    made: list[Flask] = []

    def make(settings: dict[str, Any]) -> Flask:
        made.append(create_app(settings))
        return made[-1]

    yield make
    for built in made:
        with built.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[[dict[str, Any]], Flask], config: dict[str, Any]) -> Flask:
    """The wizard app, on a fresh database."""
    return make_app(config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A runner for the app's CLI commands."""
    return app.test_cli_runner()


# One round of PBKDF2 in place of scrypt (0.26 s of CPU per sign-in, on purpose):
# hundreds of sign-ins per run would spend a third of the suite's CPU hashing.
# Tests of the hashing itself are marked real_password_hashing and keep scrypt, as
# do the gunicorn-served apps (their first sign-in upgrades a quick hash).
QUICK_PASSWORD_METHOD = "pbkdf2:sha256:1"
_HASH: dict[str, str] = {}


def password_hash(method: str) -> str:
    """Return PASSWORD hashed with this method (once per session: scrypt is slow)."""
    if method not in _HASH:
        _HASH[method] = generate_password_hash(PASSWORD, method=method)
    return _HASH[method]


@pytest.fixture(autouse=True)
def quick_password_hashing(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hash and check passwords with one round, unless the test is about hashing."""
    if request.node.get_closest_marker("real_password_hashing"):
        return
    monkeypatch.setattr(models, "PASSWORD_METHOD", QUICK_PASSWORD_METHOD)
    monkeypatch.setattr(auth, "PASSWORD_METHOD", QUICK_PASSWORD_METHOD)
    monkeypatch.setattr(auth, "_DUMMY_HASH", password_hash(QUICK_PASSWORD_METHOD))


def make_user(
    app: Flask, email: str, role: str = ROLE_CUSTOMER, org: str | None = None
) -> int:
    """Create a user (and organization) directly; return the user's id."""
    with app.app_context():
        organization = None
        if org:
            organization = db.session.scalar(
                db.select(Organization).filter_by(name=org)
            )
            organization = organization or Organization(name=org)
        user = User(
            email=email,
            role=role,
            organization=organization,
            password_hash=password_hash(models.PASSWORD_METHOD),
        )
        db.session.add(user)
        db.session.commit()
        return user.id


@pytest.fixture
def customer(app: Flask) -> int:
    """A customer of the organization "Bloom"."""
    return make_user(app, "owner@bloom.test", ROLE_CUSTOMER, "Bloom")


@pytest.fixture
def other_customer(app: Flask) -> int:
    """A customer of another organization."""
    return make_user(app, "owner@rival.test", ROLE_CUSTOMER, "Rival")


@pytest.fixture
def support_user(app: Flask) -> int:
    """A support person."""
    return make_user(app, "helper@promopulse.test", ROLE_SUPPORT)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the real form."""
    return client.post("/sign-in", data={"email": email, "password": password})


@pytest.fixture
def signed_in(client: FlaskClient, customer: int) -> FlaskClient:
    """The client, signed in as the Bloom customer."""
    response = sign_in(client, "owner@bloom.test")
    assert response.status_code == 302
    return client


def sandbox_server(
    tmp_path_factory: pytest.TempPathFactory, **settings: Any
) -> SandboxServer:
    """Start a local Constant Contact with its own database and the test controls."""
    path = tmp_path_factory.mktemp("cc") / "sandbox.sqlite"
    return start_server(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SANDBOX_TEST_CONTROL": True,
            "SANDBOX_FAULT_DELAY_SECONDS": 3,
        }
        | settings
    )


@pytest.fixture(scope="session")
def cc_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """The local Constant Contact, served over real HTTP on a loopback port."""
    with sandbox_server(tmp_path_factory) as server:
        yield server


@pytest.fixture
def cc(cc_sandbox: SandboxServer) -> Iterator[str]:
    """The shared sandbox's base URL; its clock, faults and counters reset around it."""
    reset(cc_sandbox.base_url)
    yield cc_sandbox.base_url
    reset(cc_sandbox.base_url)


# The sandbox holds a "timeout" fault's answer 3 s (and drips a "drip" one for 3 s).
# A test that turns one on gives up sooner, and only then: healthy calls keep the
# default 10 s, which a loaded machine running the suite never reaches.
GIVE_UP_SECONDS = 1.0


def give_up_sooner(app: Flask, fault: str) -> None:
    """Let the app wait less than the sandbox holds a hung answer, for that fault."""
    if fault in ("timeout", "drip"):
        app.config["CC_HTTP_TIMEOUT_SECONDS"] = GIVE_UP_SECONDS


def sandbox_settings(base_url: str) -> dict[str, str]:
    """The wizard's Constant Contact settings pointed at a sandbox."""
    oauth = f"{base_url}/oauth2/default/v1"
    return {
        "CC_AUTHORIZATION_URL": f"{oauth}/authorize",
        "CC_TOKEN_URL": f"{oauth}/token",
        "CC_DEVICE_AUTHORIZATION_URL": f"{oauth}/device/authorize",
        "CC_REVOCATION_URL": f"{oauth}/revoke",
        "CC_API_BASE_URL": f"{base_url}/v3",
        "CC_PORTAL_URL": f"{base_url}/pages/dma/portal/",
        "CC_LISTS_URL": f"{base_url}/pages/contacts/ui",
    }


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright (never a downloaded browser)."""
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is missing: `make test` installs it"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
