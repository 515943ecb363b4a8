"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

import logging

from wizard import create_app

logging.basicConfig(
    level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
)
app = create_app()
