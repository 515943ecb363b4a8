"""Starts pressed at the same moment are counted before any of them asks.

Each start asks Constant Contact for a new code (AUTHORIZE_START_RATE_LIMIT per
integration). Counting a start only once its answer is sent would let presses at
the same moment all through before the first is counted: here the sandbox holds
every device authorization, so all presses are provably in flight together.
"""

import threading
import time

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import AppWith
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.users import signed_in_client
from wizard.sandbox.testing import held
from wizard.sandbox.testing import hold
from wizard.sandbox.testing import release
from wizard.sandbox.testing import wait_until_held

LIMIT = 3
PRESSES = 8


def test_starts_at_the_same_moment_are_limited_before_they_ask(
    app_with: AppWith, customer: int, cc: str, device_integration: int
) -> None:
    app: Flask = app_with(
        **sandbox_settings(cc),
        AUTHORIZE_START_RATE_LIMIT=f"{LIMIT} per hour",
        CC_HTTP_TIMEOUT_SECONDS=60,
    )
    clients = [signed_in_client(app) for _ in range(PRESSES)]
    hold(cc, "device_authorize")
    statuses: list[int] = []
    barrier = threading.Barrier(PRESSES)

    def press(client: FlaskClient) -> None:
        barrier.wait()
        statuses.append(
            client.post(f"/integrations/{device_integration}/authorize").status_code
        )

    threads = [threading.Thread(target=press, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    wait_until_held(cc, "device_authorize", LIMIT)
    # Everyone past the limit is told so while the admitted starts are in flight;
    # had they been let through, more than LIMIT would wait at the sandbox.
    deadline = time.monotonic() + 30  # bounds a broken test only
    while len(statuses) < PRESSES - LIMIT and time.monotonic() < deadline:
        assert held(cc, "device_authorize")["waiting"] <= LIMIT
        threading.Event().wait(0.02)
    assert statuses == [429] * (PRESSES - LIMIT)
    assert held(cc, "device_authorize") == {"taken": LIMIT, "waiting": LIMIT}
    release(cc)
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302] * LIMIT + [429] * (PRESSES - LIMIT)
