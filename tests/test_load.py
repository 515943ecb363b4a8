"""Load without loss: many complete setups at once on four gunicorn workers.

The short run of bench/load.py: on SQLite it is the "concurrent writers" case (eight
customers writing at the same moment), on PostgreSQL the same journeys.
"""

import json
import subprocess
import threading
from collections import Counter
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import journeys
from tests.helpers.app import base_config
from tests.helpers.connections import connect
from tests.helpers.connections import expire
from tests.helpers.integrations import load
from tests.helpers.live import csrf_token
from tests.helpers.live import gunicorn
from tests.helpers.live import signed_in_session
from tests.helpers.live import wizard_environment
from tests.helpers.races import one_refresh_for_all
from tests.helpers.races import room_for
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.users import PASSWORD
from wizard.constant_contact.client import DEVICE_GRANT
from wizard.models import AuditEvent
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import hold

pytestmark = [pytest.mark.load, pytest.mark.sandboxed]

CUSTOMERS = 16  # two rounds of the eight clients at once
CLIENTS = 8
WORKERS = 4
# Allow access a little over one interval (5 s) after the code shows: the wizard
# polls while Constant Contact still says "pending", as with a real person.
APPROVE_AFTER = 6.0
STAMPEDE = 50


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
    # Every step once per customer; the status poll until "done" (after "waiting").
    assert set(summary["steps"]) == set(journeys.STEPS)
    for step, row in summary["steps"].items():
        if step != "status poll":
            assert row["count"] == CUSTOMERS, step
    # Nothing lost or doubled: one active connection with tokens, one attempt each.
    assert journeys.check_saved(app, emails) == []
    polls = polls_by_api_key(app)
    stats = get_stats(cc)
    # One for step 1's app check (dropped unused), one for step 4.
    assert stats["device_authorizations"] == 2 * CUSTOMERS
    # Every poll a worker claimed reached Constant Contact once, for its own
    # customer, and nothing else asked for tokens: no refresh, no second poll.
    assert stats["token_requests"]["by_client_id"] == polls
    assert stats["token_requests"]["by_grant_type"] == {
        DEVICE_GRANT: sum(polls.values())
    }
    assert stats["device_polls"] == sum(polls.values())
    # Never sooner than the interval, by any worker: Constant Contact would have
    # said slow_down, and the attempt's own record allows no more polls than that.
    assert stats["slow_downs"] == 0
    for started_at, finished_at, interval, count in attempt_records(app):
        assert 1 <= count <= (finished_at - started_at).total_seconds() // interval + 1
    # Access is allowed only after a "waiting" answer, so each customer checked at
    # least twice; how often more depends on the clock, not on the wizard.
    assert all(len(journey.seconds["status poll"]) >= 2 for journey in done)


def polls_by_api_key(app: Flask) -> dict[str, int]:
    """Each customer's API key and the polls the wizard counted for its attempt."""
    with app.app_context():
        rows = db.session.execute(
            db.select(Integration.api_key, AuthorizationAttempt.poll_count).join(
                AuthorizationAttempt.integration
            )
        ).all()
    return {api_key: count for api_key, count in rows}


def attempt_records(app: Flask) -> list[tuple[Any, Any, int, int]]:
    """Each attempt's start, finish, interval and the polls it made."""
    with app.app_context():
        return [
            (a.started_at, a.finished_at, a.interval, a.poll_count)
            for a in db.session.scalars(db.select(AuthorizationAttempt))
        ]


def test_fifty_users_at_the_moment_of_expiry_cause_one_refresh(
    signed_in: FlaskClient, app: Flask, cc: str, database_url: str
) -> None:
    """The first refresh is held at Constant Contact until the other 49 wait for it."""
    integration_id = connect(signed_in, app, cc)
    expire(app, integration_id)
    before = get_stats(cc)
    trail = actions(app, integration_id)
    env = wizard_environment(served_settings(database_url, cc) | room_for(STAMPEDE))
    masters: list[subprocess.Popen[bytes]] = []
    with gunicorn(env, workers=WORKERS, started=masters) as base_url:
        session = signed_in_session(base_url, "owner@bloom.test", PASSWORD)
        test_url = f"{base_url}/integrations/{integration_id}/test"
        token = csrf_token(session.get(test_url, timeout=10).text)
        barrier = threading.Barrier(STAMPEDE)
        answers: list[requests.Response] = []

        def use() -> None:
            with requests.Session() as own:
                own.cookies.update(session.cookies)
                barrier.wait()
                answers.append(
                    own.post(test_url, data={"csrf_token": token}, timeout=60)
                )

        threads = [threading.Thread(target=use) for _ in range(STAMPEDE)]
        hold(cc, "token", grant_type="refresh_token")
        for thread in threads:
            thread.start()
        try:
            one_refresh_for_all(app, cc, STAMPEDE - 1, masters)
        finally:
            for thread in threads:
                thread.join()
    assert len(answers) == STAMPEDE
    assert [page.status_code for page in answers] == [200] * STAMPEDE
    assert all("The connection works" in page.text for page in answers)
    # One refresh, and no other call for tokens: everyone else took its token.
    stats = get_stats(cc)
    assert stats["refreshes"] - before["refreshes"] == 1
    assert stats["token_requests"]["total"] - before["token_requests"]["total"] == 1
    added = Counter(actions(app, integration_id)) - Counter(trail)
    # Each person's test, each one a check of the list, and one refresh among them.
    assert added == {
        "connection.tested": STAMPEDE,
        "connection.checked": STAMPEDE,
        "connection.refreshed": 1,
    }
    saved = load(app, integration_id)
    assert saved.status == "active" and saved.token_expires_at > utcnow()


def actions(app: Flask, integration_id: int) -> list[str]:
    """The integration's audit trail, action by action."""
    with app.app_context():
        return list(
            db.session.scalars(
                db.select(AuditEvent.action).filter_by(integration_id=integration_id)
            )
        )
