"""Two app instances (separate gunicorn masters) sharing one database and one Redis."""

import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
import requests
from flask import Flask

from tests.helpers.app import base_config
from tests.helpers.attempts import attempt_of
from tests.helpers.attempts import make_due
from tests.helpers.integrations import load
from tests.helpers.integrations import make_integration
from tests.helpers.live import csrf_token
from tests.helpers.live import gunicorn
from tests.helpers.live import post_form
from tests.helpers.live import pressing_at_once
from tests.helpers.live import signed_in_session
from tests.helpers.live import wait_until_done
from tests.helpers.live import wizard_environment
from tests.helpers.races import one_refresh_for_all
from tests.helpers.races import room_for
from tests.helpers.races import sender_of_held
from tests.helpers.races import wait_for
from tests.helpers.races import workers_of
from tests.helpers.sandbox import approve_in_sandbox
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.users import PASSWORD
from wizard.models import Integration
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox.testing import advance_clock
from wizard.sandbox.testing import answered
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import hold
from wizard.sandbox.testing import release
from wizard.sandbox.testing import wait_until_held

# What the proxy in front of both instances is called; the Redirect URI is built on it.
PUBLIC = "http://127.0.0.1"
USERS = 16
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class Instances(NamedTuple):
    """Two served instances, a session signed in on the first, and their masters."""

    first: str
    second: str
    session: requests.Session
    masters: list["subprocess.Popen[bytes]"]


@pytest.fixture
def instances(database_url: str, cc: str, customer: int) -> Iterator[Instances]:
    """Serve two instances like two hosts; yield their URLs and a signed-in session."""
    settings = base_config(database_url) | sandbox_settings(cc) | room_for(USERS)
    settings |= {
        "PUBLIC_BASE_URL": PUBLIC,
        # Shared limits: both hosts count against the same buckets.
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"wizard-test-{uuid4().hex}",
        # The stampede presses Test connection 16 times at once: more than a person.
        "CONNECTION_ACTION_RATE_LIMIT": "1000 per minute",
    }
    env = wizard_environment(settings)
    masters: list[subprocess.Popen[bytes]] = []
    with (
        gunicorn(env, workers=2, started=masters) as first,
        gunicorn(env, workers=2, started=masters) as second,
    ):
        session = signed_in_session(first, "owner@bloom.test", PASSWORD)
        yield Instances(first, second, session, masters)


def start_device_attempt(
    app: Flask, cc: str, session: requests.Session, base_url: str
) -> tuple[int, str]:
    """Start step 4 (device flow) on one host; return the integration, attempt path."""
    integration_id = make_integration(app, create_application(cc)["api_key"])
    started = post_form(session, f"{base_url}/integrations/{integration_id}/authorize")
    return integration_id, urlsplit(started.headers["Location"]).path


def test_device_flow_started_on_one_host_finishes_on_the_other(
    app: Flask, cc: str, instances: Instances
) -> None:
    first, second, session, _ = instances
    integration_id, attempt_path = start_device_attempt(app, cc, session, first)
    page = session.get(f"{second}{attempt_path}", timeout=10).text
    assert "Allow access in Constant Contact" in page
    code = load_code(app, integration_id)
    approve_device(cc, code)
    result = wait_until_done(session, f"{second}{attempt_path}/status")
    assert result["state"] == "done"
    active = session.get(f"{second}{result['next']}", timeout=10).text
    assert "Your integration is now active!" in active
    assert load(app, integration_id).status == "active"


def load_code(app: Flask, integration_id: int) -> str:
    """Return the activation code the customer sees."""
    with app.app_context():
        return db.session.get(Integration, integration_id).attempts[-1].user_code


def test_code_flow_callback_lands_on_the_other_host(
    app: Flask, cc: str, instances: Instances
) -> None:
    first, second, session, _ = instances
    created = create_application(
        cc,
        flow="authorization_code",
        redirect_uris=[f"{PUBLIC}/callback/constant-contact-auth"],
    )
    integration_id = make_integration(
        app,
        created["api_key"],
        flow="authorization_code",
        secret=created["client_secret"],
    )
    started = post_form(session, f"{first}/integrations/{integration_id}/authorize")
    attempt_path = urlsplit(started.headers["Location"]).path
    opened = session.get(f"{first}{attempt_path}/open", allow_redirects=False)
    redirect = urlsplit(approve_in_sandbox(opened.headers["Location"]))
    landed = session.get(f"{second}{redirect.path}?{redirect.query}", timeout=30)
    assert "Access allowed" in landed.text
    result = wait_until_done(session, f"{first}{attempt_path}/status")
    assert result["state"] == "done"
    assert load(app, integration_id).status == "active"


def test_a_refresh_stampede_across_both_hosts_refreshes_once(
    app: Flask, cc: str, instances: Instances
) -> None:
    """The first refresh is held at Constant Contact until everyone else waits for it.

    Half the people reach one host, half the other; all but the first are seen at
    the row lock while the held refresh is in flight, and a second refresh would
    be held and counted too.
    """
    first, second, session, masters = instances
    integration_id, attempt_path = start_device_attempt(app, cc, session, first)
    approve_device(cc, load_code(app, integration_id))
    assert wait_until_done(session, f"{first}{attempt_path}/status")["state"] == "done"
    with app.app_context():
        db.session.get(Integration, integration_id).token_expires_at = (
            utcnow() - timedelta(minutes=1)
        )
        db.session.commit()
    before = get_stats(cc)["refreshes"]
    path = f"/integrations/{integration_id}/test"
    urls = [f"{first if n % 2 else second}{path}" for n in range(USERS)]
    hold(cc, "token", grant_type="refresh_token")
    with pressing_at_once(session, urls) as answers:
        one_refresh_for_all(app, cc, USERS - 1, masters)
    pages = [answer.text for answer in answers]
    assert len(pages) == USERS
    assert all("The connection works" in page for page in pages)
    assert get_stats(cc)["refreshes"] - before == 1
    assert load(app, integration_id).token_expires_at > utcnow()


def test_sign_in_limits_are_shared_between_hosts(
    instances: Instances,
) -> None:
    first, second, _, _ = instances
    answers = []
    for attempt in range(11):
        base_url = first if attempt % 2 else second
        with requests.Session() as browser:
            token = csrf_token(browser.get(f"{base_url}/sign-in", timeout=10).text)
            answers.append(
                browser.post(
                    f"{base_url}/sign-in",
                    data={
                        "email": "owner@bloom.test",
                        "password": "wrong password",
                        "csrf_token": token,
                    },
                    timeout=10,
                ).status_code
            )
    # Ten tries a minute in all, wherever they land: the fixture's sign-in on the
    # first host was one, so the tenth try here is the first refused.
    assert answers == [200] * 9 + [429, 429]


def test_a_host_killed_while_its_poller_asks_another_hosts_poller_takes_over(
    app: Flask, cc: str, instances: Instances
) -> None:
    """The whole host whose poller Constant Contact is answering dies (master and
    workers, kill -9). Its claim stands until it runs out; then the other host's
    poller asks, and the approval connects: one poll each, none lost or doubled."""
    first, second, session, masters = instances
    hold(cc, "token", count=1, grant_type=DEVICE_GRANT)
    integration_id, attempt_path = start_device_attempt(app, cc, session, first)
    wait_until_held(cc, "token", 1)
    hosts = {master.pid: workers_of(master) for master in masters}
    sender = sender_of_held(
        cc, "token", [pid for pids in hosts.values() for pid in pids]
    )
    dead = next(master for master in masters if sender in hosts[master.pid])
    for pid in (dead.pid, *hosts[dead.pid]):
        os.kill(pid, signal.SIGKILL)
    dead.wait(10)
    wait_for(
        lambda: all(gone_or_zombie(pid) for pid in hosts[dead.pid]),
        "the killed host's workers gone",
    )
    release(cc, "token")
    wait_for(lambda: answered(cc, "token") == 1, "the dead host's poll answered")
    # Its answer ("pending") went to a dead socket; only now does she allow access.
    approve_device(cc, load_code(app, integration_id))
    attempt = attempt_of(app, integration_id)
    assert (attempt.poll_count, attempt.outcome) == (1, None)
    # The claim runs out (moved, not waited for); the living host's poller asks.
    make_due(app, attempt.id)
    advance_clock(cc, 60)
    survivor = second if dead is masters[0] else first
    result = wait_until_done(session, f"{survivor}{attempt_path}/status")
    assert result["state"] == "done"
    assert attempt_of(app, integration_id).poll_count == 2
    assert get_stats(cc)["device_polls"] == 2
    assert load(app, integration_id).status == "active"


def gone_or_zombie(pid: int) -> bool:
    """Return whether a process has ended (gone, or dead and not yet reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"
