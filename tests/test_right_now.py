"""Support's "Right now": every state has where she is and one line to read aloud,
the box is the first thing on her integration's page, in the agent's language."""

from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser
from playwright.sync_api import expect

from tests.helpers.attempts import start_attempt
from tests.helpers.browser import axe_violations
from tests.helpers.browser import sign_in_page
from tests.helpers.integrations import make_integration
from tests.helpers.live import post_form
from tests.helpers.live import signed_in_session
from tests.helpers.users import PASSWORD
from tests.helpers.users import make_user
from tests.helpers.users import sign_in
from wizard.models import ROLE_SUPPORT
from wizard.models import AuditEvent
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.models import Organization
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import create_application
from wizard.status import AppCheck
from wizard.status import Status
from wizard.web.support import right_now

pytestmark = pytest.mark.sandboxed

CATALOGUE = (
    Path(__file__).resolve().parent.parent
    / "wizard"
    / "translations"
    / "es"
    / "LC_MESSAGES"
    / "messages.po"
)


def test_every_state_has_where_and_what_to_say_in_both_languages() -> None:
    with CATALOGUE.open("rb") as po:
        spanish = {m.id: m.string for m in read_po(po) if m.id}
    for state, (where, say) in right_now.LINES.items():
        assert where and say.endswith("."), state
        assert spanish.get(where) and spanish.get(say), state


def _integration(**columns: object) -> Integration:
    values = {"status": Status.DRAFT, "flow": "device"} | columns
    return Integration(**values)


def _attempt(**columns: object) -> AuthorizationAttempt:
    now = utcnow()
    values = {
        "flow": "device",
        "started_at": now,
        "expires_at": now + timedelta(minutes=3),
        "user_code": "TJCDSTHB",
    } | columns
    return AuthorizationAttempt(**values)


KEY = "1d2c3b4a-5e6f-4a1b-8c9d-0e1f2a3b4c5d"
LIST = "7c5b38ee-81d3-11f0-a43c-fa163ea34668"


@pytest.mark.parametrize(
    ("columns", "attempt", "state"),
    [
        ({}, None, "step_1_key"),
        ({"api_key": KEY, "app_check": AppCheck.NOT_DEVICE}, None, "step_1_not_device"),
        ({"api_key": KEY, "app_check": AppCheck.WRONG_FLOW}, None, "step_1_wrong_flow"),
        (
            {"api_key": KEY, "app_check": AppCheck.REDIRECT_MISSING},
            None,
            "step_1_redirect_missing",
        ),
        ({"api_key": KEY, "app_check": AppCheck.DEVICE}, None, "step_2"),
        ({"api_key": KEY, "list_id": LIST}, None, "step_3"),
        (
            {"api_key": KEY, "list_id": LIST, "status": Status.CREATED},
            None,
            "step_4_ready",
        ),
        (
            {"api_key": KEY, "list_id": LIST, "status": Status.AUTHORIZING},
            {},
            "step_4_waiting_device",
        ),
        (
            {"api_key": KEY, "list_id": LIST, "status": Status.AUTHORIZING},
            {"flow": "authorization_code", "user_code": None},
            "step_4_waiting_code",
        ),
        (
            {"api_key": KEY, "list_id": LIST, "status": Status.CREATED},
            {"outcome": "expired"},
            "step_4_ended",
        ),
        ({"status": Status.ACTIVE}, None, "active"),
        ({"status": Status.LIST_NOT_FOUND}, None, "list_missing"),
        ({"status": Status.NEEDS_REAUTHORIZATION}, None, "needs_reauthorization"),
        ({"status": Status.FAILING}, None, "trouble"),
        ({"status": Status.DISCONNECTED}, None, "disconnected"),
    ],
)
def test_each_situation_finds_its_line(
    columns: dict[str, object], attempt: dict[str, object] | None, state: str
) -> None:
    found = right_now.state_of(
        _integration(**columns), _attempt(**attempt) if attempt is not None else None
    )
    assert found == state and found in right_now.LINES


def test_the_box_comes_first_with_her_code_and_what_to_say(
    client: FlaskClient, app: Flask, cc: str, customer: int, support_user: int
) -> None:
    integration_id = make_integration(app, create_application(cc)["api_key"])
    sign_in(client, "owner@bloom.test")
    start_attempt(client, integration_id)
    with app.app_context():
        code = db.session.scalars(db.select(AuthorizationAttempt.user_code)).one()
    client.post("/sign-out")
    sign_in(client, "helper@promopulse.test")
    page = client.get(f"/support/integrations/{integration_id}").text
    box = page[page.index('<section class="right-now"') : page.index("</section>")]
    assert page.index("Right now") < page.index("steps</h2>"), page[:3000]
    assert "Step 4: waiting for Allow Access" in box
    assert f"ends …{code[-4:]}" in box and code not in box
    assert "click Next, then Allow Access" in box
    client.set_cookie("wizard_lang", "es")
    spanish = client.get(f"/support/integrations/{integration_id}").text
    assert "Ahora mismo" in spanish
    assert "En la pestaña de Constant Contact, haga clic en Next" in spanish


def test_an_agent_reads_the_line_one_page_after_typing_her_reference(
    browser: Browser, wizard_url: str, app: Flask, fast_cc: SandboxServer
) -> None:
    integration_id = make_integration(
        app, create_application(fast_cc.base_url)["api_key"]
    )
    make_user(app, "helper@promopulse.test", ROLE_SUPPORT)
    with app.app_context():
        code = db.session.scalars(db.select(Organization.reference_code)).one()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in_page(page, wizard_url, "helper@promopulse.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Support console")
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    page.get_by_label("Find a customer").fill(code.replace("-", " ").lower())
    page.get_by_role("button", name="Search").click()
    say = page.locator(".right-now-say")
    expect(say).to_contain_text("First sign in to Constant Contact in another tab")
    page.wait_for_load_state("load")  # the text can show before the load event
    assert len(loads) == 1  # the search answered with her integration's page
    for width, height in ((1280, 800), (320, 640)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, 0)")
        box = say.bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, (width, box)
        assert axe_violations(page, {"here": (width, height)}) == []
    # She presses Get my activation code: the box says so by itself, no reload.
    customer = signed_in_session(wizard_url, "owner@bloom.test", PASSWORD)
    pressed = post_form(
        customer, f"{wizard_url}/integrations/{integration_id}/authorize"
    )
    customer.get(wizard_url + pressed.headers["Location"], timeout=10)
    expect(say).to_contain_text("click Next, then Allow Access", timeout=15_000)
    expect(page.locator(".right-now")).to_contain_text("left.")
    # Her browser has the page with her code open (its note is written within a
    # second, and this box asks again on its next refresh).
    expect(page.locator(".right-now-page")).to_contain_text(
        "Her browser: Step 4 of 4 – Allow access in Constant Contact, last active",
        timeout=15_000,
    )
    assert len(loads) == 1
    context.close()


FETCHED = {  # what a page's own fetch() sends: never counted as the agent's view
    "Sec-Fetch-Site": "same-origin",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Dest": "empty",
}


def _support_rows(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(
            db.select(db.func.count(AuditEvent.id)).where(
                AuditEvent.action.like("support.%")
            )
        )


def test_the_box_updates_alone_and_writes_nothing(
    client: FlaskClient, app: Flask, cc: str, customer: int, support_user: int
) -> None:
    integration_id = make_integration(app, create_application(cc)["api_key"])
    sign_in(client, "helper@promopulse.test")
    box_url = f"/support/integrations/{integration_id}/right-now"
    # Before any view is on record, the box asks the page to reload (and record it).
    assert client.get(box_url, headers=FETCHED).status_code == 204
    assert _support_rows(app) == 0
    page = client.get(f"/support/integrations/{integration_id}").text
    assert f'data-right-now="{box_url}"' in page
    assert _support_rows(app) == 1
    # Five minutes of updates every 5 s: the box alone, and no more rows.
    for _ in range(60):
        box = client.get(box_url, headers=FETCHED)
        assert box.status_code == 200
    text = box.text
    assert text.startswith('<section class="right-now"') and "<html" not in text
    assert "Step 4: ready to authorize" in text and "Say:" in text
    assert _support_rows(app) == 1


def test_the_box_is_support_only(
    client: FlaskClient, app: Flask, cc: str, customer: int
) -> None:
    integration_id = make_integration(app, create_application(cc)["api_key"])
    sign_in(client, "owner@bloom.test")
    box_url = f"/support/integrations/{integration_id}/right-now"
    assert client.get(box_url).status_code == 404
