"""The signed-in user a worker remembers for pages that only read: for how long,
for whom, and what ends it (wizard/web/auth/recent_users.py)."""

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login import current_user

from tests.helpers.app import AppWith
from tests.helpers.sql import statements
from tests.helpers.users import sign_in
from wizard.models import Organization
from wizard.platform.extensions import db
from wizard.platform.reads import reads_only
from wizard.web.auth import recent_users

BOUND = 1.0  # SIGNED_IN_USER_SECONDS, as in production
# SQLite leaves the table's name bare, PostgreSQL quotes it (a reserved word).
FROM_USER = re.compile(r'\bFROM "?user"?\s')


class Clock:
    """The memo's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Stop the memo's clock; the test moves it."""
    stopped = Clock()
    monkeypatch.setattr(recent_users, "monotonic", stopped)
    return stopped


def copy_session(source: FlaskClient, target: FlaskClient) -> FlaskClient:
    """Give target the session cookie of source (a copied cookie, or a second tab)."""
    name = source.application.config["SESSION_COOKIE_NAME"]
    cookie = source.get_cookie(name)
    assert cookie is not None
    target.set_cookie(name, cookie.value)
    return target


def signed_out(answer: Any) -> bool:
    """Whether the answer sends the person to sign in."""
    return answer.status_code == 302 and answer.headers["Location"].startswith(
        "/sign-in"
    )


def user_reads(app: Flask, client: FlaskClient, path: str) -> int:
    """GET the path; return how many statements read the user table."""
    with statements(app, lambda _c, sql: bool(FROM_USER.search(sql))) as seen:
        assert client.get(path).status_code == 200
    return sum(seen)


def test_a_session_signed_out_everywhere_is_refused_by_every_worker_within_the_bound(
    app_with: AppWith, customer: int, clock: Clock
) -> None:
    # Two workers: two apps, each with its own memo, on one database.
    first, second = app_with(), app_with()
    assert first.config["SIGNED_IN_USER_SECONDS"] == BOUND
    here = first.test_client()
    assert sign_in(here, "owner@bloom.test").status_code == 302
    copied = copy_session(here, second.test_client())
    assert user_reads(second, copied, "/integrations") == 1
    # Within the bound the second worker answers from its memo...
    clock.now += BOUND / 2
    assert user_reads(second, copied, "/integrations") == 0
    assert here.post("/sign-out").status_code == 302
    # ...but a page that writes always reads the user: the copy is refused there.
    assert signed_out(copied.get("/integrations/new"))
    # And once the bound has passed since the row was read, everywhere.
    clock.now += BOUND / 2
    assert signed_out(copied.get("/integrations"))


def test_the_worker_that_signs_out_everywhere_forgets_at_once(
    app: Flask, customer: int, clock: Clock
) -> None:
    here = app.test_client()
    assert sign_in(here, "owner@bloom.test").status_code == 302
    copied = copy_session(here, app.test_client())
    assert copied.get("/integrations").status_code == 200
    assert user_reads(app, copied, "/integrations") == 0  # remembered
    assert here.post("/sign-out").status_code == 302
    # The clock has not moved: only forgetting at the commit refuses the copy.
    assert signed_out(copied.get("/integrations"))


def test_a_new_session_kept_fresh_does_not_let_the_old_one_through(
    app_with: AppWith, customer: int, clock: Clock
) -> None:
    first, second = app_with(), app_with()
    old = first.test_client()
    assert sign_in(old, "owner@bloom.test").status_code == 302
    copied = copy_session(old, second.test_client())
    assert copied.get("/integrations").status_code == 200
    assert old.post("/sign-out").status_code == 302
    clock.now += BOUND
    # She signs in again and browses on the second worker, keeping its memo of her
    # fresh: that memo is of her new session version, not the copied cookie's.
    new = second.test_client()
    assert sign_in(new, "owner@bloom.test").status_code == 302
    assert new.get("/integrations").status_code == 200
    assert user_reads(second, new, "/integrations") == 0
    assert signed_out(copied.get("/integrations"))


def test_each_person_gets_their_own_user_and_organization(
    app: Flask, customer: int, other_customer: int, clock: Clock
) -> None:
    with app.app_context():
        rows = db.session.execute(
            db.select(Organization.name, Organization.reference_code)
        ).all()
    references = dict(rows)
    bloom, rival = app.test_client(), app.test_client()
    assert sign_in(bloom, "owner@bloom.test").status_code == 302
    assert sign_in(rival, "owner@rival.test").status_code == 302
    for _ in range(2):  # read, then remembered
        for client, mine, theirs in (
            (bloom, "Bloom", "Rival"),
            (rival, "Rival", "Bloom"),
        ):
            page = client.get("/integrations").text
            assert references[mine] in page
            assert references[theirs] not in page


def test_a_remembered_user_belongs_to_the_request_that_gets_it(
    app_with: AppWith, customer: int, colleague: int, clock: Clock
) -> None:
    app = app_with()

    @app.route("/colleagues")
    @reads_only
    def colleagues() -> str:
        # Lazy loads need a session: a detached user would raise here.
        return ",".join(sorted(u.email for u in current_user.organization.users))

    client = app.test_client()
    assert sign_in(client, "owner@bloom.test").status_code == 302
    both = "colleague@bloom.test,owner@bloom.test"
    # Her row, then her colleagues; then the colleagues alone, her row remembered.
    assert user_reads(app, client, "/colleagues") == 2
    assert user_reads(app, client, "/colleagues") == 1
    assert client.get("/colleagues").text == both


def test_without_a_bound_every_page_reads_the_user(
    app_with: AppWith, customer: int
) -> None:
    app = app_with(SIGNED_IN_USER_SECONDS=0)
    client = app.test_client()
    assert sign_in(client, "owner@bloom.test").status_code == 302
    for _ in range(3):
        assert user_reads(app, client, "/integrations") == 1
