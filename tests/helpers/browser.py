"""Pages in a browser (Playwright): the wizard's and the sandbox's Constant Contact."""

from pathlib import Path

from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.helpers.users import PASSWORD
from wizard.sandbox import seed

# Where the journey tests leave their screenshots (`make screenshots` uses its own).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "instance" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)
# The axe-core rules every page is checked against.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": [
            "wcag2a",
            "wcag2aa",
            "wcag21a",
            "wcag21aa",
            "wcag22a",
            "wcag22aa",
            "best-practice",
        ],
    },
    "resultTypes": ["violations"],
}


def up_to_allow_access(activation: Page, code: str) -> None:
    """In the new window: check the code, Next, sign in; stop at Allow Access."""
    # Filled in for the person, shown the way our page shows it.
    expect(activation.get_by_label("Activation Code")).to_have_value(code)
    activation.get_by_role("button", name="Next").click()
    if activation.get_by_label("Password").count():
        sign_in_to_constant_contact(activation)
    expect(activation.get_by_role("button", name="Allow Access")).to_be_visible()


def sign_in_to_constant_contact(page: Page) -> None:
    """Fill in the local Constant Contact's log-in form shown on the page."""
    page.get_by_label("Email").fill(seed.DEMO_LOGIN_EMAIL)
    page.get_by_label("Password").fill(seed.DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def allow_access(activation: Page, code: str) -> None:
    """Do what the person does in the new window: Next, sign in, Allow Access."""
    up_to_allow_access(activation, code)
    activation.get_by_role("button", name="Allow Access").click()
    expect(activation.get_by_text("Device activated")).to_be_visible()
    expect(
        activation.get_by_text("Follow the instructions on your device for next steps")
    ).to_be_visible()
    activation.close()


def run_axe(page: Page) -> AxeResults:
    """Run axe-core on the page with AXE_OPTIONS, as Axe().run does.

    The script (570 kB) is put into each document once, not before every run: a
    page checked at two widths compiles it once.
    """
    axe = Axe()
    if not page.evaluate("typeof window.axe?.run === 'function'"):
        page.evaluate(axe.axe_script)
    arguments = axe._format_script_args(options=AXE_OPTIONS)
    return AxeResults(page.evaluate(f"axe.run({arguments})"))


def axe_violations(page: Page, widths: dict[str, tuple[int, int]]) -> list[str]:
    """Run axe on the page at each width; return what it found, in words."""
    found = []
    for name, (width, height) in widths.items():
        page.set_viewport_size({"width": width, "height": height})
        results = run_axe(page)
        found += [
            f"{name}: {violation['id']}: {violation['help']}"
            for violation in results.response["violations"]
        ]
    return found


def sign_in_page(page: Page, wizard_url: str, email: str = "owner@bloom.test") -> None:
    """Sign in through the form, as the Bloom customer unless told otherwise."""
    page.goto(f"{wizard_url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def create_application_in_portal(portal: Page) -> str:
    """Sign in to the sandbox portal, create a Device Flow app, return its API Key."""
    sign_in_to_constant_contact(portal)
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
