"""Step 1's app check in Chromium, in English and Spanish, axe clean at both widths:
a Device Flow app, an Authorization Code app, an unknown key, key and secret swapped,
an unregistered Redirect URI, and Constant Contact down during the check."""

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.helpers.browser import run_axe
from tests.helpers.i18n import english_left
from tests.helpers.users import PASSWORD
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import set_faults

LANGUAGES = {"en": "en-US", "es": "es-MX"}
STEP_2 = re.compile(r"/integrations/\d+/list-id$")


def _continue(page: Page) -> None:
    """Send the page's form and wait for its answer's page (counting ticks right
    after the click could count the page before it)."""
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()


def _start(page: Page, wizard_url: str) -> None:
    """Sign in, Add a new Integration, Continue to Paste your API Key."""
    page.goto(f"{wizard_url}/sign-in")
    page.locator("#email").fill("owner@bloom.test")
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator('a[href="/integrations/new"]').first.click()
    _continue(page)
    expect(page.locator("#api_key")).to_be_visible()


def _paste(page: Page, api_key: str, secret: str | None = None) -> None:
    page.locator("#api_key").fill(api_key)
    if secret is not None:
        page.locator("#client_secret").fill(secret)
    _continue(page)


def _ticks(page: Page) -> dict[str, int]:
    return {
        mark: page.locator(f".ticks .tick-{mark}").count()
        for mark in ("yes", "no", "unknown")
    }


def device_app(page: Page, cc: SandboxServer) -> None:
    _paste(page, create_application(cc.base_url, flow="device")["api_key"])
    expect(page).to_have_url(STEP_2)
    assert _ticks(page) == {"yes": 2, "no": 0, "unknown": 0}
    expect(page.locator(".banner-success")).to_have_count(1)


def code_app(page: Page, cc: SandboxServer) -> None:
    created = _authorization_code_app(cc, page)
    _paste(page, created["api_key"])
    assert _ticks(page) == {"yes": 0, "no": 1, "unknown": 0}
    _paste(page, created["api_key"], created["client_secret"])
    expect(page).to_have_url(STEP_2)
    assert _ticks(page) == {"yes": 3, "no": 0, "unknown": 0}


def unknown_key(page: Page, cc: SandboxServer) -> None:
    typed = str(uuid.uuid4())
    _paste(page, typed)
    expect(page.locator("#api_key")).to_have_value(typed)
    assert _ticks(page) == {"yes": 0, "no": 1, "unknown": 0}
    expect(page.locator("#client_secret")).to_be_visible()
    expect(page.locator(".result-problem")).to_be_focused()


def swapped(page: Page, cc: SandboxServer) -> None:
    created = _authorization_code_app(cc, page)
    _paste(page, created["api_key"])
    _paste(page, created["client_secret"], created["api_key"])
    # Put back the right way round, the secret kept and never shown.
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator("#api_key")).to_have_value(created["api_key"])
    assert created["client_secret"] not in page.content()
    _continue(page)
    expect(page).to_have_url(STEP_2)
    assert _ticks(page) == {"yes": 3, "no": 0, "unknown": 0}


def unregistered_redirect(page: Page, cc: SandboxServer) -> None:
    created = create_application(
        cc.base_url,
        flow="authorization_code",
        redirect_uris=["https://elsewhere.test/callback"],
    )
    _paste(page, created["api_key"])
    _paste(page, created["api_key"], created["client_secret"])
    assert _ticks(page) == {"yes": 2, "no": 1, "unknown": 0}
    expect(page.locator("#redirect-uri")).to_contain_text(
        "/callback/constant-contact-auth"
    )
    expect(page.locator('main a[href$="/list-id"]')).to_be_visible()


def constant_contact_down(page: Page, cc: SandboxServer) -> None:
    api_key = create_application(cc.base_url, flow="device")["api_key"]
    set_faults(cc.base_url, {"device_authorize": "503"})
    try:
        _paste(page, api_key)
    finally:
        set_faults(cc.base_url, {})
    expect(page).to_have_url(STEP_2)
    assert _ticks(page) == {"yes": 0, "no": 0, "unknown": 1}
    expect(page.locator(".banner-success")).to_have_count(0)


def _authorization_code_app(cc: SandboxServer, page: Page) -> dict[str, Any]:
    """An Authorization Code app whose Redirect URI is this wizard's."""
    origin = page.url.split("/integrations/")[0]
    return create_application(
        cc.base_url,
        flow="authorization_code",
        redirect_uris=[f"{origin}/callback/constant-contact-auth"],
    )


CASES: dict[str, Callable[[Page, SandboxServer], None]] = {
    "device-app": device_app,
    "code-app": code_app,
    "unknown-key": unknown_key,
    "swapped": swapped,
    "unregistered-redirect": unregistered_redirect,
    "constant-contact-down": constant_contact_down,
}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_app_check_in_the_browser(
    browser: Browser,
    wizard_url: str,
    fast_cc: SandboxServer,
    language: str,
) -> None:
    # Every case in one served wizard (each with its own draft and browser context):
    # starting a server per case would cost more than the cases themselves.
    for case, walk in CASES.items():
        context = browser.new_context(locale=LANGUAGES[language])
        try:
            page = context.new_page()
            _start(page, wizard_url)
            walk(page, fast_cc)
            expect(page.locator("html")).to_have_attribute("lang", language)
            if language == "es":
                assert english_left(page.content()) == [], case
            for width, height in ((1280, 800), (320, 640)):
                page.set_viewport_size({"width": width, "height": height})
                found = run_axe(page).response["violations"]
                assert [v["id"] for v in found] == [], (case, width, found)
        finally:
            context.close()
