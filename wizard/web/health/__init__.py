"""Blueprint for the health checks load balancers ask."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from wizard.web.health import views  # noqa: E402,F401  (views register routes on bp)
