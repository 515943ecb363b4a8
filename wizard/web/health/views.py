"""Health checks for load balancers: the process is up; the database answers."""

from flask import current_app
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from wizard.platform.extensions import db
from wizard.platform.extensions import limiter
from wizard.web.health import bp


@bp.route("/healthz")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    """Say the process answers; touch nothing else (no database)."""
    return {"status": "ok"}, 200, {"Cache-Control": "no-store"}


@bp.route("/readyz")
@limiter.exempt
def readyz() -> ResponseReturnValue:
    """Say whether this instance can serve people: its database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        # The reason goes to the log (its kind only), never to whoever asked.
        current_app.logger.warning(
            "readiness: database unreachable (%s)", type(error).__name__
        )
        return {"status": "unavailable"}, 503, {"Cache-Control": "no-store"}
    finally:
        db.session.remove()
    return {"status": "ready"}, 200, {"Cache-Control": "no-store"}
