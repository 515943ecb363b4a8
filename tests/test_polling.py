"""Many tabs, two gunicorn workers, one attempt: Constant Contact is asked at most
once per interval, counted at the local Constant Contact."""

import threading
from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from tests.helpers.app import base_config
from tests.helpers.attempts import attempt_of
from tests.helpers.attempts import make_due
from tests.helpers.attempts import poll_count
from tests.helpers.integrations import load
from tests.helpers.integrations import make_integration
from tests.helpers.live import csrf_token
from tests.helpers.live import gunicorn
from tests.helpers.live import signed_in_session
from tests.helpers.live import wizard_environment
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.users import PASSWORD
from wizard.models import AuthorizationAttempt
from wizard.platform.extensions import db
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import advance_clock
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import reset

TABS = 8
CHECKS = 10
# The wizard's interval for the attempt: longer than any burst of checks takes,
# however slow the machine. Constant Contact's own stays its 5 s.
LONG_INTERVAL = 3600
CC_INTERVAL = 5


@pytest.fixture
def served(
    app: Flask, customer: int, database_url: str, cc_sandbox: SandboxServer
) -> Iterator[str]:
    """The wizard under two gunicorn workers, pointed at the shared sandbox."""
    reset(cc_sandbox.base_url)
    settings = base_config(database_url) | sandbox_settings(cc_sandbox.base_url)
    settings["PUBLIC_BASE_URL"] = "http://127.0.0.1"  # cookies over plain http
    # Tabs here check ten times a second, far beyond the per-person limit (tested in
    # test_security_oauth.py): this test is about the lease, so lift the limit.
    settings["STATUS_POLL_RATE_LIMIT"] = "100000 per minute"
    with gunicorn(wizard_environment(settings), workers=2) as base_url:
        yield base_url
    reset(cc_sandbox.base_url)


def test_many_tabs_poll_once_per_interval(
    served: str, app: Flask, cc_sandbox: SandboxServer
) -> None:
    """Every due moment, however many tabs check, is one poll at Constant Contact."""
    cc = cc_sandbox.base_url
    integration_id = make_integration(app, create_application(cc)["api_key"])
    session = signed_in_session(served, "owner@bloom.test", PASSWORD)
    before = session.get(
        f"{served}/integrations/{integration_id}/authorize", timeout=10
    )
    page = session.post(
        f"{served}/integrations/{integration_id}/authorize",
        data={"csrf_token": csrf_token(before.text)},
        timeout=10,
    )
    assert "Allow access in Constant Contact" in page.text
    status_url = page.url + "/status"
    attempt = attempt_of(app, integration_id)
    # The next poll waits a long interval: within a burst, none falls due by the
    # clock; it falls due only when the test moves both clocks.
    with app.app_context():
        row = db.session.get(AuthorizationAttempt, attempt.id)
        row.interval = LONG_INTERVAL
        db.session.commit()

    def burst() -> list[str]:
        """Every tab checks CHECKS times, all starting at once."""
        states: list[str] = []
        ready = threading.Barrier(TABS)

        def tab() -> None:
            with requests.Session() as own:
                own.cookies.update(session.cookies)
                ready.wait()
                for _ in range(CHECKS):
                    states.append(own.get(status_url, timeout=10).json()["state"])

        threads = [threading.Thread(target=tab) for _ in range(TABS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return states

    def fall_due() -> None:
        """Let the interval pass, for the wizard and for Constant Contact."""
        make_due(app, attempt.id)
        advance_clock(cc, CC_INTERVAL + 1)

    # The first poll is due at once: one of the many checks asks, the rest wait.
    assert burst() == ["waiting"] * TABS * CHECKS
    assert polls(cc) == 1
    fall_due()
    assert burst() == ["waiting"] * TABS * CHECKS
    assert polls(cc) == 2
    assert poll_count(app, attempt.id) == 2
    # Allowed, and due once more: the next check gets the tokens.
    approve_device(cc, attempt.user_code)
    fall_due()
    states = burst()
    assert polls(cc) == 3
    assert "done" in states and set(states) <= {"waiting", "done"}
    assert get_stats(cc)["slow_downs"] == 0
    assert load(app, integration_id).status == "active"


def polls(cc: str) -> int:
    """The device polls Constant Contact has answered."""
    return get_stats(cc)["device_polls"]
