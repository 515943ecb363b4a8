"""Run the sandbox on a free loopback port for tests, and drive its control API."""

import threading
import time
from types import TracebackType
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import make_server

from . import create_app
from .seed import DEMO_LOGIN_EMAIL

TIMEOUT = 10


class SandboxServer:
    """A sandbox app served by werkzeug in a daemon thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="cc-sandbox", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._thread.join(timeout=TIMEOUT)
        self._server.server_close()

    def __enter__(self) -> "SandboxServer":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_server(test_config: dict[str, Any] | None = None) -> SandboxServer:
    """Build a sandbox app and serve it on 127.0.0.1 with a free port."""
    return SandboxServer(create_app(test_config))


def _control(base_url: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    """POST to the control API and return its JSON (raises on HTTP errors)."""
    response = requests.post(
        f"{base_url}/__sandbox__/{path}", json=payload or {}, timeout=TIMEOUT
    )
    response.raise_for_status()
    return response.json()


def create_application(
    base_url: str,
    name: str = "Sandbox test app",
    flow: str = "device",
    refresh_token_type: str = "long_lived",
    redirect_uris: list[str] | None = None,
    account_email: str = DEMO_LOGIN_EMAIL,
) -> dict[str, Any]:
    """Create an application; return its api_key and client_secret (and settings).

    :param flow: "device", "authorization_code" or "pkce".
    :param refresh_token_type: "long_lived" or "rotating".
    """
    return _control(
        base_url,
        "applications",
        {
            "name": name,
            "flow": flow,
            "refresh_token_type": refresh_token_type,
            "redirect_uris": redirect_uris or [],
            "account_email": account_email,
        },
    )


def create_account(
    base_url: str,
    email: str,
    lists: list[tuple[str, int]],
    organization_name: str = "",
) -> dict[str, Any]:
    """Add a login (the demo password) whose account holds these (name, members)
    lists; return its email, organization_name and lists (list_id, name)."""
    return _control(
        base_url,
        "accounts",
        {
            "email": email,
            "organization_name": organization_name or email,
            "lists": [{"name": name, "members": count} for name, count in lists],
        },
    )


def approve_device(
    base_url: str, user_code: str, email: str = DEMO_LOGIN_EMAIL
) -> dict[str, Any]:
    """Approve a pending user code as a sandbox login (step 4 without a browser)."""
    return _control(
        base_url, "device/approve", {"user_code": user_code, "email": email}
    )


def deny_device(
    base_url: str, user_code: str, email: str = DEMO_LOGIN_EMAIL
) -> dict[str, Any]:
    """Deny a pending user code as a sandbox login."""
    return _control(base_url, "device/deny", {"user_code": user_code, "email": email})


def advance_clock(base_url: str, seconds: float) -> dict[str, Any]:
    """Move the sandbox clock forward, expiring codes and tokens without sleeping."""
    return _control(base_url, "clock", {"advance": seconds})


def set_faults(base_url: str, faults: dict[str, str]) -> dict[str, Any]:
    """Replace the fault map, e.g. {"token": "503"}."""
    return _control(base_url, "faults", faults)


def get_stats(base_url: str) -> dict[str, Any]:
    """Return the request counters."""
    response = requests.get(f"{base_url}/__sandbox__/stats", timeout=TIMEOUT)
    response.raise_for_status()
    return response.json()


def reset(base_url: str) -> dict[str, Any]:
    """Clear stats, clock offset and runtime faults."""
    return _control(base_url, "reset")


def hold(
    base_url: str,
    endpoint: str,
    count: int | None = None,
    grant_type: str | None = None,
) -> dict[str, Any]:
    """Keep the next ``count`` requests to an endpoint (all, without) waiting.

    For proving races: hold the first caller at Constant Contact, then show what
    everyone else does while it is provably in flight. ``release`` lets them go.
    """
    payload: dict[str, Any] = {"endpoint": endpoint, "count": count}
    if grant_type:
        payload["grant_type"] = grant_type
    return _control(base_url, "hold", payload)


def release(base_url: str, endpoint: str | None = None) -> dict[str, Any]:
    """Let the held requests of an endpoint (or of every endpoint) go on."""
    return _control(base_url, "release", {"endpoint": endpoint} if endpoint else {})


def held(base_url: str, endpoint: str) -> dict[str, int]:
    """Return how many requests a hold took and how many wait at it right now."""
    counts = get_stats(base_url)["held"].get(endpoint, {})
    return {"taken": counts.get("taken", 0), "waiting": counts.get("waiting", 0)}


def held_ports(base_url: str, endpoint: str) -> list[int]:
    """Return the client port of each request waiting at the hold: who sent it."""
    return get_stats(base_url)["held"].get(endpoint, {}).get("ports", [])


def answered(base_url: str, endpoint: str) -> int:
    """Return how many requests to a fault endpoint have had their answer."""
    return get_stats(base_url)["answered"].get(endpoint, 0)


def wait_until_held(
    base_url: str, endpoint: str, waiting: int, within: float = 30.0
) -> None:
    """Wait until ``waiting`` requests wait at the endpoint's hold; fail if never.

    ``within`` only bounds a test that is already broken; nothing is timed by it.
    """
    deadline = time.monotonic() + within
    while held(base_url, endpoint)["waiting"] < waiting:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{waiting} requests never reached the hold on {endpoint}: "
                f"{held(base_url, endpoint)}"
            )
        time.sleep(0.02)


def add_list(base_url: str, name: str = "") -> str:
    """Add an empty list to the demo account; return its List ID."""
    return _control(base_url, "lists", {"name": name} if name else {})["list_id"]


def delete_list(base_url: str, list_id: str, deleted: bool = True) -> None:
    """Delete a list in Constant Contact (or, with deleted=False, bring it back)."""
    _control(base_url, f"lists/{list_id}", {"deleted": deleted})


def list_members(base_url: str, list_id: str) -> list[dict[str, Any]]:
    """Return a list's members, each with how often its address was signed up."""
    response = requests.get(
        f"{base_url}/__sandbox__/lists/{list_id}/members", timeout=10
    )
    response.raise_for_status()
    return response.json()["members"]


def remove_access(base_url: str, api_key: str) -> int:
    """Remove an app's access in Constant Contact: every token it holds stops."""
    return _control(base_url, f"applications/{api_key}/revoke")["revoked"]
