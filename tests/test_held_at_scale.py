"""Issue 17's proof: 200 contacts added from 4 threads in 2 processes while
Constant Contact fails are all held; after the fix exactly 200 reach the list,
none lost, and a replaying process killed mid-send re-sends only its one."""

import ast
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.adder import address
from tests.helpers.connections import connect
from tests.helpers.live import ROOT
from tests.helpers.live import wizard_environment
from wizard.domain import held
from wizard.sandbox.testing import hold
from wizard.sandbox.testing import list_members
from wizard.sandbox.testing import release
from wizard.sandbox.testing import set_faults
from wizard.sandbox.testing import wait_until_held

pytestmark = pytest.mark.sandboxed

PER_THREAD = 50
LEASE = 4


def _start(env: dict[str, str], *args: str) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _replayer(env: dict[str, str], integration_id: int) -> "subprocess.Popen[str]":
    return _start(
        env, "-m", "flask", "--app", "wizard", "integrations", "replay",
        str(integration_id),
    )  # fmt: skip


def _waiting(app: Flask, integration_id: int) -> int:
    with app.app_context():
        return held.waiting(integration_id)


def test_200_from_2_processes_held_then_each_sent_once_despite_a_kill(
    fresh_list: str, signed_in: FlaskClient, app: Flask, cc: str, config: dict[str, Any]
) -> None:
    list_id = fresh_list
    integration_id = connect(signed_in, app, cc, list_id=list_id)
    env = wizard_environment(config | {"HELD_CONTACT_LEASE_SECONDS": LEASE})
    env["WIZARD_TESTING"] = "true"
    set_faults(cc, {"sign_up_form": "503"})
    adders = [
        _start(
            env,
            "-m",
            "tests.helpers.adder",
            str(integration_id),
            str(process * 2 * PER_THREAD),
            str(PER_THREAD),
            "2",
        )  # fmt: skip
        for process in range(2)
    ]
    answers: dict[str, int] = {}
    for adder in adders:
        out, err = adder.communicate(timeout=300)
        assert adder.returncode == 0, err[-3000:]
        for answer, count in ast.literal_eval(out.strip().splitlines()[-1]).items():
            answers[answer] = answers.get(answer, 0) + count
    # Every add answered "held", the same person twice held once.
    assert answers == {"held": 4 * (PER_THREAD + 5)}
    assert _waiting(app, integration_id) == 200
    assert list_members(cc, list_id) == []
    set_faults(cc, {})
    # A replayer is killed while Constant Contact takes its first contact.
    hold(cc, "sign_up_form", count=1)
    doomed = _replayer(env, integration_id)
    wait_until_held(cc, "sign_up_form", 1)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.communicate(timeout=30)
    release(cc, "sign_up_form")
    # Two replayers at once finish the work once the dead one's claim runs out.
    deadline = time.monotonic() + 240  # only bounds a broken test
    while _waiting(app, integration_id):
        assert time.monotonic() < deadline, _waiting(app, integration_id)
        pair = [_replayer(env, integration_id) for _ in range(2)]
        for replayer in pair:
            _, err = replayer.communicate(timeout=240)
            assert replayer.returncode == 0, err[-3000:]
        time.sleep(0.5)
    members = {m["email"]: m["sign_ups"] for m in list_members(cc, list_id)}
    assert sorted(members) == sorted(address(n) for n in range(200))
    # Only the contact in flight when its sender died went twice.
    assert sorted(members.values()) == [1] * 199 + [2]
