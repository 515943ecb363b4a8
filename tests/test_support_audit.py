"""Support views reach the customer's Activity page only when an agent meant to look.

Another site's page can make a signed-in agent's browser ask for a support page (an
<img>, a link, a script): that must not write "support looked at your organization".
Fetch Metadata tells the two apart. The live page reloads every 5 seconds: one row
per agent and page per half hour, counted in the database.
"""

import http.server
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser
from playwright.sync_api import expect

from tests.helpers.app import base_config
from tests.helpers.attempts import started
from tests.helpers.browser import run_axe
from tests.helpers.browser import sign_in_page
from tests.helpers.i18n import english_left
from tests.helpers.integrations import code_flow_integration
from tests.helpers.integrations import make_integration
from tests.helpers.live import free_port
from tests.helpers.live import gunicorn
from tests.helpers.live import wizard_environment
from tests.helpers.users import make_user
from tests.helpers.users import sign_in
from wizard.models import ROLE_SUPPORT
from wizard.models import AuditEvent
from wizard.models import Organization
from wizard.platform.extensions import db

pytestmark = pytest.mark.sandboxed

HELPER = "helper@promopulse.test"
# The rule, written here rather than read from the code under test.
HALF_HOUR = timedelta(minutes=30)

# Fetch Metadata as Chromium sends it, seen in test_a_page_on_another_site_logs_nothing.
TYPED = {
    "Sec-Fetch-Site": "none",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-User": "?1",
    "Sec-Fetch-Dest": "document",
}
OUR_LINK = TYPED | {"Sec-Fetch-Site": "same-origin"}
# support.js's location.reload(): same-origin, and no user activation.
OUR_RELOAD = {
    "Sec-Fetch-Site": "same-origin",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
}
THEIR_LINK = TYPED | {"Sec-Fetch-Site": "cross-site"}
THEIR_IMAGE = {
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Dest": "image",
}
THEIR_FETCH = THEIR_IMAGE | {"Sec-Fetch-Dest": "empty"}
# Another port or subdomain of the same site: not us either.
SIBLING_LINK = TYPED | {"Sec-Fetch-Site": "same-site"}
SIBLING_IMAGE = THEIR_IMAGE | {"Sec-Fetch-Site": "same-site"}
NOT_OURS = {
    "their link": THEIR_LINK,
    "their image": THEIR_IMAGE,
    "their fetch": THEIR_FETCH,
    "sibling link": SIBLING_LINK,
    "sibling image": SIBLING_IMAGE,
}


@pytest.fixture
def helper(client: FlaskClient, customer: int, support_user: int) -> FlaskClient:
    """The client, signed in as support staff."""
    assert sign_in(client, HELPER).status_code == 302
    return client


def views(app: Flask, action: str, actor_id: int | None = None) -> int:
    """How many audit rows of this action there are (by this agent, if given)."""
    query = db.select(db.func.count()).select_from(AuditEvent).filter_by(action=action)
    if actor_id is not None:
        query = query.filter_by(actor_id=actor_id)
    with app.app_context():
        return db.session.scalar(query)


def support_rows(app: Flask) -> list[str]:
    """Every support action on record."""
    with app.app_context():
        return list(
            db.session.scalars(
                db.select(AuditEvent.action).where(AuditEvent.action.like("support.%"))
            )
        )


def age_views(app: Flask, by: timedelta) -> None:
    """Move every recorded support view back in time (instead of waiting)."""
    with app.app_context():
        for event in db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action.like("support.viewed_%"))
        ):
            event.at -= by
        db.session.commit()


def activity_count(client: FlaskClient, words: str) -> int:
    """How many times the customer's Activity page says these words."""
    sign_in(client, "owner@bloom.test")
    page = client.get("/activity").text
    client.post("/sign-out")
    return page.count(words)


def pages(integration_id: int) -> dict[str, tuple[str, str, str]]:
    """Each support page: its path, its audit action, words only its details show."""
    return {
        "organization": (
            "/support/organizations/1",
            "support.viewed_organization",
            "<h2>People</h2>",
        ),
        "integration": (
            f"/support/integrations/{integration_id}",
            "support.viewed_integration",
            "The customer's steps",
        ),
    }


@pytest.mark.parametrize("page", ["organization", "integration"])
def test_another_sites_requests_write_no_view(
    helper: FlaskClient, app: Flask, page: str
) -> None:
    path, action, details = pages(make_integration(app, "k" * 36))[page]
    for name, headers in NOT_OURS.items():
        response = helper.get(path, headers=headers)
        # Still answered: the agent who followed a link sees a way in, not the
        # customer's details, and nothing is written until they take it.
        assert response.status_code == 200, name
        assert details not in response.text, name
        assert f'href="{path}"' in response.text, name
        assert "Show the customer's details" in response.text, name
    assert support_rows(app) == []
    helper.set_cookie("wizard_lang", "es")
    spanish = helper.get(path, headers=THEIR_LINK).text
    assert "Mostrar los datos del cliente" in spanish
    assert english_left(spanish, "Bloom", "Constant Contact list") == []
    helper.delete_cookie("wizard_lang")
    # Taking the way in is a link on our own page: that is a view.
    shown = helper.get(path, headers=OUR_LINK)
    assert details in shown.text
    assert views(app, action) == 1
    # Within the half hour the view is on record: a link from elsewhere shows the page
    # and adds nothing.
    assert details in helper.get(path, headers=THEIR_LINK).text
    assert views(app, action) == 1


@pytest.mark.parametrize(
    "headers",
    [TYPED, OUR_LINK, OUR_RELOAD, {}],
    ids=["typed", "our link", "our reload", "no fetch metadata"],
)
def test_a_view_the_agent_meant_writes_one_row(
    helper: FlaskClient, app: Flask, headers: dict[str, str]
) -> None:
    # No Sec-Fetch-* at all: a browser from before 2020-2023, a plain-http address
    # (browsers send them only to HTTPS and loopback) or a script. Counted as a view:
    # losing those real views would hide more than a forged one could add.
    integration_id = make_integration(app, "k" * 36)
    for path, action, details in pages(integration_id).values():
        assert details in helper.get(path, headers=headers).text
        assert views(app, action) == 1
    assert sorted(support_rows(app)) == [
        "support.viewed_integration",
        "support.viewed_organization",
    ]


def test_reloads_write_one_view_per_half_hour(
    helper: FlaskClient, app: Flask, support_user: int
) -> None:
    integration_id = make_integration(app, "k" * 36)
    for path, action, _ in pages(integration_id).values():
        helper.get(path, headers=OUR_LINK)
        for _ in range(20):
            assert helper.get(path, headers=OUR_RELOAD).status_code == 200
        assert views(app, action) == 1
    age_views(app, HALF_HOUR - timedelta(seconds=5))
    for path, action, _ in pages(integration_id).values():
        helper.get(path, headers=OUR_RELOAD)
        assert views(app, action) == 1
    age_views(app, timedelta(seconds=5))
    for path, action, _ in pages(integration_id).values():
        helper.get(path, headers=OUR_RELOAD)
        helper.get(path, headers=OUR_RELOAD)
        assert views(app, action, support_user) == 2
    helper.post("/sign-out")
    assert activity_count(helper, "Looked at an integration") == 2
    assert activity_count(helper, "Looked at your organization") == 2


def test_each_agent_has_their_own_half_hour(
    client: FlaskClient, app: Flask, customer: int, support_user: int
) -> None:
    second = make_user(app, "second@promopulse.test", ROLE_SUPPORT)
    integration_id = make_integration(app, "k" * 36)
    path = f"/support/integrations/{integration_id}"
    for email in (HELPER, "second@promopulse.test"):
        sign_in(client, email)
        for _ in range(3):
            client.get(path, headers=OUR_RELOAD)
        client.post("/sign-out")
    assert views(app, "support.viewed_integration", support_user) == 1
    assert views(app, "support.viewed_integration", second) == 1
    assert activity_count(client, "Looked at an integration") == 2
    # Another organization's page is another page: its own row.
    with app.app_context():
        db.session.add(Organization(name="Rival"))
        db.session.commit()
    sign_in(client, HELPER)
    client.get("/support/organizations/1", headers=OUR_LINK)
    client.get("/support/organizations/2", headers=OUR_LINK)
    assert views(app, "support.viewed_organization", support_user) == 2


@contextmanager
def holding_the_agents_lock(app: Flask, agent_id: int) -> Iterator[None]:
    """Hold what recording a view waits for: the agent's row, or SQLite's write lock."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.execute(
                    sa.text('SELECT id FROM "user" WHERE id = :id FOR UPDATE'),
                    {"id": agent_id},
                )
            yield
            connection.rollback()
    finally:
        engine.dispose()


def test_two_views_at_once_write_one_row(
    app: Flask, customer: int, support_user: int
) -> None:
    integration_id = make_integration(app, "k" * 36)
    path = f"/support/integrations/{integration_id}"
    # Two tabs (or two workers) of one agent, both past the check for a recent row.
    tabs = [app.test_client() for _ in range(2)]
    for tab in tabs:
        assert sign_in(tab, HELPER).status_code == 302
    waiting = threading.Semaphore(0)

    def at_the_lock(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FOR UPDATE" in statement or statement.startswith("BEGIN IMMEDIATE"):
            waiting.release()

    answers: list[int] = []
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", at_the_lock)
    try:
        with holding_the_agents_lock(app, support_user):
            threads = [
                threading.Thread(
                    target=lambda tab=tab: answers.append(
                        tab.get(path, headers=OUR_LINK).status_code
                    )
                )
                for tab in tabs
            ]
            for thread in threads:
                thread.start()
            # Both have found no row and now wait for the lock we hold.
            for _ in tabs:
                assert waiting.acquire(timeout=30), "a view never asked for the lock"
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sa.event.remove(engine, "before_cursor_execute", at_the_lock)
    assert answers == [200, 200]
    assert views(app, "support.viewed_integration") == 1


def test_opening_constant_contact_from_another_site_is_not_logged(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = code_flow_integration(app, cc)
    attempt = started(signed_in, app, integration_id)
    path = f"/integrations/{integration_id}/authorize/{attempt.id}/open"
    first = signed_in.get(path, headers=THEIR_LINK)
    # The redirect still works; only the "Opened" line is not written.
    assert first.status_code == 302
    assert first.headers["Location"].startswith(f"{cc}/oauth2/default/v1/authorize?")
    for headers in (THEIR_IMAGE, SIBLING_LINK, SIBLING_IMAGE):
        assert (
            signed_in.get(path, headers=headers).headers["Location"]
            == (first.headers["Location"])
        )
    assert views(app, "authorization.opened") == 0
    # The button on our own step 4 page (target=_blank) is a same-origin navigation.
    assert (
        signed_in.get(path, headers=OUR_LINK).headers["Location"]
        == (first.headers["Location"])
    )
    assert views(app, "authorization.opened") == 1
    page = signed_in.get("/activity").text
    assert page.count("Opened Constant Contact to allow access (step 4)") == 1


class _OtherSite(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the server's page."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = self.server.page.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Keep the test's output quiet."""


@contextmanager
def other_site(page: str) -> Iterator[int]:
    """Serve one page on another loopback port; yield the port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OtherSite)
    server.page = page  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def served(
    app: Flask, customer: int, support_user: int, database_url: str, tmp_path: Path
) -> Iterator[str]:
    """Serve the wizard over real HTTP with gunicorn, on the test's database."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env = wizard_environment(base_config(database_url) | {"PUBLIC_BASE_URL": public})
    env["GUNICORN_LOG"] = str(tmp_path / "gunicorn.log")
    with gunicorn(env, workers=1, port=port) as base_url:
        yield base_url


def answers(log: Path, path: str, count: int) -> list[str]:
    """Wait for the served wizard to log `count` answers to GET path; their statuses."""
    deadline = time.monotonic() + 15
    while True:
        found = re.findall(rf'"GET {re.escape(path)}" (\d+)', log.read_text())
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_page_on_another_site_logs_nothing(
    browser: Browser, app: Flask, served: str, tmp_path: Path
) -> None:
    log = tmp_path / "gunicorn.log"
    integration_id = make_integration(app, "k" * 36)
    organization = "/support/organizations/1"
    integration = f"/support/integrations/{integration_id}"
    page_html = (
        f'<!doctype html><title>Win a prize</title><img src="{served}{organization}">'
        f'<img src="{served}{integration}"><a href="{served}{organization}">Prize</a>'
    )
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in_page(page, served, HELPER)
        expect(page.get_by_role("heading", level=1)).to_have_text("Support console")
        with other_site(page_html) as port:
            # 127.0.0.1 on another port is the same site (ports do not make sites):
            # SameSite=Lax sends the agent's cookie with the images, and the wizard
            # answers them as the signed-in agent (200, not a 302 to sign in).
            page.goto(f"http://127.0.0.1:{port}/")
            assert answers(log, organization, 1) == ["200"]
            assert answers(log, integration, 1) == ["200"]
            assert support_rows(app) == []
            page.get_by_role("link", name="Prize").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Bloom")
            expect(page.get_by_text("Support reference")).to_have_count(0)
            assert support_rows(app) == []
            # "localhost" is another site: no cookie with its images, but its link
            # (a top-level navigation) carries it.
            page.goto(f"http://localhost:{port}/")
            assert answers(log, organization, 3)[2] == "302"
            assert answers(log, integration, 2)[1] == "302"
            page.get_by_role("link", name="Prize").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Bloom")
            expect(page.get_by_text("Support reference")).to_have_count(0)
            assert answers(log, organization, 4)[3] == "200"
            assert support_rows(app) == []
            violations = run_axe(page).response["violations"]
            assert violations == []

        # The agent's own way: the console, a search, a click, and a reload.
        page.goto(f"{served}/support")
        page.get_by_label("Find a customer").fill("bloom")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="Bloom", exact=True).click()
        expect(page.get_by_role("heading", name="People")).to_be_visible()
        assert support_rows(app) == ["support.viewed_organization"]
        page.reload()
        expect(page.get_by_role("heading", name="People")).to_be_visible()
        page.get_by_role("link", name="Constant Contact list").click()
        expect(page.get_by_role("heading", name="The customer's steps")).to_be_visible()
        assert sorted(support_rows(app)) == [
            "support.viewed_integration",
            "support.viewed_organization",
        ]
    finally:
        context.close()
