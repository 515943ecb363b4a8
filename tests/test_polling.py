"""Many tabs, two gunicorn workers, one or two live codes: Constant Contact is asked
about each code at most once per interval, counted at the local Constant Contact."""

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
    status_url = start(session, served, integration_id) + "/status"
    attempt = attempt_of(app, integration_id)
    # The next poll waits a long interval: within a burst, none falls due by the
    # clock; it falls due only when the test moves both clocks.
    with app.app_context():
        row = db.session.get(AuthorizationAttempt, attempt.id)
        row.interval = LONG_INTERVAL
        db.session.commit()

    def fall_due() -> None:
        """Let the interval pass, for the wizard and for Constant Contact."""
        make_due(app, attempt.id)
        advance_clock(cc, CC_INTERVAL + 1)

    # The first poll is due at once: one of the many checks asks, the rest wait.
    assert burst(session, [status_url]) == ["waiting"] * TABS * CHECKS
    assert polls(cc) == 1
    fall_due()
    assert burst(session, [status_url]) == ["waiting"] * TABS * CHECKS
    assert polls(cc) == 2
    assert poll_count(app, attempt.id) == 2
    # Allowed, and due once more: the next check gets the tokens.
    approve_device(cc, attempt.user_code)
    fall_due()
    states = burst(session, [status_url])
    assert polls(cc) == 3
    assert "done" in states and set(states) <= {"waiting", "done"}
    assert get_stats(cc)["slow_downs"] == 0
    assert load(app, integration_id).status == "active"


def test_two_open_codes_are_each_asked_once_per_interval(
    served: str, app: Flask, cc_sandbox: SandboxServer
) -> None:
    """ "Get a new code" leaves the older code alive at Constant Contact: tabs on
    both pages, two workers, and still one poll per code per due moment; after the
    older code's approval, none."""
    cc = cc_sandbox.base_url
    integration_id = make_integration(app, create_application(cc)["api_key"])
    session = signed_in_session(served, "owner@bloom.test", PASSWORD)
    pages = [start(session, served, integration_id) for _ in range(2)]
    urls = [page + "/status" for page in pages]
    with app.app_context():
        codes = db.session.scalars(
            db.select(AuthorizationAttempt).order_by(AuthorizationAttempt.id)
        ).all()
        for code in codes:
            code.interval = LONG_INTERVAL
        db.session.commit()
        older, newer = [(code.id, code.user_code) for code in codes]

    def fall_due() -> None:
        """Let the interval pass for both codes, and for Constant Contact."""
        make_due(app, older[0])
        make_due(app, newer[0])
        advance_clock(cc, CC_INTERVAL + 1)

    # Half the tabs on the replaced code's page, half on the newest one's.
    states = burst(session, urls)
    assert set(states) == {"ended", "waiting"}
    assert by_code(cc) == {older[1]: 1, newer[1]: 1}
    fall_due()
    burst(session, urls)
    assert by_code(cc) == {older[1]: 2, newer[1]: 2}
    # She allows the older code in the tab she already had open.
    approve_device(cc, older[1])
    fall_due()
    assert "done" in burst(session, urls)
    assert by_code(cc)[older[1]] == 3 and by_code(cc)[newer[1]] <= 3
    asked = by_code(cc)
    fall_due()
    assert burst(session, urls) == ["done"] * TABS * CHECKS
    assert by_code(cc) == asked
    assert get_stats(cc)["slow_downs"] == 0
    assert load(app, integration_id).status == "active"


def start(session: requests.Session, served: str, integration_id: int) -> str:
    """Press step 4's button (again); return the new attempt's page."""
    address = f"{served}/integrations/{integration_id}/authorize"
    before = session.get(address, timeout=10)
    page = session.post(
        address, data={"csrf_token": csrf_token(before.text)}, timeout=10
    )
    assert "Allow access in Constant Contact" in page.text
    return page.url


def burst(session: requests.Session, status_urls: list[str]) -> list[str]:
    """Every tab checks CHECKS times, all starting at once; tabs take the status
    addresses in turn."""
    states: list[str] = []
    ready = threading.Barrier(TABS)

    def tab(status_url: str) -> None:
        with requests.Session() as own:
            own.cookies.update(session.cookies)
            ready.wait()
            for _ in range(CHECKS):
                states.append(own.get(status_url, timeout=10).json()["state"])

    threads = [
        threading.Thread(target=tab, args=(status_urls[n % len(status_urls)],))
        for n in range(TABS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return states


def polls(cc: str) -> int:
    """The device polls Constant Contact has answered."""
    return get_stats(cc)["device_polls"]


def by_code(cc: str) -> dict[str, int]:
    """The device polls Constant Contact has answered, per code (by user code)."""
    return get_stats(cc)["device_polls_by_user_code"]
