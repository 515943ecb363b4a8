"""The demo journey in Chromium, against the wizard under gunicorn and the sandbox.

This is what `make run` promises a newcomer: sign in, create an application in the
(local) Constant Contact developer portal, paste its API Key, paste a list's address,
and see the new integration listed with its Actions menu.
"""

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.conftest import base_config
from tests.conftest import sandbox_settings
from tests.live import gunicorn
from wizard.sandbox import seed
from wizard.sandbox.testing import SandboxServer


@pytest.fixture
def wizard_url(
    app: Flask, customer: int, database_url: str, cc_sandbox: SandboxServer
) -> Iterator[str]:
    """Serve the wizard with two gunicorn workers, pointed at the sandbox."""
    settings = base_config(database_url) | sandbox_settings(cc_sandbox.base_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIZARD_")}
    env |= {f"WIZARD_{key}": str(value) for key, value in settings.items()}
    env["WIZARD_TESTING"] = "false"
    env["WIZARD_PUBLIC_BASE_URL"] = "http://127.0.0.1"
    with gunicorn(env) as base_url:
        yield base_url


def test_newcomer_creates_an_integration(browser: Browser, wizard_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(wizard_url)
    page.get_by_label("Email address").fill("owner@bloom.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Integrations")
    expect(page.get_by_text("You have no integrations yet")).to_be_visible()

    page.get_by_role("link", name="Add a new Integration").click()
    page.get_by_role("button", name="Start now").click()
    expect(page.get_by_text("Step 1 of 4")).to_be_visible()
    expect(page.locator("#redirect-uri")).to_have_text(
        "http://127.0.0.1/callback/constant-contact-auth"
    )

    with context.expect_page() as opened:
        page.get_by_role("link", name="developer portal (opens in new tab)").click()
    api_key = create_application(opened.value)

    page.get_by_label("API Key").fill(f"  {api_key.upper()} ")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Step 2 of 4")).to_be_visible()

    with context.expect_page() as opened:
        page.get_by_role("link", name="your lists in Constant Contact").click()
    list_address = open_newsletter(opened.value)
    assert list_address.endswith(seed.NEWSLETTER_LIST_ID)

    page.get_by_label("List ID").fill(list_address)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Step 3 of 4")).to_be_visible()
    expect(page.get_by_text(seed.NEWSLETTER_LIST_ID)).to_be_visible()
    expect(page.get_by_text("taken from the address you pasted")).to_be_visible()
    assert api_key not in page.content()

    page.get_by_role("button", name="Create integration").click()
    expect(page.get_by_role("heading", name="Integration created")).to_be_visible()
    page.get_by_role("link", name="Go to Integrations").click()

    row = page.get_by_role("row").filter(has_text=seed.NEWSLETTER_LIST_ID)
    expect(row).to_contain_text("Waiting for authorization")
    row.get_by_text("Actions").click()
    for action in (
        "Authorize",
        "Change List ID",
        "Test connection",
        "Disconnect",
        "Delete",
    ):
        expect(row.get_by_text(action, exact=False).first).to_be_visible()
    context.close()


def create_application(portal: Page) -> str:
    """Sign in to the sandbox portal, create a Device Flow app, return its API Key."""
    portal.get_by_label("Email").fill(seed.DEMO_LOGIN_EMAIL)
    portal.get_by_label("Password").fill(seed.DEMO_PASSWORD)
    portal.get_by_role("button", name="Log in").click()
    portal.get_by_role("link", name="New Application").click()
    portal.get_by_label("Application name").fill("Constant Contact sync")
    portal.get_by_label("Device Flow").check()
    portal.get_by_label("Long Lived").check()
    portal.get_by_role("button", name="Create").click()
    expect(portal.get_by_role("alert")).to_contain_text("Constant Contact")
    portal.get_by_label("Application name").fill("PromoPulse connection")
    portal.get_by_role("button", name="Create").click()
    portal.get_by_role("link", name="Edit").last.click()
    api_key = portal.locator("#api-key").inner_text().strip()
    portal.close()
    return api_key


def open_newsletter(lists: Page) -> str:
    """Open the Newsletter list (signed in already) and return its address."""
    lists.get_by_role("link", name="Newsletter").click()
    expect(lists.get_by_role("heading", level=1)).to_contain_text("Newsletter")
    address = lists.url
    lists.close()
    return address
