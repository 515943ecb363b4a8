"""Extensions, created here and bound to the app in create_app."""

import threading

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from limits.storage import MemoryStorage
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from wizard.platform.reading_session import ReadingSession


class Base(DeclarativeBase):
    """Declarative base for the wizard's models."""

    # Named constraints, so later migrations can alter them (SQLite batch mode too).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base, session_options={"class_": ReadingSession})
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# Storage comes from RATELIMIT_STORAGE_URI (memory:// by default; Redis with workers).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def guard_memory_storage(storage: object) -> None:
    """Make limits' in-memory counter safe for gunicorn's threads.

    limits 5.8's MemoryStorage checks and restarts its expiry timer without a lock,
    so two threads counting at once can start the same timer twice: a RuntimeError,
    and a 500 for the request. Fixed upstream (alisaifee/limits#352) after 5.8; until
    then the restart runs under a lock.
    """
    if not isinstance(storage, MemoryStorage):
        return
    restart = storage._MemoryStorage__schedule_expiry  # type: ignore[attr-defined]
    lock = threading.Lock()

    def restart_once() -> None:
        with lock:
            restart()

    storage._MemoryStorage__schedule_expiry = restart_once  # type: ignore[attr-defined]


def skip_idle_limiter_check(app: Flask, extension: Limiter) -> None:
    """Drop Flask-Limiter's before-request check while it has nothing to count.

    Every limit here decorates its view, and a decorated limit is counted by its
    decorator. The before-request check counts only default, application, blueprint
    and meta limits (and the in-memory fallback's); with none set it still resolves
    an empty list on every request. Call once every blueprint is registered; set any
    of those limits and the check stays.
    """
    manager = extension.limit_manager
    # Read where Flask-Limiter 4 keeps them; a release that moves them keeps the check.
    counts_something = (
        getattr(manager, "_default_limits", True),
        getattr(manager, "_application_limits", True),
        getattr(manager, "_blueprint_limits", True),
        getattr(extension, "_meta_limits", True),
        getattr(extension, "_in_memory_fallback", True),
    )
    hooks = app.before_request_funcs.get(None, [])
    if not any(counts_something) and extension._check_request_limit in hooks:
        hooks.remove(extension._check_request_limit)
