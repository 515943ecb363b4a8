"""Blueprint for the home address, which sends people to where they work."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from wizard.web.pages import views  # noqa: E402,F401  (views register routes on bp)
