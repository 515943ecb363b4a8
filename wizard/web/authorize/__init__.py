"""Blueprint for step 4: authorize within 5 minutes, and the OAuth callback."""

from flask import Blueprint

bp = Blueprint("authorize", __name__)

# The views register routes on bp.
from wizard.web.authorize import board  # noqa: E402
from wizard.web.authorize import callback  # noqa: E402,F401
from wizard.web.authorize import status_checks  # noqa: E402,F401
from wizard.web.authorize import views  # noqa: E402,F401

bp.record_once(lambda state: board.init_app(state.app))
