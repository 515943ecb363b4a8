"""Settings, fault injection and the control API's on/off switch."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import wizard
from tests.helpers.sandbox_http import api_get
from tests.helpers.sandbox_http import device_authorize
from tests.helpers.sandbox_http import device_tokens
from tests.helpers.sandbox_http import sandbox_config
from wizard.sandbox import DEFAULTS
from wizard.sandbox import create_app
from wizard.sandbox.seed import NEWSLETTER_LIST_ID
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import set_faults
from wizard.sandbox.testing import start_server

FAULTS = {
    "token": "500",
    "device_authorize": "timeout",
    "account_summary": "garbage",
    "contact_list": "html",
    "contact_lists": "503",
    "revoke": "429",
}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """A sandbox whose faults come from settings."""
    config = sandbox_config(
        tmp_path_factory, SANDBOX_FAULTS=FAULTS, SANDBOX_FAULT_DELAY_SECONDS=1.5
    )
    with start_server(config) as server:
        yield server


def test_faults_from_settings(faulty: SandboxServer) -> None:
    base_url = faulty.base_url
    app = create_application(base_url, flow="device")
    with pytest.raises(requests.Timeout):
        requests.post(
            f"{base_url}/oauth2/default/v1/device/authorize",
            data={"client_id": app["api_key"], "scope": "contact_data"},
            timeout=0.3,
        )
    token = requests.post(
        f"{base_url}/oauth2/default/v1/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        timeout=10,
    )
    assert token.status_code == 500
    assert token.json()["error"] == "server_error"
    revoke = requests.post(
        f"{base_url}/oauth2/default/v1/revoke", data={"token": "x"}, timeout=10
    )
    assert revoke.status_code == 429
    garbage = api_get(base_url, "/account/summary", None)
    assert garbage.status_code == 200
    with pytest.raises(ValueError):
        garbage.json()
    html = api_get(base_url, f"/contact_lists/{NEWSLETTER_LIST_ID}", None)
    assert html.headers["Content-Type"].startswith("text/html")
    assert "<html" in html.text
    unavailable = api_get(base_url, "/contact_lists", None)
    assert unavailable.status_code == 503
    assert unavailable.json()[0]["error_key"] == "service_unavailable"
    # The faulted token request was still counted.
    assert get_stats(base_url)["token_requests"]["by_grant_type"] == {
        "refresh_token": 1
    }


def test_faults_at_runtime_and_reset(base_url: str) -> None:
    _, token = device_tokens(base_url)
    set_faults(base_url, {"contact_list": "500", "sign_up_form": "garbage"})
    broken = api_get(
        base_url, f"/contact_lists/{NEWSLETTER_LIST_ID}", token["access_token"]
    )
    assert broken.status_code == 500
    assert broken.json() == [
        {"error_key": "server_error", "error_message": "Injected fault."}
    ]
    requests.post(f"{base_url}/__sandbox__/reset", timeout=10).raise_for_status()
    fixed = api_get(
        base_url, f"/contact_lists/{NEWSLETTER_LIST_ID}", token["access_token"]
    )
    assert fixed.status_code == 200


def test_unknown_fault_is_refused(base_url: str) -> None:
    response = requests.post(
        f"{base_url}/__sandbox__/faults", json={"token": "explode"}, timeout=10
    )
    assert response.status_code == 400


def test_control_api_is_404_when_off(tmp_path_factory: pytest.TempPathFactory) -> None:
    config = sandbox_config(tmp_path_factory, SANDBOX_TEST_CONTROL="False")
    with start_server(config) as server:
        for path in ("applications", "clock", "reset", "faults"):
            response = requests.post(
                f"{server.base_url}/__sandbox__/{path}", json={}, timeout=10
            )
            assert response.status_code == 404
        stats = requests.get(f"{server.base_url}/__sandbox__/stats", timeout=10)
        assert stats.status_code == 404
        # The rest of the sandbox still works.
        app = requests.post(
            f"{server.base_url}/oauth2/default/v1/device/authorize",
            data={"client_id": "nope", "scope": "contact_data"},
            timeout=10,
        )
        assert app.json()["error"] == "invalid_client"


def test_settings_shape_the_device_flow(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    config = sandbox_config(
        tmp_path_factory,
        SANDBOX_DEVICE_CODE_EXPIRES_IN=300,
        SANDBOX_DEVICE_INTERVAL=2,
        SANDBOX_ACCESS_TOKEN_EXPIRES_IN=3600,
    )
    with start_server(config) as server:
        app = create_application(server.base_url, flow="device")
        body = device_authorize(server.base_url, app["api_key"]).json()
        assert (body["expires_in"], body["interval"]) == (300, 2)
        _, token = device_tokens(server.base_url)
        assert token["expires_in"] == 3600


def test_config_defaults_and_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.setenv("WIZARD_SANDBOX_DAILY_LIMIT", "77")
    monkeypatch.setenv("WIZARD_SANDBOX_FAULTS", '{"token": "503"}')
    app = create_app(sandbox_config(tmp_path_factory))
    assert app.config["SESSION_COOKIE_NAME"] == "cc_sandbox_session"
    assert app.config["SANDBOX_DAILY_LIMIT"] == 77
    assert app.config["SANDBOX_FAULTS"] == {"token": "503"}
    assert app.config["SANDBOX_RATE_LIMIT_PER_SECOND"] == 4
    assert app.config["SANDBOX_REFRESH_TOKEN_IDLE_SECONDS"] == 180 * 86400
    repo_root = Path(wizard.__file__).resolve().parent.parent
    assert DEFAULTS["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{repo_root / 'instance' / 'sandbox.sqlite'}"
    )
