"""Refresh tokens (rotating and long-lived), idle expiry, lifetimes, revocation."""

import requests

from tests.helpers.sandbox_http import api_get
from tests.helpers.sandbox_http import device_tokens
from tests.helpers.sandbox_http import refresh
from wizard.sandbox.testing import advance_clock
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import get_stats

DAY = 86400


def revoke(base_url: str, api_key: str, token: str, hint: str | None = None, auth=None):
    """Revoke a token (client_id in the body unless auth is given)."""
    data = {"token": token}
    if hint:
        data["token_type_hint"] = hint
    if auth is None:
        data["client_id"] = api_key
    return requests.post(
        f"{base_url}/oauth2/default/v1/revoke", data=data, auth=auth, timeout=10
    )


def test_long_lived_returns_the_same_refresh_token(base_url: str) -> None:
    app, token = device_tokens(base_url, refresh_token_type="long_lived")
    first = refresh(base_url, app["api_key"], token["refresh_token"])
    assert first.status_code == 200, first.text
    assert first.json()["refresh_token"] == token["refresh_token"]
    assert first.json()["access_token"] != token["access_token"]
    second = refresh(base_url, app["api_key"], token["refresh_token"])
    assert second.json()["refresh_token"] == token["refresh_token"]
    assert get_stats(base_url)["refreshes"] == 2


def test_rotating_invalidates_every_earlier_refresh_token(base_url: str) -> None:
    app, token = device_tokens(base_url, refresh_token_type="rotating")
    first = refresh(base_url, app["api_key"], token["refresh_token"]).json()
    assert first["refresh_token"] != token["refresh_token"]
    reused = refresh(base_url, app["api_key"], token["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    second = refresh(base_url, app["api_key"], first["refresh_token"])
    assert second.status_code == 200
    assert refresh(base_url, app["api_key"], first["refresh_token"]).json()[
        "error"
    ] == ("invalid_grant")
    # Access tokens already issued keep working until they expire.
    assert api_get(base_url, "/contact_lists", first["access_token"]).status_code == 200


def test_refresh_needs_the_right_client(base_url: str) -> None:
    app, token = device_tokens(base_url)
    other = create_application(base_url, flow="device")
    stolen = refresh(base_url, other["api_key"], token["refresh_token"])
    assert stolen.json()["error"] == "invalid_grant"


def test_refresh_scope_cannot_grow(base_url: str) -> None:
    app, token = device_tokens(base_url, scope="contact_data offline_access")
    response = requests.post(
        f"{base_url}/oauth2/default/v1/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": app["api_key"],
            "scope": "contact_data account_read offline_access",
        },
        timeout=10,
    )
    assert response.json()["error"] == "invalid_scope"


def test_refresh_token_dies_after_180_idle_days(base_url: str) -> None:
    app, token = device_tokens(base_url)
    advance_clock(base_url, 179 * DAY)
    assert refresh(base_url, app["api_key"], token["refresh_token"]).status_code == 200
    # Using it restarted the idle clock.
    advance_clock(base_url, 179 * DAY)
    assert refresh(base_url, app["api_key"], token["refresh_token"]).status_code == 200
    advance_clock(base_url, 181 * DAY)
    dead = refresh(base_url, app["api_key"], token["refresh_token"])
    assert dead.json()["error"] == "invalid_grant"


def test_access_token_expires_after_24_hours(base_url: str) -> None:
    app, token = device_tokens(base_url)
    advance_clock(base_url, DAY - 60)
    assert api_get(base_url, "/contact_lists", token["access_token"]).status_code == 200
    advance_clock(base_url, 61)
    expired = api_get(base_url, "/contact_lists", token["access_token"])
    assert expired.status_code == 401
    renewed = refresh(base_url, app["api_key"], token["refresh_token"]).json()
    assert renewed["expires_in"] == DAY
    assert api_get(base_url, "/contact_lists", renewed["access_token"]).status_code == (
        200
    )


def test_revoking_refresh_token_kills_its_access_tokens(base_url: str) -> None:
    app, token = device_tokens(base_url)
    response = revoke(base_url, app["api_key"], token["refresh_token"], "refresh_token")
    assert response.status_code == 200
    assert api_get(base_url, "/contact_lists", token["access_token"]).status_code == (
        401
    )
    assert refresh(base_url, app["api_key"], token["refresh_token"]).json()[
        "error"
    ] == ("invalid_grant")
    assert get_stats(base_url)["revocations"] == 1


def test_revoking_access_token_leaves_refresh_token(base_url: str) -> None:
    app, token = device_tokens(base_url)
    assert revoke(base_url, app["api_key"], token["access_token"]).status_code == 200
    assert api_get(base_url, "/contact_lists", token["access_token"]).status_code == (
        401
    )
    assert refresh(base_url, app["api_key"], token["refresh_token"]).status_code == 200


def test_revoke_unknown_or_foreign_token_is_200_and_harmless(base_url: str) -> None:
    app, token = device_tokens(base_url)
    other = create_application(base_url, flow="device")
    assert revoke(base_url, app["api_key"], "no-such-token").status_code == 200
    assert revoke(base_url, other["api_key"], token["access_token"]).status_code == 200
    assert api_get(base_url, "/contact_lists", token["access_token"]).status_code == (
        200
    )


def test_revoke_needs_basic_auth_for_auth_code_apps(base_url: str) -> None:
    app = create_application(base_url, flow="authorization_code")
    assert revoke(base_url, app["api_key"], "whatever").status_code == 401
    basic = (app["api_key"], app["client_secret"])
    assert revoke(base_url, app["api_key"], "whatever", auth=basic).status_code == 200
