"""Step 4 over real HTTP against the local Constant Contact: both flows, failures."""

import queue
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import AppWith
from tests.helpers.attempts import KEEP_CHECKING
from tests.helpers.attempts import SLOWER
from tests.helpers.attempts import age
from tests.helpers.attempts import allowed_at_sandbox
from tests.helpers.attempts import allowed_on_device
from tests.helpers.attempts import attempt_of
from tests.helpers.attempts import callback
from tests.helpers.attempts import make_due
from tests.helpers.attempts import open_window
from tests.helpers.attempts import poll_count
from tests.helpers.attempts import pollers_turn
from tests.helpers.attempts import pollers_turn_held_at
from tests.helpers.attempts import start_attempt
from tests.helpers.attempts import started
from tests.helpers.attempts import state_sent
from tests.helpers.attempts import status
from tests.helpers.attempts import tamper
from tests.helpers.integrations import code_flow_integration
from tests.helpers.integrations import load
from tests.helpers.integrations import make_integration
from tests.helpers.live import csrf_token
from tests.helpers.sandbox import approve_in_sandbox
from tests.helpers.sandbox import device_app
from tests.helpers.sandbox import give_up_sooner
from tests.helpers.sandbox import sandbox_server
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.users import PASSWORD
from tests.helpers.users import sign_in
from tests.helpers.users import signed_in_client
from wizard.constant_contact.client import Client
from wizard.constant_contact.client import client_for
from wizard.domain import approval
from wizard.domain import attempts
from wizard.domain.problems import waiting_note
from wizard.models import AuditEvent
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox import seed
from wizard.sandbox.testing import answered
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import deny_device
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import held
from wizard.sandbox.testing import set_faults
from wizard.web.authorize import status_checks

pytestmark = pytest.mark.sandboxed


def test_device_flow_from_code_to_active(
    signed_in: FlaskClient, app: Flask, cc: str, device_integration: int
) -> None:
    before = signed_in.get(f"/integrations/{device_integration}/authorize").text
    assert "Step 4 of 4" in before and "Get my activation code" in before
    assert "You will have 5 minutes" in before

    attempt = started(signed_in, app, device_integration)
    page = signed_in.get(
        f"/integrations/{device_integration}/authorize/{attempt.id}"
    ).text
    code = attempt.user_code
    assert re.fullmatch(r"[A-Z]{8}", code)
    assert f'href="{cc}/activate?user_code={code}"' in page
    # Written one way for people, with its dash: as the code, and in the words for
    # another device. Without it only in Constant Contact's own link.
    assert page.count(f"{code[:4]}-{code[4:]}") == 2 and page.count(code) == 1
    assert "The Activation Code box will automatically be filled in" in page
    assert "Allow Access" in page and "Follow the instructions on your device" in page
    assert "<svg" in page and "Time left:" in page and "4:5" in page
    assert "I have allowed access: check now" in page
    tasks = signed_in.get(f"/integrations/{device_integration}/setup").text
    assert "You have completed 3 of 4 steps" in tasks
    assert '<strong class="tag tag-active">In progress</strong>' in tasks
    with app.app_context():
        assert attempt.unseal("device_code_encrypted") not in page

    # The first check asks at once; the next ones wait for the interval.
    assert status(signed_in, device_integration, attempt.id)["state"] == "waiting"
    assert status(signed_in, device_integration, attempt.id)["state"] == "waiting"
    assert get_stats(cc)["token_requests"]["total"] == 1

    approve_device(cc, code)
    make_due(app, attempt.id)
    result = status(signed_in, device_integration, attempt.id)
    assert result == {
        "state": "done",
        "next": f"/integrations/{device_integration}/active",
    }

    active = signed_in.get(result["next"]).text
    assert "Your integration is now active!" in active
    assert "Bloom &amp; Co Florist" in active and "Newsletter" in active
    assert f"{seed.NEWSLETTER_MEMBERS:,}" in active
    saved = load(app, device_integration)
    assert saved.status == "active" and saved.name == "Newsletter"
    with app.app_context():
        access = saved.unseal("access_token_encrypted")
        refresh = saved.unseal("refresh_token_encrypted")
        details = " ".join(
            str(e.details) for e in db.session.scalars(db.select(AuditEvent))
        )
        actions = list(db.session.scalars(db.select(AuditEvent.action)))
    assert access not in saved.access_token_encrypted
    assert refresh not in saved.refresh_token_encrypted
    assert access not in details and refresh not in details and code not in details
    assert {
        "authorization.started",
        "authorization.approved",
        "connection.verified",
    } <= set(actions)
    listing = signed_in.get("/integrations").text
    assert "Active" in listing and "Re-authorize" in listing


def test_check_now_without_javascript(
    signed_in: FlaskClient, app: Flask, cc: str, device_integration: int
) -> None:
    """Check now shows what the poller found; the press itself never asks."""
    attempt = started(signed_in, app, device_integration)
    check = f"/integrations/{device_integration}/authorize/{attempt.id}/check"
    page = signed_in.post(check, follow_redirects=True).text
    assert "We are asking Constant Contact now" in page
    assert get_stats(cc)["token_requests"]["total"] == 0
    assert pollers_turn(app) == 1
    page = signed_in.post(check, follow_redirects=True).text
    assert "Not yet" in page and "Allow access in Constant Contact" in page
    assert get_stats(cc)["token_requests"]["total"] == 1
    approve_device(cc, attempt.user_code)
    make_due(app, attempt.id)
    assert pollers_turn(app) == 1
    response = signed_in.post(check, follow_redirects=True)
    assert "Your integration is now active!" in response.text
    assert get_stats(cc)["token_requests"]["total"] == 2


def test_polls_keep_to_the_interval_and_slow_down_adds_five_seconds(
    signed_in: FlaskClient, app: Flask, cc: str, device_integration: int
) -> None:
    attempt = started(signed_in, app, device_integration)
    make_due(app, attempt.id)
    for _ in range(10):
        assert status(signed_in, device_integration, attempt.id)["state"] == "waiting"
    assert get_stats(cc)["token_requests"]["total"] == 1
    # Asking again sooner than Constant Contact's interval earns a slow_down.
    make_due(app, attempt.id)
    status(signed_in, device_integration, attempt.id)
    assert get_stats(cc)["token_requests"]["total"] == 2
    assert get_stats(cc)["slow_downs"] == 1
    slowed = attempt_of(app, device_integration)
    assert slowed.interval == 10
    assert slowed.next_poll_at >= utcnow() + timedelta(seconds=8)


def test_denied_then_a_new_code(
    signed_in: FlaskClient, app: Flask, cc: str, device_integration: int
) -> None:
    attempt = started(signed_in, app, device_integration)
    deny_device(cc, attempt.user_code)
    make_due(app, attempt.id)
    result = status(signed_in, device_integration, attempt.id)
    assert result["state"] == "ended"
    page = signed_in.get(result["next"]).text
    assert "Access was not allowed" in page and "Get a new code" in page
    assert "access_denied" not in page
    second = started(signed_in, app, device_integration)
    assert second.id != attempt.id and second.user_code != attempt.user_code
    assert load(app, device_integration).list_id == seed.NEWSLETTER_LIST_ID


def test_time_runs_out(
    signed_in: FlaskClient, app: Flask, cc: str, device_integration: int
) -> None:
    attempt = started(signed_in, app, device_integration)
    make_due(app, attempt.id, seconds_left=-1)
    # The page's window is over; Constant Contact's code (600 s) is not, so it is
    # still asked about, and the page keeps checking for a late approval.
    assert status(signed_in, device_integration, attempt.id) == {
        "state": "ended",
        "next": f"/integrations/{device_integration}/authorize/{attempt.id}",
        "listening": True,
    }
    page = signed_in.get(
        f"/integrations/{device_integration}/authorize/{attempt.id}"
    ).text
    assert "Time ran out" in page and "Nothing you entered is lost" in page
    assert "data-listen-only" in page and "authorize.js" in page
    assert get_stats(cc)["token_requests"]["total"] == 1


def test_window_is_the_shorter_of_expires_in_and_the_setting(
    app_with: AppWith, customer: int, device_integration: int
) -> None:
    app = app_with(AUTHORIZATION_WINDOW_SECONDS=120)
    client = signed_in_client(app)
    attempt = started(client, app, device_integration)
    window = (attempt.expires_at - attempt.started_at).total_seconds()
    assert window == 120


@pytest.fixture(scope="module")
def short_codes_cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local Constant Contact whose device codes live 120 s, under step 4's 300."""
    with sandbox_server(tmp_path_factory, SANDBOX_DEVICE_CODE_EXPIRES_IN=120) as server:
        yield server.base_url


def seconds_left_between(attempt: AuthorizationAttempt, asked: Any) -> range:
    """Return the seconds a page may say are left, asked between two instants."""
    before = utcnow()
    asked()
    after = utcnow()
    return range(
        int((attempt.expires_at - after).total_seconds()),
        int((attempt.expires_at - before).total_seconds()) + 1,
    )


def test_a_device_code_shorter_than_the_window_sets_the_countdown(
    app_with: AppWith, customer: int, short_codes_cc: str
) -> None:
    """OA-17: Constant Contact's expires_in (120 s) beats the page's 300 s window."""
    app = app_with(**sandbox_settings(short_codes_cc))
    assert app.config["AUTHORIZATION_WINDOW_SECONDS"] == 300
    client = signed_in_client(app)
    integration_id = make_integration(app, device_app(short_codes_cc))
    attempt = started(client, app, integration_id)
    assert attempt.expires_at - attempt.started_at == timedelta(seconds=120)
    path = f"/integrations/{integration_id}/authorize/{attempt.id}"

    pages: list[str] = []
    allowed = seconds_left_between(attempt, lambda: pages.append(client.get(path).text))
    shown = int(re.search(r'data-seconds-left="(\d+)"', pages[0]).group(1))
    assert shown in allowed and max(allowed) <= 120
    assert f"{shown // 60}:{shown % 60:02d}</span>" in pages[0]
    answers: list[dict[str, Any]] = []
    allowed = seconds_left_between(
        attempt, lambda: answers.append(status(client, integration_id, attempt.id))
    )
    assert answers[0]["state"] == "waiting" and answers[0]["seconds_left"] in allowed

    # 110 s in: still waiting, with 120 s's remainder; 121 s in: over, not at 300 s.
    older = age(app, attempt.id, 110)
    answers.clear()
    allowed = seconds_left_between(
        older, lambda: answers.append(status(client, integration_id, attempt.id))
    )
    assert answers[0]["state"] == "waiting" and answers[0]["seconds_left"] in allowed
    assert max(allowed) <= 10
    age(app, attempt.id, 121)
    assert status(client, integration_id, attempt.id) == {
        "state": "ended",
        "next": path,
        "listening": False,
    }
    page = client.get(path).text
    assert "Time ran out" in page and "data-listen-only" not in page
    assert attempt_of(app, integration_id).outcome == "expired"


def test_two_tabs_one_attempt(
    signed_in: FlaskClient, app: Flask, device_integration: int
) -> None:
    first = started(signed_in, app, device_integration)
    second = started(signed_in, app, device_integration)
    assert status(signed_in, device_integration, first.id)["state"] == "ended"
    page = signed_in.get(
        f"/integrations/{device_integration}/authorize/{first.id}"
    ).text
    assert "A newer code was started" in page
    assert status(signed_in, device_integration, second.id)["state"] == "waiting"


@pytest.mark.parametrize(
    ("flow", "heading"),
    [
        # Okta: an Authorization Code app without its secret is invalid_client too.
        ("authorization_code", "Constant Contact did not accept this API Key"),
        ("pkce", "Your Constant Contact app is not set to Device Flow"),
        (None, "Constant Contact did not accept this API Key"),
    ],
)
def test_wrong_app_settings_are_explained(
    signed_in: FlaskClient, app: Flask, cc: str, flow: str | None, heading: str
) -> None:
    api_key = (
        create_application(cc, flow=flow)["api_key"]
        if flow
        else "00000000-0000-4000-8000-000000000000"
    )
    integration_id = make_integration(app, api_key)
    response = start_attempt(signed_in, integration_id)
    assert response.status_code == 200
    assert heading in response.text
    assert "Check your app again in step 1" in response.text
    assert load(app, integration_id).status == "created"


@pytest.mark.parametrize(
    ("fault", "heading"),
    [
        ("503", "Constant Contact did not answer properly"),
        ("500", "Constant Contact did not answer properly"),
        ("garbage", "Constant Contact did not answer properly"),
        ("html", "Constant Contact did not answer properly"),
        ("429", "Constant Contact asked us to slow down"),
        ("timeout", "Constant Contact did not answer properly"),
    ],
)
def test_upstream_faults_at_start_never_break_the_page(
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    fault: str,
    heading: str,
    device_integration: int,
) -> None:
    give_up_sooner(app, fault)
    set_faults(cc, {"device_authorize": fault})
    response = start_attempt(signed_in, device_integration)
    assert response.status_code == 200
    assert heading in response.text and "Try again" in response.text
    set_faults(cc, {})
    assert start_attempt(signed_in, device_integration).status_code == 302


@pytest.mark.parametrize("fault", ["503", "garbage", "429", "timeout"])
def test_upstream_faults_while_polling_keep_the_attempt(
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    fault: str,
    device_integration: int,
    started_attempt: AuthorizationAttempt,
) -> None:
    approve_device(cc, started_attempt.user_code)
    give_up_sooner(app, fault)
    set_faults(cc, {"token": fault})
    make_due(app, started_attempt.id)
    result = status(signed_in, device_integration, started_attempt.id)
    assert result["state"] == "waiting"
    assert "We keep checking" in result["note"]
    set_faults(cc, {})
    make_due(app, started_attempt.id)
    assert status(signed_in, device_integration, started_attempt.id)["state"] == "done"


def test_no_refresh_token_is_not_active(
    app_with: AppWith, customer: int, cc: str, device_integration: int
) -> None:
    app = app_with(CC_SCOPES="account_read contact_data")
    client = signed_in_client(app)
    attempt = started(client, app, device_integration)
    approve_device(cc, attempt.user_code)
    make_due(app, attempt.id)
    assert status(client, device_integration, attempt.id)["state"] == "ended"
    page = client.get(f"/integrations/{device_integration}/authorize/{attempt.id}").text
    assert "Constant Contact did not give lasting access" in page
    saved = load(app, device_integration)
    assert saved.status != "active" and not saved.holds_tokens


@pytest.mark.parametrize(
    ("list_id", "words"),
    [
        (seed.OTHER_LIST_ID, "not in the account"),
        (seed.DELETED_LIST_ID, "it was deleted"),
    ],
)
def test_a_missing_list_is_fixed_without_authorizing_again(
    signed_in: FlaskClient, app: Flask, cc: str, list_id: str, words: str
) -> None:
    integration_id = make_integration(app, device_app(cc), list_id=list_id)
    result = allowed_on_device(signed_in, app, cc, integration_id)
    assert result["state"] == "ended"
    page = signed_in.get(result["next"]).text
    assert "We could not find your list" in page and words in page
    assert "Choose the list again" in page
    saved = load(app, integration_id)
    assert saved.status == "list_not_found" and saved.holds_tokens

    change = f"/integrations/{integration_id}/list"
    wrong = signed_in.post(change, data={"list_id": seed.OTHER_LIST_ID})
    assert "We could not find that list in Bloom &amp; Co Florist" in wrong.text
    assert load(app, integration_id).list_id == list_id  # the old one stays
    address = f"{cc}/contacts/lists/{seed.NEWSLETTER_LIST_ID}"
    response = signed_in.post(change, data={"list_id": address})
    assert response.headers["Location"] == f"/integrations/{integration_id}/active"
    saved = load(app, integration_id)
    assert saved.status == "active" and saved.list_id == seed.NEWSLETTER_LIST_ID
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AuthorizationAttempt.id))) == 1


def test_authorization_code_flow_to_active(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = code_flow_integration(app, cc)
    attempt = started(signed_in, app, integration_id)
    page = signed_in.get(f"/integrations/{integration_id}/authorize/{attempt.id}").text
    assert "Open Constant Contact (opens in new tab)" in page
    assert f"/integrations/{integration_id}/authorize/{attempt.id}/open" in page
    assert "state=" not in page
    redirect = approve_in_sandbox(open_window(signed_in, integration_id, attempt.id))
    done = callback(signed_in, redirect)
    assert "Access allowed" in done.text and "You can close this window" in done.text
    result = status(signed_in, integration_id, attempt.id)
    assert result["state"] == "done"
    assert "Your integration is now active!" in signed_in.get(result["next"]).text
    # The state is single use.
    again = callback(signed_in, redirect)
    assert "That code can no longer be used" in again.text


def test_callback_state_must_be_ours_and_the_same_person(
    client: FlaskClient, app: Flask, cc: str, colleague: int
) -> None:
    sign_in(client, "owner@bloom.test")
    integration_id = code_flow_integration(app, cc)
    attempt, redirect = allowed_at_sandbox(client, app, integration_id)
    forged = callback(client, redirect.replace("state=", "state=x"))
    assert "That code can no longer be used" in forged.text
    client.post("/sign-out")
    sign_in(client, "colleague@bloom.test")
    other = callback(client, redirect)
    assert "This approval was started by someone else" in other.text
    assert load(app, integration_id).status == "authorizing"


def test_authorization_code_denied_and_wrong_secret(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = code_flow_integration(app, cc)
    attempt = started(signed_in, app, integration_id)
    redirect = approve_in_sandbox(
        open_window(signed_in, integration_id, attempt.id), decision="Deny"
    )
    assert "Access was not allowed" in callback(signed_in, redirect).text
    assert status(signed_in, integration_id, attempt.id)["state"] == "ended"

    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        integration.client_secret = "Old_secret_that_was_regenerated"
        db.session.commit()
    attempt, redirect = allowed_at_sandbox(signed_in, app, integration_id)
    page = callback(signed_in, redirect).text
    assert "did not accept the API Key and Client Secret" in page
    assert "Generate Client Secret" in page


def test_callback_after_signing_in_again(
    client: FlaskClient, app: Flask, cc: str, customer: int
) -> None:
    client.post("/sign-in", data={"email": "owner@bloom.test", "password": PASSWORD})
    integration_id = code_flow_integration(app, cc)
    attempt, redirect = allowed_at_sandbox(client, app, integration_id)
    client.post("/sign-out")
    parts = urlsplit(redirect)
    response = client.get(f"{parts.path}?{parts.query}")
    # The code waits, sealed, while the person signs in: never in the next link.
    assert response.headers["Location"] == (
        "/sign-in?next=%2Fcallback%2Fconstant-contact-auth"
    )
    back = client.post(
        response.headers["Location"],
        data={"email": "owner@bloom.test", "password": PASSWORD},
    )
    assert back.headers["Location"] == "/callback/constant-contact-auth"
    assert "Access allowed" in client.get(back.headers["Location"]).text
    assert load(app, integration_id).status == "active"


def test_a_provider_cannot_make_us_link_to_a_script(
    signed_in: FlaskClient, monkeypatch: pytest.MonkeyPatch, device_integration: int
) -> None:
    tamper(monkeypatch, "verification_uri", "verification_uri_complete", "javascript:x")
    response = start_attempt(signed_in, device_integration)
    assert "javascript:" not in response.text
    assert "Constant Contact did not answer properly" in response.text


def test_step_4_posts_need_the_csrf_token(
    app_with: AppWith, customer: int, cc: str, device_integration: int
) -> None:
    app = app_with(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/sign-in").text
    client.post(
        "/sign-in",
        data={
            "email": "owner@bloom.test",
            "password": PASSWORD,
            "csrf_token": csrf_token(page),
        },
    )
    assert start_attempt(client, device_integration).status_code == 400
    assert get_stats(cc)["device_authorizations"] == 0
    before = client.get(f"/integrations/{device_integration}/authorize").text
    response = client.post(
        f"/integrations/{device_integration}/authorize",
        data={"csrf_token": csrf_token(before)},
    )
    assert response.status_code == 302
    attempt = attempt_of(app, device_integration)
    base = f"/integrations/{device_integration}"
    for path in (
        f"{base}/authorize/{attempt.id}/check",
        f"{base}/verify",
        f"{base}/list",
        f"{base}/delete",
    ):
        assert client.post(path).status_code == 400, path


def test_other_organizations_cannot_reach_step_4(
    client: FlaskClient,
    app: Flask,
    cc: str,
    customer: int,
    other_customer: int,
    device_integration: int,
) -> None:
    sign_in(client, "owner@bloom.test")
    attempt = started(client, app, device_integration)
    client.post("/sign-out")
    sign_in(client, "owner@rival.test")
    base = f"/integrations/{device_integration}"
    for method, path in [
        ("get", f"{base}/authorize"),
        ("post", f"{base}/authorize"),
        ("get", f"{base}/authorize/{attempt.id}"),
        ("get", f"{base}/authorize/{attempt.id}/status"),
        ("post", f"{base}/authorize/{attempt.id}/check"),
        ("get", f"{base}/authorize/{attempt.id}/open"),
        ("get", f"{base}/active"),
        ("post", f"{base}/verify"),
        ("get", f"{base}/list"),
        ("post", f"{base}/list"),
    ]:
        assert getattr(client, method)(path).status_code == 404, path
    other_id = make_integration(app, device_app(cc), organization_id=2)
    # An attempt of one integration is not reachable through another.
    assert (
        client.get(f"/integrations/{other_id}/authorize/{attempt.id}").status_code
        == 404
    )
    assert get_stats(cc)["token_requests"]["total"] == 0


def test_a_finished_attempt_gives_the_integration_its_status_back(
    signed_in: FlaskClient,
    app: Flask,
    device_integration: int,
    started_attempt: AuthorizationAttempt,
) -> None:
    assert load(app, device_integration).status == "authorizing"
    make_due(app, started_attempt.id, seconds_left=-1)
    status(signed_in, device_integration, started_attempt.id)
    assert load(app, device_integration).status == "created"
    assert "Waiting for authorization" in signed_in.get("/integrations").text


def test_tokens_that_arrive_after_expiry_still_connect(
    signed_in: FlaskClient, app: Flask, cc: str, device_integration: int
) -> None:
    attempt = started(signed_in, app, device_integration)
    approve_device(cc, attempt.user_code)
    with app.app_context():
        live = db.session.get(AuthorizationAttempt, attempt.id)
        client = client_for(live.integration)
        # This worker asked just in time...
        tokens = client.poll_device_token(live.unseal("device_code_encrypted"))
        # ...while another tab saw the window close.
        live.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        attempts.expire_if_due(live, utcnow())
        assert live.outcome == "expired"
        approval.finish_with_tokens(live, tokens, client)
        assert live.outcome == "approved"
    assert load(app, device_integration).status == "active"
    assert status(signed_in, device_integration, attempt.id)["state"] == "done"


@pytest.mark.parametrize(
    ("field", "value", "interval"),
    [
        # Not a number of seconds at all: refused as garbage, no attempt made.
        ("interval", float("inf"), None),
        ("interval", "soon", None),
        ("user_code", "A" * 100, None),
        ("device_code", ["not", "text"], None),
        # A number out of bounds: kept within them and used.
        ("interval", 10**20, 60),
        ("expires_in", -5, 5),
    ],
)
def test_odd_device_answers_never_break_the_page(
    signed_in: FlaskClient,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    value: Any,
    interval: int | None,
    device_integration: int,
) -> None:
    tamper(monkeypatch, "device_code", field, value)
    response = start_attempt(signed_in, device_integration)
    if interval is None:
        assert response.status_code == 200
        assert "Constant Contact did not answer properly" in response.text
        with app.app_context():
            assert db.session.scalars(db.select(AuthorizationAttempt)).all() == []
        return
    assert response.status_code == 302
    attempt = attempt_of(app, device_integration)
    assert response.headers["Location"] == (
        f"/integrations/{device_integration}/authorize/{attempt.id}"
    )
    assert attempt.interval == interval
    # The page's own 5 minutes: an odd expires_in never lengthens or ends it.
    assert attempt.expires_at - attempt.started_at == timedelta(seconds=300)


def test_odd_token_answers_are_clamped_or_refused(
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    monkeypatch: pytest.MonkeyPatch,
    device_integration: int,
) -> None:
    tamper(monkeypatch, "access_token", "expires_in", 10**20)
    assert allowed_on_device(signed_in, app, cc, device_integration)["state"] == "done"
    saved = load(app, device_integration)
    assert saved.token_expires_at < utcnow() + timedelta(days=367)


def test_a_long_error_from_the_provider_is_cut_down(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = code_flow_integration(app, cc)
    state = state_sent(signed_in, app, integration_id)
    page = signed_in.get(
        "/callback/constant-contact-auth",
        query_string={"state": state, "error": "<b>" + "x" * 500},
        follow_redirects=True,
    )
    assert page.status_code == 200 and "<b>" not in page.text
    assert len(attempt_of(app, integration_id).error_code) <= 80


def test_keys_changed_under_an_attempt(
    app_with: AppWith, customer: int, device_integration: int
) -> None:
    app = app_with()
    client = signed_in_client(app)
    attempt = started(client, app, device_integration)
    rekeyed = app_with(ENCRYPTION_KEYS=Fernet.generate_key().decode())
    other = signed_in_client(rekeyed)
    assert status(other, device_integration, attempt.id)["state"] == "ended"
    page = other.get(f"/integrations/{device_integration}/authorize/{attempt.id}").text
    assert "We could not read what we saved" in page and "Get a new code" in page


def test_opening_twice_sends_the_same_single_use_state(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = code_flow_integration(app, cc)
    attempt = started(signed_in, app, integration_id)
    first = open_window(signed_in, integration_id, attempt.id)
    assert open_window(signed_in, integration_id, attempt.id) == first
    redirect = approve_in_sandbox(first)
    assert "Access allowed" in callback(signed_in, redirect).text
    assert "That code can no longer be used" in callback(signed_in, redirect).text
    with app.app_context():
        refused = db.session.scalars(
            db.select(AuditEvent).filter_by(action="authorization.callback_refused")
        ).all()
    assert [event.details["reason"] for event in refused] == ["state_used"]


def test_two_callbacks_for_one_state_at_once_exchange_once(
    signed_in: FlaskClient, app: Flask, cc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OA-02: two tabs bring the same state at the same moment. Both find the attempt
    before either uses the state; the conditional UPDATE lets one exchange the code
    (held in flight) and the other answers "already used" meanwhile, not a 500."""
    integration_id = code_flow_integration(app, cc)
    attempt, approved = allowed_at_sandbox(signed_in, app, integration_id)
    redirect = urlsplit(approved)
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = signed_in.get_cookie(name)
    assert cookie is not None
    other_tab = app.test_client()
    other_tab.set_cookie(name, cookie.value)

    both_found = threading.Barrier(2, timeout=20)
    exchanging = threading.Event()
    release = threading.Event()
    find = attempts.attempt_for_state
    exchange_code = Client.exchange_code

    def found_by_both(state: str) -> AuthorizationAttempt | None:
        found = find(state)
        both_found.wait()  # neither uses the state before both have found it
        return found

    def held(*args: Any, **kwargs: Any) -> Any:
        exchanging.set()
        release.wait(20)  # in flight until the other callback has its answer
        return exchange_code(*args, **kwargs)

    monkeypatch.setattr(attempts, "attempt_for_state", found_by_both)
    monkeypatch.setattr(Client, "exchange_code", held)
    answers: queue.Queue[tuple[FlaskClient, Any]] = queue.Queue()

    def arrive(tab: FlaskClient) -> None:
        try:
            answers.put((tab, tab.get(f"{redirect.path}?{redirect.query}")))
        except Exception as error:  # a 500 in tests raises: report it, not hang
            answers.put((tab, error))

    threads = [
        threading.Thread(target=arrive, args=(tab,)) for tab in (signed_in, other_tab)
    ]
    for thread in threads:
        thread.start()
    try:
        loser, refused = answers.get(timeout=20)
        # Answered while the other callback's exchange was (and still is) held.
        assert exchanging.wait(20) and not release.is_set()
    finally:
        release.set()
        for thread in threads:
            thread.join(20)
    winner, used = answers.get(timeout=20)
    assert refused.status_code == used.status_code == 303, (refused, used)
    page = loser.get(redirect.path)
    assert page.status_code == 200
    assert "That code can no longer be used" in page.text
    assert "Access allowed" in winner.get(redirect.path).text
    stats = get_stats(cc)["token_requests"]
    assert stats["by_grant_type"] == {"authorization_code": 1}
    saved = load(app, integration_id)
    assert saved.status == "active" and saved.holds_tokens
    with app.app_context():
        actions = list(db.session.scalars(db.select(AuditEvent.action)))
        reasons = [
            event.details["reason"]
            for event in db.session.scalars(
                db.select(AuditEvent).filter_by(action="authorization.callback_refused")
            )
        ]
    assert actions.count("authorization.approved") == 1 and reasons == ["state_used"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("timeout", KEEP_CHECKING),
        ("unreachable", KEEP_CHECKING),
        ("unavailable", KEEP_CHECKING),
        ("garbage", KEEP_CHECKING),
        ("throttled", SLOWER),
        ("slow_down", SLOWER),
        # Not passing failures: the attempt ends or goes on without a note.
        ("quota_exceeded", None),
        ("authorization_pending", None),
        ("access_denied", None),
        (None, None),
    ],
)
def test_waiting_notes_are_words(
    app: Flask, code: str | None, expected: str | None
) -> None:
    with app.test_request_context():
        assert waiting_note(code) == expected


def test_a_slow_constant_contact_holds_up_no_status_check_or_claim(
    app: Flask, cc: str, signed_in: FlaskClient, device_integration: int
) -> None:
    """While the poller's ask is held at Constant Contact, her checks answer at
    once from the rows, without asking; another poller's turn claims nothing."""
    attempt = started(signed_in, app, device_integration)
    path = f"/integrations/{device_integration}/authorize/{attempt.id}/status"
    with pollers_turn_held_at(app, cc, "token"):
        for _ in range(3):
            assert signed_in.get(path).get_json()["state"] == "waiting"
        # Another poller (thread, worker or host) finds the code claimed.
        assert pollers_turn(app) == 0
        # The checks did not wait for the held ask, and asked nothing themselves.
        assert held(cc, "token") == {"taken": 1, "waiting": 1}
        assert answered(cc, "token") == 0
        assert poll_count(app, attempt.id) == 1
    assert answered(cc, "token") == 1
    assert get_stats(cc)["device_polls"] == 1


def test_while_the_poller_checks_her_list_the_page_keeps_its_countdown(
    app: Flask, cc: str, signed_in: FlaskClient, device_integration: int
) -> None:
    """Allowed, and the poller is checking her list (held at Constant Contact): the
    check says so and keeps the seconds left, so the page neither reloads nor ends;
    once the list is checked, done."""
    attempt = started(signed_in, app, device_integration)
    path = f"/integrations/{device_integration}/authorize/{attempt.id}/status"
    approve_device(cc, attempt.user_code)
    with pollers_turn_held_at(app, cc, "contact_list"):
        checking = signed_in.get(path).get_json()
        assert checking["state"] == "waiting"
        assert checking["note"] == status_checks.CHECKING_NOTE
        assert checking["seconds_left"] > 200
    assert signed_in.get(path).get_json()["state"] == "done"
