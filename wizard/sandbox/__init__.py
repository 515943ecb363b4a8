"""A faithful local Constant Contact: Okta-style OAuth server, v3 API, portal."""

import json
import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from sqlalchemy import event
from werkzeug.exceptions import HTTPException

from . import activate
from . import api
from . import authz
from . import control
from . import lists
from . import lists_control  # noqa: F401  (routes on control.bp)
from . import portal
from . import signin
from .models import SUPPORTED_SCOPES
from .models import Account
from .models import db
from .oauth import init_oauth
from .seed import seed_demo_data
from .state import SandboxState

# The wizard's instance/ folder at the repository root (wizard/../instance).
INSTANCE_DIR = Path(__file__).resolve().parent.parent.parent / "instance"

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": "cc-sandbox-dev",
    # Cookies are not port-scoped: keep clear of the wizard's session cookie.
    "SESSION_COOKIE_NAME": "cc_sandbox_session",
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{INSTANCE_DIR / 'sandbox.sqlite'}",
    "OAUTH2_SCOPES_SUPPORTED": list(SUPPORTED_SCOPES),
    "SANDBOX_SEED": True,
    "SANDBOX_DEVICE_CODE_EXPIRES_IN": 600,
    "SANDBOX_DEVICE_INTERVAL": 5,
    "SANDBOX_ACCESS_TOKEN_EXPIRES_IN": 86400,
    "SANDBOX_AUTH_CODE_EXPIRES_IN": 300,
    "SANDBOX_REFRESH_TOKEN_IDLE_SECONDS": 180 * 86400,
    "SANDBOX_RATE_LIMIT_PER_SECOND": 4,
    "SANDBOX_DAILY_LIMIT": 10000,
    "SANDBOX_FAULTS": {},
    "SANDBOX_FAULT_DELAY_SECONDS": 30,
    "SANDBOX_TEST_CONTROL": False,
}


def is_on(value: Any) -> bool:
    """Read a boolean setting; the string "False" from a file or env is off."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Let the threaded server's readers and writers share the SQLite file."""
    # Take over BEGIN from the driver (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """Take the write lock up front, so a read-then-write never fails as busy."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_db(app: Flask) -> None:
    """Bind the database, create tables and seed the demo data when empty."""
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
            event.listen(db.engine, "begin", _sqlite_begin)
        db.create_all()
        if (
            is_on(app.config["SANDBOX_SEED"])
            and db.session.scalar(db.select(Account).limit(1)) is None
        ):
            seed_demo_data()


def handle_http_error(error: HTTPException) -> ResponseReturnValue:
    """Answer API paths in the v3 error shape and pages with an HTML page."""
    if request.path.startswith("/v3/"):
        key = "not_found" if error.code == 404 else "server_error"
        body = [{"error_key": key, "error_message": error.description}]
        return jsonify(body), error.code or 500
    return render_template("sandbox/error.html", message=error.description), (
        error.code or 500
    )


def _load_environment(app: Flask) -> None:
    """Read WIZARD_SANDBOX_X as the setting SANDBOX_X (JSON-parsed when it parses)."""
    for key, raw in os.environ.items():
        if not key.startswith("WIZARD_SANDBOX_"):
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        name = key.removeprefix("WIZARD_")
        if name == "SANDBOX_DATABASE_URL":
            name = "SQLALCHEMY_DATABASE_URI"
        app.config[name] = value


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the sandbox app: defaults, then WIZARD_SANDBOX_* env, then test_config."""
    app = Flask(
        __name__,
        template_folder="templates",
        static_folder=None,
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_mapping(DEFAULTS)
    _load_environment(app)
    if test_config:
        app.config.update(test_config)
    if app.config["SQLALCHEMY_DATABASE_URI"] == DEFAULTS["SQLALCHEMY_DATABASE_URI"]:
        INSTANCE_DIR.mkdir(exist_ok=True)

    app.extensions["cc_sandbox"] = SandboxState(app.config["SANDBOX_FAULTS"])
    init_db(app)

    init_oauth(app)
    for module in (signin, authz, activate, api, portal, lists):
        app.register_blueprint(module.bp)
    if is_on(app.config["SANDBOX_TEST_CONTROL"]):
        app.register_blueprint(control.bp)
    app.register_error_handler(HTTPException, handle_http_error)
    app.context_processor(lambda: {"current_account": signin.current_account()})
    return app
