"""The `sandbox` command and the threaded server under concurrent use."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from click.testing import CliRunner

from tests.helpers.sandbox_http import api_get
from tests.helpers.sandbox_http import device_tokens
from wizard.sandbox import cli
from wizard.sandbox.seed import DEMO_LOGIN_EMAIL
from wizard.sandbox.seed import DEMO_PASSWORD


def test_command_prints_base_url_and_demo_sign_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    served: dict[str, Any] = {}

    def fake_run_simple(host: str, port: int, app: Any, **options: Any) -> None:
        served.update(host=host, port=port, app=app, **options)

    monkeypatch.setattr(cli, "run_simple", fake_run_simple)
    monkeypatch.setenv(
        "WIZARD_SANDBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}"
    )
    result = CliRunner().invoke(cli.sandbox_command, ["--port", "5099"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5099" in result.output
    assert DEMO_LOGIN_EMAIL in result.output and DEMO_PASSWORD in result.output
    assert served["threaded"] is True
    assert (served["host"], served["port"]) == ("127.0.0.1", 5099)
    assert served["app"].config["SESSION_COOKIE_NAME"] == "cc_sandbox_session"


def test_concurrent_flows_do_not_collide(base_url: str) -> None:
    def one_flow(_: int) -> int:
        _, token = device_tokens(base_url)
        return api_get(base_url, "/account/summary", token["access_token"]).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(one_flow, range(16)))
    assert statuses == [200] * 16
