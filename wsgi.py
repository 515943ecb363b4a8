"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

import os

from wizard import create_app
from wizard import logs

# Before the app exists, so Flask's own logger writes through the redacting handler.
logs.configure(os.environ.get("WIZARD_LOG_FORMAT", "text"))
app = create_app(commands=False)
