"""Status tickets: step 4's checks skip their own rows while she waits, safely.

Until the attempt's next poll a ticket answers alone; after it, the worker's board
of waiting codes (read once a second at most) does, and any change reads the rows.
"""

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login.utils import _create_identifier

from tests.helpers.app import AppWith
from tests.helpers.attempts import SLOWER
from tests.helpers.attempts import make_due
from tests.helpers.attempts import pollers_turn
from tests.helpers.attempts import started
from tests.helpers.integrations import code_flow_integration
from tests.helpers.integrations import make_integration
from tests.helpers.sandbox import device_app
from tests.helpers.sql import statements
from tests.helpers.users import sign_in
from tests.helpers.users import signed_in_client
from wizard.domain import attempts
from wizard.domain import polling
from wizard.models import AuthorizationAttempt
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import set_faults
from wizard.web.auth.sessions import browser_identifier
from wizard.web.authorize import board
from wizard.web.authorize import status_checks
from wizard.web.authorize import tickets

pytestmark = pytest.mark.sandboxed


def check(
    client: FlaskClient, integration_id: int, attempt_id: int, ticket: str | None
) -> Any:
    headers = {tickets.HEADER: ticket} if ticket else {}
    return client.get(
        f"/integrations/{integration_id}/authorize/{attempt_id}/status",
        headers=headers,
    )


def waiting(signed_in: FlaskClient, app: Flask, cc: str) -> tuple[int, int, str]:
    """Start a device attempt, check once; return its ids and the ticket."""
    integration_id = make_integration(app, device_app(cc))
    attempt = started(signed_in, app, integration_id)
    assert pollers_turn(app) == 1
    first = check(signed_in, integration_id, attempt.id, None).get_json()
    assert first["state"] == "waiting" and first["ticket"]
    return integration_id, attempt.id, first["ticket"]


def move_clock(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    later = utcnow() + timedelta(seconds=seconds)
    for module in (tickets, status_checks, attempts, polling, board):
        monkeypatch.setattr(module, "utcnow", lambda: later)


def test_checks_with_a_ticket_read_no_rows_and_say_the_same(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id, attempt_id, ticket = waiting(signed_in, app, cc)
    polls = get_stats(cc)["device_polls"]
    with statements(app) as sent:
        answers = [
            check(signed_in, integration_id, attempt_id, ticket) for _ in range(5)
        ]
    assert sent == []
    assert get_stats(cc)["device_polls"] == polls
    for answer in answers:
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.get_json()["ticket"] == ticket
    # The rows say the same: still waiting, as many seconds left as rows read just
    # before and just after (a busy machine may take seconds between checks).
    before = check(signed_in, integration_id, attempt_id, None).get_json()
    from_ticket = check(signed_in, integration_id, attempt_id, ticket).get_json()
    after = check(signed_in, integration_id, attempt_id, None).get_json()
    assert before["state"] == from_ticket["state"] == after["state"] == "waiting"
    left = [before["seconds_left"], from_ticket["seconds_left"], after["seconds_left"]]
    assert left == sorted(left, reverse=True), left
    assert before["note"] == from_ticket["note"] == after["note"]


def past_the_quiet_moment(
    app: Flask, monkeypatch: pytest.MonkeyPatch, attempt_id: int
) -> None:
    """Move the clock past the attempt's next poll (what its ticket vouched for
    alone), keeping its window open."""
    with app.app_context():
        next_poll_at = db.session.get(AuthorizationAttempt, attempt_id).next_poll_at
    move_clock(monkeypatch, (next_poll_at - utcnow()).total_seconds() + 0.5)


def test_past_its_next_poll_a_ticket_is_answered_by_the_board(
    signed_in: FlaskClient, app: Flask, cc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many checks past the quiet moment: one read of the board, no row of theirs."""
    integration_id, attempt_id, ticket = waiting(signed_in, app, cc)
    past_the_quiet_moment(app, monkeypatch, attempt_id)
    monkeypatch.setitem(app.config, "STATUS_BOARD_SECONDS", 3600)
    with statements(app) as sent:
        answers = [
            check(signed_in, integration_id, attempt_id, ticket).get_json()
            for _ in range(5)
        ]
    assert sent == ["SELECT"]  # the board, read once for the worker
    assert [a["state"] for a in answers] == ["waiting"] * 5
    assert {a["ticket"] for a in answers} == {ticket}


def test_an_approval_takes_the_attempt_off_the_board(
    signed_in: FlaskClient, app: Flask, cc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration_id, attempt_id, ticket = waiting(signed_in, app, cc)
    approve_device(cc, started_code(app, attempt_id))
    # Before the poll is due the ticket holds: Constant Contact is not asked.
    assert check(signed_in, integration_id, attempt_id, ticket).json["state"] == (
        "waiting"
    )
    make_due(app, attempt_id)
    assert pollers_turn(app) == 1
    past_the_quiet_moment(app, monkeypatch, attempt_id)
    # A board read before the approval still vouches, until it is a second old.
    monkeypatch.setitem(app.config, "STATUS_BOARD_SECONDS", 3600)
    stale = app.extensions[board.EXTENSION]
    ends = ticket.rpartition(".")[0].split("|")[3]
    stale.codes, stale.read_at = {attempt_id: (None, ends)}, board.time.monotonic()
    assert check(signed_in, integration_id, attempt_id, ticket).json["state"] == (
        "waiting"
    )
    monkeypatch.setitem(app.config, "STATUS_BOARD_SECONDS", 0)
    done = check(signed_in, integration_id, attempt_id, ticket).get_json()
    assert done["state"] == "done" and "ticket" not in done


def test_a_new_note_or_a_new_try_reads_the_rows(
    signed_in: FlaskClient, app: Flask, cc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration_id, attempt_id, ticket = waiting(signed_in, app, cc)
    monkeypatch.setitem(app.config, "STATUS_BOARD_SECONDS", 0)
    # Constant Contact asks us to slow down: the note changes, so does the answer.
    set_faults(cc, {"token": "slow_down"})
    make_due(app, attempt_id)
    assert pollers_turn(app) == 1
    set_faults(cc, {})
    past_the_quiet_moment(app, monkeypatch, attempt_id)
    slower = check(signed_in, integration_id, attempt_id, ticket).get_json()
    assert slower["note"] == SLOWER and slower["ticket"] != ticket
    # Her new ticket holds with the board (the note is the same)...
    with statements(app) as sent:
        again = check(signed_in, integration_id, attempt_id, slower["ticket"])
    assert again.json["ticket"] == slower["ticket"] and sent == ["SELECT"]
    # ...until she starts again in another tab: this attempt is replaced, and ends.
    started(signed_in, app, integration_id)
    ended = check(signed_in, integration_id, attempt_id, slower["ticket"]).get_json()
    assert ended["state"] == "ended" and "ticket" not in ended


def test_a_window_other_than_the_tickets_reads_the_rows(
    signed_in: FlaskClient, app: Flask, cc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The board vouches for the ticket's window end too: a window that moved (only
    tests move one) is read from the rows, not answered from the ticket."""
    integration_id, attempt_id, ticket = waiting(signed_in, app, cc)
    monkeypatch.setitem(app.config, "STATUS_BOARD_SECONDS", 0)
    make_due(app, attempt_id, seconds_left=100)
    quiet_until = float(ticket.rpartition(".")[0].split("|")[1])
    move_clock(monkeypatch, quiet_until - utcnow().timestamp() + 0.5)
    moved = check(signed_in, integration_id, attempt_id, ticket).get_json()
    assert moved["state"] == "waiting" and moved["ticket"] != ticket
    assert moved["seconds_left"] <= 100


def test_a_ticket_lives_at_most_its_longest(
    signed_in: FlaskClient, app: Flask, cc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past LONGEST_SECONDS the rows are read (and the user), even though the board
    would vouch: a session signed out elsewhere shows within it."""
    integration_id, attempt_id, ticket = waiting(signed_in, app, cc)
    # From the ticket's own end, however long the machine took since it was issued.
    good_until = float(ticket.rpartition(".")[0].split("|")[2])
    assert good_until <= utcnow().timestamp() + tickets.LONGEST_SECONDS
    move_clock(monkeypatch, good_until - utcnow().timestamp() - 1)
    text = lambda _conn, statement: statement  # noqa: E731
    with statements(app, text) as by_board:
        assert check(signed_in, integration_id, attempt_id, ticket).json["ticket"] == (
            ticket
        )
    assert len(by_board) == 1  # the board
    move_clock(monkeypatch, good_until - utcnow().timestamp() + 0.5)
    with statements(app, text) as sent:
        renewed = check(signed_in, integration_id, attempt_id, ticket).get_json()
    assert renewed["state"] == "waiting" and renewed["ticket"] != ticket
    assert sent and by_board[0] not in sent  # the rows, not the board


def started_code(app: Flask, attempt_id: int) -> str:
    with app.app_context():
        return db.session.get(AuthorizationAttempt, attempt_id).user_code


def test_a_ticket_never_outlives_the_window(
    signed_in: FlaskClient,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    device_integration: int,
    started_attempt: AuthorizationAttempt,
) -> None:
    make_due(app, started_attempt.id)
    assert pollers_turn(app) == 1
    # The window ends in 2 s, sooner than a ticket's longest life (set after the
    # poller's turn, which may take a while on a busy machine).
    with app.app_context():
        row = db.session.get(AuthorizationAttempt, started_attempt.id)
        row.expires_at = utcnow() + timedelta(seconds=2)
        db.session.commit()
    ticket = check(signed_in, device_integration, started_attempt.id, None).json[
        "ticket"
    ]
    move_clock(monkeypatch, 2.5)
    ended = check(signed_in, device_integration, started_attempt.id, ticket).get_json()
    assert ended["state"] == "ended"


def test_a_ticket_is_only_good_for_its_own_session_attempt_and_browser(
    client: FlaskClient, app: Flask, cc: str, customer: int, other_customer: int
) -> None:
    sign_in(client, "owner@bloom.test")
    integration_id, attempt_id, ticket = waiting(client, app, cc)
    # Another attempt of the same customer: the rows are read (and answer for it).
    second_id = make_integration(app, device_app(cc))
    second = started(client, app, second_id)
    assert pollers_turn(app) == 1
    with statements(app) as sent:
        other = check(client, second_id, second.id, ticket)
    assert sent and other.status_code == 200
    assert other.json["ticket"] != ticket
    # Tampered or truncated: the rows are read.
    for bad in (ticket[:-2] + "xx", ticket[:10], "x" * 1000, "[]"):
        with statements(app) as sent:
            assert check(client, integration_id, attempt_id, bad).status_code == 200
        assert sent, bad
    # Another browser with the copied cookie: strong session protection signs out.
    copied = check(client, integration_id, attempt_id, ticket)
    assert copied.status_code == 200
    stranger = client.get(
        f"/integrations/{integration_id}/authorize/{attempt_id}/status",
        headers={tickets.HEADER: ticket, "User-Agent": "Another browser/1.0"},
    )
    assert stranger.status_code == 302 and "/sign-in" in stranger.location
    # Signed out, then another organization's customer signs in: 404, not "waiting".
    client.post("/sign-out")
    assert check(client, integration_id, attempt_id, ticket).status_code == 302
    sign_in(client, "owner@rival.test")
    assert check(client, integration_id, attempt_id, ticket).status_code == 404


def test_no_ticket_for_the_code_flow(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    # Its callback can land at any moment, so every check reads the rows.
    integration_id = code_flow_integration(app, cc)
    attempt = started(signed_in, app, integration_id)
    answer = check(signed_in, integration_id, attempt.id, None).get_json()
    assert answer["state"] == "waiting" and "ticket" not in answer


def test_only_checks_that_read_rows_count_against_the_limit(
    app_with: AppWith, cc: str, customer: int
) -> None:
    app = app_with(STATUS_POLL_RATE_LIMIT="3 per minute")
    client = signed_in_client(app)
    integration_id, attempt_id, ticket = waiting(client, app, cc)  # counts 1
    # Answered from the ticket: no database, no Constant Contact, not counted.
    for _ in range(10):
        assert check(client, integration_id, attempt_id, ticket).status_code == 200
    codes = [check(client, integration_id, attempt_id, None).status_code for _ in "ab"]
    assert codes == [200, 200]
    # Over the limit: a forged ticket does not get past it.
    assert check(client, integration_id, attempt_id, None).status_code == 429
    forged = ticket[:-3] + "abc"
    assert check(client, integration_id, attempt_id, forged).status_code == 429
    assert check(client, integration_id, attempt_id, ticket).status_code == 200


def status_path(integration_id: int, attempt_id: int) -> str:
    return f"/integrations/{integration_id}/authorize/{attempt_id}/status"


def test_a_forged_forwarded_for_is_not_another_browser(
    client: FlaskClient, app: Flask, cc: str, customer: int
) -> None:
    """Without a proxy, X-Forwarded-For is the client's word: it changes nothing."""
    assert app.login_manager.session_protection == "strong"  # type: ignore[attr-defined]
    client.environ_base |= {"REMOTE_ADDR": "192.0.2.10", "HTTP_USER_AGENT": "B/1.0"}
    sign_in(client, "owner@bloom.test")
    integration_id, attempt_id, ticket = waiting(client, app, cc)
    forged = {"X-Forwarded-For": "203.0.113.99"}
    with statements(app) as sent:
        answer = client.get(
            status_path(integration_id, attempt_id),
            headers={tickets.HEADER: ticket} | forged,
        )
    # Still signed in, and the ticket still answers (no row read).
    assert answer.status_code == 200 and answer.json["ticket"] == ticket
    assert sent == []
    assert client.get("/integrations", headers=forged).status_code == 200
    # A real change of address is another browser: the session ends.
    client.environ_base["REMOTE_ADDR"] = "192.0.2.11"
    moved = check(client, integration_id, attempt_id, ticket)
    assert moved.status_code == 302 and "/sign-in" in moved.location
    client.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    assert client.get("/integrations").status_code == 302
    # Without the header, the same identity as Flask-Login's: sessions from before
    # the change stay valid.
    headers = {"User-Agent": "B/1.0"}
    with app.test_request_context(
        environ_base={"REMOTE_ADDR": "192.0.2.10"}, headers=headers
    ):
        assert browser_identifier() == _create_identifier()


def test_behind_a_proxy_the_address_it_saw_is_the_browser(
    app_with: AppWith, cc: str, customer: int
) -> None:
    """With PROXY_COUNT=1, the entry the proxy added counts, not the client's own."""
    app = app_with(PROXY_COUNT=1)
    client = app.test_client()
    # The client made up the first value; the proxy (10.0.0.2) appended the real one.
    client.environ_base |= {
        "REMOTE_ADDR": "10.0.0.2",
        "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.7",
    }
    sign_in(client, "owner@bloom.test")
    integration_id, attempt_id, ticket = waiting(client, app, cc)
    # The client changes its own part: the same browser, the ticket still answers.
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "6.6.6.6, 203.0.113.7"
    with statements(app) as sent:
        answer = check(client, integration_id, attempt_id, ticket)
    assert answer.status_code == 200 and answer.json["ticket"] == ticket
    assert sent == []
    assert client.get("/integrations").status_code == 200
    # The proxy saw another address: another browser, signed out.
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.1, 203.0.113.8"
    moved = check(client, integration_id, attempt_id, ticket)
    assert moved.status_code == 302 and "/sign-in" in moved.location
