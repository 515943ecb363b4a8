"""Support's home is a queue: who needs help now, newest first, with what to say.

A customer is in it while step 4 is open, for an hour after she was shown a problem,
and while her connection waits for her (authorize again, choose her list); one row
per integration, at most 50, and words that say all is well when nobody is.
"""

import re
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.helpers.attempts import start_attempt
from tests.helpers.browser import axe_violations
from tests.helpers.browser import sign_in_page
from tests.helpers.integrations import make_integration
from tests.helpers.users import make_user
from tests.helpers.users import sign_in
from wizard.models import ROLE_SUPPORT
from wizard.models import AuditEvent
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.models import Organization
from wizard.models import Presence
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import create_application

pytestmark = pytest.mark.sandboxed

HELPER = "helper@promopulse.test"
# The rules, written here rather than read from the code under test.
HOUR = timedelta(hours=1)
CAP = 50
ALL_IS_WELL = "All is well: nobody needs help right now."
KEY = "1d2c3b4a-5e6f-4a1b-8c9d-0e1f2a3b4c5d"
LIST = "7c5b38ee-81d3-11f0-a43c-fa163ea34668"


def ago(**delta: float) -> datetime:
    """A moment this long before now."""
    return utcnow() - timedelta(**delta)


def customer_with(app: Flask, name: str, **columns: Any) -> int:
    """A new organization with one integration (steps 1-3 done); return its id."""
    values = {
        "status": "created",
        "flow": "device",
        "api_key": KEY,
        "list_id": LIST,
        "name": "Newsletter",
    } | columns
    with app.app_context():
        organization = Organization(name=name)
        integration = Integration(organization=organization, **values)
        db.session.add(integration)
        db.session.commit()
        return integration.id


def add_attempt(
    app: Flask, integration_id: int, started: datetime, **columns: Any
) -> None:
    """An authorization attempt, started then, with a 5-minute window."""
    values = {
        "flow": "device",
        "started_at": started,
        "expires_at": started + timedelta(minutes=5),
        "provider_expires_at": started + timedelta(minutes=10),
        "user_code": "TJCDSTHB",
    } | columns
    with app.app_context():
        db.session.add(AuthorizationAttempt(integration_id=integration_id, **values))
        db.session.commit()


def add_shown_problem(app: Flask, integration_id: int, at: datetime) -> None:
    """The audit row steps 1-2 write when a message is shown to the customer."""
    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        db.session.add(
            AuditEvent(
                at=at,
                action="setup.error_shown",
                actor_label="owner@bloom.test",
                organization_id=integration.organization_id,
                integration_id=integration_id,
                details={"step": 1, "messages": ["Enter your API Key"]},
            )
        )
        db.session.commit()


def queue(client: FlaskClient) -> list[str]:
    """The queue's rows, top to bottom: each row's text, tags removed."""
    page = client.get("/support")
    assert page.status_code == 200
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", page.text, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def names(client: FlaskClient) -> list[str]:
    """The organizations in the queue, top to bottom."""
    page = client.get("/support").text
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', page)


@pytest.fixture
def helper(client: FlaskClient, support_user: int) -> FlaskClient:
    """The client, signed in as support staff."""
    assert sign_in(client, HELPER).status_code == 302
    return client


def open_attempt(app: Flask, name: str) -> int:
    """Step 4 open now: started two minutes ago, three minutes left."""
    integration_id = customer_with(app, name, status="authorizing")
    add_attempt(app, integration_id, ago(minutes=2))
    return integration_id


def shown_problem(app: Flask, name: str) -> int:
    """Step 1 showed her a message 10 minutes ago."""
    integration_id = customer_with(
        app, name, status="draft", api_key=None, list_id=None
    )
    add_shown_problem(app, integration_id, ago(minutes=10))
    return integration_id


def attempt_failed(app: Flask, name: str) -> int:
    """Constant Contact refused her authorization 20 minutes ago."""
    integration_id = customer_with(app, name)
    add_attempt(
        app,
        integration_id,
        ago(minutes=21),
        outcome="failed",
        error_code="access_denied",
        finished_at=ago(minutes=20),
    )
    return integration_id


def connection_failed(app: Flask, name: str) -> int:
    """The connection's last check, 30 minutes ago, failed."""
    return customer_with(
        app,
        name,
        status="unverified",
        last_checked_at=ago(minutes=30),
        last_error_code="server_error",
    )


def needs_reauthorization(app: Flask, name: str) -> int:
    """Constant Contact refused the tokens three days ago."""
    return customer_with(
        app, name, status="needs_reauthorization", updated_at=ago(days=3)
    )


def list_not_found(app: Flask, name: str) -> int:
    """The list is not in the account she connected (since yesterday)."""
    return customer_with(app, name, status="list_not_found", updated_at=ago(days=1))


@pytest.mark.parametrize(
    ("make", "why", "where"),
    [
        (open_attempt, "Authorizing now", "Step 4: waiting for Allow Access"),
        (shown_problem, "Shown a problem in the last hour", "Step 1: creating"),
        (attempt_failed, "Shown a problem in the last hour", "Step 4: the last code"),
        (connection_failed, "Shown a problem in the last hour", "not answering"),
        (needs_reauthorization, "Needs re-authorization", "stopped our access"),
        (list_not_found, "List not found", "list is not in her account"),
    ],
)
def test_each_reason_brings_her_with_where_she_is_and_what_to_say(
    helper: FlaskClient, app: Flask, make: Any, why: str, where: str
) -> None:
    integration_id = make(app, "Bloom")
    customer_with(app, "Quiet")  # step 4 not started: nothing for support
    page = helper.get("/support").text
    (row,) = queue(helper)
    assert row.startswith("Bloom") and why in row and where in row, row
    assert "Say:" in row
    with app.app_context():
        code = db.session.get(Integration, integration_id).organization.reference_code
    assert code in row
    assert f'href="/support/integrations/{integration_id}"' in page
    assert ALL_IS_WELL not in page


def test_nobody_appears_with_nothing_pending(helper: FlaskClient, app: Flask) -> None:
    customer_with(app, "Connected", status="active", last_checked_at=ago(minutes=5))
    customer_with(app, "Unplugged", status="disconnected")
    # A window that has passed, though nothing closed the attempt.
    add_attempt(app, customer_with(app, "Walked away"), ago(minutes=6))
    # A code she replaced with a newer one: no problem she saw.
    replaced = customer_with(app, "Replaced")
    add_attempt(
        app,
        replaced,
        ago(minutes=9),
        outcome="replaced",
        error_code="replaced",
        error_message="Replaced by a newer code.",
        finished_at=ago(minutes=8),
    )
    # Problems more than an hour old.
    add_shown_problem(app, customer_with(app, "Old message"), ago(minutes=61))
    add_attempt(
        app,
        customer_with(app, "Old failure"),
        ago(hours=2),
        outcome="failed",
        error_code="access_denied",
        finished_at=ago(minutes=61),
    )
    customer_with(
        app,
        "Old check",
        status="unverified",
        last_checked_at=ago(minutes=61),
        last_error_code="server_error",
    )
    assert queue(helper) == []
    page = helper.get("/support").text
    assert ALL_IS_WELL in page
    assert "Nobody is authorizing, nobody was shown a problem" in page


def test_newest_first_one_row_per_integration(helper: FlaskClient, app: Flask) -> None:
    needs_reauthorization(app, "Oldest")  # three days ago
    attempt_failed(app, "Older")  # 20 minutes ago
    shown_problem(app, "Newer")  # 10 minutes ago
    # Three reasons at once: re-authorizing now, after a message a minute ago.
    busy = customer_with(
        app, "Newest", status="needs_reauthorization", updated_at=ago(days=9)
    )
    add_attempt(app, busy, ago(minutes=3))
    add_shown_problem(app, busy, ago(minutes=30))
    add_shown_problem(app, busy, ago(minutes=1))
    rows = queue(helper)
    assert names(helper) == ["Newest", "Newer", "Older", "Oldest"]
    newest = rows[0]
    for why in (
        "Authorizing now",
        "Shown a problem in the last hour",
        "Needs re-authorization",
    ):
        assert why in newest, newest
    # When is the newest of its reasons: the message a minute ago.
    assert "1 minute ago" in newest, newest
    # Right now follows her connection's status (authorizing again is the remedy).
    assert "Constant Contact stopped our access" in newest


def test_a_real_step_4_brings_her_in_and_her_approval_takes_her_out(
    client: FlaskClient, app: Flask, cc: str, customer: int, support_user: int
) -> None:
    integration_id = make_integration(app, create_application(cc)["api_key"])
    sign_in(client, "owner@bloom.test")
    start_attempt(client, integration_id)
    client.post("/sign-out")
    sign_in(client, HELPER)
    (row,) = queue(client)
    assert row.startswith("Bloom") and "Authorizing now" in row
    assert "click Next, then Allow Access" in row
    with app.app_context():
        attempt = db.session.scalars(db.select(AuthorizationAttempt)).one()
        attempt.outcome, attempt.finished_at = "approved", utcnow()
        db.session.get(Integration, integration_id).status = "active"
        db.session.commit()
    assert queue(client) == []


def many_waiting(app: Flask, count: int) -> None:
    """``count`` organizations, each with a connection that needs re-authorizing
    since an hour or more ago, the first one longest ago."""
    now = utcnow()
    with app.app_context():
        db.session.execute(
            sa.insert(Organization),
            [{"name": f"Tenant {n:03d}"} for n in range(count)],
        )
        ids = db.session.scalars(
            db.select(Organization.id).order_by(Organization.name)
        ).all()
        db.session.execute(
            sa.insert(Integration),
            [
                {
                    "organization_id": organization_id,
                    "status": "needs_reauthorization",
                    "updated_at": now - timedelta(hours=count - n),
                }
                for n, organization_id in enumerate(ids)
            ],
        )
        db.session.commit()


def test_at_most_fifty_rows_and_it_says_so(helper: FlaskClient, app: Flask) -> None:
    many_waiting(app, CAP)
    page = helper.get("/support").text
    assert len(queue(helper)) == CAP and "Only the newest" not in page
    shown_problem(app, "Latest")
    page = helper.get("/support").text
    shown = names(helper)
    assert len(shown) == CAP and shown[0] == "Latest"
    assert "Tenant 000" not in shown and shown[-1] == "Tenant 001"
    assert "Only the newest 50 are shown. Search above for anyone else." in page
    # The search still finds the one left out.
    found = helper.get("/support", query_string={"q": "Tenant 000"}).text
    assert "Tenant 000" in found


def test_empty_the_search_first_and_every_organization_a_link_away(
    helper: FlaskClient, app: Flask, customer: int
) -> None:
    page = helper.get("/support").text
    main = page[page.index("<main") :]
    assert ALL_IS_WELL in main and "<table" not in main
    assert main.index('role="search"') < main.index("Who needs help now")
    assert 'href="/support/organizations">All organizations</a>' in main
    listed = helper.get("/support/organizations").text
    assert "<h1>All organizations</h1>" in listed and "Bloom" in listed
    # An empty search is no search: the queue again.
    assert ALL_IS_WELL in helper.get("/support", query_string={"q": " "}).text


def test_the_queue_in_spanish(helper: FlaskClient, app: Flask) -> None:
    open_attempt(app, "Bloom")
    helper.set_cookie("wizard_lang", "es")
    (row,) = queue(helper)
    page = helper.get("/support").text
    assert "Quién necesita ayuda ahora" in page
    assert "Autorizando ahora" in row and "hace 2 minutos" in row, row
    assert "En la pestaña de Constant Contact, haga clic en Next" in row
    assert "Todas las organizaciones" in page
    customer_with(app, "Quiet")
    with app.app_context():
        db.session.execute(sa.delete(AuthorizationAttempt))
        db.session.commit()
    assert "Todo está en orden" in helper.get("/support").text


def test_customers_never_reach_it(
    client: FlaskClient, app: Flask, customer: int
) -> None:
    open_attempt(app, "Rival")
    for path in ("/support", "/support/organizations"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/sign-in"), path
    sign_in(client, "owner@bloom.test")
    for path in ("/support", "/support/organizations"):
        assert client.get(path).status_code == 404, path


def test_the_queue_writes_nothing_on_her_activity(
    helper: FlaskClient, app: Flask
) -> None:
    open_attempt(app, "Bloom")
    helper.get("/support")
    helper.get("/support/organizations")
    with app.app_context():
        rows = db.session.scalar(
            db.select(db.func.count(AuditEvent.id)).where(
                AuditEvent.action.like("support.%")
            )
        )
    assert rows == 0


def agent_page(browser: Browser, wizard_url: str, javascript: bool = True) -> Page:
    """A signed-in agent's page at 1280x800, on the console's home."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, java_script_enabled=javascript
    )
    page = context.new_page()
    sign_in_page(page, wizard_url, HELPER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Support console")
    return page


def test_an_agent_reads_the_queue_in_a_browser(
    browser: Browser, wizard_url: str, app: Flask, fast_cc: SandboxServer
) -> None:
    open_attempt(app, "Bloom & Co Florist")
    needs_reauthorization(app, "Rival Bakery")
    make_user(app, HELPER, ROLE_SUPPORT)
    page = agent_page(browser, wizard_url)
    expect(page.get_by_role("table", name="Who needs help now")).to_be_visible()
    rows = page.locator("section.queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Bloom & Co Florist")
    expect(rows.first).to_contain_text("Authorizing now")
    expect(rows.first).to_contain_text("click Next, then Allow Access")
    expect(rows.nth(1)).to_contain_text("Needs re-authorization")
    # The search box comes first, then the queue.
    first = page.locator("main input, main a").first
    expect(first).to_have_attribute("id", "q")
    say = rows.first.locator("q")
    for width, height in ((1280, 800), (320, 640)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, 0)")
        if width == 1280:  # the first row's line to say, on the first screen
            box = say.bounding_box()
            assert box is not None and box["y"] + box["height"] <= height, box
        wide, inner = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert wide <= inner, (width, wide)
        # At 320 px the cells stack, each saying what it holds.
        cells = rows.first.locator("td")
        for cell in range(cells.count()):
            label = cells.nth(cell).locator(".cell-label")
            expect(label).to_be_visible(visible=width == 320)
        assert axe_violations(page, {"here": (width, height)}) == []
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Español").click()
    expect(page.get_by_role("table", name="Quién necesita ayuda ahora")).to_be_visible()
    expect(rows.first).to_contain_text("Autorizando ahora")
    expect(rows.first).to_contain_text("haga clic en Next")
    assert axe_violations(page, {"desktop": (1280, 800), "phone": (320, 640)}) == []
    page.context.close()


def test_the_queue_works_without_javascript(
    browser: Browser, wizard_url: str, app: Flask, fast_cc: SandboxServer
) -> None:
    integration_id = open_attempt(app, "Bloom & Co Florist")
    needs_reauthorization(app, "Rival Bakery")
    make_user(app, HELPER, ROLE_SUPPORT)
    page = agent_page(browser, wizard_url, javascript=False)
    rows = page.locator("section.queue tbody tr")
    expect(rows).to_have_count(2)
    # One click from the queue to her integration's Right now.
    rows.first.get_by_role("link", name="Bloom & Co Florist").click()
    expect(page).to_have_url(re.compile(f"/support/integrations/{integration_id}$"))
    expect(page.locator(".right-now-say")).to_contain_text("Allow Access")
    page.get_by_role("link", name="Support console").click()
    page.get_by_role("link", name="All organizations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("All organizations")
    expect(page.get_by_role("link", name="Rival Bakery")).to_be_visible()
    page.get_by_role("link", name="Back to who needs help now").click()
    expect(rows).to_have_count(2)
    page.context.close()


def test_a_customer_connected_since_her_problem_has_left_the_queue(
    app: Flask, helper: FlaskClient
) -> None:
    stuck = customer_with(app, "Still stuck")
    mended = customer_with(app, "Mended", status="active")
    for integration_id in (stuck, mended):
        add_shown_problem(app, integration_id, ago(minutes=10))
    assert names(helper) == ["Still stuck"]


def test_a_row_says_when_her_browser_was_last_active_and_a_passed_window_ended(
    app: Flask, helper: FlaskClient
) -> None:
    integration_id = customer_with(app, "Florist")
    add_shown_problem(app, integration_id, ago(minutes=2))
    # She closed the tab on step 4: nobody closed the attempt, its window passed.
    add_attempt(app, integration_id, ago(minutes=7))
    with app.app_context():
        db.session.add(
            Presence(
                integration_id=integration_id,
                page="authorize.attempt",
                seen_at=ago(minutes=6),
            )
        )
        db.session.commit()
    (row,) = queue(helper)
    assert "Her browser was last active 6 minutes ago." in row
    assert "Step 4: the last code ended without access" in row
    assert "waiting for Allow Access" not in row
