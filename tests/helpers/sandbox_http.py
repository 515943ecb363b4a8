"""HTTP helpers for the sandbox conformance tests, and step 4's consent page."""

import base64
import hashlib
import secrets
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
import requests

from wizard.sandbox.seed import DEMO_LOGIN_EMAIL
from wizard.sandbox.seed import DEMO_PASSWORD
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import create_application

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
TIMEOUT = 10


class FormParser(HTMLParser):
    """Collect each form's action, method, fields and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {"action": a.get("action", ""), "fields": {}, "buttons": {}}
            )
        elif tag == "input" and self.forms and a.get("name"):
            if a.get("type") in ("radio", "checkbox") and "checked" not in a:
                return
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1]["buttons"][a["value"]] = (a["name"], a["value"])


def submit(
    session: requests.Session,
    page: requests.Response,
    data: dict[str, str] | None = None,
    button: str | None = None,
    action_contains: str = "",
    follow: bool = True,
) -> requests.Response:
    """Fill in and submit a form on a page, like a browser would."""
    parser = FormParser()
    parser.feed(page.text)
    form = next(
        f
        for f in parser.forms
        if action_contains in f["action"]
        and (button is None or button in f["buttons"])
        and (action_contains or not f["action"].endswith("/logout"))
    )
    fields = {**form["fields"], **(data or {})}
    if button is not None:
        name, value = form["buttons"][button]
        fields[name] = value
    url = urljoin(page.url, form["action"])
    return session.post(url, data=fields, timeout=TIMEOUT, allow_redirects=follow)


def sign_in(
    session: requests.Session,
    page: requests.Response,
    email: str = DEMO_LOGIN_EMAIL,
    follow: bool = True,
) -> requests.Response:
    """Fill in the Constant Contact log-in form shown on a page."""
    assert "Log in to Constant Contact" in page.text
    data = {"email": email, "password": DEMO_PASSWORD}
    return submit(session, page, data, follow=follow)


def signed_in_get(session: requests.Session, url: str) -> requests.Response:
    """Open a page that needs sign-in, sign in, and stop at the next redirect.

    A request Constant Contact refuses is answered before anyone signs in (Okta
    checks the app and its Redirect URI first): that answer is returned as it is.
    """
    first = session.get(url, timeout=TIMEOUT, allow_redirects=False)
    location = urljoin(url, first.headers.get("Location", ""))
    if first.status_code != 302 or urlsplit(location).path != "/login":
        return first
    login_page = session.get(location, timeout=TIMEOUT)
    signed_in = sign_in(session, login_page, follow=False)
    assert signed_in.status_code == 302
    target = urljoin(signed_in.url, signed_in.headers["Location"])
    return session.get(target, timeout=TIMEOUT, allow_redirects=False)


def device_authorize(
    base_url: str, api_key: str, scope: str = "contact_data offline_access"
) -> requests.Response:
    """Start a device authorization."""
    return requests.post(
        f"{base_url}/oauth2/default/v1/device/authorize",
        data={"client_id": api_key, "scope": scope},
        timeout=TIMEOUT,
    )


def poll(base_url: str, api_key: str, device_code: str) -> requests.Response:
    """Poll the token endpoint once for a device code."""
    return requests.post(
        f"{base_url}/oauth2/default/v1/token",
        data={
            "grant_type": DEVICE_GRANT,
            "device_code": device_code,
            "client_id": api_key,
        },
        timeout=TIMEOUT,
    )


def refresh(
    base_url: str, api_key: str, refresh_token: str, auth: Any = None
) -> requests.Response:
    """Use a refresh token (client_id in the body unless auth is given)."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if auth is None:
        data["client_id"] = api_key
    return requests.post(
        f"{base_url}/oauth2/default/v1/token", data=data, auth=auth, timeout=TIMEOUT
    )


def device_tokens(
    base_url: str,
    scope: str = "account_read contact_data offline_access",
    email: str = DEMO_LOGIN_EMAIL,
    refresh_token_type: str = "long_lived",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create a Device Flow app, approve it via the control API; return (app, token)."""
    app = create_application(
        base_url, flow="device", refresh_token_type=refresh_token_type
    )
    started = device_authorize(base_url, app["api_key"], scope).json()
    approve_device(base_url, started["user_code"], email=email)
    response = poll(base_url, app["api_key"], started["device_code"])
    assert response.status_code == 200, response.text
    return app, response.json()


def api_get(base_url: str, path: str, access_token: str | None) -> requests.Response:
    """Call the v3 API with a bearer token."""
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return requests.get(f"{base_url}/v3{path}", headers=headers, timeout=TIMEOUT)


def pkce_pair() -> tuple[str, str]:
    """Return a code_verifier and its S256 code_challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sandbox_config(tmp_path_factory: pytest.TempPathFactory, **extra: object) -> dict:
    """Return test settings with a fresh SQLite file and the control API on."""
    path = tmp_path_factory.mktemp("cc-sandbox") / "sandbox.sqlite"
    return {
        "SECRET_KEY": "sandbox-tests",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "SANDBOX_TEST_CONTROL": True,
        **extra,
    }
