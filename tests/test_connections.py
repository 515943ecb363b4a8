"""Keeping connections working: refresh once for many, keep-alive, check, actions."""

import os
import subprocess
import threading
from collections import Counter
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner
from sqlalchemy import event

from tests.helpers.app import AppWith
from tests.helpers.app import base_config
from tests.helpers.attempts import attempt_of
from tests.helpers.attempts import make_due
from tests.helpers.attempts import start_attempt
from tests.helpers.attempts import status
from tests.helpers.connections import connect
from tests.helpers.connections import expire
from tests.helpers.integrations import load
from tests.helpers.live import gunicorn
from tests.helpers.live import press_at_once
from tests.helpers.live import pressing_at_once
from tests.helpers.live import signed_in_session
from tests.helpers.live import wizard_environment
from tests.helpers.races import one_refresh_for_all
from tests.helpers.races import room_for
from tests.helpers.races import wait_until_waiting_at_the_lock
from tests.helpers.sandbox import give_up_sooner
from tests.helpers.sandbox import sandbox_server
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.users import PASSWORD
from tests.helpers.users import sign_in
from tests.helpers.users import signed_in_client
from wizard.constant_contact import api
from wizard.constant_contact.client import client_for
from wizard.constant_contact.http import ProviderError
from wizard.domain import pacing
from wizard.domain import tokens
from wizard.domain import verification
from wizard.domain.problems import connection_problem
from wizard.domain.problems import problem_for
from wizard.models import Integration
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox import seed
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import held
from wizard.sandbox.testing import hold
from wizard.sandbox.testing import release
from wizard.sandbox.testing import set_faults
from wizard.sandbox.testing import wait_until_held

pytestmark = pytest.mark.sandboxed

USERS = 20
# Test connection pressed at once on one integration, and how many the limit lets in.
FLOOD = 100
ADMITTED = 3


@pytest.mark.parametrize("mode", ["long_lived", "rotating"])
def test_twenty_users_of_an_expired_connection_cause_one_refresh(
    signed_in: FlaskClient, app: Flask, cc: str, database_url: str, mode: str
) -> None:
    """The first refresh is held at Constant Contact until the other 19 wait for it.

    Every refresh is held (a second one would be counted there), and the other
    requests are seen waiting at the row lock before the first is let go: each
    arrived while the refresh was in flight, and none refreshed again after it.
    """
    integration_id = connect(signed_in, app, cc, mode)
    expire(app, integration_id)
    before = get_stats(cc)["refreshes"]
    settings = base_config(database_url) | sandbox_settings(cc) | room_for(USERS)
    settings["PUBLIC_BASE_URL"] = "http://127.0.0.1"
    # Many people on one connection at once is the point; the limit has its own test.
    settings["CONNECTION_ACTION_RATE_LIMIT"] = "1000 per minute"
    masters: list[subprocess.Popen[bytes]] = []
    with gunicorn(wizard_environment(settings), workers=4, started=masters) as url:
        session = signed_in_session(url, "owner@bloom.test", PASSWORD)
        test_url = f"{url}/integrations/{integration_id}/test"
        hold(cc, "token", grant_type="refresh_token")
        with pressing_at_once(session, [test_url] * USERS) as answers:
            one_refresh_for_all(app, cc, USERS - 1, masters)
    pages = [answer.text for answer in answers]
    assert len(pages) == USERS
    assert all("The connection works" in page for page in pages)
    assert get_stats(cc)["refreshes"] - before == 1
    saved = load(app, integration_id)
    assert saved.status == "active" and saved.token_expires_at > utcnow()


CALLERS = 5


@pytest.mark.parametrize("mode", ["long_lived", "rotating"])
def test_callers_that_arrive_during_a_refresh_wait_and_share_its_token(
    signed_in: FlaskClient, app: Flask, cc: str, app_with: AppWith, mode: str
) -> None:
    """Threads of one process: one refresh is held while the others reach the lock."""
    integration_id = connect(signed_in, app, cc, mode)
    expire(app, integration_id)
    before = get_stats(cc)["refreshes"]
    # The held refresh waits for the test, never for its timeout.
    patient = app_with(CC_HTTP_TIMEOUT_SECONDS=60)
    got: dict[str, str] = {}
    asked: Counter[str] = Counter()

    def count_lock_requests(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        caller = threading.current_thread()
        if caller in callers and (
            "FOR UPDATE" in statement or statement.startswith("BEGIN IMMEDIATE")
        ):
            asked[caller.name] += 1

    def use() -> None:
        name = threading.current_thread().name
        with patient.app_context():
            row = db.session.get(Integration, integration_id)
            try:
                got[name] = tokens.access_token(row)
            except tokens.ConnectionProblem as problem:
                got[name] = f"no token: {problem.code}"

    callers = [threading.Thread(target=use, name=f"caller {n}") for n in range(CALLERS)]
    with patient.app_context():
        event.listen(db.engine, "before_cursor_execute", count_lock_requests)
    hold(cc, "token", grant_type="refresh_token")
    for caller in callers:
        caller.start()
    try:
        wait_until_held(cc, "token", 1)
        wait_until_waiting_at_the_lock(
            patient,
            CALLERS - 1,
            [os.getpid()],
            {caller.native_id for caller in callers if caller.native_id},
        )
        assert held(cc, "token") == {"taken": 1, "waiting": 1}
        # Each asked for the lock once: one holds it (its refresh held), four wait.
        assert sorted(asked.values()) == [1] * CALLERS
    finally:
        release(cc, "token")
        for caller in callers:
            caller.join()
    # Counted, not shown: a failure message prints no token.
    distinct = len(set(got.values()))
    assert (len(got), distinct) == (CALLERS, 1)
    assert get_stats(cc)["refreshes"] - before == 1
    with app.app_context():
        row = db.session.get(Integration, integration_id)
        stored = row.unseal("access_token_encrypted") in got.values()
    assert stored


def test_a_refresh_that_never_reached_the_database(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    """The process died between Constant Contact's answer and the commit."""
    long_lived = connect(signed_in, app, cc, "long_lived")
    rotating = connect(signed_in, app, cc, "rotating")
    with app.app_context():
        for integration_id in (long_lived, rotating):
            row = db.session.get(Integration, integration_id)
            client_for(row).refresh_tokens(row.unseal("refresh_token_encrypted"))
        # Long-lived tokens survive it.
        tokens.access_token(db.session.get(Integration, long_lived), force=True)
        # A rotated-away token is refused: the status says so, never "Active".
        with pytest.raises(tokens.ConnectionProblem) as caught:
            tokens.access_token(db.session.get(Integration, rotating), force=True)
    assert caught.value.code == "invalid_grant"
    assert load(app, long_lived).status == "active"
    assert load(app, rotating).status == "needs_reauthorization"
    listing = signed_in.get("/integrations").text
    assert "Needs re-authorization" in listing and "Re-authorize now" in listing
    # In the words of a saved connection, not step 4's "That code can no longer be
    # used": the person used no code here.
    assert "ran out after 180 days unused" in listing
    assert "can no longer be used" not in listing
    # The access token in hand still works, but the connection stays marked.
    works_for_now = signed_in.post(f"/integrations/{rotating}/test").text
    assert "It works for now: authorize again" in works_for_now
    assert "The connection works" not in works_for_now
    assert load(app, rotating).status == "needs_reauthorization"
    expire(app, rotating)  # so that testing it needs the refused refresh
    tested = signed_in.post(f"/integrations/{rotating}/test").text
    assert "Constant Contact no longer accepts this connection" in tested
    assert "can no longer be used" not in tested


def test_a_caller_that_lost_the_race_adopts_the_winners_token(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc, "rotating")
    expire(app, integration_id)
    with app.app_context():
        stale = db.session.get(Integration, integration_id)
        db.session.expunge(stale)  # what a slower caller read before the refresh
        winner = tokens.access_token(db.session.get(Integration, integration_id))
        assert tokens.access_token(stale) == winner
    assert get_stats(cc)["refreshes"] == 1


def test_keep_alive_picks_by_age(
    signed_in: FlaskClient, app: Flask, cc: str, runner: FlaskCliRunner
) -> None:
    fresh, expiring, idle = (connect(signed_in, app, cc) for _ in range(3))
    with app.app_context():
        db.session.get(Integration, expiring).token_expires_at = utcnow() + timedelta(
            minutes=30
        )
        db.session.get(Integration, idle).last_refreshed_at = utcnow() - timedelta(
            days=45
        )
        db.session.commit()
        chosen = [i.id for i in tokens.due_for_keepalive()]
    assert chosen == [expiring, idle]
    result = runner.invoke(args=["integrations", "refresh", "--due"])
    assert result.exit_code == 0, result.output
    assert "2 refreshed, 0 failed" in result.output
    assert get_stats(cc)["refreshes"] == 2
    assert load(app, idle).last_refreshed_at > utcnow() - timedelta(minutes=1)
    assert load(app, fresh).token_expires_at > utcnow() + timedelta(hours=20)
    with app.app_context():
        assert tokens.due_for_keepalive() == []


def test_check_command_and_test_connection(
    signed_in: FlaskClient, app: Flask, cc: str, runner: FlaskCliRunner
) -> None:
    integration_id = connect(signed_in, app, cc)
    result = runner.invoke(args=["integrations", "check", str(integration_id)])
    assert result.exit_code == 0, result.output
    assert f"{integration_id}\tok\tNewsletter\t{seed.NEWSLETTER_MEMBERS} members" in (
        result.output
    )
    page = signed_in.get(f"/integrations/{integration_id}/test").text
    assert "Test connection" in page and "Nothing is changed" in page
    page = signed_in.post(f"/integrations/{integration_id}/test").text
    assert "The connection works" in page and f"{seed.NEWSLETTER_MEMBERS:,}" in page

    set_faults(cc, {"contact_list": "503"})
    page = signed_in.post(f"/integrations/{integration_id}/test").text
    assert "Constant Contact did not answer properly" in page
    # Never "Active" while calls fail.
    saved = load(app, integration_id)
    assert saved.status == "failing" and saved.last_error_code == "unavailable"
    listing = signed_in.get("/integrations").text
    assert "Not working right now" in listing and "Test the connection again" in listing
    result = runner.invoke(args=["integrations", "check"])
    assert result.exit_code == 1 and "problem\tunavailable" in result.output
    set_faults(cc, {})
    signed_in.post(f"/integrations/{integration_id}/test")
    recovered = load(app, integration_id)
    assert recovered.status == "active" and recovered.last_error_code is None


def test_a_deleted_list_is_never_active(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    with app.app_context():
        db.session.get(Integration, integration_id).list_id = seed.DELETED_LIST_ID
        db.session.commit()
    page = signed_in.post(f"/integrations/{integration_id}/test").text
    assert "We could not find your list" in page and "Choose the list again" in page
    assert load(app, integration_id).status == "list_not_found"
    assert "List not found" in signed_in.get("/integrations").text


@pytest.mark.parametrize("fault", [None, "503"])
def test_disconnect_says_honestly_what_happened(
    signed_in: FlaskClient, app: Flask, cc: str, fault: str | None
) -> None:
    integration_id = connect(signed_in, app, cc)
    with app.app_context():
        access = db.session.get(Integration, integration_id).unseal(
            "access_token_encrypted"
        )
    if fault:
        set_faults(cc, {"revoke": fault})
    page = signed_in.get(f"/integrations/{integration_id}/disconnect").text
    assert "Disconnect" in page and "Keep it connected" in page
    page = signed_in.post(f"/integrations/{integration_id}/disconnect").text
    saved = load(app, integration_id)
    assert saved.status == "disconnected" and not saved.holds_tokens
    api = requests.get(
        f"{cc}/v3/account/summary",
        headers={"Authorization": f"Bearer {access}"},
        timeout=10,
    )
    if fault:
        assert "did not confirm" in page and "My Applications" in page
    else:
        assert "Constant Contact confirmed" in page
        assert api.status_code == 401
    assert "Disconnected" in signed_in.get("/integrations").text


def test_delete_disconnects_first(signed_in: FlaskClient, app: Flask, cc: str) -> None:
    integration_id = connect(signed_in, app, cc)
    page = signed_in.get(f"/integrations/{integration_id}/delete").text
    assert "Disconnect and delete" in page
    response = signed_in.post(f"/integrations/{integration_id}/delete")
    assert response.headers["Location"] == "/integrations"
    assert get_stats(cc)["revocations"] == 2
    with app.app_context():
        assert db.session.get(Integration, integration_id) is None


def test_add_contact(
    signed_in: FlaskClient, app: Flask, cc: str, runner: FlaskCliRunner
) -> None:
    # The VIP list: other tests count the Newsletter's members.
    integration_id = connect(signed_in, app, cc, list_id=seed.VIP_LIST_ID)
    args = ["integrations", "add-contact", str(integration_id), "new@customer.test"]
    assert runner.invoke(args=args).exit_code != 0  # consent is required
    args += ["--consent", "ticked the box at checkout"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, (first.output, first.exception)
    second = runner.invoke(args=args)
    assert first.output.strip() == "new@customer.test: created"
    assert second.output.strip() == "new@customer.test: updated"


@pytest.mark.parametrize(
    ("code", "heading"),
    [
        ("unauthorized", "Constant Contact does not recognise this API Key"),
        ("forbidden", "Constant Contact would not show us the list"),
        ("list_not_found", "We could not find your list"),
        ("list_deleted", "We could not find your list"),
        ("throttled", "Constant Contact asked us to slow down"),
        ("quota_exceeded", "Constant Contact's daily limit is used up"),
        ("unavailable", "Constant Contact did not answer properly"),
        ("timeout", "Constant Contact did not answer properly"),
        ("garbage", "Constant Contact did not answer properly"),
        ("invalid_grant", "That code can no longer be used"),
    ],
)
def test_the_translator_table(code: str, heading: str) -> None:
    problem = problem_for(code)
    assert problem.heading == heading
    assert code not in problem.text
    # A saved connection says the same, except where step 4's words would mislead.
    saved = connection_problem(code)
    if code == "invalid_grant":
        assert saved.heading == "Constant Contact no longer accepts this connection"
    else:
        assert saved == problem


def test_the_daily_quota_is_not_asked_again_until_tomorrow(
    app_with: AppWith, customer: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with sandbox_server(tmp_path_factory, SANDBOX_DAILY_LIMIT=3) as small:
        app = app_with(**sandbox_settings(small.base_url))
        client = signed_in_client(app)
        integration_id = connect(client, app, small.base_url)  # 2 calls: account, list
        assert (
            "The connection works"
            in client.post(f"/integrations/{integration_id}/test").text
        )
        page = client.post(f"/integrations/{integration_id}/test").text
        assert "daily limit is used up" in page
        calls = get_stats(small.base_url)["api_calls"]["total"]
        page = client.post(f"/integrations/{integration_id}/test").text
        assert "daily limit is used up" in page
        assert get_stats(small.base_url)["api_calls"]["total"] == calls


def test_re_authorize_keeps_the_old_tokens_until_the_new_ones_work(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    before = load(app, integration_id)
    with app.app_context():
        old_access = before.unseal("access_token_encrypted")

    # Allowed from another account, which does not have the list: nothing changes.
    start_attempt(signed_in, integration_id)
    attempt = attempt_of(app, integration_id)
    approve_device(cc, attempt.user_code, email=seed.OTHER_LOGIN_EMAIL)
    make_due(app, attempt.id)
    assert status(signed_in, integration_id, attempt.id)["state"] == "ended"
    page = signed_in.get(f"/integrations/{integration_id}/authorize/{attempt.id}").text
    assert "We could not find your list" in page
    assert "Your current connection keeps working" in page
    kept = load(app, integration_id)
    assert kept.status == "active"
    with app.app_context():
        assert kept.unseal("access_token_encrypted") == old_access
    revoked_before = get_stats(cc)["revocations"]

    # Allowed from the right account: the new tokens replace the old ones.
    start_attempt(signed_in, integration_id)
    attempt = attempt_of(app, integration_id)
    approve_device(cc, attempt.user_code)
    make_due(app, attempt.id)
    assert status(signed_in, integration_id, attempt.id)["state"] == "done"
    after = load(app, integration_id)
    assert (after.id, after.name, after.list_id) == (
        before.id,
        before.name,
        before.list_id,
    )
    with app.app_context():
        assert after.unseal("access_token_encrypted") != old_access
    assert get_stats(cc)["revocations"] > revoked_before  # the old grant given back
    api = requests.get(
        f"{cc}/v3/account/summary",
        headers={"Authorization": f"Bearer {old_access}"},
        timeout=10,
    )
    assert api.status_code == 401


def test_the_quota_block_lifts_the_next_day(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        integration.last_error_code = "quota_exceeded"
        integration.last_checked_at = utcnow() - timedelta(days=1)
        db.session.commit()
        calls = get_stats(cc)["api_calls"]["total"]
        verification.check(integration)
        assert get_stats(cc)["api_calls"]["total"] == calls + 1
    assert load(app, integration_id).status == "active"


def test_a_refresh_that_fails_for_now_is_not_active(
    signed_in: FlaskClient, app: Flask, cc: str, runner: FlaskCliRunner
) -> None:
    integration_id = connect(signed_in, app, cc)
    expire(app, integration_id)
    set_faults(cc, {"token": "503"})
    result = runner.invoke(args=["integrations", "refresh", "--due"])
    assert result.exit_code == 1 and "problem\tunavailable" in result.output
    assert load(app, integration_id).status == "failing"
    assert "Not working right now" in signed_in.get("/integrations").text
    set_faults(cc, {})
    assert runner.invoke(args=["integrations", "refresh", "--due"]).exit_code == 0
    signed_in.post(f"/integrations/{integration_id}/test")
    assert load(app, integration_id).status == "active"


def test_an_abandoned_re_authorization_leaves_the_connection_as_it_was(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    start_attempt(signed_in, integration_id)
    attempt = attempt_of(app, integration_id)
    assert load(app, integration_id).status == "active"
    make_due(app, attempt.id, seconds_left=-1)
    status(signed_in, integration_id, attempt.id)
    assert load(app, integration_id).status == "active"
    assert "Re-authorize" in signed_in.get("/integrations").text


def test_disconnected_or_deleted_underneath_a_caller(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    first = connect(signed_in, app, cc)
    second = connect(signed_in, app, cc)
    for integration_id in (first, second):
        expire(app, integration_id)
    with app.app_context():
        stale = db.session.get(Integration, first)
        db.session.expunge(stale)
        tokens.disconnect(db.session.get(Integration, first))
        db.session.commit()
        with pytest.raises(tokens.ConnectionProblem) as caught:
            tokens.access_token(stale)
        assert caught.value.code == "not_connected"
        gone = db.session.get(Integration, second)
        db.session.expunge(gone)  # what a slower request had loaded
        db.session.delete(db.session.get(Integration, second))
        db.session.commit()
        with pytest.raises(tokens.ConnectionProblem):
            verification.check(gone)
    assert load(app, first).status == "disconnected"


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("503", "unavailable"),
        ("500", "unavailable"),
        ("html", "unavailable"),
        ("garbage", "garbage"),
        ("429", "throttled"),
        ("timeout", "timeout"),
    ],
)
def test_api_answers_become_codes(
    signed_in: FlaskClient, app: Flask, cc: str, fault: str, code: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    give_up_sooner(app, fault)
    set_faults(cc, {"contact_list": fault})
    with app.app_context():
        with pytest.raises(tokens.ConnectionProblem) as caught:
            verification.check(db.session.get(Integration, integration_id))
    assert caught.value.code == code
    assert load(app, integration_id).status == "failing"


def test_a_401_refreshes_once_and_tries_again(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        access = integration.unseal("access_token_encrypted")
        requests.post(
            f"{cc}/oauth2/default/v1/revoke",
            data={"token": access, "client_id": integration.api_key},
            timeout=10,
        ).raise_for_status()
        found = verification.check(integration)
    assert found.name == "Newsletter"
    assert get_stats(cc)["refreshes"] == 1


def refresh_requests(cc: str) -> tuple[int, int]:
    """Return the sandbox's refreshes, counted two ways: grants and token requests."""
    stats = get_stats(cc)
    by_grant = stats["token_requests"]["by_grant_type"]
    return stats["refreshes"], by_grant.get("refresh_token", 0)


@pytest.mark.parametrize(("minutes_left", "refreshes"), [(4, 1), (6, 0)])
def test_a_token_is_refreshed_five_minutes_before_it_expires(
    signed_in: FlaskClient, app: Flask, cc: str, minutes_left: int, refreshes: int
) -> None:
    integration_id = connect(signed_in, app, cc)
    expires = utcnow() + timedelta(minutes=minutes_left)
    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        stored = integration.unseal("access_token_encrypted")
        integration.token_expires_at = expires
        db.session.commit()
        assert refresh_requests(cc) == (0, 0)
        token = tokens.access_token(db.session.get(Integration, integration_id))
    assert refresh_requests(cc) == (refreshes, refreshes)
    saved = load(app, integration_id)
    if refreshes:
        assert token != stored and saved.token_expires_at > utcnow() + timedelta(
            hours=1
        )
    else:
        assert token == stored and saved.token_expires_at == expires


def test_keep_alive_edges_two_hours_ahead_and_thirty_days_idle(
    signed_in: FlaskClient, app: Flask, cc: str, runner: FlaskCliRunner
) -> None:
    """Due: expiring within 2 hours, or refreshed more than 30 days ago; no sooner."""
    ids = [connect(signed_in, app, cc) for _ in range(4)]
    now = utcnow()
    ages = {  # integration: (expires in, last refreshed ago)
        ids[0]: (timedelta(hours=1, minutes=59), timedelta(days=1)),  # due
        ids[1]: (timedelta(hours=2, minutes=1), timedelta(days=1)),
        ids[2]: (timedelta(hours=20), timedelta(days=30, minutes=1)),  # due
        ids[3]: (timedelta(hours=20), timedelta(days=29, hours=23)),
    }
    with app.app_context():
        for integration_id, (expires_in, refreshed_ago) in ages.items():
            integration = db.session.get(Integration, integration_id)
            integration.token_expires_at = now + expires_in
            integration.last_refreshed_at = now - refreshed_ago
        db.session.commit()
        assert [i.id for i in tokens.due_for_keepalive()] == [ids[0], ids[2]]
    assert refresh_requests(cc) == (0, 0)
    result = runner.invoke(args=["integrations", "refresh", "--due"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{ids[0]}\trefreshed",
        f"{ids[2]}\trefreshed",
        "2 refreshed, 0 failed",
    ]
    assert refresh_requests(cc) == (2, 2)
    for integration_id in (ids[0], ids[2]):
        assert load(app, integration_id).last_refreshed_at > now
    for integration_id in (ids[1], ids[3]):
        untouched = load(app, integration_id)
        assert untouched.last_refreshed_at == now - ages[integration_id][1]
        assert untouched.token_expires_at == now + ages[integration_id][0]


def test_pace_past_the_request_budget_answers_throttled_at_once(
    signed_in: FlaskClient, app: Flask, cc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration_id = connect(signed_in, app, cc)
    budget = app.config["CC_REQUEST_BUDGET_SECONDS"]
    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        integration.api_next_call_at = utcnow() + timedelta(seconds=budget + 60)
        db.session.commit()
        booked = integration.api_next_call_at
    sleeps: list[float] = []
    monkeypatch.setattr(pacing.time, "sleep", sleeps.append)
    calls = get_stats(cc)["api_calls"]["total"]
    with app.test_request_context(), pytest.raises(ProviderError) as caught:
        pacing.pace(db.session.get(Integration, integration_id))
    assert caught.value.code == "throttled"
    assert sleeps == []
    # Nothing booked for a call that will not be made: the next slot is as it was.
    assert load(app, integration_id).api_next_call_at == booked
    # Through the page: the plain words, and Constant Contact never asked.
    page = signed_in.post(f"/integrations/{integration_id}/test").text
    assert "Constant Contact asked us to slow down" in page
    assert sleeps == []
    assert get_stats(cc)["api_calls"]["total"] == calls
    assert load(app, integration_id).api_next_call_at == booked


def test_pace_that_never_wins_a_slot_refuses_rather_than_calls_unpaced(
    signed_in: FlaskClient, app: Flask, cc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other callers book the next slot between every read and every booking."""
    integration_id = connect(signed_in, app, cc)
    sleeps: list[float] = []
    monkeypatch.setattr(pacing.time, "sleep", sleeps.append)
    lost: list[str] = []
    booking: Any = None

    def booking_on(connection: Any) -> None:
        nonlocal booking
        booking = connection

    def someone_else_books_first(
        conn: Any, cursor: Any, statement: str, *args: Any
    ) -> None:
        if statement.startswith("UPDATE integration SET api_next_call_at") and (
            conn is not booking
        ):
            lost.append(statement)
            with db.engine.connect() as other:  # another worker, its own connection
                booking_on(other)
                other.execute(
                    db.update(Integration)
                    .where(Integration.id == integration_id)
                    .values(api_next_call_at=utcnow() + timedelta(milliseconds=300))
                )
                other.commit()

    with app.test_request_context():
        event.listen(db.engine, "before_cursor_execute", someone_else_books_first)
        try:
            with pytest.raises(ProviderError) as caught:
                pacing.pace(db.session.get(Integration, integration_id))
        finally:
            event.remove(db.engine, "before_cursor_execute", someone_else_books_first)
    assert caught.value.code == "throttled"
    assert len(lost) == pacing.BOOKING_TRIES and sleeps == []


def test_the_connection_actions_share_one_limit_per_integration(
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    other_customer: int,
    support_user: int,
) -> None:
    integration_id = connect(signed_in, app, cc)
    app.config["CONNECTION_ACTION_RATE_LIMIT"] = "3 per minute"
    stranger = app.test_client()
    sign_in(stranger, "owner@rival.test")
    # Another organization's presses find nothing and are counted apart: they use
    # up their own presses (the same for any number), never the owner's.
    pressed = [stranger.post(f"/integrations/{integration_id}/test") for _ in range(5)]
    assert [answer.status_code for answer in pressed] == [404, 404, 404, 429, 429]
    assert signed_in.post(f"/integrations/{integration_id}/test").status_code == 200
    assert signed_in.post(f"/integrations/{integration_id}/verify").status_code == 302
    changed = signed_in.post(
        f"/integrations/{integration_id}/list",
        data={"list_id": seed.NEWSLETTER_LIST_ID},
    )
    assert changed.status_code == 302
    calls = get_stats(cc)["api_calls"]["total"]
    for path in ("test", "verify", "list"):
        refused = signed_in.post(f"/integrations/{integration_id}/{path}")
        assert refused.status_code == 429
        assert "Too many attempts" in refused.text
        assert "Wait a minute, then try again." in refused.text
    assert get_stats(cc)["api_calls"]["total"] == calls
    # Reading the pages is never limited.
    assert signed_in.get(f"/integrations/{integration_id}/test").status_code == 200
    # Support's Test connection has its own count for the integration.
    helper = app.test_client()
    sign_in(helper, "helper@promopulse.test")
    tested = [
        helper.post(f"/support/integrations/{integration_id}/test") for _ in range(4)
    ]
    assert [answer.status_code for answer in tested] == [302, 302, 302, 429]
    assert "Too many attempts" in tested[-1].text
    assert get_stats(cc)["api_calls"]["total"] == calls + 3


def test_a_flood_of_test_connection_leaves_other_customers_served(
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    database_url: str,
    other_customer: int,
) -> None:
    integration_id = connect(signed_in, app, cc)
    settings = base_config(database_url) | sandbox_settings(cc)
    settings |= {
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        # One count for both workers, so exactly the limit gets through.
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"wizard-test-{uuid4().hex}",
        # Fewer than a worker's 4 threads: whatever the spread, each keeps one free.
        "CONNECTION_ACTION_RATE_LIMIT": f"{ADMITTED} per minute",
    }
    env = wizard_environment(settings) | {"WIZARD_THREADS": "4"}
    answers: list[requests.Response] = []
    lists_read = get_stats(cc)["api_calls"]["by_endpoint"]["contact_list"]
    hold(cc, "contact_list")
    with gunicorn(env, workers=2) as base_url:
        session = signed_in_session(base_url, "owner@bloom.test", PASSWORD)
        rival = signed_in_session(base_url, "owner@rival.test", PASSWORD)
        test_url = f"{base_url}/integrations/{integration_id}/test"
        flood = threading.Thread(
            target=lambda: answers.extend(press_at_once(session, [test_url] * FLOOD))
        )
        flood.start()
        try:
            wait_until_held(cc, "contact_list", ADMITTED)
            in_flight = held(cc, "contact_list")
            # Another organization's page answers while those calls are held...
            page = rival.get(f"{base_url}/integrations", timeout=30)
            assert page.status_code == 200 and "Integrations" in page.text
            # ...and they are still held: it did not wait for them.
            assert held(cc, "contact_list") == in_flight
        finally:
            release(cc, "contact_list")
            flood.join()
    assert in_flight == {"taken": ADMITTED, "waiting": ADMITTED}
    by_endpoint = get_stats(cc)["api_calls"]["by_endpoint"]
    assert by_endpoint["contact_list"] - lists_read == ADMITTED
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * ADMITTED + [429] * (FLOOD - ADMITTED)
    worked = [a for a in answers if "The connection works" in a.text]
    throttled = [a for a in answers if "asked us to slow down" in a.text]
    refused = [
        a
        for a in answers
        if a.status_code == 429
        and "Too many attempts" in a.text
        and "Wait a minute, then try again." in a.text
    ]
    # Each admitted call had its slot within the page's budget: none was throttled.
    assert (len(worked), len(throttled), len(refused)) == (
        ADMITTED,
        0,
        FLOOD - ADMITTED,
    )


def test_a_throttled_call_is_tried_again_only_within_the_budget(
    signed_in: FlaskClient, app: Flask, cc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration_id = connect(signed_in, app, cc)
    set_faults(cc, {"contact_list": "429"})
    sleeps: list[float] = []
    monkeypatch.setattr(pacing.time, "sleep", sleeps.append)
    asked: list[str] = []  # the sandbox does not count answers a fault replaced

    def get_list(*args: Any) -> Any:
        asked.append(args[2])
        return real_get_list(*args)

    real_get_list = api.get_list
    monkeypatch.setattr(api, "get_list", get_list)
    with app.app_context():  # the CLI: no budget, so one pause and one more try
        with pytest.raises(tokens.ConnectionProblem) as caught:
            verification.check(db.session.get(Integration, integration_id))
    assert caught.value.code == "throttled"
    assert pacing.THROTTLED_PAUSE in sleeps
    assert len(asked) == 2
    # A page whose budget cannot wait out the pause says so after the first answer.
    app.config["CC_REQUEST_BUDGET_SECONDS"] = pacing.THROTTLED_PAUSE
    with app.app_context():  # the unslept waits above booked slots ahead: free them
        db.session.get(Integration, integration_id).api_next_call_at = None
        db.session.commit()
    sleeps.clear()
    page = signed_in.post(f"/integrations/{integration_id}/test").text
    assert "Constant Contact asked us to slow down" in page
    assert pacing.THROTTLED_PAUSE not in sleeps
    assert len(asked) == 3
