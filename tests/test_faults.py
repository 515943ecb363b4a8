"""Faults at Constant Contact: timeouts, refusals, errors and garbage, for every call.

Each cell of the matrix starts from a working connection, breaks one endpoint of
the sandbox (or points the setting at a closed port), does one operation through
the test client and checks: no 500, the plain message from problems.py, the saved
tokens untouched, and that everything works again once the fault clears.
"""

import ast
import html
import runpy
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import sandbox_settings
from tests.test_authorize import approve_in_sandbox
from tests.test_authorize import attempt_of
from tests.test_authorize import callback
from tests.test_authorize import code_flow_integration
from tests.test_authorize import load
from tests.test_authorize import make_due
from tests.test_authorize import open_window
from tests.test_authorize import started
from tests.test_authorize import status
from tests.test_connections import connect
from tests.test_connections import expire
from wizard import config as wizard_config
from wizard import crypto
from wizard.extensions import db
from wizard.models import Integration
from wizard.problems import problem_for
from wizard.problems import waiting_note
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import set_faults

ROOT = Path(__file__).resolve().parent.parent
# Short, so a hung upstream costs each cell half a second, not ten.
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
def config(config: dict[str, Any], cc: str) -> dict[str, Any]:
    """The wizard pointed at the sandbox, giving up on it after half a second."""
    return config | sandbox_settings(cc) | {"CC_HTTP_TIMEOUT_SECONDS": TIMEOUT}


def closed_port() -> int:
    """Return a loopback port that refuses connections (nobody listens on it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def broken(app: Flask, cc: str, operation: str, fault: str) -> Iterator[None]:
    """Break the endpoint the operation calls, and mend it on the way out."""
    endpoint, setting = OPERATIONS[operation]
    saved = app.config[setting]
    if fault == "refused":
        app.config[setting] = saved.replace(cc, f"http://127.0.0.1:{closed_port()}")
    else:
        set_faults(cc, {endpoint: fault})
    try:
        yield
    finally:
        app.config[setting] = saved
        set_faults(cc, {})


def saved_tokens(app: Flask, integration_id: int) -> tuple[str | None, str | None]:
    """Return the integration's access and refresh tokens, decrypted."""
    with app.app_context():
        row = db.session.get(Integration, integration_id)
        return tuple(  # type: ignore[return-value]
            crypto.decrypt(value) if value else None
            for value in (row.access_token_encrypted, row.refresh_token_encrypted)
        )


def heading(app: Flask, fault: str) -> str:
    """The heading problems.py gives the fault's code, in English."""
    with app.test_request_context():
        return problem_for(CODES[fault]).heading


def note(app: Flask, fault: str) -> str | None:
    """The note problems.py shows while polling goes on after the fault."""
    with app.test_request_context():
        return waiting_note(CODES[fault])


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
    """Return the page's text after checking it is no server error or traceback."""
    assert response.status_code in (200, 302), response.status_code
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
    attempt = started(client, app, integration_id)
    redirect = approve_in_sandbox(open_window(client, integration_id, attempt.id))
    return plain(callback(client, redirect))


def authorize_device(
    client: FlaskClient, app: Flask, cc: str, integration_id: int
) -> None:
    """Get a new code, allow it at the sandbox and see step 4 finish."""
    attempt = started(client, app, integration_id)
    approve_device(cc, attempt.user_code)
    make_due(app, attempt.id)
    assert status(client, integration_id, attempt.id)["state"] == "done"


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
    expected = heading(app, fault)

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
                assert result["note"] == note(app, fault) and result["note"]
        if fault == "slow_down":
            # RFC 8628: each slow_down adds 5 seconds, for every later poll too.
            assert attempt_of(app, integration_id).interval == 5 + 5 * SLOW_DOWN_STORM
    elif operation == "code_exchange":
        attempt = started(client, app, integration_id)
        redirect = approve_in_sandbox(open_window(client, integration_id, attempt.id))
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
        authorize_device(client, app, cc, integration_id)
        assert works(client, integration_id)
        return
    else:
        with broken(app, cc, operation, fault):
            page = plain(client.post(f"/integrations/{integration_id}/test"))
        assert expected in page

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
            authorize_device(client, app, cc, integration_id)
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
            if name.startswith("requests.") and name[9:] in (
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
    """The sandbox holds its answer 3 s (or sends it a byte every 0.1 s for 3 s)."""
    integration_id = connect(signed_in, app, cc)
    set_faults(cc, {"device_authorize": fault})
    began = time.monotonic()
    page = plain(signed_in.post(f"/integrations/{integration_id}/authorize"))
    took = time.monotonic() - began
    set_faults(cc, {})
    assert heading(app, "timeout") in page and "Try again" in page
    assert TIMEOUT <= took < TIMEOUT + 1.0


def test_one_page_stops_calling_at_its_budget(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    """Disconnecting revokes two tokens: both hang, but the page keeps to its budget."""
    integration_id = connect(signed_in, app, cc)
    app.config |= {"CC_HTTP_TIMEOUT_SECONDS": 1.0, "CC_REQUEST_BUDGET_SECONDS": 1.0}
    set_faults(cc, {"revoke": "timeout"})
    began = time.monotonic()
    page = plain(signed_in.post(f"/integrations/{integration_id}/disconnect"))
    took = time.monotonic() - began
    set_faults(cc, {})
    assert "is disconnected" in page and "did not confirm" in page
    # Two calls of 1 s each would take 2 s; the budget stops the second at once.
    assert 1.0 <= took < 1.6
    assert saved_tokens(app, integration_id) == (None, None)
