"""One careful HTTP call: timeouts, 429s, 5xx and garbage all become ProviderError.

Each call gives up after its timeout however the other side dawdles (a body sent a
byte at a time included), and all calls made for one web request share a budget
(CC_REQUEST_BUDGET_SECONDS), counted from the moment the request arrived and kept
below gunicorn's worker timeout: a request that waited for a lock, then chains a
token call and two API reads, still answers in time.
"""

import json as json_module
import re
import threading
import time
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from flask import Flask
from flask import current_app
from flask import g
from flask import has_request_context

# Constant Contact's answers are small; a bigger one is not worth reading.
MOST_BYTES = 1024 * 1024
CHUNK_BYTES = 8192
# Less than this left of the request's budget is not enough for a call.
LEAST_SECONDS = 0.05
_local = threading.local()


class ProviderError(Exception):
    """Constant Contact (or the way to it) answered something other than success.

    ``code`` is the OAuth error code when the server sent one (``access_denied``,
    ``slow_down``...) or one of ours: ``timeout``, ``unreachable``, ``throttled``,
    ``unavailable``, ``garbage``, ``unauthorized``, ``forbidden``, ``not_found``.
    ``transient`` says whether trying again later may work.
    """

    # slow_down (RFC 8628) is a device-poll answer; anywhere else it still means
    # "later, more slowly", never "this connection is broken".
    TRANSIENT = {
        "timeout",
        "unreachable",
        "throttled",
        "slow_down",
        "unavailable",
        "garbage",
        "conflict",
    }
    # Not worth trying again today: the daily quota resets at midnight UTC.
    UNTIL_TOMORROW = {"quota_exceeded"}

    def __init__(self, code: str, description: str = "", status: int | None = None):
        # The code may come from the other side: keep it short and plain.
        code = re.sub(r"[^a-z0-9_.-]", "", code.lower())[:80] or "garbage"
        super().__init__(code)
        self.code = code
        self.description = description[:300]
        self.status = status

    @property
    def transient(self) -> bool:
        return self.code in self.TRANSIENT


def call(
    method: str,
    url: str,
    *,
    timeout: float,
    data: dict[str, str] | None = None,
    json: dict[str, object] | None = None,
    params: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    bearer: str | None = None,
) -> Any:
    """Send one request and return its JSON body, or raise ProviderError."""
    headers = {"Accept": "application/json"}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    status, _, content = _send(
        method,
        url,
        timeout,
        data=data,
        json=json,
        params=params,
        auth=auth,
        headers=headers,
    )
    return _read(status, content)


def peek(url: str, *, timeout: float) -> tuple[int, str]:
    """GET a page without following redirects: its status and Location, unread.

    For probes whose answer is where a browser would be sent, never the page.
    """
    status, location, _ = _send("GET", url, timeout, headers={})
    return status, location


def _send(
    method: str, url: str, timeout: float, **options: Any
) -> tuple[int, str, bytes]:
    """Send one request within the budget: status, Location and body, or raise."""
    timeout = min(timeout, budget_left())
    if timeout < LEAST_SECONDS:
        raise ProviderError("timeout", "the request's time for Constant Contact is up")
    deadline = time.monotonic() + timeout
    try:
        response = _session().request(
            method,
            url,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
            **options,
        )
        with response:
            content = _content(response, deadline)
            return response.status_code, response.headers.get("Location", ""), content
    except requests.Timeout as exc:
        raise ProviderError("timeout") from exc
    except requests.RequestException as exc:
        raise ProviderError("unreachable") from exc


def _session() -> requests.Session:
    """Return this thread's session: its connections to Constant Contact are reused.

    A new TLS connection per call costs a handshake each time. Cookies are refused,
    so nothing one customer's call is sent can ride along on another's.
    """
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        _local.session = session
    return session


def start_budget() -> None:
    """Start the request's clock for Constant Contact as the request arrives.

    Time spent before the first call (waiting for another request's refresh, say)
    counts too: the budget is how long the page may take, not its calls alone.
    """
    budget = float(current_app.config["CC_REQUEST_BUDGET_SECONDS"])
    g.cc_deadline = time.monotonic() + budget


def budget_left() -> float:
    """Return the seconds this web request may still spend on Constant Contact.

    Outside a request (the CLI, the keep-alive job) there is no gunicorn timeout
    to keep under.
    """
    if not has_request_context():
        return float("inf")
    if "cc_deadline" not in g:
        start_budget()  # a request context without the app's hooks (tests, scripts)
    return g.cc_deadline - time.monotonic()


def init_app(app: Flask) -> None:
    """Start every request's budget when it arrives."""
    app.before_request(start_budget)


def _content(response: requests.Response, deadline: float) -> bytes:
    """Read the body by the deadline: requests' timeout is per read, not in total."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(CHUNK_BYTES):
        size += len(chunk)
        if size > MOST_BYTES:
            raise ProviderError("garbage", "the answer is too large")
        if time.monotonic() > deadline:
            raise ProviderError("timeout", "the answer came too slowly")
        chunks.append(chunk)
    return b"".join(chunks)


def _read(status: int, content: bytes) -> Any:
    if status == 429:
        # Constant Contact: "throttled" (4 per second) or "quota_exceeded" (per day).
        daily = b"quota_exceeded" in content[:1000]
        raise ProviderError("quota_exceeded" if daily else "throttled", status=status)
    if status >= 500:
        raise ProviderError("unavailable", status=status)
    try:
        body = json_module.loads(content)
    except (ValueError, RecursionError) as exc:
        raise ProviderError("garbage", status=status) from exc
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        raise ProviderError(
            body["error"], str(body.get("error_description") or ""), status=status
        )
    if status == 401:
        raise ProviderError("unauthorized", status=status)
    if status == 403:
        raise ProviderError("forbidden", status=status)
    if status == 404:
        raise ProviderError("not_found", status=status)
    if status == 400:
        # The v3 API's error array names what it refused, e.g. a contact's address.
        raise ProviderError("bad_request", _first_message(body), status=status)
    if status == 409:
        # Two changes to one contact at the same moment: the next try works.
        raise ProviderError("conflict", status=status)
    if not 200 <= status < 300:
        raise ProviderError("garbage", f"HTTP {status}", status=status)
    return body


def _first_message(body: Any) -> str:
    """Return the first error_message of a v3 error array, if there is one."""
    first = body[0] if isinstance(body, list) and body else None
    message = first.get("error_message") if isinstance(first, dict) else None
    return message if isinstance(message, str) else ""
