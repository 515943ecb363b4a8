"""The demo journey in Chromium, against the wizard under gunicorn and the sandbox.

This is what `make run` promises a newcomer: sign in, create an application in the
(local) Constant Contact developer portal, paste its API Key, paste a list's address,
and see the new integration listed with its Actions menu.
"""

import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.helpers.attempts import age
from tests.helpers.attempts import attempt_of
from tests.helpers.attempts import make_due
from tests.helpers.browser import SCREENSHOTS
from tests.helpers.browser import allow_access
from tests.helpers.browser import axe_violations
from tests.helpers.browser import create_application_in_portal
from tests.helpers.browser import open_newsletter
from tests.helpers.browser import sign_in_page
from tests.helpers.browser import sign_in_to_constant_contact
from tests.helpers.browser import up_to_allow_access
from tests.helpers.i18n import english_left
from tests.helpers.integrations import make_integration
from tests.helpers.sandbox import device_app
from tests.helpers.users import PASSWORD
from wizard.models import Integration
from wizard.platform.extensions import db
from wizard.sandbox import seed
from wizard.sandbox import testing as cc_control
from wizard.sandbox.testing import SandboxServer


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_newcomer_connects_a_list(
    browser: Browser, wizard_url: str, javascript: bool
) -> None:
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(wizard_url)
    page.get_by_label("Email address").fill("owner@bloom.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Integrations")
    expect(page.get_by_text("You have no integrations yet")).to_be_visible()

    # Every document this tab loads from here to the end, in order.
    loads: list[str] = []
    page.on("load", lambda: loads.append(urlsplit(page.url).path))
    page.get_by_role("link", name="Add a new Integration").click()
    expect(page.get_by_text("Step 1 of 4")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Create your app in Constant Contact"
    )

    with context.expect_page() as opened:
        page.get_by_role("link", name="developer portal (opens in new tab)").click()
    api_key = create_application_in_portal(opened.value)

    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paste your API Key")
    # No flow question and no secret: the app check finds out.
    expect(page.get_by_label("Client Secret")).to_have_count(0)
    page.get_by_label("API Key").fill(f"  {api_key.upper()} ")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Step 2 of 4")).to_be_visible()
    checked = page.get_by_role("status").filter(has_text="checked your app")
    expect(checked).to_contain_text("App found")
    expect(checked).to_contain_text("Set to Device Flow")

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
    expect(page.get_by_text("Step 4 of 4")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Saved. One step left.")
    expect(page.locator(".banner-success")).to_have_count(0)
    expect(
        page.get_by_role("link", name="Sign in to Constant Contact first")
    ).to_have_attribute("target", "_blank")
    page.get_by_role("button", name="Get my activation code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Allow access in Constant Contact"
    )
    code = page.locator("#activation-code").inner_text()
    expect(page.locator("[data-countdown]")).to_contain_text(re.compile(r"^[45]:\d\d$"))

    with context.expect_page() as opened:
        page.get_by_role(
            "link", name="Open Constant Contact (opens in new tab)"
        ).click()
    allow_access(opened.value, code)

    if not javascript:
        check_until_done(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your integration is now active!", timeout=15_000
    )
    expect(page.get_by_text("Bloom & Co Florist")).to_be_visible()
    expect(page.get_by_text(f"{seed.NEWSLETTER_MEMBERS:,}")).to_be_visible()
    # Before the app check and the merged step 4 page, this took 8 loads: /new,
    # api-key, list-id, check, created, authorize, the attempt, active.
    # Now 6 with JavaScript: the waiting page turns into the success page in place
    # (its address too); without JavaScript, Check now loads the success page
    # (after "Not yet" on the waiting page, if the poller had not asked since).
    steps = [path.rsplit("/", 1)[-1] for path in loads]
    expected = ["new", "api-key", "list-id", "check", "authorize", "1"]
    if javascript:
        assert steps == expected
    else:
        assert steps[: len(expected)] == expected and steps[-1] == "active"
        assert set(steps[len(expected) : -1]) <= {"1"}
    assert urlsplit(page.url).path.endswith("/active")
    if javascript:  # a screen reader is told: focus moved to the new heading
        focused = page.evaluate("document.activeElement.tagName")
        assert focused == "H1"
    print(f"\npage loads ({'js' if javascript else 'no-js'}): {len(loads)} {steps}")

    page.get_by_role("link", name="Go to Integrations").click()
    row = page.get_by_role("row").filter(has_text=seed.NEWSLETTER_LIST_ID)
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Newsletter")
    row.get_by_text("Actions").click()
    for action in ("Re-authorize", "Change List ID", "Delete"):
        expect(row.get_by_text(action, exact=False).first).to_be_visible()
    context.close()


@pytest.fixture
def fast_integration(app: Flask, customer: int, fast_cc: SandboxServer) -> int:
    """Bloom's integration through steps 1-3, with a Device Flow app in fast_cc."""
    return make_integration(app, device_app(fast_cc.base_url))


def check_until_done(page: Page) -> None:
    """Without JavaScript: press Check now, waiting between presses as asked; while
    the list is being checked (access allowed a moment ago), press Check again."""
    for _ in range(10):
        heading = page.get_by_role("heading", level=1).inner_text()
        if "now active" in heading:
            return
        if "Checking your list" in heading:
            page.get_by_role("button", name="Check again").click()
        else:
            page.get_by_role("button", name="I have allowed access: check now").click()
        if "now active" in page.get_by_role("heading", level=1).inner_text():
            return
        expect(page.get_by_role("status").first).to_contain_text(
            re.compile("Not yet|Wait a few seconds|Checking your list")
        )
        page.wait_for_timeout(1000)


def test_the_timer_warns_announces_and_ends_with_the_server(
    browser: Browser, wizard_url: str, app: Flask, fast_integration: int
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.clock.install()
    sign_in_page(page, wizard_url)
    page.goto(f"{wizard_url}/integrations/{fast_integration}/authorize")
    page.get_by_role("button", name="Get my activation code").click()
    countdown = page.locator("[data-countdown]")
    expect(countdown).to_contain_text(re.compile(r"^4:5\d$"))
    expect(page.locator("[data-warning]")).to_be_hidden()

    # The server's window says 50 seconds are left; the page's clock agrees.
    make_due(app, attempt_of(app, fast_integration).id, seconds_left=50)
    page.clock.fast_forward("04:10")
    expect(page.locator("[data-warning]")).to_be_visible()
    expect(page.locator("[data-announce]")).to_have_text("Less than a minute left.")
    expect(countdown).to_contain_text(re.compile(r"^0:[0-5]\d$"))
    page.screenshot(path=str(SCREENSHOTS / "timer-warning.png"), full_page=True)

    # Time runs out on the server: the page reloads and says what to do.
    make_due(app, attempt_of(app, fast_integration).id, seconds_left=-1)
    page.clock.fast_forward("01:00")
    expect(page.get_by_role("heading", level=1)).to_have_text("Time ran out")
    page.get_by_role("button", name="Get a new code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Allow access in Constant Contact"
    )
    context.close()


WIDTHS = {"desktop": (1280, 800), "phone": (320, 640)}
LATE_NOTE = re.compile(r"^Constant Contact confirmed at .+, you are connected\.$")


def test_an_older_code_allowed_after_get_a_new_code(
    browser: Browser, wizard_url: str, fast_integration: int
) -> None:
    """She gets a code, opens Constant Contact, presses "Get a new code" on our
    page, then clicks Allow Access in the tab she already had open: connected."""
    context = browser.new_context()
    page = context.new_page()
    sign_in_page(page, wizard_url)
    page.goto(f"{wizard_url}/integrations/{fast_integration}/authorize")
    page.get_by_role("button", name="Get my activation code").click()
    first_code = page.locator("#activation-code").inner_text()
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", first_code)
    with context.expect_page() as opened:
        page.get_by_role(
            "link", name="Open Constant Contact (opens in new tab)"
        ).click()
    constant_contact = opened.value
    up_to_allow_access(constant_contact, first_code)

    # "Get a new code" sits in the timer's box, beside the time left.
    page.locator("#timer").get_by_role("button", name="Get a new code").click()
    expect(page.locator("#activation-code")).not_to_have_text(first_code)
    code = page.locator("#activation-code")
    expect(code).to_have_text(re.compile(r"^[A-Z]{4}-[A-Z]{4}$"))
    # One primary (green) action on the page.
    primary = page.locator("main .button:not(.button-secondary)")
    expect(primary).to_have_count(1)
    expect(primary).to_have_text("Open Constant Contact (opens in new tab)")
    # The QR code where it helps: not on a phone's narrow screen.
    page.get_by_text("Use your phone or another computer instead").click()
    expect(page.locator(".qr svg")).to_be_visible()
    page.set_viewport_size({"width": 320, "height": 640})
    expect(page.locator(".qr svg")).to_be_hidden()
    # The code is written one way everywhere: with its dash here too.
    expect(page.get_by_text("and enter the code")).to_contain_text(code.inner_text())
    page.set_viewport_size({"width": 1280, "height": 800})

    constant_contact.get_by_role("button", name="Allow Access").click()
    expect(constant_contact.get_by_text("Device activated")).to_be_visible()
    constant_contact.close()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your integration is now active!", timeout=15_000
    )
    expect(page.get_by_text(LATE_NOTE)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "active-late.png"), full_page=True)
    assert axe_violations(page, WIDTHS) == []
    context.close()


# What the late-approval test reads, in each language it is run in.
LATE_WORDS = {
    "en": ("Get my activation code", "Time ran out", "Your integration is now active!"),
    "es": (
        "Obtener mi código de activación",
        "Se acabó el tiempo",
        "¡Su integración ya está activa!",
    ),
}
LATE_NOTES = {
    "en": LATE_NOTE,
    "es": re.compile(r"^Constant Contact lo confirmó a las .+: ya está conectado\.$"),
}


@pytest.mark.parametrize("language", ["en", "es"])
def test_allowed_after_the_window_before_constant_contacts_expiry(
    browser: Browser,
    wizard_url: str,
    app: Flask,
    fast_cc: SandboxServer,
    language: str,
) -> None:
    """Our 5 minutes are over ("Time ran out"), Constant Contact's code is not: she
    clicks Allow Access then, and the page she is on notices."""
    start, ran_out, active = LATE_WORDS[language]
    integration_id = make_integration(app, device_app(fast_cc.base_url))
    context = browser.new_context(locale="es-MX" if language == "es" else "en-US")
    page = context.new_page()
    page.goto(f"{wizard_url}/sign-in")
    page.locator("#email").fill("owner@bloom.test")
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.goto(f"{wizard_url}/integrations/{integration_id}/authorize")
    page.get_by_role("button", name=start).click()
    code = page.locator("#activation-code").inner_text()
    attempt = attempt_of(app, integration_id)
    try:
        # 301 s later for the wizard and for Constant Contact (whose code lives 600).
        age(app, attempt.id, 301)
        cc_control.advance_clock(fast_cc.base_url, 301)
        expect(page.get_by_role("heading", level=1)).to_have_text(
            ran_out, timeout=15_000
        )
        expect(page.locator("[data-listening]")).to_be_visible()
        assert axe_violations(page, WIDTHS) == []
        cc_control.approve_device(fast_cc.base_url, code.replace("-", ""))
        expect(page.get_by_role("heading", level=1)).to_have_text(
            active, timeout=15_000
        )
        expect(page.get_by_text(LATE_NOTES[language])).to_be_visible()
        assert axe_violations(page, WIDTHS) == []
        if language == "es":
            assert english_left(page.content()) == []
    finally:
        cc_control.reset(fast_cc.base_url)
    context.close()


def test_authorization_code_flow_in_the_browser(
    browser: Browser, wizard_url: str, fast_cc: SandboxServer, app: Flask
) -> None:
    created = cc_control.create_application(
        fast_cc.base_url,
        flow="authorization_code",
        redirect_uris=[f"{wizard_url}/callback/constant-contact-auth"],
    )
    integration_id = make_integration(
        app,
        created["api_key"],
        flow="authorization_code",
        secret=created["client_secret"],
    )
    context = browser.new_context()
    page = context.new_page()
    sign_in_page(page, wizard_url)
    page.goto(f"{wizard_url}/integrations")
    page.get_by_text("Actions").last.click()
    page.get_by_role("link", name=re.compile("^Authorize")).click()
    expect(page).to_have_url(f"{wizard_url}/integrations/{integration_id}/authorize")
    page.get_by_role("button", name="Start authorizing").click()
    with context.expect_page() as opened:
        page.get_by_role(
            "link", name="Open Constant Contact (opens in new tab)"
        ).click()
    window = opened.value
    sign_in_to_constant_contact(window)
    window.get_by_role("button", name="Allow Access").click()
    expect(window.get_by_role("heading", level=1)).to_have_text("Access allowed")
    expect(window.get_by_text("You can close this window")).to_be_visible()
    window.close()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your integration is now active!", timeout=15_000
    )
    context.close()


def test_a_newcomer_with_an_authorization_code_app(
    browser: Browser, wizard_url: str
) -> None:
    """From Add a new Integration with an app set to Authorization Code Flow: the
    app check asks for the secret and the Redirect URI only then, and ticks both."""
    context = browser.new_context()
    page = context.new_page()
    sign_in_page(page, wizard_url)
    page.get_by_role("link", name="Add a new Integration").click()
    with context.expect_page() as opened:
        page.get_by_role("link", name="developer portal (opens in new tab)").click()
    portal = opened.value
    sign_in_to_constant_contact(portal)
    portal.get_by_role("link", name="New Application").click()
    portal.get_by_label("Application name").fill("PromoPulse connection")
    portal.get_by_label("Authorization Code Flow").check()
    portal.get_by_label("Long Lived").check()
    portal.get_by_role("button", name="Create").click()
    portal.get_by_role("link", name="Edit").last.click()
    api_key = portal.locator("#api-key").inner_text().strip()

    page.get_by_role("button", name="Continue").click()
    page.get_by_label("API Key").fill(api_key)
    page.get_by_role("button", name="Continue").click()
    # Not a Device Flow app: now, and only now, the secret and the Redirect URI.
    expect(page.get_by_role("alert")).to_contain_text("App found")
    redirect_uri = page.locator("#redirect-uri").inner_text()
    assert redirect_uri == f"{wizard_url}/callback/constant-contact-auth"
    portal.get_by_role("button", name="Generate Client Secret").click()
    secret = portal.locator("#client-secret").inner_text().strip()
    portal.get_by_label("Redirect URIs (one per line)").fill(redirect_uri)
    portal.get_by_role("button", name="Save").click()
    expect(portal.get_by_text("Redirect URIs saved.")).to_be_visible()
    page.get_by_label("Client Secret").fill(secret)
    page.get_by_role("button", name="Check again").click()

    expect(page.get_by_text("Step 2 of 4")).to_be_visible()
    checked = page.get_by_role("status").filter(has_text="checked your app")
    for row in ("App found", "API Key and Client Secret match", "Redirect URI added"):
        expect(checked).to_contain_text(row)
    assert secret not in page.content()
    with context.expect_page() as opened:
        page.get_by_role("link", name="your lists in Constant Contact").click()
    page.get_by_label("List ID").fill(open_newsletter(opened.value))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Create integration").click()
    page.get_by_role("button", name="Start authorizing").click()
    with context.expect_page() as opened:
        page.get_by_role(
            "link", name="Open Constant Contact (opens in new tab)"
        ).click()
    window = opened.value
    # Signed in already (in the portal's tab): straight to Allow Access.
    window.get_by_role("button", name="Allow Access").click()
    expect(window.get_by_role("heading", level=1)).to_have_text("Access allowed")
    window.close()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your integration is now active!", timeout=15_000
    )
    portal.close()
    context.close()


def test_every_action_from_the_actions_menu(
    browser: Browser,
    wizard_url: str,
    fast_cc: SandboxServer,
    app: Flask,
    fast_integration: int,
) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_in_page(page, wizard_url)

    def action(name: str) -> None:
        page.goto(f"{wizard_url}/integrations")
        page.locator("summary", has_text="Actions").first.click()
        page.get_by_role("link", name=re.compile(f"^{name}")).first.click()

    def authorize() -> None:
        page.get_by_role("button", name="Get my activation code").click()
        code = page.locator("#activation-code").inner_text().replace("-", "")
        cc_control.approve_device(fast_cc.base_url, code)
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Your integration is now active!", timeout=15_000
        )

    action("Authorize")
    authorize()

    action("Test connection")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The connection works")

    action("Change List ID")
    page.get_by_label("List ID").fill(
        f"{fast_cc.base_url}/contacts/lists/{seed.VIP_LIST_ID}"
    )
    page.get_by_role("button", name="Check and save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your integration is now active!"
    )
    expect(page.get_by_text("VIP customers").first).to_be_visible()

    action("Re-authorize")
    authorize()

    action("Disconnect")
    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("is disconnected")
    expect(page.get_by_text("Constant Contact confirmed")).to_be_visible()

    action("Delete")
    page.get_by_role("button", name="Delete integration").click()
    expect(page.get_by_text("was deleted")).to_be_visible()
    expect(page.get_by_text("You have no integrations yet")).to_be_visible()
    with app.app_context():
        assert db.session.get(Integration, fast_integration) is None
    context.close()
