"""Authorization code grant with PKCE (S256 only), Basic auth, exact redirects."""

from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import requests

from tests.helpers.sandbox_http import pkce_pair
from tests.helpers.sandbox_http import signed_in_get
from tests.helpers.sandbox_http import submit
from wizard.sandbox.testing import advance_clock
from wizard.sandbox.testing import create_application

CALLBACK = "https://wizard.example/callback/constant-contact-auth"


def authorize_url(base_url: str, api_key: str, **params: str) -> str:
    """Build an authorize URL with sensible defaults."""
    query = {
        "client_id": api_key,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "account_read contact_data offline_access",
        "state": "state-123",
        **params,
    }
    return f"{base_url}/oauth2/default/v1/authorize?{urlencode(query)}"


def consent(url: str, decision: str = "allow") -> requests.Response:
    """Sign in, press Allow Access (or deny); return the redirect, unfollowed."""
    with requests.Session() as browser:
        page = signed_in_get(browser, url)
        assert "Allow Access" in page.text
        return submit(browser, page, button=decision, follow=False)


def callback_params(response: requests.Response) -> dict[str, str]:
    """Return the query of a redirect to the registered callback."""
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(base_url: str, code: str, auth: tuple | None = None, **extra: str):
    """POST the authorization code to the token endpoint."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        **extra,
    }
    return requests.post(
        f"{base_url}/oauth2/default/v1/token", data=data, auth=auth, timeout=10
    )


def pkce_app(base_url: str) -> dict:
    return create_application(base_url, flow="pkce", redirect_uris=[CALLBACK])


def code_app(base_url: str) -> dict:
    return create_application(
        base_url, flow="authorization_code", redirect_uris=[CALLBACK]
    )


def test_pkce_happy_path(base_url: str) -> None:
    app = pkce_app(base_url)
    verifier, challenge = pkce_pair()
    url = authorize_url(
        base_url, app["api_key"], code_challenge=challenge, code_challenge_method="S256"
    )
    params = callback_params(consent(url))
    assert params["state"] == "state-123"
    token = exchange(
        base_url, params["code"], client_id=app["api_key"], code_verifier=verifier
    )
    assert token.status_code == 200, token.text
    assert token.json()["refresh_token"]
    assert token.json()["expires_in"] == 86400


def test_pkce_wrong_verifier(base_url: str) -> None:
    app = pkce_app(base_url)
    _, challenge = pkce_pair()
    url = authorize_url(
        base_url, app["api_key"], code_challenge=challenge, code_challenge_method="S256"
    )
    code = callback_params(consent(url))["code"]
    other_verifier, _ = pkce_pair()
    token = exchange(
        base_url, code, client_id=app["api_key"], code_verifier=other_verifier
    )
    assert token.json()["error"] == "invalid_grant"


def test_authorization_code_with_basic_auth(base_url: str) -> None:
    app = code_app(base_url)
    verifier, challenge = pkce_pair()
    url = authorize_url(
        base_url, app["api_key"], code_challenge=challenge, code_challenge_method="S256"
    )
    code = callback_params(consent(url))["code"]
    token = exchange(
        base_url,
        code,
        auth=(app["api_key"], app["client_secret"]),
        code_verifier=verifier,
    )
    assert token.status_code == 200, token.text
    assert set(token.json()["scope"].split()) == {
        "account_read",
        "contact_data",
        "offline_access",
    }


def test_auth_code_app_requires_basic_auth(base_url: str) -> None:
    app = code_app(base_url)
    code = callback_params(consent(authorize_url(base_url, app["api_key"])))["code"]
    in_body = exchange(
        base_url, code, client_id=app["api_key"], client_secret=app["client_secret"]
    )
    assert in_body.status_code == 401
    assert in_body.json()["error"] == "invalid_client"
    no_secret = exchange(base_url, code, client_id=app["api_key"])
    assert no_secret.json()["error"] == "invalid_client"
    wrong = exchange(base_url, code, auth=(app["api_key"], "not-the-secret"))
    assert wrong.json()["error"] == "invalid_client"
    # The code survived the failed attempts.
    ok = exchange(base_url, code, auth=(app["api_key"], app["client_secret"]))
    assert ok.status_code == 200


def test_plain_challenge_refused(base_url: str) -> None:
    app = pkce_app(base_url)
    verifier, _ = pkce_pair()
    for method in ({"code_challenge_method": "plain"}, {}):
        url = authorize_url(base_url, app["api_key"], code_challenge=verifier, **method)
        with requests.Session() as browser:
            response = signed_in_get(browser, url)
        # The error goes back to the (validated) redirect URI; no consent shown.
        params = callback_params(response)
        assert params["error"] == "invalid_request"
        assert params["state"] == "state-123"


def test_pkce_app_needs_a_challenge(base_url: str) -> None:
    app = pkce_app(base_url)
    with requests.Session() as browser:
        response = signed_in_get(browser, authorize_url(base_url, app["api_key"]))
    assert callback_params(response)["error"] == "invalid_request"


def test_redirect_uri_mismatch_is_not_followed(base_url: str) -> None:
    app = code_app(base_url)
    url = authorize_url(base_url, app["api_key"], redirect_uri=CALLBACK + "/other")
    with requests.Session() as browser:
        page = signed_in_get(browser, url)
    assert page.status_code == 400
    assert "not supported by client" in page.text
    assert "Location" not in page.headers


def test_redirect_uri_must_match_at_token_endpoint(base_url: str) -> None:
    other = "https://wizard.example/other"
    app = create_application(
        base_url, flow="authorization_code", redirect_uris=[CALLBACK, other]
    )
    code = callback_params(consent(authorize_url(base_url, app["api_key"])))["code"]
    token = exchange(
        base_url, code, auth=(app["api_key"], app["client_secret"]), redirect_uri=other
    )
    assert token.json()["error"] == "invalid_grant"


def test_code_is_single_use(base_url: str) -> None:
    app = code_app(base_url)
    code = callback_params(consent(authorize_url(base_url, app["api_key"])))["code"]
    auth = (app["api_key"], app["client_secret"])
    assert exchange(base_url, code, auth=auth).status_code == 200
    again = exchange(base_url, code, auth=auth)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_code_expires_after_300_seconds(base_url: str) -> None:
    app = code_app(base_url)
    code = callback_params(consent(authorize_url(base_url, app["api_key"])))["code"]
    advance_clock(base_url, 301)
    late = exchange(base_url, code, auth=(app["api_key"], app["client_secret"]))
    assert late.json()["error"] == "invalid_grant"


def test_deny_redirects_with_access_denied(base_url: str) -> None:
    app = code_app(base_url)
    params = callback_params(consent(authorize_url(base_url, app["api_key"]), "deny"))
    assert params["error"] == "access_denied"
    assert params["state"] == "state-123"
    assert "code" not in params


def test_device_app_cannot_use_authorize(base_url: str) -> None:
    app = create_application(base_url, flow="device", redirect_uris=[CALLBACK])
    with requests.Session() as browser:
        response = signed_in_get(browser, authorize_url(base_url, app["api_key"]))
    assert callback_params(response)["error"] == "unauthorized_client"


def test_unknown_client_on_authorize(base_url: str) -> None:
    url = authorize_url(base_url, "0b6c9d52-0000-4000-8000-000000000000")
    with requests.Session() as browser:
        page = signed_in_get(browser, url)
    assert page.status_code == 400
    assert "does not exist" in page.text


def test_unknown_scope_on_authorize(base_url: str) -> None:
    app = code_app(base_url)
    url = authorize_url(base_url, app["api_key"], scope="contact_data bogus")
    with requests.Session() as browser:
        response = signed_in_get(browser, url)
    assert callback_params(response)["error"] == "invalid_scope"
