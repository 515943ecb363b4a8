"""Send her back in Chromium, the wizard under gunicorn with a real SMTP server:
with JavaScript the link lands on the clipboard and the copy is on record without
a page load; without it, the page comes back with the link ready to copy."""

import time
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import expect

from tests.helpers.app import base_config
from tests.helpers.browser import axe_violations
from tests.helpers.browser import sign_in_page
from tests.helpers.integrations import make_integration
from tests.helpers.live import free_port
from tests.helpers.live import gunicorn
from tests.helpers.live import wizard_environment
from tests.helpers.smtp import MailServer
from tests.helpers.smtp import mail_server
from tests.helpers.users import make_user
from wizard.models import ROLE_SUPPORT
from wizard.models import AuditEvent
from wizard.platform.extensions import db

HELPERS = ("helper@promopulse.test", "second@promopulse.test")


@pytest.fixture
def inbox() -> Iterator[MailServer]:
    """A real SMTP server the served wizard sends through."""
    with mail_server() as server:
        yield server


@pytest.fixture
def served(
    app: Flask, customer: int, database_url: str, inbox: MailServer
) -> Iterator[str]:
    """The wizard under gunicorn (CSRF checked), its mail going to the inbox."""
    for email in HELPERS:
        make_user(app, email, ROLE_SUPPORT)
    port = free_port()
    settings = base_config(database_url) | inbox.settings()
    env = wizard_environment(settings | {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"})
    with gunicorn(env, port=port) as base_url:
        yield base_url


def copies(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(
            db.select(db.func.count(AuditEvent.id)).filter_by(
                action="support.copied_link"
            )
        )


def wait_for(check: object, timeout: float = 10) -> None:
    """Wait until the check (a callable) is true."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.1)


def test_copy_with_javascript_puts_the_link_on_the_clipboard_and_on_record(
    browser: Browser, served: str, app: Flask, inbox: MailServer
) -> None:
    integration_id = make_integration(app, "k" * 36)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served)
    page = context.new_page()
    sign_in_page(page, served, HELPERS[0])
    page.goto(f"{served}/support/integrations/{integration_id}")
    link = f"{served}/integrations/{integration_id}/setup"
    expect(page.get_by_label("The link to where she left off")).to_have_value(link)
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    button = page.get_by_role("button", name="Copy the link to where she left off")
    button.click()
    expect(page.locator("#send-back button").first).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link
    wait_for(lambda: copies(app) == 1)
    assert loads == [] and "copying" not in page.url  # no page load
    assert axe_violations(page, {"desktop": (1280, 800), "phone": (320, 640)}) == []

    page.get_by_role("button", name="E-mail her the link").click()
    expect(page.get_by_text("E-mailed her the link, to o…@bloom.test.")).to_be_visible()
    assert [m.recipients for m in inbox.inbox.messages] == [["owner@bloom.test"]]
    assert link in inbox.inbox.messages[0].text
    context.close()


def test_copy_without_javascript_brings_the_link_back_ready(
    browser: Browser, served: str, app: Flask
) -> None:
    integration_id = make_integration(app, "k" * 36)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_page(page, served, HELPERS[1])
    page.goto(f"{served}/support/integrations/{integration_id}")
    page.get_by_role("button", name="Copy the link to where she left off").click()
    expect(page.get_by_text("The link is ready to copy")).to_be_visible()
    field = page.get_by_label("The link to where she left off")
    expect(field).to_be_focused()
    expect(field).to_have_value(f"{served}/integrations/{integration_id}/setup")
    assert copies(app) == 1
    context.close()
