"""Faults at Constant Contact: timeouts, refusals, errors and garbage, for every call.

Each cell of the matrix starts from a working connection, breaks one endpoint of
the sandbox (or points the setting at a closed port), does one operation through
the test client and checks: no 500, the plain message from problems.py, the saved
tokens untouched, and that everything works again once the fault clears.
"""

import ast
import html
import os
import runpy
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from tests.helpers.app import base_config
from tests.helpers.attempts import KEEP_CHECKING
from tests.helpers.attempts import SLOWER
from tests.helpers.attempts import allowed_at_sandbox
from tests.helpers.attempts import allowed_on_device
from tests.helpers.attempts import attempt_of
from tests.helpers.attempts import callback
from tests.helpers.attempts import make_due
from tests.helpers.attempts import started
from tests.helpers.attempts import state_sent
from tests.helpers.attempts import status
from tests.helpers.attempts import tamper
from tests.helpers.connections import connect
from tests.helpers.connections import expire
from tests.helpers.connections import saved_tokens
from tests.helpers.integrations import code_flow_integration
from tests.helpers.integrations import load
from tests.helpers.integrations import make_integration
from tests.helpers.live import free_port
from tests.helpers.live import gunicorn
from tests.helpers.live import post_form
from tests.helpers.live import signed_in_session
from tests.helpers.live import wait_until_done
from tests.helpers.live import wizard_environment
from tests.helpers.races import lock_holder
from tests.helpers.races import sender_of_held
from tests.helpers.races import wait_for
from tests.helpers.races import workers_of
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.sandbox import settled
from tests.helpers.users import PASSWORD
from tests.helpers.users import sign_in
from wizard.constant_contact import api
from wizard.constant_contact import http as cc_http
from wizard.domain.polling import POLL_MARGIN
from wizard.domain.problems import connection_problem
from wizard.models import AuditEvent
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.platform import config as wizard_config
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox.testing import advance_clock
from wizard.sandbox.testing import answered
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import held
from wizard.sandbox.testing import hold
from wizard.sandbox.testing import release
from wizard.sandbox.testing import set_faults
from wizard.sandbox.testing import wait_until_held

pytestmark = pytest.mark.sandboxed

ROOT = Path(__file__).resolve().parent.parent
# Short, so a hung upstream costs each cell half a second, not ten. Only while an
# endpoint is broken: a healthy call on a busy machine may take longer than this.
TIMEOUT = 0.5

FAULTS = [
    "timeout",
    "refused",
    "500",
    "503",
    "429",
    "quota_exceeded",
    "html_ok",
    "garbage",
    "missing",
    "slow_down",
]
# The code each fault must become in wizard/constant_contact/http.py.
CODES = {
    "timeout": "timeout",
    "refused": "unreachable",
    "500": "unavailable",
    "503": "unavailable",
    "429": "throttled",
    "quota_exceeded": "quota_exceeded",
    "html_ok": "garbage",
    "garbage": "garbage",
    "missing": "garbage",
    "slow_down": "slow_down",
}
# What the customer reads for each fault, written out here rather than read from
# problems.py: changing a message there, or a fault's code in http.py, fails this.
NOT_PROPERLY = "Constant Contact did not answer properly"
SLOW_DOWN = "Constant Contact asked us to slow down"
HEADINGS = {
    "timeout": NOT_PROPERLY,
    "refused": NOT_PROPERLY,
    "500": NOT_PROPERLY,
    "503": NOT_PROPERLY,
    "429": SLOW_DOWN,
    "quota_exceeded": "Constant Contact's daily limit is used up",
    "html_ok": NOT_PROPERLY,
    "garbage": NOT_PROPERLY,
    "missing": NOT_PROPERLY,
    "slow_down": SLOW_DOWN,
}
# The note step 4 shows while it keeps polling after the fault.
WAITING_NOTES = {
    "timeout": KEEP_CHECKING,
    "refused": KEEP_CHECKING,
    "500": KEEP_CHECKING,
    "503": KEEP_CHECKING,
    "429": SLOWER,
    "html_ok": KEEP_CHECKING,
    "garbage": KEEP_CHECKING,
    "missing": KEEP_CHECKING,
    "slow_down": SLOWER,
}
# Operation -> (the sandbox's fault endpoint, the setting that points at it).
OPERATIONS = {
    "device_start": ("device_authorize", "CC_DEVICE_AUTHORIZATION_URL"),
    "device_poll": ("token", "CC_TOKEN_URL"),
    "code_exchange": ("token", "CC_TOKEN_URL"),
    "refresh": ("token", "CC_TOKEN_URL"),
    "revoke": ("revoke", "CC_REVOCATION_URL"),
    "api_read": ("contact_list", "CC_API_BASE_URL"),
}
SLOW_DOWN_STORM = 5


@pytest.fixture
def config(config: dict[str, Any]) -> dict[str, Any]:
    """Abuse limits raised: these tests start and poll more than a person would."""
    return config | {
        "AUTHORIZE_START_RATE_LIMIT": "1000 per minute",
        "STATUS_POLL_RATE_LIMIT": "10000 per minute",
    }


@contextmanager
def broken(app: Flask, cc: str, operation: str, fault: str) -> Iterator[None]:
    """Break the endpoint the operation calls, giving up on it after TIMEOUT, and
    mend it on the way out."""
    endpoint, setting = OPERATIONS[operation]
    saved = app.config[setting]
    patient = app.config["CC_HTTP_TIMEOUT_SECONDS"]
    app.config["CC_HTTP_TIMEOUT_SECONDS"] = TIMEOUT
    if fault == "refused":
        app.config[setting] = saved.replace(cc, f"http://127.0.0.1:{free_port()}")
    else:
        set_faults(cc, {endpoint: fault})
    try:
        yield
    finally:
        app.config[setting] = saved
        app.config["CC_HTTP_TIMEOUT_SECONDS"] = patient
        set_faults(cc, {})


def recorded_code(app: Flask, operation: str, integration_id: int) -> str | None:
    """The error code the wizard stored for the operation's failure."""
    if operation == "device_start":
        with app.app_context():
            event = db.session.scalars(
                db.select(AuditEvent)
                .filter_by(action="authorization.start_failed")
                .order_by(AuditEvent.id.desc())
            ).first()
            return event.details["error"] if event else None
    if operation in ("device_poll", "code_exchange"):
        return attempt_of(app, integration_id).error_code
    return load(app, integration_id).last_error_code


def a_new_day(app: Flask, integration_id: int) -> None:
    """Let midnight UTC pass for the daily quota (the wizard waits for it)."""
    with app.app_context():
        row = db.session.get(Integration, integration_id)
        if row.last_checked_at is not None:
            row.last_checked_at -= timedelta(days=1)
        db.session.commit()


def works(client: FlaskClient, integration_id: int) -> bool:
    """Use the saved connection through Test connection; say whether it worked."""
    page = client.post(f"/integrations/{integration_id}/test")
    assert page.status_code == 200
    return "The connection works" in page.text


def plain(response: Any) -> str:
    """Return the page's text after checking it is the page itself (200: a fault
    at Constant Contact is told on the page, never as an error status)."""
    assert response.status_code == 200, response.status_code
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "Internal Server Error" not in text
    return html.unescape(text)


def connected_by_code(client: FlaskClient, app: Flask, cc: str) -> int:
    """Connect an Authorization Code Flow integration through its real callback."""
    integration_id = code_flow_integration(app, cc)
    authorize_code_flow(client, app, integration_id)
    assert load(app, integration_id).status == "active"
    return integration_id


def authorize_code_flow(client: FlaskClient, app: Flask, integration_id: int) -> str:
    """Run step 4 of the code flow up to the callback; return the callback page."""
    attempt, redirect = allowed_at_sandbox(client, app, integration_id)
    return plain(callback(client, redirect))


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("fault", FAULTS)
def test_fault_matrix(
    signed_in: FlaskClient, app: Flask, cc: str, fault: str, operation: str
) -> None:
    client = signed_in
    if operation == "code_exchange":
        integration_id = connected_by_code(client, app, cc)
    else:
        integration_id = connect(client, app, cc)
    before = saved_tokens(app, integration_id)
    expected = HEADINGS[fault]

    if operation == "device_start":
        with broken(app, cc, operation, fault):
            page = plain(client.post(f"/integrations/{integration_id}/authorize"))
        assert expected in page and "Try again" in page
    elif operation == "device_poll":
        attempt = started(client, app, integration_id)
        approve_device(cc, attempt.user_code)
        with broken(app, cc, operation, fault):
            for _ in range(SLOW_DOWN_STORM if fault == "slow_down" else 1):
                make_due(app, attempt.id)
                result = status(client, integration_id, attempt.id)
            if fault == "quota_exceeded":
                # Today's requests are spent: this code cannot finish in its 5 minutes.
                assert result["state"] == "ended"
                assert expected in plain(client.get(result["next"]))
            else:
                assert result["state"] == "waiting"
                assert result["note"] == WAITING_NOTES[fault]
        if fault == "slow_down":
            # RFC 8628: each slow_down adds 5 seconds, for every later poll too.
            assert attempt_of(app, integration_id).interval == 5 + 5 * SLOW_DOWN_STORM
    elif operation == "code_exchange":
        attempt, redirect = allowed_at_sandbox(client, app, integration_id)
        with broken(app, cc, operation, fault):
            page = plain(callback(client, redirect))
        assert expected in page
    elif operation == "refresh":
        expire(app, integration_id)
        with broken(app, cc, operation, fault):
            page = plain(client.post(f"/integrations/{integration_id}/test"))
        assert expected in page
    elif operation == "revoke":
        with broken(app, cc, operation, fault):
            page = plain(client.post(f"/integrations/{integration_id}/disconnect"))
        # Disconnecting never waits for Constant Contact: erased here, and said so.
        # RFC 7009 section 2.2: any 200 means revoked, and a JSON body is ignored.
        said = "Constant Contact confirmed" if fault == "missing" else "did not confirm"
        assert "is disconnected" in page and said in page
        assert saved_tokens(app, integration_id) == (None, None)
        assert load(app, integration_id).status == "disconnected"
        assert allowed_on_device(client, app, cc, integration_id)["state"] == "done"
        assert works(client, integration_id)
        return
    else:
        with broken(app, cc, operation, fault):
            page = plain(client.post(f"/integrations/{integration_id}/test"))
        assert expected in page

    # The fault became its own code (several codes share one heading).
    assert recorded_code(app, operation, integration_id) == CODES[fault]
    # Nothing lost: the saved tokens are the ones from before, and still work.
    assert saved_tokens(app, integration_id) == before
    saved = load(app, integration_id)
    assert saved.status != "needs_reauthorization" and saved.holds_tokens
    if fault == "quota_exceeded":
        a_new_day(app, integration_id)
    assert works(client, integration_id)
    # Recovery: the operation itself succeeds now the fault is gone.
    if operation in ("device_start", "device_poll"):
        if operation == "device_poll" and fault != "quota_exceeded":
            make_due(app, attempt.id)
            assert status(client, integration_id, attempt.id)["state"] == "done"
        else:
            assert allowed_on_device(client, app, cc, integration_id)["state"] == "done"
        assert saved_tokens(app, integration_id) != before
    elif operation == "code_exchange":
        assert "Access allowed" in authorize_code_flow(client, app, integration_id)
        assert saved_tokens(app, integration_id) != before
    elif operation == "refresh":
        # The test above refreshed: a new access token, the long-lived refresh kept.
        after = saved_tokens(app, integration_id)
        assert after[0] != before[0] and after[1] == before[1]
    assert load(app, integration_id).status == "active"


def test_every_call_gives_up_before_gunicorn_does() -> None:
    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    per_call = float(wizard_config.DEFAULTS["CC_HTTP_TIMEOUT_SECONDS"])
    per_request = float(wizard_config.DEFAULTS["CC_REQUEST_BUDGET_SECONDS"])
    assert 0 < per_call <= per_request < gunicorn["timeout"]
    # A few seconds are left for the database and the page itself.
    assert gunicorn["timeout"] - per_request >= 5
    # Every outbound request in the app names a timeout (only http.py makes them).
    callers = []
    for path in (ROOT / "wizard").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            head, _, verb = name.rpartition(".")
            # http.py sends through its per-thread session: `_session().request`.
            if head in ("requests", "_session()") and verb in (
                "request",
                "get",
                "post",
                "put",
                "delete",
            ):
                callers.append(path.name)
                assert "timeout" in {k.arg for k in node.keywords}, path
            if name == "call" and path.parent.name == "constant_contact":
                assert "timeout" in {k.arg for k in node.keywords}, path
    assert "http.py" in callers


@pytest.mark.parametrize("fault", ["timeout", "drip"])
def test_a_hung_or_dripping_upstream_gets_the_plain_message_in_time(
    signed_in: FlaskClient, app: Flask, cc: str, fault: str
) -> None:
    """The sandbox holds its answer 3 s (or sends it a byte every 0.1 s for 3 s):
    the page comes back, in the timeout's words, while the answer is still held."""
    integration_id = connect(signed_in, app, cc)
    before = saved_tokens(app, integration_id)
    settled(cc)
    app.config["CC_HTTP_TIMEOUT_SECONDS"] = TIMEOUT
    if fault == "timeout":
        # Held until the test lets go, not for a few seconds: however slow the
        # machine, the wizard can only have given up by itself.
        hold(cc, "device_authorize")
    else:
        set_faults(cc, {"device_authorize": fault})
    page = plain(signed_in.post(f"/integrations/{integration_id}/authorize"))
    delayed = get_stats(cc)["delayed"]
    taken = held(cc, "device_authorize")["taken"]
    sent = answered(cc, "device_authorize")
    release(cc)
    set_faults(cc, {})
    # The request reached the sandbox, and the wizard stopped waiting before the
    # sandbox had sent its whole answer: the wizard gave up by itself.
    if fault == "timeout":
        assert taken == 1 and sent == 0
    else:
        assert delayed["begun"] == 1 and delayed["answered"] == 0
    assert NOT_PROPERLY in page and "Try again" in page
    # "timeout", not "garbage": the drip was cut off, not read to its end.
    assert recorded_code(app, "device_start", integration_id) == "timeout"
    assert saved_tokens(app, integration_id) == before
    assert load(app, integration_id).status == "active"
    settled(cc)


def test_one_page_stops_calling_at_its_budget(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    """Disconnecting revokes two tokens: the first hangs and spends the page's
    budget, so the second is never sent."""
    integration_id = connect(signed_in, app, cc)
    app.config |= {"CC_HTTP_TIMEOUT_SECONDS": 1.0, "CC_REQUEST_BUDGET_SECONDS": 1.0}
    settled(cc)
    set_faults(cc, {"revoke": "timeout"})
    page = plain(signed_in.post(f"/integrations/{integration_id}/disconnect"))
    stats = get_stats(cc)
    set_faults(cc, {})
    assert "is disconnected" in page and "did not confirm" in page
    # One revoke reached Constant Contact, still held when the page came back; the
    # other was never sent.
    assert stats["revocations"] == 1
    assert stats["delayed"]["begun"] == 1 and stats["delayed"]["answered"] == 0
    assert saved_tokens(app, integration_id) == (None, None)
    settled(cc)


# A device poll: the grant the kill tests hold at the sandbox.
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# Longer than any hold below: a held worker that lives gets its answer, never a
# timeout. The poll's claim lasts interval + this + margin.
POLL_TIMEOUT = 20


def ask(session: requests.Session, url: str, method: str = "GET") -> Any:
    """Send a request whose worker may be killed under it; return its answer.

    The JSON of a status check or the text of a page; when there is none, the
    error's name ("ConnectionError" when the worker died).
    """
    with requests.Session() as own:
        own.cookies.update(session.cookies)
        try:
            if method == "GET":
                return own.get(url, timeout=60).json()
            return post_form(own, url).text
        except requests.RequestException as error:
            return type(error).__name__


def in_background(call: Any, *args: Any) -> tuple[threading.Thread, list[Any]]:
    """Start ``call(*args)`` in a thread; its result lands in the returned list."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call(*args)))
    thread.start()
    return thread, result


def kill(master: "subprocess.Popen[bytes]", pid: int) -> None:
    """kill -9 one worker and wait until its master has seen it die."""
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: pid not in workers_of(master), f"worker {pid} gone")


def sent_by_a_poller(master: "subprocess.Popen[bytes]", cc: str) -> int:
    """Wait until a worker's poller sends the held device poll; return that worker."""
    wait_until_held(cc, "token", 1)
    return sender_of_held(cc, "token", workers_of(master))


def let_go(cc: str, requests_held: int) -> None:
    """Release the held token requests and wait until the sandbox has answered them.

    An answer is committed by then: a code used up, tokens issued (to a dead
    worker's closed socket too), and nothing left to land in the next test.
    """
    before = answered(cc, "token")
    release(cc, "token")
    wait_for(
        lambda: answered(cc, "token") == before + requests_held,
        f"{requests_held} held token requests answered",
    )


def let_the_claim_run_out(app: Flask, cc: str, attempt_id: int) -> None:
    """Let the claim's time pass, for us and for Constant Contact, without waiting."""
    # Ours: the next poll is due. Constant Contact's: it comes more than an
    # interval after the last, so it is no slow_down.
    make_due(app, attempt_id)
    advance_clock(cc, POLL_TIMEOUT + 10)


@pytest.mark.parametrize(
    ("allowed_first", "killed"),
    [(False, True), (True, True), (False, False), (True, False)],
    ids=["pending-killed", "allowed-killed", "pending-lives", "allowed-lives"],
)
def test_a_worker_killed_while_its_poller_asks(
    app: Flask,
    database_url: str,
    cc: str,
    customer: int,
    allowed_first: bool,
    killed: bool,
) -> None:
    """kill -9 the worker whose poller Constant Contact is answering; another's
    poller carries on.

    The poll is held at the sandbox, its sender found by the held connection's port
    and killed before the answer. If the person had not allowed access yet, nothing
    is lost: the claim on the next poll runs out and a live worker's poller
    finishes. If they had, Constant Contact handed the tokens to the dead worker
    and the device code is used up: the page says so plainly and a new code
    connects. The same run with the held worker alive ends otherwise: its poller
    records the answer itself, in one poll.
    """
    integration_id = make_integration(app, create_application(cc)["api_key"])
    settings = base_config(database_url) | sandbox_settings(cc)
    settings |= {
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        "CC_HTTP_TIMEOUT_SECONDS": POLL_TIMEOUT,
    }
    masters: list[subprocess.Popen[bytes]] = []
    with gunicorn(wizard_environment(settings), workers=2, started=masters) as url:
        master = masters[0]
        session = signed_in_session(url, "owner@bloom.test", PASSWORD)
        # The first poll goes as soon as a poller sees the code: hold it first.
        hold(cc, "token", count=1, grant_type=DEVICE_GRANT)
        claimed_after = utcnow()
        started_at = post_form(
            session, f"{url}/integrations/{integration_id}/authorize"
        )
        status_url = url + started_at.headers["Location"] + "/status"
        attempt = attempt_of(app, integration_id)
        poller = sent_by_a_poller(master, cc)
        claimed_before = utcnow()
        if allowed_first:
            # Allowed while the poll waits: Constant Contact answers with tokens.
            approve_device(cc, attempt.user_code)
        if killed:
            kill(master, poller)
        # Whatever happened to the poller, its claim stands: interval + timeout +
        # margin from when it claimed, and no live worker asks meanwhile.
        claimed = load_attempt(app, attempt.id)
        assert claimed.poll_count == 1
        assert claimed.error_code is None and claimed.outcome is None
        claim = timedelta(seconds=claimed.interval + POLL_TIMEOUT) + POLL_MARGIN
        assert claimed_after + claim <= claimed.next_poll_at <= claimed_before + claim
        assert session.get(status_url, timeout=10).json()["state"] == "waiting"
        assert held(cc, "token") == {"taken": 1, "waiting": 1}
        let_go(cc, 1)
        if not killed:
            # The poller lived and recorded the answer itself.
            if allowed_first:
                assert wait_until_done(session, status_url)["state"] == "done"
                after = load_attempt(app, attempt.id)
                assert (after.poll_count, after.outcome) == (1, "approved")
            else:
                # The answer ("pending") cut the claim short: due an interval on.
                wait_for(
                    lambda: (
                        load_attempt(app, attempt.id).next_poll_at
                        < claimed.next_poll_at
                    ),
                    "the pending answer recorded",
                )
                approve_device(cc, attempt.user_code)
                let_the_claim_run_out(app, cc, attempt.id)
                assert wait_until_done(session, status_url)["state"] == "done"
            assert get_stats(cc)["device_polls"] == 1 + (not allowed_first)
            assert load(app, integration_id).status == "active"
            return
        # Killed: nobody recorded Constant Contact's answer; the claim is as it was.
        after = load_attempt(app, attempt.id)
        assert (after.poll_count, after.error_code, after.next_poll_at) == (
            1,
            None,
            claimed.next_poll_at,
        )
        if not allowed_first:
            # The dead worker's poll was answered "pending"; only now does the
            # person click Allow Access.
            approve_device(cc, attempt.user_code)
        hold(cc, "token", count=1, grant_type=DEVICE_GRANT)
        let_the_claim_run_out(app, cc, attempt.id)
        second = sent_by_a_poller(master, cc)
        assert second != poller and second in workers_of(master)
        let_go(cc, 1)
        result = wait_until_done(session, status_url)
        if allowed_first:
            assert result["state"] == "ended"
            page = session.get(url + result["next"], timeout=10)
            assert page.status_code == 200
            assert "That code can no longer be used" in page.text
            assert "Get a new code" in page.text
            assert load(app, integration_id).status == "created"
            again = post_form(session, f"{url}/integrations/{integration_id}/authorize")
            approve_device(cc, attempt_of(app, integration_id).user_code)
            status_url = url + again.headers["Location"] + "/status"
            result = wait_until_done(session, status_url)
        assert result["state"] == "done"
        assert poller not in workers_of(master) and len(workers_of(master)) == 2
    saved = load(app, integration_id)
    assert saved.status == "active" and saved.holds_tokens
    with app.app_context():
        attempts = db.session.scalars(
            db.select(AuthorizationAttempt).order_by(AuthorizationAttempt.id)
        ).all()
        outcomes = [a.outcome for a in attempts]
        assert outcomes == (["failed", "approved"] if allowed_first else ["approved"])
        # The killed worker's poll counted; a live worker's poller asked after it.
        assert attempts[0].poll_count == 2
    # Two polls of the first code: the dead worker's and the live one's. (A new
    # code may be asked once before she allows it, as a poller sees it at once.)
    assert get_stats(cc)["device_polls_by_user_code"][attempt.user_code] == 2


def load_attempt(app: Flask, attempt_id: int) -> AuthorizationAttempt:
    """Return an attempt as the database has it now."""
    with app.app_context():
        return db.session.get(AuthorizationAttempt, attempt_id)


def test_a_worker_killed_holding_the_refresh_lock(
    signed_in: FlaskClient, app: Flask, database_url: str, cc: str
) -> None:
    """CF-04: the lock dies with its holder; the next request refreshes at once.

    The refresh is held at the sandbox while its worker holds the row lock (SQLite:
    the write lock); exactly that worker is killed. The next Test connection
    reaches Constant Contact while the dead worker's refresh is still held there,
    and a holder's call may last its whole timeout, longer than the sandbox ever
    holds a request (60 s): so it waited for no lease, only for a lock that died
    with its holder.
    """
    integration_id = connect(signed_in, app, cc)
    expire(app, integration_id)
    settings = base_config(database_url) | sandbox_settings(cc)
    settings |= {
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        "CC_HTTP_TIMEOUT_SECONDS": 90,
        "CC_REQUEST_BUDGET_SECONDS": 90,
    }
    refreshes = get_stats(cc)["refreshes"]
    masters: list[subprocess.Popen[bytes]] = []
    with gunicorn(wizard_environment(settings), workers=2, started=masters) as url:
        master = masters[0]
        session = signed_in_session(url, "owner@bloom.test", PASSWORD)
        test_url = f"{url}/integrations/{integration_id}/test"
        hold(cc, "token", grant_type="refresh_token")
        first, first_page = in_background(ask, session, test_url, "POST")
        wait_until_held(cc, "token", 1)
        workers = workers_of(master)
        holder = lock_holder(app, workers)
        assert sender_of_held(cc, "token", workers) == holder
        kill(master, holder)
        second, second_page = in_background(ask, session, test_url, "POST")
        wait_until_held(cc, "token", 2)
        # The dead worker's refresh is still held: the second did not wait it out.
        assert held(cc, "token") == {"taken": 2, "waiting": 2}
        let_go(cc, 2)
        first.join()
        second.join()
        assert holder not in workers_of(master)
    assert first_page == ["ConnectionError"]
    assert "The connection works" in second_page[0]
    assert get_stats(cc)["refreshes"] == refreshes + 2
    saved = load(app, integration_id)
    assert saved.status == "active" and saved.token_expires_at > utcnow()


def test_setup_verifies_with_the_new_token_and_never_refreshes(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    """CF-08: checking the list right after approval uses the fresh access token."""
    before = get_stats(cc)["refreshes"]
    integration_id = connect(signed_in, app, cc, "rotating")
    assert get_stats(cc)["refreshes"] == before
    saved = load(app, integration_id)
    assert saved.status == "active" and saved.last_checked_at is not None


def test_polling_never_sets_a_cookie_and_attempts_stay_out_of_it(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    """CF-13/CF-14: status polls carry no Set-Cookie; 25 starts leave one open
    attempt and a small session cookie (attempts live in the database)."""
    integration_id = make_integration(app, create_application(cc)["api_key"])
    for _ in range(25):
        attempt = started(signed_in, app, integration_id)
    path = f"/integrations/{integration_id}/authorize/{attempt.id}/status"
    for _ in range(3):
        response = signed_in.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
    cookie = signed_in.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None and len(cookie.value) < 1024
    with app.app_context():
        open_ones = db.session.scalars(
            db.select(AuthorizationAttempt).filter_by(outcome=None)
        ).all()
    assert [a.id for a in open_ones] == [attempt.id]


def test_markup_in_constant_contacts_data_stays_text(
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    support_user: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BI-07: a list or account named with markup is shown as text everywhere."""
    real = api.call
    evil = '<img src=x onerror=alert(1)>"><script>alert(2)</script>'

    def named_with_markup(*args: Any, **kwargs: Any) -> Any:
        body = real(*args, **kwargs)
        if isinstance(body, dict):
            for field in ("name", "organization_name"):
                if field in body:
                    body[field] = evil
        return body

    monkeypatch.setattr(api, "call", named_with_markup)
    integration_id = connect(signed_in, app, cc)
    assert load(app, integration_id).list_name == evil[:255]
    pages = [
        signed_in.get(f"/integrations/{integration_id}/active"),
        signed_in.get("/integrations"),
        signed_in.post(f"/integrations/{integration_id}/test"),
    ]
    signed_in.post("/sign-out")
    sign_in(signed_in, "helper@promopulse.test")
    pages.append(signed_in.get(f"/support/integrations/{integration_id}"))
    pages.append(signed_in.get("/support/organizations/1"))
    for response in pages:
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<script>alert(2)" not in text and "<img src=x" not in text
        assert str(escape(evil)) in text  # shown, as text


def test_a_regenerated_secret_at_refresh_asks_for_the_new_one_once(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    """BI-10: invalid_client at refresh: the plain message, needs re-authorization,
    and one token request per use (no retry loop)."""
    integration_id = connected_by_code(signed_in, app, cc)
    with app.app_context():
        row = db.session.get(Integration, integration_id)
        row.client_secret = "Old_secret_that_was_regenerated"
        db.session.commit()
    expire(app, integration_id)
    before = get_stats(cc)["token_requests"]["total"]
    page = plain(signed_in.post(f"/integrations/{integration_id}/test"))
    assert "did not accept the API Key and Client Secret" in page
    assert "Generate Client Secret" in page
    assert get_stats(cc)["token_requests"]["total"] - before == 1
    saved = load(app, integration_id)
    assert saved.status == "needs_reauthorization"
    assert saved.last_error_code == "invalid_client" and saved.holds_tokens


def test_a_401_whose_refresh_fails_stops_at_needs_reauthorization(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    """CF-20: revoked at Constant Contact: one forced refresh, then no loop."""
    integration_id = connect(signed_in, app, cc)
    access, refresh = saved_tokens(app, integration_id)
    api_key = load(app, integration_id).api_key
    for token in (refresh, access):
        requests.post(
            f"{cc}/oauth2/default/v1/revoke",
            data={"token": token, "client_id": api_key},
            timeout=10,
        ).raise_for_status()
    before = get_stats(cc)
    page = plain(signed_in.post(f"/integrations/{integration_id}/test"))
    after = get_stats(cc)
    assert after["token_requests"]["total"] - before["token_requests"]["total"] == 1
    assert load(app, integration_id).status == "needs_reauthorization"
    # A saved connection's words, not step 4's "That code can no longer be used".
    with app.test_request_context():
        refused = connection_problem("invalid_grant").heading
    assert refused in page and "Get a new code" in page


def test_a_callback_with_both_error_and_code_is_an_error(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    """BI-14: error wins over code; nothing is exchanged, nothing connected."""
    integration_id = code_flow_integration(app, cc)
    state = state_sent(signed_in, app, integration_id)
    before = get_stats(cc)["token_requests"]["total"]
    page = plain(
        signed_in.get(
            "/callback/constant-contact-auth",
            query_string={"state": state, "code": "abc", "error": "access_denied"},
            follow_redirects=True,
        )
    )
    assert "Access was not allowed" in page
    assert get_stats(cc)["token_requests"]["total"] == before
    saved = load(app, integration_id)
    assert not saved.holds_tokens and saved.status == "created"
    assert saved.api_key and saved.list_id  # entered fields are kept


def test_an_activation_address_that_does_not_parse_is_garbage(
    signed_in: FlaskClient, app: Flask, cc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """urlsplit raises on "https://[": that must be a plain message, not a 500."""
    tamper(monkeypatch, "device_code", "verification_uri", "https://[")
    integration_id = make_integration(app, create_application(cc)["api_key"])
    page = plain(signed_in.post(f"/integrations/{integration_id}/authorize"))
    assert NOT_PROPERLY in page
    assert recorded_code(app, "device_start", integration_id) == "garbage"


def test_calls_reuse_their_connection_and_carry_no_cookies() -> None:
    seen: list[tuple[int, str | None]] = []

    class Answer(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            seen.append((self.client_address[1], self.headers.get("Cookie")))
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Set-Cookie", "tracker=customer-1; Path=/")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v3/account/summary"
        for _ in range(3):
            assert cc_http.call("GET", url, timeout=5) == {"ok": True}
    finally:
        server.shutdown()
        server.server_close()
    # One connection for all three calls, and the cookie set by the first never sent.
    assert len({port for port, _ in seen}) == 1
    assert [cookie for _, cookie in seen] == [None, None, None]
