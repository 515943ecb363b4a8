"""Languages and time zones: which ones a request gets, the switch, and dates."""

from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

import pytz
from babel import Locale
from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import has_request_context
from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime
from flask_babel import format_time
from flask_babel import format_timedelta
from flask_babel import get_locale
from flask_babel import get_timezone
from flask_babel import get_translations
from flask_wtf import FlaskForm
from jinja2.ext import _make_new_gettext
from jinja2.ext import _make_new_ngettext

from wizard.platform.extensions import babel

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
# Each language's name in itself: the switch offers the other one in its own words.
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
LANGUAGE_COOKIE = "wizard_lang"
TIMEZONE_COOKIE = "wizard_tz"
ONE_YEAR = 365 * 24 * 60 * 60

bp = Blueprint("i18n", __name__)


def N_(message: str) -> str:  # noqa: N802 (the name pybabel looks for)
    """Mark a message for translation without translating it yet."""
    return message


def select_locale() -> str | None:
    """Return the cookie's language if valid, else the browser's best, else English."""
    if not has_request_context():
        # CLI commands and log lines stay in English.
        return None
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def valid_timezone(name: str | None) -> str | None:
    """Return the zone name if zoneinfo and pytz both know it, else None."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        ZoneInfo(name)
        pytz.timezone(name)
    except (ZoneInfoNotFoundError, ValueError, pytz.UnknownTimeZoneError):
        return None
    return name


def select_timezone() -> str | None:
    """Return the zone the browser reported in its cookie; without one, UTC."""
    if not has_request_context():
        return None
    return valid_timezone(request.cookies.get(TIMEZONE_COOKIE)) or "UTC"


def is_utc() -> bool:
    """Return whether times are shown in UTC (no zone cookie, or the zone is UTC)."""
    return str(get_timezone()) in ("UTC", "Etc/UTC")


def _with_zone(text: str) -> str:
    # Local times need no label; UTC gets one so nobody reads it as their own clock.
    return f"{text} UTC" if is_utc() else text


def _skeleton(locale: Locale, skeleton: str) -> str:
    """Return the language's own pattern for a CLDR skeleton ("yMMMd", "Hm")."""
    return locale.datetime_skeletons[skeleton].pattern


def when(value: datetime | None, seconds: bool = False) -> str:
    """Say a date and time in the person's language and time zone."""
    if value is None:
        return ""
    locale = get_locale() or Locale.parse(DEFAULT_LANGUAGE)
    # CLDR has no combined skeletons: the date and the 24-hour time are joined
    # by the language's own pattern ("{1}, {0}" in English and Spanish).
    day = _skeleton(locale, "yMMMd")
    time = _skeleton(locale, "Hms" if seconds else "Hm")
    joined = str(locale.datetime_formats["medium"]).replace("{1}", day)
    return _with_zone(format_datetime(value, joined.replace("{0}", time)))


def clock(value: datetime | None) -> str:
    """Say a time of day (hours, minutes, seconds) in the person's time zone."""
    if value is None:
        return ""
    locale = get_locale() or Locale.parse(DEFAULT_LANGUAGE)
    return _with_zone(format_time(value, _skeleton(locale, "Hms")))


def ago(value: datetime | None, now: datetime) -> str:
    """Say how long ago, in the reader's language ("8 seconds ago")."""
    if value is None:
        return ""
    return format_timedelta(value - now, granularity="second", add_direction=True)


def safe_next(target: str | None) -> str | None:
    """Allow only a local path: one leading slash, no scheme, host or backslash."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


class LanguageForm(FlaskForm):
    """The language switch: only its CSRF token; the language is the button."""


@bp.route("/language", methods=["POST"])
def switch() -> ResponseReturnValue:
    """Remember the chosen language for a year and go back to the same page."""
    form = LanguageForm()
    target = safe_next(request.form.get("next")) or url_for("pages.home")
    response = redirect(target)
    chosen = request.form.get("lang", "")
    if form.validate_on_submit() and chosen in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=ONE_YEAR,
            samesite="Lax",
            httponly=True,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


# Pages whose query may hold a secret (the OAuth callback's code and state): the
# language switch sends people back to the bare path, never copying the query.
PRIVATE_QUERY_ENDPOINTS = frozenset({"authorize.callback"})


def _template_globals() -> dict[str, object]:
    """Give templates the page's language and the switch to the others."""
    current = str(get_locale() or DEFAULT_LANGUAGE)
    private = request.endpoint in PRIVATE_QUERY_ENDPOINTS
    here = request.full_path if request.query_string and not private else request.path
    return {
        "page_language": current,
        "other_languages": [
            (code, LANGUAGE_NAMES[code]) for code in LANGUAGES if code != current
        ],
        "language_next": here,
    }


def _words() -> dict[str, object]:
    """Give a render gettext and ngettext bound to the language's translations.

    Flask-Babel's own find the translations again on every call, and a page says
    thirty-odd things: found here once per render, in the language in force then
    (force_locale too). Wrapped as Jinja's newstyle gettext wraps them (escaping,
    %(name)s); macros imported without context keep Flask-Babel's.
    """
    translations = get_translations()
    return {
        "gettext": _make_new_gettext(translations.ugettext),
        "ngettext": _make_new_ngettext(translations.ungettext),
    }


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with the selectors and register the switch and filters."""
    babel.init_app(
        app, locale_selector=select_locale, timezone_selector=select_timezone
    )
    # Whitespace inside {% trans %} blocks is collapsed, as pybabel extracts it.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["clock"] = clock
    app.jinja_env.filters["ago"] = ago
    app.context_processor(_template_globals)
    app.context_processor(_words)
    app.register_blueprint(bp)
