"""Warnings for deployments that quietly weaken the rate limits.

Two settings decide whether a limit means what it says: where attempts are counted
(RATELIMIT_STORAGE_URI; memory:// counts in each process) and how many proxies to
trust for the visitor's address (PROXY_COUNT; 0 makes everyone the proxy). Neither
mistake shows until someone relies on the limit, so the log says it at start-up.
"""

import threading

from flask import Config
from flask import Flask
from flask import current_app
from flask import request

EXTENSION = "wizard.platform.deployment"
SHARED_BY_EVERYONE = (
    "every visitor seems to come from the proxy's address, and all of them share the "
    "limits meant for one address (sign-in tries among them). Set WIZARD_PROXY_COUNT "
    "to the number of proxies in front (usually 1)."
)


def weakened_limits(config: Config, workers: int, serves_https: bool) -> list[str]:
    """Return what weakens the rate limits under gunicorn, in an operator's words."""
    said = []
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if workers > 1 and storage.startswith("memory://"):
        said.append(
            f"Each of the {workers} gunicorn workers counts rate limits on its own "
            f"(WIZARD_RATELIMIT_STORAGE_URI is memory://), so every limit is {workers} "
            f"times looser than set: a password guesser gets {workers} times the "
            "tries. Set WIZARD_RATELIMIT_STORAGE_URI to a Redis URL "
            "(redis://HOST:6379/0) so that all workers and hosts share one count."
        )
    public_https = str(config["PUBLIC_BASE_URL"]).startswith("https://")
    if not config["PROXY_COUNT"] and public_https and not serves_https:
        # Customers use https and gunicorn does not speak it: something in front does.
        said.append(
            "WIZARD_PUBLIC_BASE_URL is https:// but gunicorn serves plain http, so a "
            "proxy in front of it handles HTTPS; with WIZARD_PROXY_COUNT=0 "
            + SHARED_BY_EVERYONE
        )
    return said


def warn_at_start(app: Flask, workers: int, serves_https: bool) -> None:
    """Log a warning for each thing that weakens the rate limits."""
    for warning in weakened_limits(app.config, workers, serves_https):
        app.logger.warning(warning)


class _Once:
    """A flag that turns on exactly once, whatever threads race for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False

    def first(self) -> bool:
        """Return True to the first caller only."""
        with self._lock:
            done, self._done = self._done, True
        return not done


def _warn_about_forwarded_for() -> None:
    """Say once per process that a proxy's header arrived but no proxy is trusted."""
    if "X-Forwarded-For" not in request.headers:
        return
    if current_app.extensions[EXTENSION].first():
        current_app.logger.warning(
            "A request came with X-Forwarded-For, which a proxy adds, but "
            f"WIZARD_PROXY_COUNT is 0: {SHARED_BY_EVERYONE} Said once per process."
        )


def init_app(app: Flask) -> None:
    """Watch for a proxy's header while no proxy is trusted."""
    if not app.config["PROXY_COUNT"]:
        app.extensions[EXTENSION] = _Once()
        app.before_request(_warn_about_forwarded_for)
