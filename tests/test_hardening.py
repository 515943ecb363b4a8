"""Sessions, cookies, limits and odd input: the app stays safe and never shows a 500."""

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from sqlalchemy.orm.attributes import set_committed_value

from tests.helpers.app import AppWith
from tests.helpers.live import csrf_token
from tests.helpers.users import PASSWORD
from tests.helpers.users import sign_in
from wizard.domain import drafts
from wizard.models import AuditEvent
from wizard.models import Integration
from wizard.platform.extensions import db
from wizard.platform.extensions import limiter
from wizard.platform.extensions import skip_idle_limiter_check

HTTPS = {"base_url": "https://wizard.test"}
LIST_ID = "7c5b38ee-81d3-11f0-a43c-fa163ea34668"
KEY = "1d2c3b4a-5e6f-4a1b-8c9d-0e1f2a3b4c5d"


def test_https_sign_in_with_csrf_sets_a_secure_cookie(
    app_with: AppWith, customer: int
) -> None:
    app = app_with(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/sign-in", **HTTPS)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    # Browsers send the full same-origin Referer under this policy.
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    response = client.post(
        "/sign-in",
        data={
            "email": "owner@bloom.test",
            "password": PASSWORD,
            "csrf_token": csrf_token(page.text),
        },
        headers={"Referer": "https://wizard.test/sign-in"},
        **HTTPS,
    )
    assert response.status_code == 302, response.text
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-wizard_session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/;" in cookie and "Domain" not in cookie


def test_a_copied_session_cookie_dies_at_sign_out(
    app: Flask, signed_in: FlaskClient
) -> None:
    cookie = signed_in.get_cookie("__Host-wizard_session")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("__Host-wizard_session", cookie.value)
    assert copy.get("/integrations").status_code == 200
    signed_in.post("/sign-out")
    assert copy.get("/integrations").headers["Location"].startswith("/sign-in")


def test_sign_in_is_rate_limited(app_with: AppWith, customer: int) -> None:
    app = app_with(SIGN_IN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert sign_in(client, "owner@bloom.test", "wrong").status_code == 200
    blocked = sign_in(client, "owner@bloom.test", PASSWORD)
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert client.get("/sign-in").status_code == 200  # reading the page is fine


def test_the_limiter_checks_every_request_only_when_it_has_a_limit_for_all(
    app: Flask,
) -> None:
    # The wizard's limits each decorate a view (their decorators count them, as the
    # test above shows): no per-request check runs on the pages without one.
    assert limiter._check_request_limit not in app.before_request_funcs[None]
    # A default limit for every page needs that check: it stays.
    counted = Flask(__name__)
    everywhere = Limiter(
        get_remote_address,
        app=counted,
        default_limits=["1/day"],
        storage_uri="memory://",
    )
    counted.add_url_rule("/", "page", lambda: "ok")
    skip_idle_limiter_check(counted, everywhere)
    client = counted.test_client()
    assert [client.get("/").status_code for _ in range(2)] == [200, 429]


@pytest.mark.parametrize(
    "path",
    [
        "/integrations/2147483648/check",
        "/integrations/99999999999999999999/api-key",
        "/integrations/0/setup",
        "/integrations/-1/delete",
    ],
)
def test_ids_out_of_range_are_not_found(signed_in: FlaskClient, path: str) -> None:
    assert signed_in.get(path).status_code == 404


def test_nul_bytes_are_refused_politely(client: FlaskClient) -> None:
    response = client.post("/sign-in", data={"email": "a\x00@x.test", "password": "x"})
    assert response.status_code == 400
    assert "Something went wrong with that request" in response.text


def test_oversized_posts_are_refused(client: FlaskClient) -> None:
    response = client.post("/sign-in", data={"email": "a" * 100_000, "password": "x"})
    assert response.status_code == 413
    assert "That was too much to send" in response.text


def test_creating_twice_at_once_creates_once(app: Flask, customer: int) -> None:
    with app.app_context():
        integration = Integration(
            organization_id=1, status="draft", api_key=KEY, list_id=LIST_ID
        )
        db.session.add(integration)
        db.session.commit()
        # Another request creates it between our read and our write.
        db.session.execute(
            db.update(Integration).values(status="created").filter_by(id=integration.id)
        )
        db.session.commit()
        # What this request read before, without marking it changed.
        set_committed_value(integration, "status", "draft")
        assert drafts.create(integration) is False
        assert integration.status == "created"


def test_delete_a_draft_keeps_the_audit_trail(
    signed_in: FlaskClient, app: Flask
) -> None:
    response = signed_in.post("/integrations/new", data={"token": "t1"})
    integration_id = int(response.headers["Location"].split("/")[2])
    page = signed_in.get(f"/integrations/{integration_id}/delete").text
    assert "Delete Constant Contact?" in page and "Delete integration" in page
    response = signed_in.post(f"/integrations/{integration_id}/delete")
    assert response.headers["Location"] == "/integrations"
    assert "was deleted" in signed_in.get("/integrations").text
    with app.app_context():
        assert db.session.get(Integration, integration_id) is None
        events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
    deleted = events[-1]
    assert deleted.action == "integration.deleted"
    assert deleted.details["deleted_integration_id"] == integration_id
    assert [e.action for e in events].count("setup.started") == 1
    assert all(e.integration_id is None for e in events)
