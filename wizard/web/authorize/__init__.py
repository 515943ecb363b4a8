"""Blueprint for step 4: authorize within 5 minutes, and the OAuth callback."""

from flask import Blueprint

bp = Blueprint("authorize", __name__)

from wizard.web.authorize import views  # noqa: E402,F401  (views register routes on bp)
