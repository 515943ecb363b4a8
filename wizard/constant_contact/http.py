"""One careful HTTP call: timeouts, 429s, 5xx and garbage all become ProviderError."""

import re
from typing import Any

import requests


class ProviderError(Exception):
    """Constant Contact (or the way to it) answered something other than success.

    ``code`` is the OAuth error code when the server sent one (``access_denied``,
    ``slow_down``...) or one of ours: ``timeout``, ``unreachable``, ``throttled``,
    ``unavailable``, ``garbage``, ``unauthorized``, ``forbidden``, ``not_found``.
    ``transient`` says whether trying again later may work.
    """

    TRANSIENT = {"timeout", "unreachable", "throttled", "unavailable", "garbage"}
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
    try:
        response = requests.request(
            method,
            url,
            data=data,
            json=json,
            params=params,
            auth=auth,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        raise ProviderError("timeout") from exc
    except requests.RequestException as exc:
        raise ProviderError("unreachable") from exc
    with response:
        return _read(response)


def _read(response: requests.Response) -> Any:
    status = response.status_code
    if status == 429:
        # Constant Contact: "throttled" (4 per second) or "quota_exceeded" (per day).
        daily = "quota_exceeded" in response.text[:1000]
        raise ProviderError("quota_exceeded" if daily else "throttled", status=status)
    if status >= 500:
        raise ProviderError("unavailable", status=status)
    try:
        body = response.json()
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
    if not 200 <= status < 300:
        raise ProviderError("garbage", f"HTTP {status}", status=status)
    return body
