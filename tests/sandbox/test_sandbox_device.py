"""Device Authorization Grant (RFC 8628) as Constant Contact's Okta runs it."""

import re

import requests

from tests.helpers.sandbox_http import device_authorize
from tests.helpers.sandbox_http import poll
from tests.helpers.sandbox_http import sign_in
from tests.helpers.sandbox_http import submit
from wizard.sandbox.testing import advance_clock
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import deny_device
from wizard.sandbox.testing import get_stats


def test_device_authorize_response_matches_okta(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    response = device_authorize(base_url, app["api_key"])
    assert response.status_code == 200
    body = response.json()
    assert re.fullmatch(r"[A-Z]{8}", body["user_code"])
    assert body["verification_uri"] == f"{base_url}/activate"
    assert body["verification_uri_complete"] == (
        f"{base_url}/activate?user_code={body['user_code']}"
    )
    assert body["expires_in"] == 600
    assert body["interval"] == 5
    assert body["device_code"]
    assert "no-store" in response.headers["Cache-Control"]


def test_happy_path_through_the_activation_pages(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    started = device_authorize(base_url, app["api_key"]).json()
    pending = poll(base_url, app["api_key"], started["device_code"])
    assert pending.status_code == 400
    assert pending.json()["error"] == "authorization_pending"

    with requests.Session() as browser:
        page = browser.get(started["verification_uri_complete"], timeout=10)
        assert "Activate your device" in page.text
        assert "Follow the instructions on your device to get an activation code" in (
            page.text
        )
        code = started["user_code"]
        assert f'value="{code[:4]}-{code[4:]}"' in page.text
        page = submit(browser, page)  # Next, with the pre-filled code
        page = sign_in(browser, page)
        assert "Allow Access" in page.text
        page = submit(browser, page, button="allow")
        assert "Device activated" in page.text
        assert "Follow the instructions on your device for next steps" in page.text
        assert browser.cookies.get("cc_sandbox_session")

    # A new poll after the interval (the clock knob stands in for waiting).
    advance_clock(base_url, 5)
    issued = poll(base_url, app["api_key"], started["device_code"])
    assert issued.status_code == 200
    token = issued.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 86400
    assert token["access_token"].count(".") == 2  # JWT-shaped, like Okta's
    assert token["refresh_token"]
    assert set(token["scope"].split()) == {"contact_data", "offline_access"}


def test_activation_code_accepts_hyphen_case_and_spaces(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    code = device_authorize(base_url, app["api_key"]).json()["user_code"]
    typed = f"  {code[:4].lower()}-{code[4:].lower()} "
    with requests.Session() as browser:
        page = browser.get(f"{base_url}/activate", timeout=10)
        page = submit(browser, page, {"user_code": typed})
        assert "Log in to Constant Contact" in page.text


def test_bad_code_on_activation_page(base_url: str) -> None:
    with requests.Session() as browser:
        page = browser.get(f"{base_url}/activate", timeout=10)
        page = submit(browser, page, {"user_code": "BBBB-CCCC"})
    assert "Invalid code. Try again." in page.text


def test_denied_through_the_pages(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    started = device_authorize(base_url, app["api_key"]).json()
    with requests.Session() as browser:
        page = browser.get(started["verification_uri_complete"], timeout=10)
        page = sign_in(browser, submit(browser, page))
        page = submit(browser, page, button="deny")
    assert "Device not activated" in page.text
    assert "Your device cannot be activated because you did not allow access" in (
        page.text
    )
    assert 'href="/activate"' in page.text and "Try again" in page.text
    denied = poll(base_url, app["api_key"], started["device_code"])
    assert denied.status_code == 400
    assert denied.json()["error"] == "access_denied"


def test_denied_via_control_api(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    started = device_authorize(base_url, app["api_key"]).json()
    assert deny_device(base_url, started["user_code"])["status"] == "denied"
    assert poll(base_url, app["api_key"], started["device_code"]).json() == {
        "error": "access_denied",
        "error_description": "The resource owner or authorization server denied "
        "the request.",
    }


def test_slow_down_adds_five_seconds_for_good(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    started = device_authorize(base_url, app["api_key"]).json()
    device_code = started["device_code"]
    assert poll(base_url, app["api_key"], device_code).json()["error"] == (
        "authorization_pending"
    )
    assert poll(base_url, app["api_key"], device_code).json()["error"] == "slow_down"
    # 6 s would satisfy the original 5 s interval, but not the new 10 s one.
    advance_clock(base_url, 6)
    assert poll(base_url, app["api_key"], device_code).json()["error"] == "slow_down"
    # Now the interval is 15 s.
    advance_clock(base_url, 16)
    assert poll(base_url, app["api_key"], device_code).json()["error"] == (
        "authorization_pending"
    )
    stats = get_stats(base_url)
    assert stats["slow_downs"] == 2
    assert stats["device_polls"] == 4
    assert stats["device_polls_by_user_code"] == {started["user_code"]: 4}
    assert stats["token_requests"]["by_client_id"][app["api_key"]] == 4


def test_expired_device_code(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    started = device_authorize(base_url, app["api_key"]).json()
    advance_clock(base_url, 601)
    expired = poll(base_url, app["api_key"], started["device_code"])
    assert expired.status_code == 400
    assert expired.json()["error"] == "expired_token"
    late = requests.post(
        f"{base_url}/__sandbox__/device/approve",
        json={"user_code": started["user_code"]},
        timeout=10,
    )
    assert late.status_code == 404


def test_device_code_is_single_use(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    started = device_authorize(base_url, app["api_key"]).json()
    approve_device(base_url, started["user_code"])
    assert poll(base_url, app["api_key"], started["device_code"]).status_code == 200
    advance_clock(base_url, 10)
    replay = poll(base_url, app["api_key"], started["device_code"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


def test_unknown_device_code(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    response = poll(base_url, app["api_key"], "not-a-device-code")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_device_code_of_another_app(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    other = create_application(base_url, flow="device")
    device_code = device_authorize(base_url, app["api_key"]).json()["device_code"]
    response = poll(base_url, other["api_key"], device_code)
    assert response.json()["error"] == "unauthorized_client"


def test_auth_code_app_cannot_start_device_flow(base_url: str) -> None:
    # Okta: a confidential app must authenticate even here; without its secret it
    # is invalid_client, with it the grant is refused as unauthorized_client.
    app = create_application(base_url, flow="authorization_code")
    response = device_authorize(base_url, app["api_key"])
    assert response.json()["error"] == "invalid_client"
    assert response.status_code in (400, 401)
    authenticated = requests.post(
        f"{base_url}/oauth2/default/v1/device/authorize",
        data={"client_id": app["api_key"], "scope": "contact_data offline_access"},
        auth=(app["api_key"], app["client_secret"]),
        timeout=10,
    )
    assert authenticated.status_code == 400
    assert authenticated.json()["error"] == "unauthorized_client"
    wrong = requests.post(
        f"{base_url}/oauth2/default/v1/device/authorize",
        data={"client_id": app["api_key"], "scope": "contact_data offline_access"},
        auth=(app["api_key"], "not-the-secret"),
        timeout=10,
    )
    assert wrong.json()["error"] == "invalid_client"


def test_pkce_app_cannot_start_device_flow(base_url: str) -> None:
    app = create_application(base_url, flow="pkce", redirect_uris=["https://x.test/cb"])
    response = device_authorize(base_url, app["api_key"])
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_device_app_cannot_use_authorization_code_grant(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    response = requests.post(
        f"{base_url}/oauth2/default/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": "x",
            "redirect_uri": "https://example.com/cb",
            "client_id": app["api_key"],
        },
        timeout=10,
    )
    assert response.json()["error"] == "unauthorized_client"


def test_unknown_client(base_url: str) -> None:
    response = device_authorize(base_url, "0b6c9d52-0000-4000-8000-000000000000")
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"


def test_unknown_or_missing_scope(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    unknown = device_authorize(base_url, app["api_key"], "contact_data billing_data")
    assert unknown.json()["error"] == "invalid_scope"
    missing = device_authorize(base_url, app["api_key"], "")
    assert missing.json()["error"] == "invalid_scope"


def test_no_refresh_token_without_offline_access(base_url: str) -> None:
    app = create_application(base_url, flow="device")
    started = device_authorize(base_url, app["api_key"], "contact_data").json()
    approve_device(base_url, started["user_code"])
    token = poll(base_url, app["api_key"], started["device_code"]).json()
    assert token["access_token"]
    assert "refresh_token" not in token
