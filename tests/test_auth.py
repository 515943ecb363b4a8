"""Signing in and out, and what needs a signed-in person."""

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers.app import AppWith
from tests.helpers.users import sign_in
from wizard.models import AuditEvent
from wizard.platform.extensions import db


def test_sign_in_page(client: FlaskClient) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    assert "<h1>Sign in to PromoPulse</h1>" in page
    assert 'autocomplete="username"' in page


def test_sign_in_and_land_on_integrations(
    client: FlaskClient, customer: int, app: Any
) -> None:
    response = sign_in(client, "OWNER@bloom.test ")
    assert response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/integrations"
    with app.app_context():
        actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert actions == ["user.signed_in"]


def test_wrong_password_keeps_email_and_says_what_to_do(
    client: FlaskClient, customer: int
) -> None:
    response = sign_in(client, "owner@bloom.test", "wrong password")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Enter the email address and password you were given" in page
    assert 'value="owner@bloom.test"' in page
    assert "wrong password" not in page
    assert "<title>Error: " in page


def test_unknown_email_gets_the_same_message(
    client: FlaskClient, customer: int
) -> None:
    known = sign_in(client, "owner@bloom.test", "wrong password")
    unknown = sign_in(client, "nobody@x.test", "wrong password")
    assert unknown.status_code == known.status_code == 200
    assert "Enter the email address and password you were given" in unknown.text

    # The same page but for the email typed back into the box (and the form token).
    def page(response: Any, email: str) -> str:
        return re.sub(r'name="csrf_token" [^>]*>', "", response.text).replace(email, "")

    assert page(unknown, "nobody@x.test") == page(known, "owner@bloom.test")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/integrations/new", "/integrations/new"),
        ("https://evil.test/", "/"),
        ("//evil.test/", "/"),
        ("/\\evil.test", "/"),
    ],
)
def test_next_only_goes_to_this_site(
    client: FlaskClient, customer: int, target: str, expected: str
) -> None:
    response = client.post(
        "/sign-in",
        query_string={"next": target},
        data={"email": "owner@bloom.test", "password": "correct horse battery staple"},
    )
    assert response.headers["Location"] == expected


@pytest.mark.parametrize(
    "path", ["/integrations", "/integrations/new", "/integrations/1/api-key"]
)
def test_pages_need_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_sign_out_is_a_post(signed_in: FlaskClient) -> None:
    assert signed_in.get("/sign-out").status_code == 405
    assert signed_in.post("/sign-out").headers["Location"] == "/sign-in"
    assert signed_in.get("/integrations").status_code == 302


def test_csrf_is_enforced(app_with: AppWith, customer: int) -> None:
    app = app_with(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = sign_in(client, "owner@bloom.test")
    assert response.status_code == 400
    assert "This page timed out" in response.get_data(as_text=True)
    page = client.get("/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/sign-in",
        data={
            "email": "owner@bloom.test",
            "password": "correct horse battery staple",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302


def test_support_lands_on_the_support_console(
    client: FlaskClient, support_user: int, customer: int
) -> None:
    sign_in(client, "helper@promopulse.test")
    assert client.get("/").headers["Location"] == "/support"
    page = client.get("/support").get_data(as_text=True)
    assert "Who needs help now" in page and 'href="/support/organizations"' in page
    assert "Bloom" in client.get("/support/organizations").get_data(as_text=True)
    assert client.get("/integrations").status_code == 404
    assert client.get("/integrations/new").status_code == 404


def test_customers_cannot_open_the_support_console(signed_in: FlaskClient) -> None:
    assert signed_in.get("/support").status_code == 404
