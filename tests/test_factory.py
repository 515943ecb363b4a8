"""The app factory: settings order, safety checks, database URLs."""

from typing import Any

import pytest
from flask import request

from tests.helpers.app import AppWith
from tests.helpers.app import base_config
from tests.helpers.live import import_wsgi
from tests.helpers.live import wizard_environment

# Every way an operator (or a stray environment variable) can ask for debug or tests.
RELAXED = [
    ("env", "FLASK_DEBUG", "1"),
    ("env", "WIZARD_DEBUG", "true"),
    ("env", "WIZARD_TESTING", "true"),
    ("config", "DEBUG", True),
    ("config", "TESTING", True),
]


def test_defaults_point_at_the_real_constant_contact(
    make_app: Any, config: dict[str, Any]
) -> None:
    own = {name: value for name, value in config.items() if not name.startswith("CC_")}
    config = make_app(own).config
    base = "https://authz.constantcontact.com/oauth2/default/v1"
    assert config["CC_AUTHORIZATION_URL"] == f"{base}/authorize"
    assert config["CC_TOKEN_URL"] == f"{base}/token"
    assert config["CC_DEVICE_AUTHORIZATION_URL"] == f"{base}/device/authorize"
    assert config["CC_REVOCATION_URL"] == f"{base}/revoke"
    assert config["CC_API_BASE_URL"] == "https://api.cc.email/v3"
    assert config["AUTHORIZATION_WINDOW_SECONDS"] == 300
    assert config["BRAND_NAME"] == "PromoPulse"


def test_environment_overrides_defaults(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, config: dict[str, Any]
) -> None:
    monkeypatch.setenv("WIZARD_BRAND_NAME", "Acme Mail")
    monkeypatch.setenv("WIZARD_AUTHORIZATION_WINDOW_SECONDS", "120")
    monkeypatch.setenv("WIZARD_CC_TOKEN_URL", "http://127.0.0.1:9/token")
    config = {
        k: v for k, v in config.items() if k != "BRAND_NAME" and not k.startswith("CC_")
    }
    app = make_app(config)
    assert app.config["BRAND_NAME"] == "Acme Mail"
    assert app.config["AUTHORIZATION_WINDOW_SECONDS"] == 120
    assert app.config["CC_TOKEN_URL"] == "http://127.0.0.1:9/token"


@pytest.mark.parametrize("secret", ["dev", "", "change-me"])
def test_refuses_default_secret_key(app_with: AppWith, secret: str) -> None:
    with pytest.raises(RuntimeError, match="WIZARD_SECRET_KEY"):
        app_with(TESTING=False, SECRET_KEY=secret)


def test_refuses_missing_encryption_keys(app_with: AppWith) -> None:
    with pytest.raises(RuntimeError, match="WIZARD_ENCRYPTION_KEYS"):
        app_with(TESTING=False, ENCRYPTION_KEYS="")


def test_starts_in_production_with_real_keys(app_with: AppWith) -> None:
    app = app_with(TESTING=False)
    assert app.config["SECRET_KEY"].startswith("test-secret-key")


def relaxed_settings(
    config: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    name: str,
    value: Any,
) -> dict[str, Any]:
    """Return settings without TESTING, with debug or testing asked for one way."""
    settings = {k: v for k, v in config.items() if k != "TESTING"}
    if where == "env":
        monkeypatch.setenv(name, value)
        return settings
    return settings | {name: value}


@pytest.mark.parametrize(("where", "name", "value"), RELAXED)
@pytest.mark.parametrize("secret", ["dev", "", "short-but-not-empty"])
def test_debug_and_testing_never_allow_a_weak_secret_key(
    make_app: Any,
    config: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    name: str,
    value: Any,
    secret: str,
) -> None:
    settings = relaxed_settings(config, monkeypatch, where, name, value)
    with pytest.raises(RuntimeError) as caught:
        make_app(settings | {"SECRET_KEY": secret})
    assert str(caught.value).startswith("WIZARD_SECRET_KEY is missing, too short")


@pytest.mark.parametrize(("where", "name", "value"), RELAXED)
def test_debug_and_testing_never_derive_an_encryption_key(
    make_app: Any,
    config: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    name: str,
    value: Any,
) -> None:
    """A real secret key, no encryption keys: refused, never derived from the secret."""
    settings = relaxed_settings(config, monkeypatch, where, name, value)
    with pytest.raises(RuntimeError) as caught:
        make_app(settings | {"ENCRYPTION_KEYS": ""})
    assert str(caught.value).startswith("WIZARD_ENCRYPTION_KEYS is not set.")
    assert settings["SECRET_KEY"] not in str(caught.value)


@pytest.mark.parametrize(
    "switch",
    [
        {"WIZARD_DEBUG": "1"},
        {"WIZARD_DEBUG": "true"},
        {"FLASK_DEBUG": "1"},
        {"WIZARD_TESTING": "true"},
    ],
)
def test_the_production_entry_point_refuses_debug_and_testing(
    database_url: str, switch: dict[str, str]
) -> None:
    env = wizard_environment(base_config(database_url))
    assert import_wsgi(env).returncode == 0  # the same keys start without the switch
    refused = import_wsgi(env | switch)
    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr
    assert refused.stderr.strip() == (
        "wsgi.py serves the wizard in production and refuses debug and test "
        "modes: unset FLASK_DEBUG, WIZARD_DEBUG and WIZARD_TESTING. For "
        "development, use `make run` or `flask --app wizard run --debug`."
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_postgres_urls_use_psycopg(
    app_with: AppWith, given: str, expected: str
) -> None:
    app = app_with(DATABASE_URL=given)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected


def test_default_database_is_sqlite_in_instance(
    make_app: Any, config: dict[str, Any]
) -> None:
    config = {k: v for k, v in config.items() if k != "DATABASE_URL"}
    app = make_app(config)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and uri.endswith("instance/wizard.sqlite")


def test_security_headers(client: Any) -> None:
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "<script>" not in response.get_data(as_text=True)


def test_pages_are_kept_out_of_caches_and_static_files_are_not(
    signed_in: Any,
) -> None:
    """Pages show account details: no shared cache or history keeps them."""
    for path, status in (
        ("/sign-in", 302),  # signed in: sent on
        ("/integrations", 200),
        ("/activity", 200),
        ("/integrations/new", 200),
        ("/no-such-page", 404),
    ):
        response = signed_in.get(path)
        assert response.status_code == status, path
        assert response.headers["Cache-Control"] == "no-store", path
    with signed_in.get("/static/style.css") as static:
        assert "no-store" not in static.headers.get("Cache-Control", "")


def test_proxy_headers_are_trusted_only_when_configured(app_with: AppWith) -> None:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "wizard.example"}
    for count, expected in ((0, "http://localhost/"), (1, "https://wizard.example/")):
        app = app_with(PROXY_COUNT=count)

        @app.get("/where")
        def where() -> str:
            return request.url_root

        assert app.test_client().get("/where", headers=headers).text == expected
