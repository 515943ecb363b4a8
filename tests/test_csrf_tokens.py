"""Each worker signs a session's CSRF token once, and the signed token still works."""

import itertools
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from tests.helpers.app import AppWith
from tests.helpers.live import csrf_token
from tests.helpers.users import PASSWORD
from wizard.web import csrf_tokens


@pytest.fixture
def signings(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Count the signatures Flask-WTF makes (its tokens are this serializer's)."""
    made: list[object] = []
    dumps = URLSafeTimedSerializer.dumps

    def counted(self: URLSafeTimedSerializer, obj: Any, salt: Any = None) -> Any:
        if self.salt == b"wtf-csrf-token":
            made.append(obj)
        return dumps(self, obj, salt)

    monkeypatch.setattr(URLSafeTimedSerializer, "dumps", counted)
    return made


def signed_in(app: Flask) -> FlaskClient:
    """Sign in through the form, its CSRF token and all."""
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").text)
    answer = client.post(
        "/sign-in",
        data={"email": "owner@bloom.test", "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 302
    return client


def test_a_sessions_token_is_signed_once_and_still_accepted(
    app_with: AppWith, customer: int, signings: list[object]
) -> None:
    app = app_with(WTF_CSRF_ENABLED=True)
    client = signed_in(app)
    del signings[:]
    pages = [client.get("/integrations").text for _ in range(3)]
    tokens = {csrf_token(page) for page in pages}
    assert len(signings) == 1 and len(tokens) == 1
    # The kept token is a good one: her form goes through with it.
    (token,) = tokens
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    # Signed out, then in again: a new session token, signed anew; the old one fails.
    again = signed_in(app)
    fresh = csrf_token(again.get("/integrations").text)
    assert fresh != token
    assert again.post("/sign-out", data={"csrf_token": token}).status_code == 400
    assert again.post("/sign-out", data={"csrf_token": fresh}).status_code == 302


def test_with_a_time_limit_each_page_signs_its_own(
    app_with: AppWith, customer: int, signings: list[object]
) -> None:
    app = app_with(WTF_CSRF_ENABLED=True, WTF_CSRF_TIME_LIMIT=3600)
    client = signed_in(app)
    del signings[:]
    for _ in itertools.repeat(None, 3):
        assert client.get("/integrations").status_code == 200
    assert len(signings) == 3


def test_a_worker_keeps_a_bounded_number_of_signed_tokens(
    app_with: AppWith, customer: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csrf_tokens, "KEPT_MOST", 2)
    app = app_with(WTF_CSRF_ENABLED=True)
    kept = app.extensions[csrf_tokens.EXTENSION]
    sizes = []
    for _ in range(3):  # three sessions, each with its own token
        client = signed_in(app)
        assert client.get("/integrations").status_code == 200
        sizes.append(len(kept))
    assert max(sizes) <= 2 and sizes[-1] >= 1
