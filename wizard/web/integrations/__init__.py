"""Blueprint for the Integrations page, the customer's home, and Activity."""

from flask import Blueprint

bp = Blueprint("integrations", __name__)

from wizard.web.integrations import views  # noqa: E402,F401  (views register routes on bp)
