"""Many tabs, two gunicorn workers, one attempt: Constant Contact is asked at most
once per interval, counted at the local Constant Contact."""

import math
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from tests.conftest import PASSWORD
from tests.conftest import base_config
from tests.conftest import sandbox_settings
from tests.live import csrf_token
from tests.live import gunicorn
from tests.live import signed_in_session
from tests.live import wizard_environment
from tests.test_authorize import make_integration
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import reset

TABS = 8
SECONDS = 7.0
INTERVAL = 5  # the sandbox's default, like Constant Contact's


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
    states: list[str] = []
    stop = time.monotonic() + SECONDS

    def tab() -> None:
        with requests.Session() as own:
            own.cookies.update(session.cookies)
            while time.monotonic() < stop:
                states.append(own.get(status_url, timeout=10).json()["state"])
                time.sleep(0.1)

    threads = [threading.Thread(target=tab) for _ in range(TABS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stats = get_stats(cc)
    polls = stats["token_requests"]["total"]
    assert len(states) > 100 and set(states) == {"waiting"}
    assert 1 <= polls <= math.floor(SECONDS / INTERVAL) + 1
    assert stats["slow_downs"] == 0

    user_code = page.text.split('id="activation-code"')[1].split(">")[1].split("<")[0]
    approve_device(cc, user_code.replace("-", ""))
    deadline = time.monotonic() + INTERVAL + 3
    while time.monotonic() < deadline:
        result = session.get(status_url, timeout=10).json()
        if result["state"] == "done":
            break
        time.sleep(0.5)
    assert result["state"] == "done"
