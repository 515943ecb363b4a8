"""Developer portal and contact list pages, driven through their forms."""

import re
from urllib.parse import urljoin

import requests

from tests.helpers.sandbox_http import sign_in
from tests.helpers.sandbox_http import submit
from wizard.sandbox.seed import NEWSLETTER_LIST_ID
from wizard.sandbox.seed import NEWSLETTER_MEMBERS
from wizard.sandbox.seed import OTHER_LIST_ID
from wizard.sandbox.seed import VIP_LIST_ID

UUID4 = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)


def portal_session(base_url: str) -> tuple[requests.Session, requests.Response]:
    """Sign in to the portal; return the session and the My Applications page."""
    browser = requests.Session()
    page = sign_in(browser, browser.get(f"{base_url}/pages/dma/portal/", timeout=10))
    assert "My Applications" in page.text
    return browser, page


def submit_new_app(
    browser: requests.Session, base_url: str, name: str, **choices: str
) -> requests.Response:
    """Fill in and submit the New Application form."""
    page = browser.get(f"{base_url}/pages/dma/portal/new", timeout=10)
    data = {"name": name, "flow": "device", "refresh_token_type": "long_lived"}
    return submit(browser, page, {**data, **choices})


def new_app(browser: requests.Session, base_url: str, name: str, **choices: str):
    """Create an application, then click Edit on it in My Applications."""
    listing = submit_new_app(browser, base_url, name, **choices)
    assert "My Applications" in listing.text
    assert f"Application {name} created." in listing.text
    row = re.search(
        rf"<td>{re.escape(name)}</td>.*?href=\"([^\"]+)\">Edit</a>", listing.text, re.S
    )
    assert row, listing.text
    return browser.get(urljoin(listing.url, row.group(1)), timeout=10)


def revoke_with(base_url: str, api_key: str, secret: str) -> int:
    """Return the status of a revocation authenticated with this secret."""
    return requests.post(
        f"{base_url}/oauth2/default/v1/revoke",
        data={"token": "x"},
        auth=(api_key, secret),
        timeout=10,
    ).status_code


def test_portal_requires_sign_in(base_url: str) -> None:
    response = requests.get(
        f"{base_url}/pages/dma/portal/", timeout=10, allow_redirects=False
    )
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_new_application_form_has_the_portal_choices(base_url: str) -> None:
    browser, _ = portal_session(base_url)
    with browser:
        page = browser.get(f"{base_url}/pages/dma/portal/new", timeout=10)
    for text in (
        "Application name",
        "Authorization Code Flow and Implicit Flow",
        "PKCE Flow",
        "Device Flow",
        "Rotating",
        "Long Lived",
        "Create",
    ):
        assert text in page.text


def test_name_containing_constant_contact_is_refused(base_url: str) -> None:
    browser, _ = portal_session(base_url)
    with browser:
        page = submit_new_app(browser, base_url, "My constant CONTACT sync")
        assert page.status_code == 400
        assert "cannot contain" in page.text
        apps = browser.get(f"{base_url}/pages/dma/portal/", timeout=10)
    assert "My constant CONTACT sync" not in apps.text


def test_create_app_and_secret_shown_once(base_url: str) -> None:
    browser, _ = portal_session(base_url)
    with browser:
        details = new_app(browser, base_url, "PromoPulse", flow="authorization_code")
        api_key = re.search(r'id="api-key">([^<]+)<', details.text).group(1)
        assert UUID4.fullmatch(api_key)
        assert "Edit" in browser.get(f"{base_url}/pages/dma/portal/", timeout=10).text

        shown = submit(browser, details, action_contains="/secret")
        secret = re.search(r'id="client-secret">([^<]+)<', shown.text).group(1)
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", secret)
        again = browser.get(details.url, timeout=10)
        assert secret not in again.text
        assert revoke_with(base_url, api_key, secret) == 200

        newer = submit(browser, again, action_contains="/secret")
        new_secret = re.search(r'id="client-secret">([^<]+)<', newer.text).group(1)
    assert new_secret != secret
    assert revoke_with(base_url, api_key, secret) == 401
    assert revoke_with(base_url, api_key, new_secret) == 200


def test_redirect_uris(base_url: str) -> None:
    browser, _ = portal_session(base_url)
    with browser:
        details = new_app(browser, base_url, "Callbacks", flow="pkce")
        uris = (
            "https://a.example/cb\nhttp://127.0.0.1:5000/callback/constant-contact-auth"
        )
        saved = submit(
            browser, details, {"redirect_uris": uris}, action_contains="redirect-uris"
        )
        assert "Redirect URIs saved." in saved.text
        assert "https://a.example/cb\nhttp://127.0.0.1:5000/callback" in saved.text
        refused = submit(
            browser,
            saved,
            {"redirect_uris": "https://a.example/cb#frag"},
            action_contains="redirect-uris",
        )
    assert refused.status_code == 400
    assert "fragment" in refused.text


def test_list_pages_end_in_the_list_id(base_url: str) -> None:
    with requests.Session() as browser:
        page = sign_in(
            browser, browser.get(f"{base_url}/pages/contacts/ui", timeout=10)
        )
        assert "Newsletter" in page.text and "VIP customers" in page.text
        assert "Spring sale 2024" not in page.text  # deleted
        assert OTHER_LIST_ID not in page.text
        links = re.findall(r'href="(/contacts/lists/[^"]+)"', page.text)
        assert f"/contacts/lists/{VIP_LIST_ID}" in links
        detail = browser.get(
            f"{base_url}/contacts/lists/{NEWSLETTER_LIST_ID}", timeout=10
        )
        assert detail.url.endswith(f"/contacts/lists/{NEWSLETTER_LIST_ID}")
        assert "Newsletter" in detail.text
        assert f">{NEWSLETTER_MEMBERS}<" in detail.text
        foreign = browser.get(f"{base_url}/contacts/lists/{OTHER_LIST_ID}", timeout=10)
    assert foreign.status_code == 404


def test_sign_in_rejects_a_wrong_password(base_url: str) -> None:
    with requests.Session() as browser:
        page = browser.get(f"{base_url}/login", timeout=10)
        page = submit(browser, page, {"email": "owner@bloom.example", "password": "x"})
    assert "incorrect" in page.text
    assert "My Applications" not in page.text
