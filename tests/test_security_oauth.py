"""Issue 7: OAuth attacks, access control, HTTP hardening and abuse limits.

Each test names the checklist cases it proves (docs/security/oauth-access.md).
"""

import re
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import quote
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
import redis
import requests
from flask import Flask
from flask.testing import FlaskClient
from limits import parse_many
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from tests.helpers.app import AppWith
from tests.helpers.attempts import age
from tests.helpers.attempts import allowed_at_sandbox
from tests.helpers.attempts import allowed_on_device
from tests.helpers.attempts import attempt_of
from tests.helpers.attempts import callback
from tests.helpers.attempts import start_attempt
from tests.helpers.attempts import started
from tests.helpers.attempts import state_sent
from tests.helpers.attempts import tamper
from tests.helpers.connections import connect
from tests.helpers.connections import expire
from tests.helpers.integrations import REDIRECT_URI
from tests.helpers.integrations import code_flow_integration
from tests.helpers.integrations import load
from tests.helpers.integrations import make_integration
from tests.helpers.live import csrf_token
from tests.helpers.sandbox import approve_in_sandbox
from tests.helpers.sandbox import device_app
from tests.helpers.users import PASSWORD
from tests.helpers.users import make_user
from tests.helpers.users import sign_in
from tests.helpers.users import signed_in_client
from wizard.constant_contact import answers as cc_answers
from wizard.constant_contact import http
from wizard.constant_contact.client import client_for
from wizard.constant_contact.client import new_pkce_pair
from wizard.constant_contact.provider import Provider
from wizard.domain import tokens
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.models import User
from wizard.models import people
from wizard.platform import i18n
from wizard.platform.extensions import db
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import get_stats
from wizard.web.auth import views as auth
from wizard.web.auth.views import SIGN_IN_FAILED

pytestmark = pytest.mark.sandboxed

HTTPS = {"base_url": "https://wizard.test"}
SPANISH = {"Accept-Language": "es"}


def session_cookie(response: Any) -> str:
    """Return the Set-Cookie line of the session cookie."""
    lines = [
        line
        for line in response.headers.getlist("Set-Cookie")
        if "wizard_session=" in line
    ]
    assert len(lines) == 1, response.headers.getlist("Set-Cookie")
    return lines[0]


# --- HTTP hardening ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/sign-in", "/healthz", "/no-such-page", "/static/style.css"]
)
def test_every_response_forbids_framing_sniffing_and_other_hosts(
    client: FlaskClient, path: str
) -> None:
    """OA-14, SE-10: CSP frame-ancestors 'none', only this origin, no inline code."""
    response = client.get(path, **HTTPS)
    response.close()  # static files are streamed from an open file
    csp = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    # No other host, no inline code, no eval, anywhere in the policy.
    for sources in csp.values():
        for source in sources.split():
            assert source in ("'self'", "'none'", "data:"), source
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains"
    )


def test_pages_carry_no_inline_script_or_style(signed_in: FlaskClient) -> None:
    """SE-10: nothing a strict CSP would block is on the pages."""
    for path in ("/sign-in", "/integrations", "/integrations/new", "/activity"):
        page = signed_in.get(path, follow_redirects=True).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert "<style" not in page and " style=" not in page, path
        assert not re.search(r"\son[a-z]+=", page), path  # onclick= and friends
        # Nothing loaded from elsewhere (links to Constant Contact are navigation).
        loaded = r"<(script|link|img|iframe|source)\b[^>]*\b(src|href)=\"(https?:)?//"
        assert not re.search(loaded, page), path


def test_plain_http_keeps_the_plain_cookie_and_no_hsts(
    app_with: AppWith, customer: int
) -> None:
    """AC-08: __Host- needs HTTPS, so over plain http the cookie keeps its name."""
    app = app_with(PUBLIC_BASE_URL="http://127.0.0.1:5000")
    client = app.test_client()
    response = sign_in(client, "owner@bloom.test")
    cookie = session_cookie(response)
    assert cookie.startswith("wizard_session=")
    assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers


def test_https_session_cookie_is_host_only_secure_lax(
    app_with: AppWith, customer: int
) -> None:
    """AC-08: __Host- prefix, Secure, HttpOnly, Path=/, no Domain, SameSite=Lax."""
    app = app_with(SESSION_COOKIE_DOMAIN="wizard.test")
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-wizard_session"
    response = sign_in(app.test_client(), "owner@bloom.test")
    cookie = session_cookie(response)
    attributes = [part.strip() for part in cookie.split(";")]
    assert attributes[0].startswith("__Host-wizard_session=")
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=Lax"} <= set(attributes)
    # Browsers drop a __Host- cookie that names a Domain: the setting is overridden.
    assert not any(part.lower().startswith("domain=") for part in attributes)
    assert "SameSite=Strict" not in cookie  # Strict would lose the OAuth callback


def test_the_referrer_policy_keeps_https_csrf_working(
    app_with: AppWith, customer: int
) -> None:
    """SE-11: what the policy sends passes Flask-WTF; what no-referrer sends fails."""
    app = app_with(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/sign-in", **HTTPS)
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    data = {
        "email": "owner@bloom.test",
        "password": PASSWORD,
        "csrf_token": csrf_token(page.text),
    }
    # What a site-wide no-referrer would make browsers send: refused.
    missing = client.post("/sign-in", data=data, **HTTPS)
    assert missing.status_code == 400 and "This page timed out" in missing.text
    foreign = client.post(
        "/sign-in", data=data, headers={"Referer": "https://evil.test/"}, **HTTPS
    )
    assert foreign.status_code == 400
    # Same origin under this policy: the full address. Accepted.
    response = client.post(
        "/sign-in",
        data=data,
        headers={"Referer": "https://wizard.test/sign-in?next=/integrations"},
        **HTTPS,
    )
    assert response.status_code == 302, response.text


def test_session_fixation_a_planted_cookie_is_replaced_at_sign_in(
    app_with: AppWith, customer: int
) -> None:
    """AC-05: pre-sign-in session data is dropped, the planted CSRF secret with it."""
    app = app_with(WTF_CSRF_ENABLED=True)
    name = app.config["SESSION_COOKIE_NAME"]
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    planted = serializer.dumps(
        {"planted": "by an attacker", "attempt": 7, "csrf_token": "f" * 40}
    )
    # The attacker opens a page with the cookie they plant, so knows its form token.
    attacker = app.test_client()
    attacker.set_cookie(name, planted)
    attackers_token = csrf_token(attacker.get("/sign-in").text)
    victim = app.test_client()
    victim.set_cookie(name, planted)
    response = victim.post(
        "/sign-in",
        data={
            "email": "owner@bloom.test",
            "password": PASSWORD,
            "csrf_token": csrf_token(victim.get("/sign-in").text),
        },
    )
    assert response.status_code == 302
    after = victim.get_cookie(name)
    assert after is not None and after.value != planted
    contents = serializer.loads(after.value)
    assert "planted" not in contents and "attempt" not in contents
    assert contents.get("csrf_token") != "f" * 40
    # The attacker's token does not work for the signed-in victim: a forged sign-out
    # (any post) is refused, and the victim is still signed in.
    forged = victim.post("/sign-out", data={"csrf_token": attackers_token})
    assert forged.status_code == 400 and "This page timed out" in forged.text
    assert victim.get("/integrations").status_code == 200


def test_sign_out_kills_every_copy_even_after_signing_in_again(
    app: Flask, signed_in: FlaskClient
) -> None:
    """AC-06: the server refuses a replayed cookie (users.session_version)."""
    name = app.config["SESSION_COOKIE_NAME"]
    stolen = signed_in.get_cookie(name)
    assert stolen is not None
    signed_in.post("/sign-out")
    sign_in(signed_in, "owner@bloom.test")
    assert signed_in.get("/integrations").status_code == 200
    thief = app.test_client()
    thief.set_cookie(name, stolen.value)
    assert thief.get("/integrations").headers["Location"].startswith("/sign-in")
    assert thief.get("/activity").headers["Location"].startswith("/sign-in")


def test_idle_and_old_sessions_end_and_the_draft_survives(
    app: Flask, signed_in: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AC-07: 60 idle minutes or 12 hours after sign-in end the session."""
    assert app.config["SESSION_IDLE_MINUTES"] == 60
    assert app.config["SESSION_MAX_HOURS"] == 12
    response = signed_in.post("/integrations/new", data={"token": "t1"})
    draft = response.headers["Location"]
    clock = {"now": auth._now()}
    monkeypatch.setattr(auth, "_now", lambda: clock["now"])
    # Used every 59 minutes: still signed in, for up to 12 hours.
    for _ in range(12):
        clock["now"] += 59 * 60
        assert signed_in.get("/integrations").status_code == 200
    clock["now"] += 59 * 60  # 12 h 48 min after signing in
    response = signed_in.get(draft)
    assert response.headers["Location"].startswith("/sign-in?next=")
    # The cookie no longer signs anyone in, even back within the idle limit.
    assert signed_in.get("/integrations").status_code == 302
    sign_in(signed_in, "owner@bloom.test")
    clock["now"] += 61 * 60  # idle just over an hour
    response = signed_in.get("/integrations")
    assert response.headers["Location"].startswith("/sign-in?next=")
    page = signed_in.get(response.headers["Location"]).text
    assert "Sign in to continue." in page
    # Signing in again finds the draft where it was left.
    sign_in(signed_in, "owner@bloom.test")
    again = signed_in.get(draft, follow_redirects=True)
    assert again.status_code == 200 and again.request.path == draft


# --- Abuse limits ------------------------------------------------------------------


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


REDIS_URL = "redis://127.0.0.1:6379/0"
OWNER = "owner@bloom.test"
ATTACKER = "203.0.113.66"


@pytest.fixture(params=["memory", "redis"])
def limit_storage(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Where the limits count: in the worker's memory, or in Redis as in production."""
    if request.param == "memory":
        yield {"RATELIMIT_STORAGE_URI": "memory://"}
        return
    # Other tests may share this Redis: a prefix of our own, removed afterwards.
    prefix = f"wizard-test-{uuid4().hex}"
    yield {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    connection = redis.Redis.from_url(REDIS_URL)
    keys = list(connection.scan_iter(match=f"*{prefix}*"))
    assert keys, "nothing was counted in Redis"
    connection.delete(*keys)
    connection.close()


def try_password(app: Flask, address: str, password: str, email: str = OWNER) -> Any:
    """Sign in from this address, in a browser of its own (a success signs it in)."""
    return app.test_client().post(
        "/sign-in",
        data={"email": email, "password": password},
        **from_address(address),
    )


def test_someone_elses_failures_never_keep_the_owner_out(
    app_with: AppWith, customer: int, limit_storage: dict[str, str]
) -> None:
    """AC-13: an address guessing one email is held; the owner elsewhere signs in."""
    app = app_with(**limit_storage, SIGN_IN_RATE_LIMIT="100 per minute")
    assert app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"] == "10 per 10 minutes"
    answers = [try_password(app, ATTACKER, "guess").status_code for _ in range(10)]
    assert answers == [200] * 10
    # The attacker's next try is held, even with the right password: it is not checked.
    held = try_password(app, ATTACKER, PASSWORD)
    assert held.status_code == 429 and "Too many attempts" in held.text
    assert 60 < int(held.headers["Retry-After"]) <= 600
    # The owner, at another address, is not held by someone else's failures.
    owner = try_password(app, "198.51.100.7", PASSWORD)
    assert owner.status_code == 302 and owner.headers["Location"] == "/"
    # Nor is the owner's next sign-in, or their own typo then the right password.
    assert try_password(app, "198.51.100.7", "typo").status_code == 200
    assert try_password(app, "198.51.100.7", PASSWORD).status_code == 302


def test_the_account_ceiling_brakes_guessing_from_many_addresses(
    app_with: AppWith, customer: int, other_customer: int, limit_storage: dict[str, str]
) -> None:
    """AC-13: past the ceiling an address that failed waits; a fresh one gets a try."""
    app = app_with(
        **limit_storage,
        SIGN_IN_RATE_LIMIT="100 per minute",
        SIGN_IN_ACCOUNT_RATE_LIMIT="3 per hour",
        SIGN_IN_ACCOUNT_CEILING="5 per hour",
    )
    # The first address is held by its own limit (3) ...
    first = [try_password(app, "10.0.0.1", "guess").status_code for _ in range(4)]
    assert first == [200, 200, 200, 429]
    # ... and two failures from a second address reach the ceiling (5 in all).
    second = [try_password(app, "10.0.0.2", "guess").status_code for _ in range(2)]
    assert second == [200, 200]
    # Past the ceiling, an address that has failed for this email waits, before its
    # own limit and even with the right password (checking it would tell a guesser).
    held = try_password(app, "10.0.0.2", PASSWORD)
    assert held.status_code == 429 and "Too many attempts" in held.text
    assert 0 < int(held.headers["Retry-After"]) <= 3600
    # Typed differently it is the same email.
    assert (
        try_password(app, "10.0.0.2", PASSWORD, " OWNER@Bloom.test").status_code == 429
    )
    # A fresh address gets one try: a wrong one holds it too ...
    third = [try_password(app, "10.0.0.3", "guess").status_code for _ in range(2)]
    assert third == [200, 429]
    # ... and the right one signs in: the owner is never held by others' failures.
    owner = try_password(app, "192.0.2.50", PASSWORD)
    assert owner.status_code == 302 and owner.headers["Location"] == "/"
    # An IPv6 client counts by its /64: a neighbouring address is the same client.
    assert try_password(app, "2001:db8:1:2::1", "guess").status_code == 200
    assert try_password(app, "2001:db8:1:2::ff", PASSWORD).status_code == 429
    assert try_password(app, "2001:db8:1:3::1", PASSWORD).status_code == 302
    # Another account, from the held addresses, is not affected.
    rival = try_password(app, "10.0.0.1", PASSWORD, "owner@rival.test")
    assert rival.status_code == 302


def test_successful_sign_ins_do_not_use_up_the_account_limit(
    app_with: AppWith, customer: int
) -> None:
    """AC-13: the account limit counts failures only: the owner is never locked out."""
    app = app_with(
        SIGN_IN_RATE_LIMIT="100 per minute",
        SIGN_IN_ACCOUNT_RATE_LIMIT="2/hour",
        SIGN_IN_ACCOUNT_CEILING="2/hour",
    )
    for _ in range(4):
        client = app.test_client()
        assert sign_in(client, "owner@bloom.test").status_code == 302


def hashes_checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every stored hash a password is checked against, known user or not."""
    checked: list[str] = []

    def counting(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return check_password_hash(pwhash, password)

    monkeypatch.setattr(auth, "check_password_hash", counting)
    monkeypatch.setattr(people, "check_password_hash", counting)
    return checked


def test_sign_in_is_limited_per_address_whatever_the_account(
    app_with: AppWith, customer: int, monkeypatch: Any
) -> None:
    """AC-13, AC-14: one address trying many accounts is held; others are not."""
    app = app_with(SIGN_IN_RATE_LIMIT="3 per hour")
    checked = hashes_checked(monkeypatch)
    client = app.test_client()
    for number in range(3):
        data = {"email": f"person{number}@x.test", "password": "guess"}
        answer = client.post("/sign-in", data=data)
        assert answer.status_code == 200 and SIGN_IN_FAILED in answer.text
    # Unknown emails still cost a real check, against the dummy hash: no shortcut.
    assert checked == [auth._DUMMY_HASH] * 3
    held = client.post("/sign-in", data={"email": "owner@bloom.test", "password": "x"})
    assert held.status_code == 429 and "Too many attempts" in held.text
    assert len(checked) == 3  # held before any password is checked
    elsewhere = client.post(
        "/sign-in",
        data={"email": "owner@bloom.test", "password": PASSWORD},
        **from_address("192.0.2.50"),
    )
    assert elsewhere.status_code == 302 and elsewhere.headers["Location"] == "/"
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(email="owner@bloom.test"))
        assert checked[3:] == [owner.password_hash]


def test_the_limited_page_says_when_to_retry_in_the_readers_language(
    app_with: AppWith,
) -> None:
    """Abuse limits: a plain page in Spanish, with Retry-After."""
    app = app_with(SIGN_IN_RATE_LIMIT="1 per hour")
    client = app.test_client()
    client.post("/sign-in", data={"email": "a@x.test", "password": "x"})
    english = client.post("/sign-in", data={"email": "a@x.test", "password": "x"})
    assert english.status_code == 429
    seconds = int(english.headers["Retry-After"])
    assert 60 < seconds <= 3600
    minutes = -(-seconds // 60)
    assert f"Wait {minutes} minutes, then try again." in english.text
    spanish = client.post(
        "/sign-in", data={"email": "a@x.test", "password": "x"}, headers=SPANISH
    )
    assert spanish.status_code == 429 and 'lang="es"' in spanish.text
    assert "Demasiados intentos" in spanish.text
    assert re.search(r"Espere \d+ minutos", spanish.text), spanish.text
    assert "Traceback" not in spanish.text


def test_proxy_appended_address_is_the_one_limited(app_with: AppWith) -> None:
    """AC-15, LD-04: a spoofed X-Forwarded-For does not escape the address limit."""
    app = app_with(SIGN_IN_RATE_LIMIT="2 per hour", PROXY_COUNT=1)
    client = app.test_client()
    answers = []
    for number in range(4):
        # The client made up the first value; the proxy appended the real one.
        forwarded = {"X-Forwarded-For": f"198.51.100.{number}, 203.0.113.7"}
        answers.append(
            client.post(
                "/sign-in",
                data={"email": f"p{number}@x.test", "password": "x"},
                headers=forwarded,
            ).status_code
        )
    assert answers == [200, 200, 429, 429]
    other = client.post(
        "/sign-in",
        data={"email": "p@x.test", "password": "x"},
        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.8"},
    )
    assert other.status_code == 200
    # Without a proxy configured, the header is not believed at all.
    direct = app_with(SIGN_IN_RATE_LIMIT="1 per hour").test_client()
    direct.post("/sign-in", data={"email": "p@x.test", "password": "x"})
    spoofed = direct.post(
        "/sign-in",
        data={"email": "p@x.test", "password": "x"},
        headers={"X-Forwarded-For": "198.51.100.99"},
    )
    assert spoofed.status_code == 429


def test_authorization_starts_are_limited_per_integration(
    app_with: AppWith, customer: int, other_customer: int, cc: str
) -> None:
    """Abuse limits: each start asks Constant Contact for a code; a few are allowed."""
    app = app_with(AUTHORIZE_START_RATE_LIMIT="2 per hour")
    client = app.test_client()
    api_key = device_app(cc)
    integration_id = make_integration(app, api_key)
    # Another organization's posts are 404s, counted apart from Bloom's starts (a
    # stranger is held like anyone, whether or not the integration exists).
    sign_in(client, "owner@rival.test")
    assert [start_attempt(client, integration_id).status_code for _ in range(3)] == [
        404,
        404,
        429,
    ]
    assert [start_attempt(client, 99_999).status_code for _ in range(3)] == [
        404,
        404,
        429,
    ]
    client.post("/sign-out")
    sign_in(client, "owner@bloom.test")
    assert start_attempt(client, integration_id).status_code == 302
    assert start_attempt(client, integration_id).status_code == 302
    held = start_attempt(client, integration_id)
    assert held.status_code == 429 and "Too many attempts" in held.text
    assert int(held.headers["Retry-After"]) > 60
    assert get_stats(cc)["device_authorizations"] == 2
    # The attempt under way is untouched, and another integration still starts.
    assert attempt_of(app, integration_id).outcome is None
    assert start_attempt(client, make_integration(app, api_key)).status_code == 302


def test_status_checks_are_limited_per_person_with_json(
    app_with: AppWith, customer: int, device_integration: int
) -> None:
    """Abuse limits: generous per person; over it, JSON that says when to retry."""
    app = app_with(STATUS_POLL_RATE_LIMIT="4 per minute")
    client = signed_in_client(app)
    attempt = started(client, app, device_integration)
    path = f"/integrations/{device_integration}/authorize/{attempt.id}/status"
    # Two tabs, two checks each: all answered.
    for _ in range(4):
        assert client.get(path).json["state"] == "waiting"
    limited = client.get(path, headers=SPANISH)
    assert limited.status_code == 429
    assert limited.mimetype == "application/json"
    body = limited.json
    assert body["state"] == "limited"
    assert 0 < body["retry_after"] <= 60
    assert limited.headers["Retry-After"] == str(body["retry_after"])
    assert body["note"] == "Espere un minuto e inténtelo otra vez."
    # The page itself (no JavaScript) still opens.
    page = client.get(f"/integrations/{device_integration}/authorize/{attempt.id}")
    assert page.status_code == 200


def test_the_default_poll_limit_allows_several_tabs(app: Flask) -> None:
    """Abuse limits: 2-second checks from four tabs fit the default."""
    limits = parse_many(app.config["STATUS_POLL_RATE_LIMIT"])
    per_minute = min(item.amount * 60 / item.get_expiry() for item in limits)
    assert per_minute >= 4 * 60 / 2


# --- OAuth client ------------------------------------------------------------------


def test_state_verifier_and_codes_are_unguessable() -> None:
    """OA-04: 10,000 states and verifiers: unique, of the documented length, in
    characters that need no escaping in a URL (about 256 and 381 bits)."""
    url_safe = set(string.ascii_letters + string.digits)
    states, verifiers = set(), set()
    for _ in range(10_000):
        state, verifier = new_pkce_pair()
        states.add(state)
        verifiers.add(verifier)
        assert len(state) == 43 and set(state) <= url_safe, state
        assert len(verifier) == 64 and set(verifier) <= url_safe, verifier
    assert len(states) == len(verifiers) == 10_000
    # All 62 symbols turn up: not hex, not a UUID, not a narrower alphabet.
    assert set().union(*states) == url_safe


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
        {"X-Forwarded-Host": "evil.example:8443", "X-Forwarded-Prefix": "/x"},
    ],
)
def test_redirect_uri_comes_from_settings_never_from_headers(
    app_with: AppWith, customer: int, cc: str, headers: dict[str, str]
) -> None:
    """OA-05, OA-07: the authorize URL and the token request use the setting."""
    app = app_with(PROXY_COUNT=1)
    client = signed_in_client(app)
    integration_id = code_flow_integration(app, cc)
    attempt = started(client, app, integration_id)
    if "Host" in headers:
        # The browser of someone tricked onto a forged host sends its cookie there.
        name = app.config["SESSION_COOKIE_NAME"]
        cookie = client.get_cookie(name)
        assert cookie is not None
        client.set_cookie(name, cookie.value, domain=headers["Host"])
    opened = client.get(
        f"/integrations/{integration_id}/authorize/{attempt.id}/open", headers=headers
    )
    location = opened.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert "evil" not in location and "code_verifier" not in location
    redirect = approve_in_sandbox(location)
    parts = urlsplit(redirect)
    # The sandbox refuses a token request whose redirect_uri differs from the
    # authorize request's, so a connection proves the token request used it too.
    done = client.get(
        f"{parts.path}?{parts.query}", headers=headers, follow_redirects=True
    )
    assert "Access allowed" in done.text
    assert load(app, integration_id).status == "active"


def test_the_callback_page_keeps_code_and_state_out_of_referers(
    app_with: AppWith, customer: int, cc: str
) -> None:
    """OA-09, SE-11: strict-origin on the callback; its sign-out still passes CSRF."""
    app = app_with(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/sign-in", **HTTPS).text
    client.post(
        "/sign-in",
        data={
            "email": "owner@bloom.test",
            "password": PASSWORD,
            "csrf_token": csrf_token(page),
        },
        headers={"Referer": "https://wizard.test/sign-in"},
        **HTTPS,
    )
    integration_id = code_flow_integration(app, cc)
    before = client.get(f"/integrations/{integration_id}/authorize", **HTTPS).text
    client.post(
        f"/integrations/{integration_id}/authorize",
        data={"csrf_token": csrf_token(before)},
        headers={"Referer": f"https://wizard.test/integrations/{integration_id}"},
        **HTTPS,
    )
    attempt = attempt_of(app, integration_id)
    location = client.get(
        f"/integrations/{integration_id}/authorize/{attempt.id}/open", **HTTPS
    ).headers["Location"]
    redirect = approve_in_sandbox(location)
    parts = urlsplit(redirect)
    done = client.get(f"{parts.path}?{parts.query}", follow_redirects=True, **HTTPS)
    assert "Access allowed" in done.text
    assert done.headers["Referrer-Policy"] == "strict-origin"
    assert done.headers["Cache-Control"] == "no-store"
    assert not re.search(r"(src|href)=\"(https?:)?//", done.text)
    # Under strict-origin the browser sends only the origin with the sign-out post.
    out = client.post(
        "/sign-out",
        data={"csrf_token": csrf_token(done.text)},
        headers={"Referer": "https://wizard.test/"},
        **HTTPS,
    )
    assert out.status_code == 302 and out.headers["Location"] == "/sign-in"


CALLBACK = "/callback/constant-contact-auth"
SIGN_IN_THEN_CALLBACK = "/sign-in?next=%2Fcallback%2Fconstant-contact-auth"


def walk(client: FlaskClient, path: str) -> list[Any]:
    """GET a path and follow its redirects one at a time; return every response."""
    responses = [client.get(path)]
    while responses[-1].status_code in (301, 302, 303, 307, 308):
        assert len(responses) < 5, [r.headers.get("Location") for r in responses]
        responses.append(client.get(responses[-1].headers["Location"]))
    return responses


def assert_nowhere(responses: list[Any], *secrets: str) -> None:
    """No page, redirect or cookie among the responses holds a secret, in any form."""
    for response in responses:
        said = " ".join(
            [response.get_data(as_text=True), response.headers.get("Location", "")]
            + response.headers.getlist("Set-Cookie")
        )
        for secret in secrets:
            once = quote(secret, safe="")
            for form in {secret, once, quote(once, safe="")}:
                assert form not in said, (response.status_code, form)


def code_and_state(redirect: str) -> tuple[str, str]:
    """Return the code and state Constant Contact's redirect carries."""
    query = parse_qs(urlsplit(redirect).query)
    return query["code"][0], query["state"][0]


def test_the_callback_moves_the_code_and_state_out_of_the_address(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    """OA-09: used, then a 303 to the bare path; no page, link or redirect has them."""
    integration_id = code_flow_integration(app, cc)
    attempt, redirect = allowed_at_sandbox(signed_in, app, integration_id)
    secrets = code_and_state(redirect)
    arrived = walk(signed_in, f"{CALLBACK}?{urlsplit(redirect).query}")
    assert [r.status_code for r in arrived] == [303, 200]
    assert arrived[0].headers["Location"] == CALLBACK
    assert "Access allowed" in arrived[1].text
    # The language switch sends the person back to the bare path too.
    assert f'name="next" value="{CALLBACK}"' in arrived[1].text
    assert_nowhere(arrived, *secrets)
    assert load(app, integration_id).status == "active"
    # A reload shows the same result; the same callback again is refused.
    assert "Access allowed" in signed_in.get(CALLBACK).text
    replay = walk(signed_in, f"{CALLBACK}?{urlsplit(redirect).query}")
    assert [r.status_code for r in replay] == [303, 200]
    assert "That code can no longer be used" in replay[1].text
    assert_nowhere(replay, *secrets)
    stats = get_stats(cc)["token_requests"]
    assert stats["by_grant_type"] == {"authorization_code": 1}


def test_the_language_switch_never_carries_the_callbacks_query(app: Flask) -> None:
    """OA-09: the switch's next is the bare callback path; other pages keep theirs."""
    with app.test_request_context(f"{CALLBACK}?code=CODE-1&state=STATE-2"):
        assert i18n._template_globals()["language_next"] == CALLBACK
    with app.test_request_context("/support/organizations?q=bloom&page=2"):
        assert i18n._template_globals()["language_next"] == (
            "/support/organizations?q=bloom&page=2"
        )


@pytest.mark.parametrize("how", ["signed out", "idle too long"])
def test_a_signed_out_callback_finishes_after_sign_in_without_the_code_in_view(
    client: FlaskClient,
    app: Flask,
    cc: str,
    customer: int,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """OA-09: sign-in's next is the bare path; the answer waits, sealed, till used."""
    sign_in(client, "owner@bloom.test")
    integration_id = code_flow_integration(app, cc)
    attempt, redirect = allowed_at_sandbox(client, app, integration_id)
    secrets = code_and_state(redirect)
    if how == "signed out":
        client.post("/sign-out")
    else:
        later = auth._now() + 61 * 60
        monkeypatch.setattr(auth, "_now", lambda: later)
    arrived = walk(client, f"{CALLBACK}?{urlsplit(redirect).query}")
    assert [r.status_code for r in arrived] == [303, 200]
    assert arrived[0].headers["Location"] == SIGN_IN_THEN_CALLBACK
    assert "Sign in to continue." in arrived[1].text
    assert_nowhere(arrived, *secrets)
    assert get_stats(cc)["token_requests"]["total"] == 0  # nothing used signed out

    signed = client.post(
        SIGN_IN_THEN_CALLBACK, data={"email": "owner@bloom.test", "password": PASSWORD}
    )
    assert signed.headers["Location"] == CALLBACK
    done = walk(client, CALLBACK)
    assert [r.status_code for r in done] == [200]
    assert "Access allowed" in done[0].text
    assert_nowhere([signed, *done], *secrets)
    assert load(app, integration_id).status == "active"
    # The kept answer was used once and dropped: a reload shows the same result,
    # and the same callback again is refused.
    assert "Access allowed" in client.get(CALLBACK).text
    replay = walk(client, f"{CALLBACK}?{urlsplit(redirect).query}")
    assert "That code can no longer be used" in replay[-1].text
    stats = get_stats(cc)["token_requests"]
    assert stats["by_grant_type"] == {"authorization_code": 1}


def test_a_kept_callback_is_still_bound_to_the_person_who_started(
    client: FlaskClient, app: Flask, cc: str, colleague: int
) -> None:
    """OA-01: a colleague who signs in next gets "started by someone else"."""
    sign_in(client, "owner@bloom.test")
    integration_id = code_flow_integration(app, cc)
    attempt, redirect = allowed_at_sandbox(client, app, integration_id)
    client.post("/sign-out")
    arrived = walk(client, f"{CALLBACK}?{urlsplit(redirect).query}")
    assert arrived[0].headers["Location"] == SIGN_IN_THEN_CALLBACK
    sign_in(client, "colleague@bloom.test")
    page = client.get(CALLBACK).text
    assert "This approval was started by someone else" in page
    assert get_stats(cc)["token_requests"]["total"] == 0
    assert load(app, integration_id).status == "authorizing"


def test_a_state_is_dead_once_the_window_has_passed(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    """OA-03: a callback after 5 minutes exchanges nothing; the fields stay."""
    integration_id = code_flow_integration(app, cc)
    attempt, redirect = allowed_at_sandbox(signed_in, app, integration_id)
    # 5 minutes and a second later: the window and the state's life are both over.
    age(app, attempt.id, 301)
    page = callback(signed_in, redirect).text
    assert "Access allowed" not in page
    assert get_stats(cc)["token_requests"]["total"] == 0
    saved = load(app, integration_id)
    assert saved.status != "active" and not saved.holds_tokens
    assert saved.api_key and saved.list_id  # nothing entered is lost
    # A second try with the same state is refused too: it was cleared on expiry.
    assert "That code can no longer be used" in callback(signed_in, redirect).text


def test_an_attackers_code_with_the_victims_state_connects_nothing(
    client: FlaskClient, app: Flask, cc: str, customer: int, other_customer: int
) -> None:
    """OA-06: code injection fails on PKCE; the victim is not tied to their account."""
    created = create_application(
        cc, flow="authorization_code", redirect_uris=[REDIRECT_URI]
    )
    victim_id = make_integration(
        app,
        created["api_key"],
        flow="authorization_code",
        secret=created["client_secret"],
    )
    attacker_id = make_integration(
        app,
        created["api_key"],
        flow="authorization_code",
        secret=created["client_secret"],
        organization_id=2,
    )
    # The attacker gets a code for their own sign-in through their own attempt.
    sign_in(client, "owner@rival.test")
    _, stolen = allowed_at_sandbox(client, app, attacker_id)
    attackers_code = parse_qs(urlsplit(stolen).query)["code"][0]
    client.post("/sign-out")
    # The victim's own attempt, with the attacker's code slipped in.
    sign_in(client, "owner@bloom.test")
    state = state_sent(client, app, victim_id)
    page = client.get(
        "/callback/constant-contact-auth",
        query_string={"state": state, "code": attackers_code},
        follow_redirects=True,
    ).text
    assert "Access allowed" not in page
    stats = get_stats(cc)["token_requests"]
    assert stats["total"] == 1
    victim = load(app, victim_id)
    assert victim.status != "active" and not victim.holds_tokens
    assert attempt_of(app, victim_id).outcome == "failed"


def test_extra_callback_parameters_cannot_pick_the_tenant_or_client(
    client: FlaskClient, app: Flask, cc: str, customer: int, other_customer: int
) -> None:
    """AC-02: tenant and credentials come only from the stored attempt."""
    sign_in(client, "owner@bloom.test")
    integration_id = code_flow_integration(app, cc)
    decoy = code_flow_integration(app, cc)
    attempt, redirect = allowed_at_sandbox(client, app, integration_id)
    other_key = load(app, decoy).api_key
    extras = f"&client_id={other_key}&integration_id={decoy}&organization_id=2"
    done = callback(client, redirect + extras)
    assert "Access allowed" in done.text
    connected = load(app, integration_id)
    assert connected.status == "active" and connected.organization_id == 1
    assert load(app, decoy).status == "created" and not load(app, decoy).holds_tokens


def test_the_device_page_names_the_app_the_account_and_warns(
    signed_in: FlaskClient, app: Flask, device_integration: int
) -> None:
    """OA-19, OA-22 (RFC 8628 §5.4): who gets access, where to type, not to share."""
    before = signed_in.get(f"/integrations/{device_integration}/authorize").text
    assert "Authorize PromoPulse to use your Constant Contact" in before
    integration = load(app, device_integration)
    assert integration.list_id in before  # the account is the one with this list
    attempt = started(signed_in, app, device_integration)
    page = signed_in.get(
        f"/integrations/{device_integration}/authorize/{attempt.id}"
    ).text
    assert "This code lets PromoPulse use the Constant Contact account" in page
    assert "only on constantcontact.com" in page
    assert "never read it out or send it to anyone" in page
    spanish = signed_in.get(
        f"/integrations/{device_integration}/authorize/{attempt.id}", headers=SPANISH
    ).text
    assert "constantcontact.com" in spanish and "never read it out" not in spanish


# Verification addresses a device answer may not carry. Each holds "evil" so the
# page can be searched for it; browsers read several of them differently from
# urlsplit (a backslash is a slash to them), so none may pass on its looks.
OFF_CONSTANT_CONTACT = [
    "https://evil.example/activate",
    "http://authz.constantcontact.com/activate",
    "https://constantcontact.com.evil.example/activate",
    "https://evilconstantcontact.com/activate",
    "https://someone@evil.example/activate",
    "data:text/html,<b>hi</b>",
    "SANDBOX:99999/activate",
    "SANDBOX:notaport/activate",
    # urlsplit's host ends in .constantcontact.com; a browser opens evil.example.
    "https://evil.example\\.constantcontact.com/activate",
    "https://evil.example\\@authz.constantcontact.com/activate",
    "https://authz.constantcontact.com/evil\\activate",
    # Whitespace and control characters: stripped, refused or split differently.
    "https://evil.example\t.constantcontact.com/activate",
    "https://evil.example\n.constantcontact.com/activate",
    "https://evil.example .constantcontact.com/activate",
    "https://authz.constantcontact.com/activate?evil= x",
    "https://evil.example\x00.constantcontact.com/activate",
    "https://evil.example\x7f.constantcontact.com/activate",
    # Userinfo, even empty, and an encoded dot in the host.
    "https://@evil.constantcontact.com/activate",
    "https://evil:@authz.constantcontact.com/activate",
    "https://evil.example%2e.constantcontact.com/activate",
    # Look-alike dots, IDN, a trailing dot, capitals, a port on Constant Contact.
    "https://evil.example\u3002constantcontact.com/activate",
    "https://evil.example\uff0econstantcontact.com/activate",
    "https://\u00e9vil.constantcontact.com/activate",
    "https://evil.constantcontact.com./activate",
    "https://EVIL.constantcontact.com/activate",
    "https://evil.constantcontact.com:8443/activate",
    "https://evil..constantcontact.com/activate",
    "https://-evil.constantcontact.com/activate",
    # The sandbox host, but another port or a host that only starts like it.
    "SANDBOX:1/evil",
    "SANDBOX.evil.example/activate",
]


@pytest.mark.parametrize("address", OFF_CONSTANT_CONTACT)
def test_a_verification_address_off_constant_contact_is_refused(
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    monkeypatch: pytest.MonkeyPatch,
    address: str,
    device_integration: int,
) -> None:
    """OA-18: a device answer linking elsewhere ends the start safely."""
    host = cc.rsplit(":", 1)[0]
    tamper(
        monkeypatch, "device_code", "verification_uri", address.replace("SANDBOX", host)
    )
    response = start_attempt(signed_in, device_integration)
    assert response.status_code == 200
    assert "Constant Contact did not answer properly" in response.text
    assert "evil" not in response.text and "hi</b>" not in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AuthorizationAttempt.id))) == 0


def test_constant_contacts_own_verification_address_is_accepted(
    signed_in: FlaskClient,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    device_integration: int,
) -> None:
    """OA-18: the real host (and the configured one, above) still works."""
    real = "https://authz.constantcontact.com/activate"
    tamper(monkeypatch, "device_code", "verification_uri", real)
    tamper_complete = f"{real}?user_code=ABCDEFGH"
    tamper(monkeypatch, "device_code", "verification_uri_complete", tamper_complete)
    attempt = started(signed_in, app, device_integration)
    assert attempt.verification_uri == real
    page = signed_in.get(
        f"/integrations/{device_integration}/authorize/{attempt.id}"
    ).text
    assert f'href="{tamper_complete}"' in page


@pytest.mark.parametrize(
    "address",
    [
        "https://authz.constantcontact.com/activate",
        "https://authz.constantcontact.com/activate?user_code=BCDF-GHJK",
        "https://authz.constantcontact.com",
        "https://constantcontact.com/activate",
        "https://login.auth.constantcontact.com/activate#code",
        "https://xn--80ak6aa92e.constantcontact.com/activate",
        "https://authz.constantcontact.com/activate%20now?next=%2F",
        "http://127.0.0.1:5001/activate?user_code=BCDFGHJK",
        "https://127.0.0.1:5001/activate",
    ],
)
def test_constant_contact_and_the_configured_host_pass_the_check(address: str) -> None:
    """OA-18: the strict check still takes every address Constant Contact uses."""
    provider = Provider(
        authorization_url="http://127.0.0.1:5001/oauth2/default/v1/authorize",
        token_url="http://127.0.0.1:5001/oauth2/default/v1/token",
        device_authorization_url="http://127.0.0.1:5001/oauth2/default/v1/device/authorize",
        revocation_url="http://127.0.0.1:5001/oauth2/default/v1/revoke",
        api_base_url="http://127.0.0.1:5001/v3",
        scopes="contact_data",
        timeout=1,
    )
    assert cc_answers._web_address(address, provider) == address


def test_a_support_person_gets_no_step_4_and_no_codes(
    client: FlaskClient, app: Flask, cc: str, customer: int, device_integration: int
) -> None:
    """AC-03: support cannot start, poll, open or call back; sees no user code."""
    make_user(app, "helper@promopulse.test", "support")
    sign_in(client, "owner@bloom.test")
    attempt = started(client, app, device_integration)
    client.post("/sign-out")
    sign_in(client, "helper@promopulse.test")
    base = f"/integrations/{device_integration}/authorize"
    for method, path in [
        ("post", base),
        ("get", f"{base}/{attempt.id}"),
        ("get", f"{base}/{attempt.id}/status"),
        ("post", f"{base}/{attempt.id}/check"),
    ]:
        assert getattr(client, method)(path).status_code == 404, path
    page = client.get(f"/support/integrations/{device_integration}").text
    assert attempt.user_code not in page
    assert get_stats(cc)["token_requests"]["total"] == 0


def test_secrets_travel_in_bodies_and_headers_never_in_urls(
    signed_in: FlaskClient, app: Flask, cc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OA-13: code, verifier, device code, tokens: form body or header, never a URL."""
    sent: list[tuple[str, str, dict[str, Any]]] = []
    real = requests.Session.request

    def record(session: Any, method: str, url: str, **kwargs: Any) -> Any:
        # Only the app's calls (its per-thread session), not the test's own.
        if session is getattr(http._local, "session", None):
            sent.append((method, url, kwargs))
        return real(session, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", record)
    # A device flow, a code flow, a refresh, API calls and a revocation.
    device_id = make_integration(app, device_app(cc))
    assert allowed_on_device(signed_in, app, cc, device_id)["state"] == "done"
    code_id = code_flow_integration(app, cc)
    _, redirect = allowed_at_sandbox(signed_in, app, code_id)
    assert "Access allowed" in callback(signed_in, redirect).text
    with app.app_context():
        tokens.access_token(db.session.get(Integration, code_id), force=True)
    signed_in.post(f"/integrations/{device_id}/disconnect")

    secret_names = {
        "code",
        "code_verifier",
        "device_code",
        "refresh_token",
        "access_token",
        "token",
        "client_secret",
    }
    grants = set()
    for method, url, kwargs in sent:
        in_url = set(parse_qs(urlsplit(url).query)) | set(kwargs.get("params") or {})
        assert not in_url & secret_names, (method, url)
        body = kwargs.get("data") or {}
        if "grant_type" in body:
            grants.add(body["grant_type"])
            assert method == "POST"
        if "/v3/" in url:
            assert kwargs["headers"]["Authorization"].startswith("Bearer ")
    assert grants == {
        "urn:ietf:params:oauth:grant-type:device_code",
        "authorization_code",
        "refresh_token",
    }
    exchanges = [k["data"] for _, _, k in sent if "code_verifier" in (k["data"] or {})]
    assert len(exchanges) == 1 and exchanges[0]["code"]
    assert any("/revoke" in url and k["data"]["token"] for _, url, k in sent)
    # OA-11: the scopes asked for are the configured three, nothing more.
    asked = [
        k["data"]["scope"] for _, url, k in sent if url.endswith("/device/authorize")
    ]
    assert asked == ["account_read contact_data offline_access"]
    assert any("/v3/" in url for _, url, _ in sent)


@pytest.mark.real_password_hashing
def test_passwords_are_stored_with_scrypt_at_owasp_strength(
    app: Flask, runner: Any
) -> None:
    """AC-11: N=2^15, r=8, p=3 (OWASP's row for N=2^15), never the plaintext."""
    result = runner.invoke(
        args=[
            "users",
            "create",
            "new@x.test",
            "--role",
            "support",
            "--password",
            "long enough pw",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="new@x.test"))
        assert user.password_hash.startswith("scrypt:32768:8:3$")
        assert "long enough pw" not in user.password_hash
        assert user.check_password("long enough pw")


def test_a_dead_refresh_token_is_not_sent_again_by_the_keep_alive(
    signed_in: FlaskClient, app: Flask, cc: str, runner: Any
) -> None:
    """OA-23: after invalid_grant the connection waits for re-authorization."""

    def refresh_requests() -> int:
        by_grant = get_stats(cc)["token_requests"]["by_grant_type"]
        return int(by_grant.get("refresh_token", 0))

    integration_id = connect(signed_in, app, cc, "rotating")
    with app.app_context():
        row = db.session.get(Integration, integration_id)
        # Rotate behind the wizard's back: its refresh token is now dead.
        client_for(row).refresh_tokens(row.unseal("refresh_token_encrypted"))
    expire(app, integration_id)
    before = refresh_requests()
    first = runner.invoke(args=["integrations", "refresh", "--due"])
    assert "invalid_grant" in first.output and "1 failed" in first.output
    assert refresh_requests() == before + 1
    assert load(app, integration_id).status == "needs_reauthorization"
    for _ in range(3):
        later = runner.invoke(args=["integrations", "refresh", "--due"])
        assert later.exit_code == 0 and "0 failed" in later.output, later.output
    with app.app_context():
        assert integration_id not in [i.id for i in tokens.due_for_keepalive()]
    assert refresh_requests() == before + 1  # never sent again
    assert "Re-authorize now" in signed_in.get("/integrations").text


def test_trusted_hosts_turn_away_a_foreign_host(app_with: AppWith) -> None:
    """AC-16: with WIZARD_TRUSTED_HOSTS set, another Host gets the plain 400 page."""
    app = app_with(TRUSTED_HOSTS=["wizard.test"])
    client = app.test_client()
    assert client.get("/sign-in", **HTTPS).status_code == 200
    foreign = client.get("/sign-in", base_url="https://evil.example")
    assert foreign.status_code == 400
    assert "Something went wrong with that request" in foreign.text
    assert "evil.example" not in foreign.text


@pytest.mark.parametrize(
    "site", ["cross-site", "same-origin", "same-site", "none", None]
)
def test_posts_another_site_made_are_refused(
    signed_in: FlaskClient, app: Flask, site: str | None
) -> None:
    """AC-09: Fetch Metadata refuses cross-site posts even with CSRF off (tests)."""
    headers = {"Sec-Fetch-Site": site} if site else {}
    response = signed_in.post(
        "/integrations/new", data={"token": "t1"}, headers=headers
    )
    with app.app_context():
        drafts = db.session.scalar(db.select(db.func.count(Integration.id)))
    if site == "cross-site":
        assert response.status_code == 403 and drafts == 0
        assert "You cannot open this page" in response.text
        out = signed_in.post("/sign-out", headers=headers)
        assert out.status_code == 403
        assert signed_in.get("/integrations").status_code == 200  # still signed in
    else:
        assert response.status_code == 302 and drafts == 1
    # Following a link from another site (a GET) is fine.
    assert signed_in.get("/integrations", headers=headers).status_code == 200


@pytest.mark.real_password_hashing
def test_a_weaker_old_hash_is_upgraded_at_sign_in(
    app: Flask, client: FlaskClient
) -> None:
    """AC-11: hashes from weaker settings are redone at the next good sign-in."""
    user_id = make_user(app, "old@bloom.test", "customer", "Bloom")
    with app.app_context():
        user = db.session.get(User, user_id)
        user.password_hash = generate_password_hash(PASSWORD, "scrypt:16384:8:1")
        db.session.commit()
    assert sign_in(client, "old@bloom.test", "wrong").status_code == 200
    with app.app_context():
        assert db.session.get(User, user_id).password_hash.startswith("scrypt:16384:")
    assert sign_in(client, "old@bloom.test").status_code == 302
    with app.app_context():
        upgraded = db.session.get(User, user_id)
        assert upgraded.password_hash.startswith("scrypt:32768:8:3$")
        assert upgraded.check_password(PASSWORD)
