"""Step 4 never throws an approval away: every code it asked for is listened to until
Constant Contact's own expiry, the first approval wins, the others are left to expire.

Over real HTTP against the local Constant Contact, whose clock the tests move
(/__sandbox__/clock) as they move the wizard's rows.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import AppWith
from tests.helpers.attempts import age
from tests.helpers.attempts import attempt_of
from tests.helpers.attempts import callback
from tests.helpers.attempts import make_due
from tests.helpers.attempts import open_window
from tests.helpers.attempts import started
from tests.helpers.attempts import status
from tests.helpers.integrations import code_flow_integration
from tests.helpers.integrations import load
from tests.helpers.integrations import make_integration
from tests.helpers.sandbox import approve_in_sandbox
from tests.helpers.sandbox import device_app
from tests.helpers.sandbox import sandbox_server
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.users import signed_in_client
from wizard.domain import polling
from wizard.models import AuditEvent
from wizard.models import AuthorizationAttempt
from wizard.platform import locks
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox.testing import advance_clock
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import hold
from wizard.sandbox.testing import release
from wizard.sandbox.testing import wait_until_held

pytestmark = pytest.mark.sandboxed

CONFIRMED = "Constant Contact confirmed at"
# Constant Contact's own interval between polls of one code: the sandbox answers
# slow_down to a code asked again sooner, by its clock.
INTERVAL = 5


def polls_by_code(cc: str) -> dict[str, int]:
    """How often Constant Contact was asked about each code, by its user code."""
    return get_stats(cc)["device_polls_by_user_code"]


def all_due(app: Flask, cc: str, *attempt_ids: int) -> None:
    """Let the interval pass, for the wizard's rows and Constant Contact's clock."""
    for attempt_id in attempt_ids:
        make_due(app, attempt_id)
    advance_clock(cc, INTERVAL + 1)


def actions(app: Flask) -> list[str]:
    """Every audit event's action, oldest first."""
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEvent.action)))


def row(app: Flask, attempt_id: int) -> AuthorizationAttempt:
    """The attempt as saved, detached."""
    with app.app_context():
        found = db.session.get(AuthorizationAttempt, attempt_id)
        db.session.expunge(found)
        return found


def test_approval_on_an_older_code_after_get_a_new_code_connects(
    signed_in: FlaskClient, app: Flask, cc: str, device_integration: int
) -> None:
    first = started(signed_in, app, device_integration)
    newer = started(signed_in, app, device_integration)  # "Get a new code"
    assert row(app, first.id).outcome == "replaced"
    assert status(signed_in, device_integration, newer.id)["state"] == "waiting"
    # The newest page's check asked about both codes, each once.
    assert polls_by_code(cc) == {first.user_code: 1, newer.user_code: 1}

    # She finishes in the Constant Contact tab she already had open.
    approve_device(cc, first.user_code)
    all_due(app, cc, first.id, newer.id)
    result = status(signed_in, device_integration, newer.id)
    assert result == {
        "state": "done",
        "next": f"/integrations/{device_integration}/active",
    }
    page = signed_in.get(result["next"]).text
    assert "Your integration is now active!" in page
    assert CONFIRMED in page and "you are connected" in page
    saved = load(app, device_integration)
    assert saved.status == "active" and saved.holds_tokens
    assert row(app, first.id).outcome == "approved"
    assert row(app, newer.id).outcome == "replaced"
    # The older tab's page ends there too.
    assert status(signed_in, device_integration, first.id)["state"] == "done"


@pytest.fixture(scope="module")
def long_codes_cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local Constant Contact whose device codes live 900 s, past step 4's 300."""
    with sandbox_server(tmp_path_factory, SANDBOX_DEVICE_CODE_EXPIRES_IN=900) as server:
        yield server.base_url


def long_codes_attempt(
    app_with: AppWith, long_codes_cc: str
) -> tuple[Flask, FlaskClient, int, AuthorizationAttempt]:
    """An app on the long-codes sandbox, its signed-in client, an integration and
    an attempt started on it."""
    app = app_with(**sandbox_settings(long_codes_cc))
    client = signed_in_client(app)
    integration_id = make_integration(app, device_app(long_codes_cc))
    attempt = started(client, app, integration_id)
    return app, client, integration_id, attempt


def test_approval_after_the_window_before_constant_contacts_expiry_connects(
    app_with: AppWith, customer: int, long_codes_cc: str
) -> None:
    app, client, integration_id, attempt = long_codes_attempt(app_with, long_codes_cc)
    # The page's 5 minutes; Constant Contact's 15.
    assert (attempt.expires_at - attempt.started_at).total_seconds() == 300
    assert (attempt.provider_expires_at - attempt.started_at).total_seconds() == 900
    path = f"/integrations/{integration_id}/authorize/{attempt.id}"
    assert status(client, integration_id, attempt.id)["state"] == "waiting"

    # 400 s later, for us and for Constant Contact: our window is over, its code not.
    age(app, attempt.id, 400)
    advance_clock(long_codes_cc, 400)
    assert status(client, integration_id, attempt.id) == {
        "state": "ended",
        "next": path,
        "listening": True,
    }
    page = client.get(path).text
    assert "Time ran out" in page and "data-listen-only" in page
    approve_device(long_codes_cc, attempt.user_code)
    make_due(app, attempt.id)
    result = status(client, integration_id, attempt.id)
    assert result["state"] == "done"
    active = client.get(result["next"]).text
    assert "Your integration is now active!" in active and CONFIRMED in active
    assert row(app, attempt.id).outcome == "approved"
    assert load(app, integration_id).status == "active"


def test_a_code_past_constant_contacts_expiry_is_not_asked_about(
    app_with: AppWith, customer: int, long_codes_cc: str
) -> None:
    app, client, integration_id, attempt = long_codes_attempt(app_with, long_codes_cc)
    assert status(client, integration_id, attempt.id)["state"] == "waiting"
    asked = get_stats(long_codes_cc)["device_polls"]
    age(app, attempt.id, 901)
    advance_clock(long_codes_cc, 901)
    make_due(app, attempt.id)
    path = f"/integrations/{integration_id}/authorize/{attempt.id}"
    assert status(client, integration_id, attempt.id) == {
        "state": "ended",
        "next": path,
        "listening": False,
    }
    page = client.get(path).text
    assert "Time ran out" in page and "data-listen-only" not in page
    assert get_stats(long_codes_cc)["device_polls"] == asked


def test_after_one_approval_the_other_codes_get_no_more_polls(
    signed_in: FlaskClient, app: Flask, cc: str, device_integration: int
) -> None:
    codes = [started(signed_in, app, device_integration) for _ in range(3)]
    ids = [code.id for code in codes]
    newest = ids[-1]
    assert status(signed_in, device_integration, newest)["state"] == "waiting"
    assert polls_by_code(cc) == {code.user_code: 1 for code in codes}

    approve_device(cc, codes[1].user_code)
    all_due(app, cc, *ids)
    assert status(signed_in, device_integration, newest)["state"] == "done"
    # Earliest due first: the oldest asked, then the middle one brought the
    # approval; the newest, claimed in the same turn, was then not asked.
    asked = polls_by_code(cc)
    assert asked == {
        codes[0].user_code: 2,
        codes[1].user_code: 2,
        codes[2].user_code: 1,
    }
    # She allows the oldest code too, in yet another tab: nobody asks any more.
    approve_device(cc, codes[0].user_code)
    for _ in range(3):
        all_due(app, cc, *ids)
        for attempt_id in ids:
            assert status(signed_in, device_integration, attempt_id)["state"] == "done"
        check = f"/integrations/{device_integration}/authorize/{newest}/check"
        signed_in.post(check)
    assert polls_by_code(cc) == asked
    assert [row(app, i).outcome for i in ids] == ["replaced", "approved", "replaced"]
    assert actions(app).count("authorization.approved") == 1
    assert get_stats(cc)["token_requests"]["by_grant_type"] == {
        "urn:ietf:params:oauth:grant-type:device_code": 5
    }


def test_two_codes_allowed_at_once_save_one_token_set(
    app: Flask, cc: str, customer: int, device_integration: int
) -> None:
    """Both codes allowed; the older one's poll is held at Constant Contact with its
    tokens coming while the newer one connects. The older one's tokens are given
    back, never saved: the first approval wins."""
    tabs = [signed_in_client(app), signed_in_client(app)]
    older = started(tabs[0], app, device_integration)
    newer = started(tabs[0], app, device_integration)
    assert status(tabs[0], device_integration, newer.id)["state"] == "waiting"
    for code in (older, newer):
        approve_device(cc, code.user_code)
    advance_clock(cc, INTERVAL + 1)
    make_due(app, older.id)  # only the older code is due
    hold(cc, "token", count=1)
    answers: list[dict[str, Any]] = []
    held_check = threading.Thread(
        target=lambda: answers.append(status(tabs[1], device_integration, older.id))
    )
    held_check.start()
    try:
        wait_until_held(cc, "token", 1)
        # Meanwhile the newer code falls due and brings its approval first.
        make_due(app, newer.id)
        assert status(tabs[0], device_integration, newer.id)["state"] == "done"
    finally:
        release(cc)
        held_check.join(30)
    assert answers == [
        {"state": "done", "next": f"/integrations/{device_integration}/active"}
    ]
    stats = get_stats(cc)
    assert stats["token_requests"]["by_grant_type"] == {
        "urn:ietf:params:oauth:grant-type:device_code": 4
    }
    # The older code's tokens came back and were given back at once.
    assert stats["revocations"] == 1
    assert row(app, older.id).outcome == "replaced"
    assert row(app, newer.id).outcome == "approved"
    done = actions(app)
    assert done.count("authorization.approved") == 1
    assert "connection.reauthorized" not in done
    assert load(app, device_integration).status == "active"


def test_two_approvals_past_the_first_check_still_save_one_token_set(
    app: Flask, cc: str, customer: int, device_integration: int, monkeypatch: Any
) -> None:
    """Two pollers, each asking about its own code, both allowed: both sets of
    tokens pass the first "was another code approved?" look before either is saved.
    The integration's row lock orders them; the second sees the first and gives
    back."""
    tabs = [signed_in_client(app), signed_in_client(app)]
    codes = [started(tabs[0], app, device_integration) for _ in tabs]
    assert status(tabs[0], device_integration, codes[1].id)["state"] == "waiting"
    for code in codes:
        approve_device(cc, code.user_code)
    all_due(app, cc, *(code.id for code in codes))
    both_here = threading.Barrier(2, timeout=20)
    taking = locks.locked_rows

    @contextmanager
    def after_both(*args: Any) -> Iterator[Any]:
        both_here.wait()  # neither takes the lock before both have their tokens
        with taking(*args) as rows:
            yield rows

    monkeypatch.setattr(locks, "locked_rows", after_both)
    # Two pollers (threads, workers or hosts) have each claimed one of the codes.
    with app.app_context():
        claimed, _ = polling.claim_due(utcnow(), 2)
    assert sorted(claimed) == sorted(code.id for code in codes)
    asked: list[int] = []

    def ask(attempt_id: int) -> None:
        with app.app_context():
            polling.ask(attempt_id)
        asked.append(attempt_id)

    pollers = [threading.Thread(target=ask, args=(i,)) for i in claimed]
    for poller in pollers:
        poller.start()
    for poller in pollers:
        poller.join(30)
    assert len(asked) == 2
    for tab, code in zip(tabs, codes, strict=True):
        assert status(tab, device_integration, code.id)["state"] == "done"
    outcomes = sorted(row(app, code.id).outcome for code in codes)
    assert outcomes == ["approved", "replaced"]
    assert get_stats(cc)["revocations"] == 1
    done = actions(app)
    assert done.count("authorization.approved") == 1
    assert "connection.reauthorized" not in done


def test_a_callback_for_an_older_state_is_accepted(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = code_flow_integration(app, cc)
    first = started(signed_in, app, integration_id)
    window = open_window(signed_in, integration_id, first.id)
    newer = started(signed_in, app, integration_id)  # pressed again meanwhile
    assert row(app, first.id).outcome == "replaced"
    # She allows access in the window she opened first.
    page = callback(signed_in, approve_in_sandbox(window)).text
    assert "Access allowed" in page
    result = status(signed_in, integration_id, newer.id)
    assert result["state"] == "done"
    assert CONFIRMED in signed_in.get(result["next"]).text
    assert row(app, first.id).outcome == "approved"
    assert load(app, integration_id).status == "active"


def test_a_callback_for_another_state_after_one_connected_is_refused(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = code_flow_integration(app, cc)
    first = started(signed_in, app, integration_id)
    first_window = open_window(signed_in, integration_id, first.id)
    newer = started(signed_in, app, integration_id)
    newer_window = open_window(signed_in, integration_id, newer.id)
    allowed = callback(signed_in, approve_in_sandbox(newer_window)).text
    assert "Access allowed" in allowed
    assert load(app, integration_id).status == "active"
    late = callback(signed_in, approve_in_sandbox(first_window)).text
    assert "That code can no longer be used" in late
    assert get_stats(cc)["token_requests"]["by_grant_type"] == {"authorization_code": 1}
    assert row(app, first.id).outcome == "replaced"
    assert actions(app).count("authorization.approved") == 1


def test_an_approval_in_time_on_the_newest_code_says_nothing_more(
    signed_in: FlaskClient, app: Flask, cc: str, device_integration: int
) -> None:
    attempt = started(signed_in, app, device_integration)
    approve_device(cc, attempt.user_code)
    assert status(signed_in, device_integration, attempt.id)["state"] == "done"
    page = signed_in.get(f"/integrations/{device_integration}/active").text
    assert "Your integration is now active!" in page and CONFIRMED not in page
    assert attempt_of(app, device_integration).outcome == "approved"
