"""Support's Right now says which page her browser has open and when it was last
active, from her own page requests: noted after the answer, at most once per
PRESENCE_SECONDS per page, never for a page she may not see."""

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import base_config
from tests.helpers.attempts import pollers_turn
from tests.helpers.attempts import started
from tests.helpers.integrations import make_integration
from tests.helpers.live import gunicorn
from tests.helpers.live import signed_in_session
from tests.helpers.live import wizard_environment
from tests.helpers.races import wait_for
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.sql import statements
from tests.helpers.users import PASSWORD
from tests.helpers.users import make_user
from tests.helpers.users import sign_in
from wizard.models import Organization
from wizard.models import Presence
from wizard.platform.extensions import db
from wizard.sandbox.testing import create_application
from wizard.web.authorize import tickets

pytestmark = pytest.mark.sandboxed


def _seen(app: Flask, integration_id: int) -> tuple[str, object] | None:
    with app.app_context():
        row = db.session.get(Presence, integration_id)
        return (row.page, row.seen_at) if row else None


def _move_back(app: Flask, integration_id: int, by: timedelta) -> None:
    with app.app_context():
        row = db.session.get(Presence, integration_id)
        row.seen_at -= by
        db.session.commit()


def _visit(client: FlaskClient, path: str, **kwargs: object) -> int:
    """Load a page as her browser does (the answer read to its end and closed)."""
    response = client.get(path, **kwargs)
    response.close()
    return response.status_code


def test_her_page_and_time_are_noted_once_per_interval(
    client: FlaskClient, app: Flask, cc: str, customer: int
) -> None:
    integration_id = make_integration(app, create_application(cc)["api_key"])
    sign_in(client, "owner@bloom.test")
    assert _seen(app, integration_id) is None
    assert _visit(client, f"/integrations/{integration_id}/list-id") == 200
    page, first = _seen(app, integration_id)
    assert page == "setup.list_id"
    # The same page again at once: nothing sent to the database for it.
    with statements(app) as sent:
        _visit(client, f"/integrations/{integration_id}/list-id")
    assert "INSERT" not in sent and _seen(app, integration_id) == (page, first)
    # Another page is news at once.
    assert _visit(client, f"/integrations/{integration_id}/authorize") == 200
    page, second = _seen(app, integration_id)
    assert page == "authorize.before" and second >= first


def test_another_worker_leaves_a_fresh_note_and_renews_a_stale_one(
    app_with, cc: str, customer: int
) -> None:
    workers = [app_with(PRESENCE_SECONDS=60) for _ in range(3)]
    integration_id = make_integration(workers[0], create_application(cc)["api_key"])
    path = f"/integrations/{integration_id}/list-id"

    def visit(worker: Flask) -> tuple[str, object]:
        client = worker.test_client()
        sign_in(client, "owner@bloom.test")
        assert _visit(client, path) == 200
        return _seen(worker, integration_id)

    first = visit(workers[0])
    # Another worker (its own memo empty) asks: the row is fresh, it stays as it was.
    assert visit(workers[1]) == first
    # Once the note is older than the interval, the next worker's renews it.
    _move_back(workers[0], integration_id, timedelta(seconds=61))
    page, renewed = visit(workers[2])
    assert page == "setup.list_id" and renewed > first[1]


def test_step_4_checks_count_as_its_page_and_tickets_name_her_integration(
    client: FlaskClient, app: Flask, cc: str, customer: int, other_customer: int
) -> None:
    integration_id = make_integration(app, create_application(cc)["api_key"])
    with app.app_context():
        other_org = db.session.scalars(
            db.select(Organization.id).where(Organization.id != 1)
        ).first()
    others = make_integration(
        app, create_application(cc)["api_key"], organization_id=other_org
    )
    sign_in(client, "owner@bloom.test")
    attempt = started(client, app, integration_id)
    assert pollers_turn(app) == 1
    status = f"/integrations/{integration_id}/authorize/{attempt.id}/status"
    answer = client.get(status)
    answer.close()
    ticket = answer.get_json()["ticket"]
    assert _seen(app, integration_id)[0] == "authorize.attempt"
    # Her ticket is good for her integration's address only: with another
    # organization's integration in the address, it is not an answer.
    forged = f"/integrations/{others}/authorize/{attempt.id}/status"
    assert _visit(client, forged, headers={tickets.HEADER: ticket}) == 404
    assert _seen(app, others) is None
    assert _visit(client, status, headers={tickets.HEADER: ticket}) == 200


def test_pages_she_may_not_see_and_support_pages_note_nothing(
    client: FlaskClient, app: Flask, cc: str, customer: int, support_user: int
) -> None:
    integration_id = make_integration(app, create_application(cc)["api_key"])
    make_user(app, "someone@elsewhere.test", org="Elsewhere")
    sign_in(client, "someone@elsewhere.test")
    assert _visit(client, f"/integrations/{integration_id}/list-id") == 404
    client.post("/sign-out")
    sign_in(client, "helper@promopulse.test")
    assert _visit(client, f"/support/integrations/{integration_id}") == 200
    assert _seen(app, integration_id) is None


def test_the_right_now_box_says_her_page_and_when_in_the_agents_language(
    client: FlaskClient, app: Flask, cc: str, customer: int, support_user: int
) -> None:
    integration_id = make_integration(app, create_application(cc)["api_key"])
    box = f"/support/integrations/{integration_id}"
    sign_in(client, "helper@promopulse.test")
    assert "Her browser has not opened this integration yet." in client.get(box).text
    client.post("/sign-out")
    sign_in(client, "owner@bloom.test")
    _visit(client, f"/integrations/{integration_id}/list-id")
    client.post("/sign-out")
    sign_in(client, "helper@promopulse.test")
    text = client.get(box).text
    assert "Her browser: Step 2 of 4 – Get your List ID, last active " in text
    assert " seconds ago." in text or " second ago." in text, text
    assert "may be closed" not in text
    _move_back(app, integration_id, timedelta(minutes=3))
    text = client.get(box).text
    assert "last active 3 minutes ago. Her page may be closed." in text
    client.set_cookie("wizard_lang", "es")
    spanish = client.get(box).text
    assert "Su navegador: Paso 2 de 4" in spanish and "hace 3 minutos" in spanish


def test_a_served_worker_writes_its_notes_itself_a_moment_later(
    app: Flask, cc: str, customer: int, database_url: str
) -> None:
    """Under gunicorn, nothing is written on the request's thread: the worker's
    own writer thread writes the notes it kept, all of them together."""
    ids = [make_integration(app, create_application(cc)["api_key"]) for _ in range(3)]
    settings = base_config(database_url) | sandbox_settings(cc)
    settings["PUBLIC_BASE_URL"] = "http://127.0.0.1"  # cookies over plain http
    with gunicorn(wizard_environment(settings), workers=1) as url:
        session = signed_in_session(url, "owner@bloom.test", PASSWORD)
        for integration_id in ids:
            page = session.get(f"{url}/integrations/{integration_id}/list-id")
            assert page.status_code == 200
        wait_for(
            lambda: all(_seen(app, i) is not None for i in ids), "the notes written"
        )
    assert {_seen(app, i)[0] for i in ids} == {"setup.list_id"}
