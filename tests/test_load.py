"""Load without loss: many complete setups at once on four gunicorn workers.

The short run of bench/load.py: on SQLite it is the "concurrent writers" case (eight
customers writing at the same moment), on PostgreSQL the same journeys.
"""

import json
import subprocess
import threading
import time
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from tests import journeys
from tests.conftest import PASSWORD
from tests.conftest import base_config
from tests.conftest import sandbox_settings
from tests.live import csrf_token
from tests.live import gunicorn
from tests.live import signed_in_session
from tests.live import wizard_environment
from tests.races import room_for
from tests.races import wait_until_waiting_at_the_lock
from tests.races import workers_of
from tests.test_authorize import load
from tests.test_connections import connect
from tests.test_connections import expire
from wizard.models import utcnow
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import held
from wizard.sandbox.testing import hold
from wizard.sandbox.testing import release
from wizard.sandbox.testing import wait_until_held

pytestmark = pytest.mark.load

CUSTOMERS = 24
CLIENTS = 8
WORKERS = 4
# Allow access a little over one interval (5 s) after the code shows: the wizard
# polls while Constant Contact still says "pending", as with a real person.
APPROVE_AFTER = 6.0
STAMPEDE = 50
# What a waiting request may take at most: SQLite's busy_timeout and gunicorn's
# worker timeout are both 30 s; past that a worker is killed or the lock fails.
LOCK_TIMEOUT = 30.0


@pytest.fixture
def config(config: dict[str, Any], cc: str) -> dict[str, Any]:
    return config | sandbox_settings(cc)


def served_settings(database_url: str, cc: str) -> dict[str, Any]:
    """The wizard served over plain http to many people from one address."""
    settings = base_config(database_url) | sandbox_settings(cc)
    settings |= {
        "PUBLIC_BASE_URL": "http://127.0.0.1",  # cookies over plain http
        # Everyone arrives from 127.0.0.1 here; the limit is tested on its own.
        "SIGN_IN_RATE_LIMIT": "1000 per minute",
        # The stampede is 50 presses of Test connection on one integration at once.
        "CONNECTION_ACTION_RATE_LIMIT": "1000 per minute",
    }
    return settings


def test_many_customers_set_up_at_once_and_nothing_is_lost(
    app: Flask, database_url: str, cc: str
) -> None:
    emails = journeys.add_customers(app, CUSTOMERS)
    env = wizard_environment(served_settings(database_url, cc))
    with gunicorn(env, workers=WORKERS) as base_url:
        done, seconds = journeys.setup_many(
            base_url, cc, emails, CLIENTS, approve_after=APPROVE_AFTER
        )
    summary = journeys.summarize(done, seconds)
    print(json.dumps(summary, indent=1))  # the figures, with `pytest -s`

    assert summary["failed"] == []
    assert summary["server_errors"] == 0
    assert summary["active"] == CUSTOMERS
    # Every step was taken by every customer, the status poll at least twice.
    assert set(summary["steps"]) == set(journeys.STEPS)
    assert all(row["count"] >= CUSTOMERS for row in summary["steps"].values())
    assert summary["steps"]["status poll"]["count"] >= 2 * CUSTOMERS
    # Nothing lost or doubled: one active connection with tokens, one attempt each.
    assert journeys.check_saved(app, emails) == []
    stats = get_stats(cc)
    assert stats["device_authorizations"] == CUSTOMERS
    # Asked while pending, then once more for the tokens: at least twice each.
    assert stats["device_polls"] >= 2 * CUSTOMERS
    # Constant Contact was never asked sooner than its interval, by any worker.
    assert stats["slow_downs"] == 0
    assert len(stats["token_requests"]["by_client_id"]) == CUSTOMERS


def test_fifty_users_at_the_moment_of_expiry_cause_one_refresh(
    signed_in: FlaskClient, app: Flask, cc: str, database_url: str
) -> None:
    """The first refresh is held at Constant Contact until the other 49 wait for it."""
    integration_id = connect(signed_in, app, cc)
    expire(app, integration_id)
    before = get_stats(cc)["refreshes"]
    env = wizard_environment(served_settings(database_url, cc) | room_for(STAMPEDE))
    masters: list[subprocess.Popen[bytes]] = []
    with gunicorn(env, workers=WORKERS, started=masters) as base_url:
        session = signed_in_session(base_url, "owner@bloom.test", PASSWORD)
        test_url = f"{base_url}/integrations/{integration_id}/test"
        token = csrf_token(session.get(test_url, timeout=10).text)
        barrier = threading.Barrier(STAMPEDE)
        answers: list[tuple[str, float]] = []

        def use() -> None:
            with requests.Session() as own:
                own.cookies.update(session.cookies)
                barrier.wait()
                began = time.perf_counter()
                page = own.post(test_url, data={"csrf_token": token}, timeout=60)
                answers.append((page.text, time.perf_counter() - began))

        threads = [threading.Thread(target=use) for _ in range(STAMPEDE)]
        hold(cc, "token", grant_type="refresh_token")
        for thread in threads:
            thread.start()
        try:
            wait_until_held(cc, "token", 1)
            workers = workers_of(masters[0])
            wait_until_waiting_at_the_lock(app, STAMPEDE - 1, workers)
            assert held(cc, "token") == {"taken": 1, "waiting": 1}
        finally:
            release(cc, "token")
            for thread in threads:
                thread.join()
    waits = [seconds for _, seconds in answers]
    # The figures include the hold: how long everyone waited for the one refresh.
    print(
        f"stampede waits: p50 {journeys.percentile(waits, 0.5)} ms, "
        f"p99 {journeys.percentile(waits, 0.99)} ms"
    )
    assert len(answers) == STAMPEDE
    assert all("The connection works" in page for page, _ in answers)
    assert get_stats(cc)["refreshes"] - before == 1
    assert journeys.percentile(waits, 0.99) < LOCK_TIMEOUT * 1000
    saved = load(app, integration_id)
    assert saved.status == "active" and saved.token_expires_at > utcnow()
