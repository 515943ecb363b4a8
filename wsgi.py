"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

import os

from wizard import create_app
from wizard.platform import keys
from wizard.platform import logs

# Before the app exists, so Flask's own logger writes through the redacting handler.
logs.configure(os.environ.get("WIZARD_LOG_FORMAT", "text"))
app = create_app(commands=False)
if app.debug or app.testing:
    # Debug serves tracebacks and TESTING turns off the error page: never in production.
    raise SystemExit(
        "wsgi.py serves the wizard in production and refuses debug and test modes: "
        "unset FLASK_DEBUG, WIZARD_DEBUG and WIZARD_TESTING. For development, use "
        "`make run` or `flask --app wizard run --debug`."
    )
if problem := keys.check_unbound_at_start(app):
    raise SystemExit(problem)
