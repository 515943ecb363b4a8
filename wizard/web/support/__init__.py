"""Blueprint for support staff: find a customer and see where they are stuck.

Read-only but for Test connection and sending her the link back to her step. The
customer's organization sees each agent's look at a page (once per half hour) and
every action on its Activity page; a page another site made the browser ask for
shows no details until the agent opens it. Secrets appear only as fingerprints.
"""

from flask import Blueprint

bp = Blueprint("support", __name__, url_prefix="/support")

# The views register routes on bp.
from wizard.web.support import send_back  # noqa: E402,F401
from wizard.web.support import views  # noqa: E402,F401
