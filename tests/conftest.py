"""Fixtures: app, client, runner, on SQLite or PostgreSQL, plus users to sign in as.

The database is built by the migrations once per test session; each test gets a
fresh copy (SQLite) or emptied tables (PostgreSQL). Set WIZARD_TEST_DATABASE_URL to
a PostgreSQL server URL to run the suite there; a throwaway database is created.
The helpers these fixtures use, and tests share, are in tests/helpers/.

The served wizard: a test that asks for ``wizard_url`` gets the URL of the wizard
under gunicorn (two workers, CSRF checked, the sign-in and start limits raised),
pointed at ``fast_cc`` (devices poll every second). It is started once per module
and test process (not per test: a start costs about 1.5 s of CPU); the test's
``app``, ``customer`` (owner@bloom.test of Bloom) and ``database_url`` are on its
database, which is emptied after each test (ids start at 1 again). Close the
browser contexts a test opens, or their pages keep asking the next test's server.
A test that needs other settings, a fresh process or its workers' pids serves its
own with tests.helpers.live.gunicorn.

Chromium: ``browser`` is one Debian headless shell per test process; open a
context per test (``browser.new_context()``) and close it. tests.helpers.browser
has sign-in, axe (``run_axe``, ``axe_violations``) and sandbox portal steps.
"""

import shutil
import uuid
from collections.abc import Callable
from collections.abc import Iterator
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

from tests.helpers.app import POSTGRES_URL
from tests.helpers.app import AppWith
from tests.helpers.app import base_config
from tests.helpers.app import build_app
from tests.helpers.app import empty
from tests.helpers.app import forget
from tests.helpers.app import fresh_database
from tests.helpers.attempts import started
from tests.helpers.integrations import make_integration
from tests.helpers.live import free_port
from tests.helpers.live import gunicorn
from tests.helpers.live import wizard_environment
from tests.helpers.sandbox import device_app
from tests.helpers.sandbox import sandbox_server
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.users import QUICK_PASSWORD_METHOD
from tests.helpers.users import make_user
from tests.helpers.users import password_hash
from tests.helpers.users import sign_in
from wizard import create_app
from wizard import models
from wizard.models import ROLE_CUSTOMER
from wizard.models import ROLE_SUPPORT
from wizard.models import AuthorizationAttempt
from wizard.platform.extensions import db
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import add_list
from wizard.sandbox.testing import delete_list
from wizard.sandbox.testing import reset
from wizard.web.auth import views as auth


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
            # Nothing here must survive a crash of the server: commits need not wait
            # for the disk.
            connection.execute(
                sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
            )
        url = sa.make_url(POSTGRES_URL).set(database=name)
        url_text = url.render_as_string(hide_password=False)
        _migrate(url_text)
        yield url_text
        forget(url_text)
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite"
        _migrate(f"sqlite:///{path}")
        yield str(path)


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, database_template: str, tmp_path: Path
) -> Iterator[str]:
    """Give the test an empty, migrated database.

    A test of the served wizard (wizard_url) gets the served one's, emptied after it.
    """
    if "wizard_url" in request.fixturenames:
        url = request.getfixturevalue("served_database")
        yield url
        empty(url)
        return
    with fresh_database(database_template, tmp_path) as url:
        yield url


@pytest.fixture
def config(request: pytest.FixtureRequest, database_url: str) -> dict[str, Any]:
    """Settings for the app under test; tests may change them before `app` is used.

    In a module marked ``sandboxed``, the app talks to the local Constant Contact.
    """
    settings = base_config(database_url)
    if request.node.get_closest_marker("sandboxed"):
        settings |= sandbox_settings(request.getfixturevalue("cc"))
    return settings


@pytest.fixture
def make_app() -> Iterator[Callable[[dict[str, Any]], Flask]]:
    """Build apps with other settings; their database connections close afterwards."""
    made: list[Flask] = []

    def make(settings: dict[str, Any]) -> Flask:
        made.append(build_app(settings))
        return made[-1]

    yield make
    for built in made:
        with built.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app_with(
    make_app: Callable[[dict[str, Any]], Flask], config: dict[str, Any]
) -> AppWith:
    """Build an app on the test's database: the test's settings plus these."""

    def build(**settings: Any) -> Flask:
        return make_app(config | settings)

    return build


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


@pytest.fixture
def customer(app: Flask) -> int:
    """A customer of the organization "Bloom"."""
    return make_user(app, "owner@bloom.test", ROLE_CUSTOMER, "Bloom")


@pytest.fixture
def other_customer(app: Flask) -> int:
    """A customer of another organization."""
    return make_user(app, "owner@rival.test", ROLE_CUSTOMER, "Rival")


@pytest.fixture
def colleague(app: Flask, customer: int) -> int:
    """Another customer of the organization "Bloom"."""
    return make_user(app, "colleague@bloom.test", ROLE_CUSTOMER, "Bloom")


@pytest.fixture
def support_user(app: Flask) -> int:
    """A support person."""
    return make_user(app, "helper@promopulse.test", ROLE_SUPPORT)


@pytest.fixture
def signed_in(client: FlaskClient, customer: int) -> FlaskClient:
    """The client, signed in as the Bloom customer."""
    response = sign_in(client, "owner@bloom.test")
    assert response.status_code == 302
    return client


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


@pytest.fixture
def fresh_list(cc: str) -> Iterator[str]:
    """A new, empty list in the demo account, deleted afterwards: the sandbox is
    shared by the process, and other tests read the account's lists as seeded."""
    list_id = add_list(cc)
    yield list_id
    delete_list(cc, list_id)


@pytest.fixture
def device_integration(app: Flask, customer: int, cc: str) -> int:
    """Bloom's integration through steps 1-3, with a Device Flow app in the sandbox."""
    return make_integration(app, device_app(cc))


@pytest.fixture
def started_attempt(
    signed_in: FlaskClient, app: Flask, device_integration: int
) -> AuthorizationAttempt:
    """Step 4 started on the device integration by the signed-in Bloom customer."""
    return started(signed_in, app, device_integration)


@pytest.fixture(scope="module")
def fast_cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """A local Constant Contact that lets devices poll every second."""
    with sandbox_server(tmp_path_factory, SANDBOX_DEVICE_INTERVAL=1) as server:
        yield server


@pytest.fixture(scope="module")
def served_database(
    database_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The database of the module's served wizard (wizard_url); tests empty it."""
    if POSTGRES_URL:
        # The template itself: every test empties it after itself anyway.
        yield database_template
        return
    path = tmp_path_factory.mktemp("served") / "wizard.sqlite"
    shutil.copy(database_template, path)
    url = f"sqlite:///{path}"
    yield url
    forget(url)


# The served wizard stays up for all of a module's tests, so the limits that count
# sign-ins and starts across them are raised; the tests of the limits build their own.
SERVED_LIMITS = {
    name: "10000 per minute"
    for name in (
        "SIGN_IN_RATE_LIMIT",
        "SIGN_IN_ACCOUNT_RATE_LIMIT",
        "AUTHORIZE_START_RATE_LIMIT",
        "STATUS_POLL_RATE_LIMIT",
        "CONNECTION_ACTION_RATE_LIMIT",
    )
}


@pytest.fixture(scope="module")
def served_wizard(served_database: str, fast_cc: SandboxServer) -> Iterator[str]:
    """The wizard under gunicorn (two workers, CSRF checked), pointed at fast_cc:
    one per module and test process, for the tests that use wizard_url."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    settings = base_config(served_database) | sandbox_settings(fast_cc.base_url)
    settings |= SERVED_LIMITS | {"PUBLIC_BASE_URL": public}
    with gunicorn(wizard_environment(settings), port=port) as base_url:
        yield base_url


@pytest.fixture
def wizard_url(served_wizard: str, app: Flask, customer: int) -> str:
    """The served wizard's URL, on an empty database with the Bloom customer.

    ``app`` (and every fixture on ``database_url``) uses the served wizard's database
    in such a test, emptied after it (ids start at 1 again). Tests that need other
    settings serve their own wizard with tests.helpers.live.gunicorn.
    """
    return served_wizard


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
