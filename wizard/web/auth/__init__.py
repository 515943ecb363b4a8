"""Blueprint for signing in and out; sessions.py sets up Flask-Login."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from wizard.web.auth import sessions  # noqa: E402,F401  (configures Flask-Login)
from wizard.web.auth import views  # noqa: E402,F401  (views register routes on bp)
