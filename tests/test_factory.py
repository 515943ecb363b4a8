"""The app factory: settings order, safety checks, database URLs."""

from typing import Any

import pytest
from flask import request


def test_defaults_point_at_the_real_constant_contact(app: Any) -> None:
    config = app.config
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
    config = {k: v for k, v in config.items() if k != "BRAND_NAME"}
    app = make_app(config)
    assert app.config["BRAND_NAME"] == "Acme Mail"
    assert app.config["AUTHORIZATION_WINDOW_SECONDS"] == 120
    assert app.config["CC_TOKEN_URL"] == "http://127.0.0.1:9/token"


@pytest.mark.parametrize("secret", ["dev", "", "change-me"])
def test_refuses_default_secret_key_outside_debug_and_tests(
    make_app: Any, config: dict[str, Any], secret: str
) -> None:
    with pytest.raises(RuntimeError, match="WIZARD_SECRET_KEY"):
        make_app({**config, "TESTING": False, "SECRET_KEY": secret})


def test_refuses_missing_encryption_keys_outside_debug_and_tests(
    make_app: Any,
    config: dict[str, Any],
) -> None:
    with pytest.raises(RuntimeError, match="WIZARD_ENCRYPTION_KEYS"):
        make_app({**config, "TESTING": False, "ENCRYPTION_KEYS": ""})


def test_starts_in_production_with_real_keys(
    make_app: Any, config: dict[str, Any]
) -> None:
    app = make_app({**config, "TESTING": False})
    assert app.config["SECRET_KEY"].startswith("test-secret-key")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_postgres_urls_use_psycopg(
    make_app: Any, config: dict[str, Any], given: str, expected: str
) -> None:
    app = make_app({**config, "DATABASE_URL": given})
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


def test_proxy_headers_are_trusted_only_when_configured(
    make_app: Any, config: dict[str, Any]
) -> None:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "wizard.example"}
    for count, expected in ((0, "http://localhost/"), (1, "https://wizard.example/")):
        app = make_app({**config, "PROXY_COUNT": count})

        @app.get("/where")
        def where() -> str:
            return request.url_root

        assert app.test_client().get("/where", headers=headers).text == expected
