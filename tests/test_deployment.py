"""Start-up warnings for deployments that quietly weaken the rate limits."""

import logging
import re
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.helpers.app import AppWith
from tests.helpers.app import base_config
from tests.helpers.live import free_port
from tests.helpers.live import gunicorn
from tests.helpers.live import wizard_environment

LIMITS_PER_WORKER = (
    "Each of the 2 gunicorn workers counts rate limits on its own "
    "(WIZARD_RATELIMIT_STORAGE_URI is memory://), so every limit is 2 times looser "
    "than set: a password guesser gets 2 times the tries. Set "
    "WIZARD_RATELIMIT_STORAGE_URI to a Redis URL (redis://HOST:6379/0) so that all "
    "workers and hosts share one count."
)
PROXY_AT_START = (
    "WIZARD_PUBLIC_BASE_URL is https:// but gunicorn serves plain http, so a proxy in "
    "front of it handles HTTPS; with WIZARD_PROXY_COUNT=0 every visitor seems to come "
    "from the proxy's address, and all of them share the limits meant for one address "
    "(sign-in tries among them). Set WIZARD_PROXY_COUNT to the number of proxies in "
    "front (usually 1)."
)
PROXY_AT_REQUEST = (
    "A request came with X-Forwarded-For, which a proxy adds, but WIZARD_PROXY_COUNT "
    "is 0: every visitor seems to come from the proxy's address, and all of them share "
    "the limits meant for one address (sign-in tries among them). Set "
    "WIZARD_PROXY_COUNT to the number of proxies in front (usually 1). Said once per "
    "process."
)
REDIS = {
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    "RATELIMIT_KEY_PREFIX": f"wizard-test-{uuid4().hex}",
}


def app_warnings(log: str) -> list[str]:
    """Return the messages of the app's WARNING lines in a text log."""
    return re.findall(r"^\S+ \S+ WARNING wizard (.*)$", log, re.MULTILINE)


@pytest.mark.parametrize(
    ("workers", "settings", "expected"),
    [
        # The defaults behind an HTTPS proxy: both limits weakened, both said.
        (2, {}, [LIMITS_PER_WORKER, PROXY_AT_START]),
        # Redis counts for every worker; the proxy is still not trusted.
        (2, REDIS, [PROXY_AT_START]),
        (2, REDIS | {"PROXY_COUNT": 1}, []),
        # One worker on plain http, as on a laptop: nothing is weakened.
        (1, {"PUBLIC_BASE_URL": "http://127.0.0.1:5000"}, []),
    ],
    ids=["memory-proxy", "redis-proxy", "redis-proxy-counted", "one-worker-http"],
)
def test_gunicorn_says_at_start_when_limits_are_weaker_than_set(
    database_url: str,
    tmp_path: Path,
    workers: int,
    settings: dict[str, Any],
    expected: list[str],
) -> None:
    log_file = tmp_path / "gunicorn.log"
    env = wizard_environment(base_config(database_url) | settings)
    env["GUNICORN_LOG"] = str(log_file)
    with gunicorn(env, workers=workers, port=free_port()):
        pass
    written = log_file.read_text()
    assert "Booting worker" in written  # the log is gunicorn's, workers and all
    assert app_warnings(written) == expected


def forwarded_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the app's warnings about X-Forwarded-For captured so far."""
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    return [message for message in said if "X-Forwarded-For" in message]


def test_the_first_forwarded_request_without_proxy_count_is_warned_about_once(
    app_with: AppWith, caplog: pytest.LogCaptureFixture
) -> None:
    client = app_with().test_client()
    assert client.get("/sign-in").status_code == 200
    assert forwarded_warnings(caplog) == []  # no proxy header, nothing to say
    for address in ("203.0.113.9", "198.51.100.7", "203.0.113.9"):
        answered = client.get("/sign-in", headers={"X-Forwarded-For": address})
        assert answered.status_code == 200
    assert forwarded_warnings(caplog) == [PROXY_AT_REQUEST]
    assert "203.0.113.9" not in caplog.text


def test_forwarded_requests_are_expected_when_proxies_are_counted(
    app_with: AppWith, caplog: pytest.LogCaptureFixture
) -> None:
    client = app_with(PROXY_COUNT=1).test_client()
    for address in ("203.0.113.9", "198.51.100.7"):
        answered = client.get("/sign-in", headers={"X-Forwarded-For": address})
        assert answered.status_code == 200
    assert forwarded_warnings(caplog) == []
