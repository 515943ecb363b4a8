"""Blueprint for steps 1-3 of adding a Constant Contact integration."""

from flask import Blueprint

bp = Blueprint("setup", __name__, url_prefix="/integrations")

from wizard.web.setup import views  # noqa: E402,F401  (views register routes on bp)
