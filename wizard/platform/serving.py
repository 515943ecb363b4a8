"""Gunicorn's own log lines: no query strings, no referrers, text or JSON."""

import logging
import os
from datetime import timedelta
from typing import Any

from flask import Flask
from flask_babel import force_locale
from flask_babel import get_translations
from gunicorn.glogging import Logger
from sqlalchemy.orm import configure_mappers

from wizard.platform import logs
from wizard.platform.i18n import LANGUAGES


class AccessLogger(Logger):
    """Gunicorn's logger, with access lines that can never carry a secret.

    Query strings (OAuth codes and states) and referrers (which repeat them) are
    left out; the path is redacted too, for safety.
    """

    def setup(self, cfg: Any) -> None:
        """Set gunicorn's handlers up, then give them our format and filter."""
        super().setup(cfg)
        kind = os.environ.get("WIZARD_LOG_FORMAT", "text")
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(logs.RedactSecrets())
                if kind == "json":
                    handler.setFormatter(logs.JsonFormatter())
                elif log is self.access_log:
                    handler.setFormatter(logging.Formatter("%(message)s"))

    def access(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta
    ) -> None:
        """Write one line per request: who, what path, status, size, time, id."""
        if not self.access_log_enabled:
            return
        status = str(resp.status).split(None, 1)[0]
        fields = {
            "remote": environ.get("REMOTE_ADDR", "-"),
            "method": environ.get("REQUEST_METHOD", "-"),
            "path": logs.redact(environ.get("PATH_INFO", "")),
            "status": int(status) if status.isdigit() else status,
            "bytes": getattr(resp, "sent", None) or 0,
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": dict(resp.headers).get("X-Request-ID", "-"),
        }
        if os.environ.get("WIZARD_LOG_FORMAT") == "json":
            self.access_log.info("request", extra={"fields": fields})
            return
        self.access_log.info(
            '%(remote)s "%(method)s %(path)s" %(status)s %(bytes)s %(duration_ms)sms'
            " %(request_id)s",
            fields,
        )


def warm(app: Flask) -> None:
    """Build in the master what each worker would otherwise build for itself: the
    compiled templates, the Spanish catalogue and the ORM's mappers. Forked workers
    then share these pages instead of each holding its own copy."""
    for name in app.jinja_env.list_templates(filter_func=_is_template):
        app.jinja_env.get_template(name)
    configure_mappers()
    with app.test_request_context():
        for language in LANGUAGES:
            with force_locale(language):
                get_translations()


def _is_template(name: str) -> bool:
    return name.endswith((".html", ".txt", ".xml", ".svg"))
