"""The wizard and the local Constant Contact: servers, settings, and answering it."""

from typing import Any

import pytest
import requests
from flask import Flask

from tests.helpers.races import wait_for
from tests.helpers.sandbox_http import sign_in
from tests.helpers.sandbox_http import submit
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import reset
from wizard.sandbox.testing import start_server

# The sandbox holds a "timeout" fault's answer 3 s (and drips a "drip" one for 3 s).
# A test that turns one on gives up sooner, and only then: healthy calls keep the
# default 10 s, which a loaded machine running the suite never reaches.
GIVE_UP_SECONDS = 1.0


def sandbox_server(
    tmp_path_factory: pytest.TempPathFactory, **settings: Any
) -> SandboxServer:
    """Start a local Constant Contact with its own database and the test controls."""
    path = tmp_path_factory.mktemp("cc") / "sandbox.sqlite"
    return start_server(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SANDBOX_TEST_CONTROL": True,
            "SANDBOX_FAULT_DELAY_SECONDS": 3,
        }
        | settings
    )


def sandbox_settings(base_url: str) -> dict[str, str]:
    """The wizard's Constant Contact settings pointed at a sandbox."""
    oauth = f"{base_url}/oauth2/default/v1"
    return {
        "CC_AUTHORIZATION_URL": f"{oauth}/authorize",
        "CC_TOKEN_URL": f"{oauth}/token",
        "CC_DEVICE_AUTHORIZATION_URL": f"{oauth}/device/authorize",
        "CC_REVOCATION_URL": f"{oauth}/revoke",
        "CC_API_BASE_URL": f"{base_url}/v3",
        "CC_PORTAL_URL": f"{base_url}/pages/dma/portal/",
        "CC_LISTS_URL": f"{base_url}/pages/contacts/ui",
    }


def give_up_sooner(app: Flask, fault: str) -> None:
    """Let the app wait less than the sandbox holds a hung answer, for that fault."""
    if fault in ("timeout", "drip"):
        app.config["CC_HTTP_TIMEOUT_SECONDS"] = GIVE_UP_SECONDS


def settled(cc: str) -> None:
    """Wait out answers an earlier test left held at the shared sandbox; reset it."""
    wait_for(lambda: get_stats(cc)["delayed"]["now"] == 0, "no answer held", 15)
    reset(cc)


def device_app(cc: str, **settings: Any) -> str:
    """Create a Device Flow app in the sandbox's portal; return its API Key."""
    return create_application(cc, flow="device", **settings)["api_key"]


def approve_in_sandbox(authorize_url: str, decision: str = "Allow Access") -> str:
    """Sign in at the sandbox and answer the consent page; return the redirect."""
    browser = requests.Session()
    with browser:
        page = browser.get(authorize_url, timeout=10)
        page = sign_in(browser, page)
        assert "would like to access your Constant Contact account" in page.text
        value = "allow" if decision == "Allow Access" else "deny"
        answer = submit(browser, page, button=value, follow=False)
    assert answer.status_code == 302
    return answer.headers["Location"]
