"""Injected failures, switched on per endpoint by SANDBOX_FAULTS or the control API."""

import functools
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from flask import Response
from flask import current_app
from flask import jsonify
from flask import request

from .state import SandboxState

FAULTS = (
    "timeout",
    "500",
    "503",
    "401",
    "429",
    "quota_exceeded",
    "garbage",
    "html",
    "html_ok",
    "missing",
    "slow_down",
    "drip",
    "surrogate",
)
# How often a dripping answer sends its next byte: well inside any read timeout.
DRIP_SECONDS = 0.1

# Endpoints on the authorization server answer like Okta; the rest like api.cc.email.
OAUTH_ENDPOINTS = {"token", "device_authorize", "revoke"}

HTML_ERROR_PAGE = """<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><h1>502 Bad Gateway</h1><p>The server returned an invalid or incomplete
response.</p></body></html>
"""


def fault_response(endpoint: str, fault: str) -> Response | None:
    """Build the response for a fault, or return None to carry on after a delay."""
    oauth = endpoint in OAUTH_ENDPOINTS
    state = current_app.extensions["cc_sandbox"]
    if fault == "timeout":
        # Long enough that a client with a sane timeout gives up first.
        with state.holding():
            time.sleep(float(current_app.config["SANDBOX_FAULT_DELAY_SECONDS"]))
            state.count("held_answered")
        return None
    if fault in ("500", "503"):
        status = int(fault)
        if oauth:
            error = "server_error" if status == 500 else "temporarily_unavailable"
            body: Any = {"error": error, "error_description": "Injected fault."}
        else:
            key = "server_error" if status == 500 else "service_unavailable"
            body = [{"error_key": key, "error_message": "Injected fault."}]
        response = jsonify(body)
        response.status_code = status
        return response
    if fault == "401":
        if oauth:
            # Okta refusing the client (RFC 6749 section 5.2).
            body = {"error": "invalid_client", "error_description": "Injected fault."}
            response = jsonify(body)
            response.status_code = 401
            return response
        # The API Gateway's answer to a token it does not accept, valid or not.
        body = {"error_key": "unauthorized", "error_message": "Unauthorized"}
        response = jsonify(body)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = "Bearer realm=api.cc.email"
        return response
    if fault == "429":
        if oauth:
            body = {
                "errorCode": "E0000047",
                "errorSummary": "API call exceeded rate limit due to too many "
                "requests.",
            }
        else:
            body = {"error_key": "throttled", "error_message": "Too Many Requests"}
        response = jsonify(body)
        response.status_code = 429
        return response
    if fault == "quota_exceeded":
        # The daily limit: the same 429, told apart from "throttled" only by its key.
        body = {"error_key": "quota_exceeded", "error_message": "Limit Exceeded"}
        response = jsonify(body if oauth else [body])
        response.status_code = 429
        return response
    if fault == "slow_down":
        # RFC 8628 section 3.5; an API endpoint has no such answer, so it gets a 400.
        body = {"error": "slow_down", "error_description": "Poll less often."}
        response = jsonify(body)
        response.status_code = 400
        return response
    if fault == "missing":
        # Well-formed JSON with none of the fields a client needs.
        return jsonify({"token_type": "Bearer"} if oauth else {"status": "ok"})
    if fault == "drip":
        delay = float(current_app.config["SANDBOX_FAULT_DELAY_SECONDS"])
        return Response(_drip(delay, state), 200, mimetype="application/json")
    if fault == "html_ok":
        # A captive portal or login page answering 200 where JSON was expected.
        return Response(HTML_ERROR_PAGE, 200, mimetype="text/html")
    if fault == "garbage":
        # Claims JSON but is cut off, the way a broken proxy would leave it.
        return Response('{"access_token": "eyJ', 200, mimetype="application/json")
    if fault == "html":
        return Response(HTML_ERROR_PAGE, 502, mimetype="text/html")
    if fault == "surrogate":
        # Valid JSON whose strings hold a lone UTF-16 surrogate: Python reads it as
        # text that cannot be encoded, and no real token looks like that.
        body = (
            '{"access_token": "eyJ\\ud800x", "refresh_token": "\\udfffy", '
            '"token_type": "Bearer", "expires_in": 86400, "device_code": "\\ud800", '
            '"user_code": "ABCD\\ud800", "verification_uri": "https://x\\ud800"}'
        )
        return Response(body, 200, mimetype="application/json")
    return None


def _drip(seconds: float, state: SandboxState) -> Iterator[bytes]:
    """Send a valid-looking answer a byte at a time for ``seconds``.

    Each read on the client sees data well inside its timeout, so only a deadline
    on the whole answer stops waiting.
    """
    # Streamed after the view returns: no app context here, so no settings.
    with state.holding():
        stop = time.monotonic() + seconds
        yield b'{"padding": "'
        while time.monotonic() < stop:
            time.sleep(DRIP_SECONDS)
            yield b"x"
        state.count("held_answered")  # before its last byte leaves
        yield b'"}'


def fault_point(endpoint: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view so a hold keeps it waiting and a fault replaces or delays it."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            state = current_app.extensions["cc_sandbox"]
            if state.holds:
                grant_type = request.form.get("grant_type") if request.form else None
                port = request.environ.get("REMOTE_PORT")
                state.wait_if_held(endpoint, grant_type, int(port) if port else None)
            try:
                fault = state.faults.get(endpoint)
                if fault:
                    response = fault_response(endpoint, fault)
                    if response is not None:
                        return response
                return view(*args, **kwargs)
            finally:
                # After the view's commit: what it did is in the database now.
                state.count("answered", "answered", endpoint)

        return wrapper

    return decorator
