"""Step 4's pollers: Constant Contact is asked about each code at most once per
interval, however many pollers (threads, gunicorn workers) look and however many
tabs check, counted at the local Constant Contact; checks never ask."""

import threading
from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import AppWith
from tests.helpers.app import base_config
from tests.helpers.attempts import attempt_of
from tests.helpers.attempts import make_due
from tests.helpers.attempts import poll_count
from tests.helpers.attempts import started
from tests.helpers.integrations import load
from tests.helpers.integrations import make_integration
from tests.helpers.live import csrf_token
from tests.helpers.live import gunicorn
from tests.helpers.live import signed_in_session
from tests.helpers.live import wait_until_done
from tests.helpers.live import wizard_environment
from tests.helpers.races import wait_for
from tests.helpers.sandbox import sandbox_server
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.users import PASSWORD
from wizard.domain import poller
from wizard.domain import polling
from wizard.models import AuthorizationAttempt
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import advance_clock
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import reset

TABS = 8
CHECKS = 10
# Constant Contact's interval here: longer than any test takes, so no poll falls
# due by the clock; it falls due only when the test moves both clocks.
LONG_INTERVAL = 60


@pytest.fixture(scope="module")
def slow_cc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """A local Constant Contact whose device codes may be asked once a minute."""
    with sandbox_server(
        tmp_path_factory,
        SANDBOX_DEVICE_INTERVAL=LONG_INTERVAL,
        SANDBOX_DEVICE_CODE_EXPIRES_IN=3600,
    ) as server:
        yield server


@pytest.fixture
def served(
    app: Flask, customer: int, database_url: str, slow_cc: SandboxServer
) -> Iterator[str]:
    """The wizard under two gunicorn workers, each with its poller running."""
    reset(slow_cc.base_url)
    settings = base_config(database_url) | sandbox_settings(slow_cc.base_url)
    settings["PUBLIC_BASE_URL"] = "http://127.0.0.1"  # cookies over plain http
    # Tabs here check ten times a second, far beyond the per-person limit (tested in
    # test_security_oauth.py): this test is about the pollers, so lift the limit.
    settings["STATUS_POLL_RATE_LIMIT"] = "100000 per minute"
    with gunicorn(wizard_environment(settings), workers=2) as base_url:
        yield base_url
    reset(slow_cc.base_url)


@pytest.mark.sandboxed
def test_two_pollers_that_both_saw_a_code_due_claim_it_once(
    signed_in: FlaskClient,
    app: Flask,
    device_integration: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One poller has read the code as due and is about to claim it; another
    claims it meanwhile. The first one's claim then finds it taken."""
    attempt = started(signed_in, app, device_integration)
    read_it, other_done = threading.Event(), threading.Event()
    claim = polling._claim

    def after_the_other(*args: object) -> bool:
        if threading.current_thread().name == "first":
            read_it.set()
            assert other_done.wait(10)
        return claim(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(polling, "_claim", after_the_other)
    claims: dict[str, list[int]] = {}

    def turn() -> None:
        with app.app_context():
            claims[threading.current_thread().name] = polling.claim_due(utcnow(), 5)[0]

    first = threading.Thread(target=turn, name="first")
    first.start()
    assert read_it.wait(10)
    turn()  # this thread: the other poller, which read it due as well
    other_done.set()
    first.join(10)
    # SQLite: the second claims it and the first's conditional UPDATE finds it
    # taken. PostgreSQL: the first holds the row it read (FOR UPDATE), so the
    # second passes it over (SKIP LOCKED) and the first claims it. One claim, each.
    assert sorted(claims.values()) == [[], [attempt.id]]
    assert poll_count(app, attempt.id) == 1


def test_many_tabs_and_two_workers_pollers_ask_once_per_interval(
    served: str, app: Flask, slow_cc: SandboxServer
) -> None:
    """The pollers in both workers ask once per due moment; no check ever asks."""
    cc = slow_cc.base_url
    integration_id = make_integration(app, create_application(cc)["api_key"])
    session = signed_in_session(served, "owner@bloom.test", PASSWORD)
    status_url = start(session, served, integration_id) + "/status"
    attempt = attempt_of(app, integration_id)

    def fall_due() -> None:
        """Let the interval pass, for the wizard and for Constant Contact."""
        make_due(app, attempt.id)
        advance_clock(cc, LONG_INTERVAL + 1)

    # The first poll is due at once: a poller asks, by itself.
    wait_for(lambda: polls(cc) == 1, "the first poll")
    assert burst(session, [status_url]) == ["waiting"] * TABS * CHECKS
    assert polls(cc) == 1
    fall_due()
    wait_for(lambda: polls(cc) == 2, "the second poll")
    assert burst(session, [status_url]) == ["waiting"] * TABS * CHECKS
    assert polls(cc) == 2
    assert poll_count(app, attempt.id) == 2
    # Allowed, and due once more: the next poll gets the tokens.
    approve_device(cc, attempt.user_code)
    fall_due()
    assert wait_until_done(session, status_url)["state"] == "done"
    assert polls(cc) == 3
    assert get_stats(cc)["slow_downs"] == 0
    assert load(app, integration_id).status == "active"


def test_two_open_codes_are_each_asked_once_per_interval(
    served: str, app: Flask, slow_cc: SandboxServer
) -> None:
    """ "Get a new code" leaves the older code alive at Constant Contact: tabs on
    both pages, two workers' pollers, and still one poll per code per due moment;
    after the older code's approval, none."""
    cc = slow_cc.base_url
    integration_id = make_integration(app, create_application(cc)["api_key"])
    session = signed_in_session(served, "owner@bloom.test", PASSWORD)
    pages = [start(session, served, integration_id) for _ in range(2)]
    urls = [page + "/status" for page in pages]
    with app.app_context():
        codes = db.session.scalars(
            db.select(AuthorizationAttempt).order_by(AuthorizationAttempt.id)
        ).all()
        older, newer = [(code.id, code.user_code) for code in codes]

    def fall_due() -> None:
        """Let the interval pass for both codes, and for Constant Contact."""
        make_due(app, older[0])
        make_due(app, newer[0])
        advance_clock(cc, LONG_INTERVAL + 1)

    wait_for(lambda: polls(cc) == 2, "the first poll of each code")
    # Half the tabs on the replaced code's page, half on the newest one's.
    assert set(burst(session, urls)) == {"ended", "waiting"}
    assert by_code(cc) == {older[1]: 1, newer[1]: 1}
    fall_due()
    wait_for(lambda: polls(cc) == 4, "the second poll of each code")
    burst(session, urls)
    assert by_code(cc) == {older[1]: 2, newer[1]: 2}
    # She allows the older code in the tab she already had open.
    approve_device(cc, older[1])
    fall_due()
    assert wait_until_done(session, urls[1])["state"] == "done"
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


def test_a_poller_runs_once_per_process_and_only_where_asked(app_with: AppWith) -> None:
    """Not in tests, not with WIZARD_POLLER off; otherwise one per process."""
    assert poller.start(app_with()) is None  # TESTING: tests take its turn
    assert poller.start(app_with(TESTING=False)) is None  # POLLER off
    production = app_with(TESTING=False, POLLER="true")
    running = poller.start(production)
    try:
        assert running is not None and running.loop.is_alive()
        assert poller.start(production) is running
    finally:
        running.stop()
    assert not running.loop.is_alive()
