"""Signed webhooks: POST a JSON body with an HMAC-SHA256 signature and a timestamp.

The signature covers "<timestamp>.<body>": a receiver recomputes it with the shared
secret, compares in constant time, and refuses a timestamp older than a few minutes
(a replayed request). Header: ``X-Wizard-Signature: t=<unix seconds>,v1=<hex>``.
"""

import hashlib
import hmac
import json
from typing import Any

import requests

SIGNATURE_HEADER = "X-Wizard-Signature"
TIMEOUT_SECONDS = 10


class WebhookError(Exception):
    """The receiver did not take the webhook; the words say why, without secrets."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header's value for this body at this time."""
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int) -> bool:
    """Return whether a signature header is ours for this body and recent enough."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def post(url: str, secret: str, payload: dict[str, Any], now: int) -> None:
    """Send the payload, signed; raise WebhookError unless the receiver said 2xx."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, now, body),
    }
    try:
        answer = requests.post(
            url,
            data=body,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        kind = type(error).__name__
        # from None: the URL (which may hold a token) stays out of tracebacks.
        raise WebhookError(f"the receiver could not be reached ({kind})") from None
    if not 200 <= answer.status_code < 300:
        raise WebhookError(f"the receiver answered HTTP {answer.status_code}")
