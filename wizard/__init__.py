"""The Constant Contact setup wizard: create_app builds the Flask application."""

from pathlib import Path
from typing import Any

from flask import Config
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from wizard.constant_contact import http
from wizard.platform import crypto
from wizard.platform import deployment
from wizard.platform import i18n
from wizard.platform import pool
from wizard.platform import reads
from wizard.platform.config import DEFAULTS
from wizard.platform.config import INSECURE_SECRET_KEYS
from wizard.platform.config import MIN_SECRET_KEY_LENGTH
from wizard.platform.extensions import csrf
from wizard.platform.extensions import db
from wizard.platform.extensions import guard_memory_storage
from wizard.platform.extensions import limiter
from wizard.platform.extensions import login_manager
from wizard.platform.extensions import skip_idle_limiter_check

ROOT = Path(__file__).resolve().parent.parent


def create_app(
    test_config: dict[str, Any] | None = None, *, commands: bool = True
) -> Flask:
    """Create and configure the wizard app.

    Web workers pass commands=False: they never run `flask db` or `flask sandbox`,
    and leaving Alembic and the sandbox unloaded keeps each worker ~20 MB smaller.
    """
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.url_map.converters["id"] = DatabaseId
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("WIZARD")
    if test_config is not None:
        app.config.update(test_config)
    _finish_config(app)
    _init_extensions(app)
    _register_web(app)
    if commands:
        _init_commands(app)
    _after_registration(app)
    return app


def _init_extensions(app: Flask) -> None:
    """Bind the database, CSRF, sign-in, rate limits, crypto and languages."""
    db.init_app(app)
    http.init_app(app)
    pool.init_app(app)
    reads.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    guard_memory_storage(limiter.storage)
    crypto.init_app(app)
    i18n.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite()


def _register_web(app: Flask) -> None:
    """Register the blueprints, logs, error pages and template words."""
    from wizard.domain import poller
    from wizard.platform import logs
    from wizard.web import after_answer
    from wizard.web import auth
    from wizard.web import authorize
    from wizard.web import csrf_tokens
    from wizard.web import errors
    from wizard.web import health
    from wizard.web import integrations
    from wizard.web import pages
    from wizard.web import presence
    from wizard.web import setup
    from wizard.web import support
    from wizard.web import words

    for blueprint in (auth, authorize, integrations, setup, pages, support, health):
        app.register_blueprint(blueprint.bp)
    logs.init_app(app)
    errors.init_app(app)
    words.init_app(app)
    presence.init_app(app)
    after_answer.init_app(app)
    poller.init_app(app)
    csrf_tokens.init_app(app)


def _after_registration(app: Flask) -> None:
    """Add what must wrap everything registered: page hooks, warnings, proxies."""
    from wizard.web.pages import hooks

    hooks.init_app(app)
    deployment.init_app(app)
    # Every limit decorates its view: the per-request check has nothing to count.
    skip_idle_limiter_check(app, limiter)
    proxies = app.config["PROXY_COUNT"]
    if proxies:
        # Trust X-Forwarded-* from exactly this many proxies in front of gunicorn.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )


def _init_commands(app: Flask) -> None:
    """Add the `flask` commands, `flask db` (Flask-Migrate) among them."""
    from flask_migrate import Migrate

    from wizard import cli

    Migrate(app, db, directory=str(ROOT / "migrations"))
    cli.init_app(app)


class DatabaseId(IntegerConverter):
    """A row id in a URL: a positive integer that fits the database's column."""

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=2**31 - 1)


def _finish_config(app: Flask) -> None:
    """Derive settings from the contract names and refuse unsafe ones."""
    config = app.config
    default_db = f"sqlite:///{Path(app.instance_path) / 'wizard.sqlite'}"
    url = config.get("DATABASE_URL") or config.get("SQLALCHEMY_DATABASE_URI")
    url = str(url or default_db)
    # Hosting providers hand out postgres:// URLs; SQLAlchemy wants psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    config["SQLALCHEMY_DATABASE_URI"] = url
    config["PUBLIC_BASE_URL"] = str(config["PUBLIC_BASE_URL"]).rstrip("/")
    https = config["PUBLIC_BASE_URL"].startswith("https://")
    if config["SESSION_COOKIE_NAME"] == "session":
        # Flask's default name would clash with other apps on the same host. Over
        # HTTPS the __Host- prefix makes browsers refuse the cookie unless it is
        # Secure, for this host only (no Domain) and for every path: a sibling
        # subdomain or plain-http page cannot plant or overwrite it.
        config["SESSION_COOKIE_NAME"] = (
            "__Host-wizard_session" if https else "wizard_session"
        )
    if https:
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    if config["SESSION_COOKIE_NAME"].startswith("__Host-"):
        config["SESSION_COOKIE_PATH"] = "/"
        config["SESSION_COOKIE_DOMAIN"] = None
    # Debug and TESTING change nothing here: they are one environment variable
    # away in production, and the test suite brings real keys of its own.
    secret_key = str(config.get("SECRET_KEY") or "")
    if secret_key in INSECURE_SECRET_KEYS or len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            "WIZARD_SECRET_KEY is missing, too short or left at its default. Run "
            "`make run` once (it writes instance/config.py) or set WIZARD_SECRET_KEY "
            f"to at least {MIN_SECRET_KEY_LENGTH} random characters."
        )
    config["ACCEPT_UNBOUND_CIPHERTEXT"] = _switch(config, "ACCEPT_UNBOUND_CIPHERTEXT")
    config["PROXY_COUNT"] = int(config.get("PROXY_COUNT") or 0)
    config["POLLER"] = _switch(config, "POLLER")


def _switch(config: Config, name: str) -> bool:
    """Read an on/off setting; refuse words that could mean either."""
    value = config.get(name)
    if isinstance(value, bool):
        return value
    # WIZARD_X=yes arrives as the string "yes", =1 as the number 1.
    word = str("" if value is None else value).strip().lower()
    if word in ("true", "1", "yes", "on"):
        return True
    if word in ("false", "0", "no", "off", ""):
        return False
    raise RuntimeError(f"WIZARD_{name} must be true or false, not {value!r}.")


def _tune_sqlite() -> None:
    """Use WAL and a busy timeout so workers wait for each other instead of failing."""
    if getattr(_tune_sqlite, "done", False):
        return

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if type(dbapi_connection).__module__ != "sqlite3":
            return
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Longer than a Constant Contact call (10 s), which a refresh waits on.
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    _tune_sqlite.done = True  # type: ignore[attr-defined]
