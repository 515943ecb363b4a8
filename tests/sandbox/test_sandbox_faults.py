"""The added faults answer the way the fault matrix (tests/test_faults.py) expects."""

import time
from collections.abc import Iterator

import pytest
import requests

from tests.helpers.sandbox_http import api_get
from tests.helpers.sandbox_http import sandbox_config
from wizard.sandbox.seed import NEWSLETTER_LIST_ID
from wizard.sandbox.testing import set_faults
from wizard.sandbox.testing import start_server

TOKEN = "/oauth2/default/v1/token"


def post_token(base_url: str) -> requests.Response:
    """Send a refresh grant with a made-up token; a fault answers before it is read."""
    return requests.post(
        f"{base_url}{TOKEN}",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        timeout=10,
    )


def test_quota_exceeded_is_a_429_told_apart_by_its_key(base_url: str) -> None:
    set_faults(base_url, {"token": "quota_exceeded", "contact_list": "quota_exceeded"})
    token = post_token(base_url)
    assert token.status_code == 429
    assert token.json()["error_key"] == "quota_exceeded"
    listed = api_get(base_url, f"/contact_lists/{NEWSLETTER_LIST_ID}", None)
    assert listed.status_code == 429
    assert listed.json() == [
        {"error_key": "quota_exceeded", "error_message": "Limit Exceeded"}
    ]


def test_slow_down_is_rfc_8628s_answer(base_url: str) -> None:
    set_faults(base_url, {"token": "slow_down"})
    token = post_token(base_url)
    assert token.status_code == 400
    assert token.json()["error"] == "slow_down"


@pytest.mark.parametrize(
    ("endpoint", "path"),
    [("token", None), ("account_summary", "/account/summary")],
)
def test_missing_fields_are_valid_json_without_them(
    base_url: str, endpoint: str, path: str | None
) -> None:
    set_faults(base_url, {endpoint: "missing"})
    answer = api_get(base_url, path, None) if path else post_token(base_url)
    assert answer.status_code == 200
    body = answer.json()
    assert isinstance(body, dict)
    assert not {"access_token", "organization_name", "name"} & body.keys()


def test_html_ok_is_a_page_with_status_200(base_url: str) -> None:
    set_faults(base_url, {"device_authorize": "html_ok"})
    page = requests.post(
        f"{base_url}/oauth2/default/v1/device/authorize",
        data={"client_id": "x"},
        timeout=10,
    )
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        page.json()


def test_the_new_faults_clear_on_reset(base_url: str) -> None:
    set_faults(base_url, {"token": "slow_down"})
    set_faults(base_url, {})
    # The real server answers again: no client_id, so it refuses the client.
    assert post_token(base_url).json()["error"] == "invalid_client"


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A sandbox whose slow faults last 1.5 s."""
    config = sandbox_config(tmp_path_factory, SANDBOX_FAULT_DELAY_SECONDS=1.5)
    with start_server(config) as server:
        yield server.base_url


def test_drip_sends_a_byte_at_a_time_until_the_delay(slow: str) -> None:
    base_url = slow
    set_faults(base_url, {"token": "drip"})
    started = time.monotonic()
    with requests.post(
        f"{base_url}{TOKEN}", data={"grant_type": "x"}, timeout=0.5, stream=True
    ) as answer:
        # No single read waits anywhere near 0.5 s, so this never times out...
        body = b"".join(answer.iter_content(1))
    # ...yet the whole answer takes the sandbox's fault delay (1.5 s here).
    assert time.monotonic() - started >= 1.4
    assert body.startswith(b'{"padding": "x') and body.endswith(b'"}')


def test_401_is_the_gateways_answer_whatever_the_token(base_url: str) -> None:
    set_faults(base_url, {"contact_lists": "401", "token": "401"})
    listed = api_get(base_url, "/contact_lists", "any-token")
    assert listed.status_code == 401
    assert listed.json()["error_key"] == "unauthorized"
    assert listed.headers["WWW-Authenticate"] == "Bearer realm=api.cc.email"
    token = post_token(base_url)
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"
