"""What every page gets: template globals, input guards, security headers."""

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask
from flask import abort
from flask import current_app
from flask import request
from flask_login import current_user
from werkzeug.wrappers import Response

from wizard.domain import drafts
from wizard.web import next_steps
from wizard.web.setup import findings

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)


def _template_globals() -> dict[str, object]:
    """Give every template the brand name, support's contacts and the reference."""
    reference = None
    if current_user.is_authenticated and current_user.organization is not None:
        reference = current_user.organization.reference_code
    config = current_app.config
    phone = str(config["SUPPORT_PHONE"]).strip()
    return {
        "brand_name": config["BRAND_NAME"],
        "support_reference": reference,
        "support_phone": phone,
        # tel: links take digits and a leading +; spaces and dashes are for people.
        "support_phone_link": "".join(c for c in phone if c.isdigit() or c == "+"),
        "support_hours": str(config["SUPPORT_HOURS"]).strip(),
        "support_email": str(config["SUPPORT_EMAIL"]).strip(),
    }


# Flask-WTF checks the Referer on HTTPS posts, so this site must get a full one;
# other sites get the origin at most, never a path or query (no-referrer would
# fail every HTTPS form post).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
# Pages show account details; keep them out of shared caches and history.
NO_STORE = ("Cache-Control", "no-store")


def _security_headers(response: Response) -> Response:
    """Forbid framing, inline scripts, other origins and leaky referrers."""
    headers = response.headers
    wanted = list(SECURITY_HEADERS)
    if current_app.config["PUBLIC_BASE_URL"].startswith("https://"):
        wanted.append(HSTS)
    if response.mimetype == "text/html":
        wanted.append(NO_STORE)
    # One pass over what the view set (each setdefault would be one more).
    present = {name.lower() for name in headers.keys()}
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    return response


_VERSIONS: dict[tuple[str, float], str] = {}
_RELEASED: dict[str, str] = {}


def _version_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    """Add ?v=<content hash> to static URLs, so a changed file gets a new URL."""
    if endpoint != "static" or "v" in values or "filename" not in values:
        return
    filename = str(values["filename"])
    if filename in _RELEASED:
        # Static files change only with a release (a restart): hash each once.
        values["v"] = _RELEASED[filename]
        return
    path = Path(current_app.static_folder or "") / filename
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError:
        return
    if key not in _VERSIONS:
        _VERSIONS[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    values["v"] = _VERSIONS[key]
    if not (current_app.debug or current_app.testing):
        _RELEASED[filename] = values["v"]


def _refuse_nul_bytes() -> None:
    """Turn away query and form values with NUL bytes, which no person types.

    PostgreSQL refuses NUL in text, so one reaching a query would be a 500.
    """
    sources = [request.args] + ([request.form] if request.method == "POST" else [])
    # Every value of every key: a repeated key must not carry one past the check.
    for values in sources:
        if any("\x00" in value for _, value in values.items(multi=True)):
            abort(400)


def _refuse_cross_site_posts() -> None:
    """Refuse form posts another site's page made the browser send (Fetch Metadata).

    A second lock beside the CSRF token: no wizard form is ever posted from elsewhere.
    """
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and request.headers.get("Sec-Fetch-Site") == "cross-site"
    ):
        abort(403)


def init_app(app: Flask) -> None:
    """Register the template globals, the input guards, the headers, static URLs."""
    app.context_processor(_template_globals)
    # Globals, not the context processor: macros imported from _macros.html see them.
    app.jinja_env.globals.update(
        step_count=drafts.STEP_COUNT,
        app_findings=findings.FINDINGS,
        next_step=next_steps.next_step,
        start_shown=next_steps.start_shown,
    )
    app.before_request(_refuse_cross_site_posts)
    app.before_request(_refuse_nul_bytes)
    app.after_request(_security_headers)
    app.url_defaults(_version_static_urls)
