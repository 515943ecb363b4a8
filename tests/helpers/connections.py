"""Saved connections: connected through the real device flow, aged, read back."""

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.attempts import allowed_on_device
from tests.helpers.integrations import make_integration
from wizard.models import Integration
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox import seed
from wizard.sandbox.testing import create_application


def connect(
    client: FlaskClient,
    app: Flask,
    cc: str,
    refresh_token_type: str = "long_lived",
    list_id: str = seed.NEWSLETTER_LIST_ID,
    organization_id: int = 1,
) -> int:
    """Connect an integration through the real device flow; return its id."""
    api_key = create_application(cc, refresh_token_type=refresh_token_type)["api_key"]
    integration_id = make_integration(
        app, api_key, list_id=list_id, organization_id=organization_id
    )
    assert allowed_on_device(client, app, cc, integration_id)["state"] == "done"
    return integration_id


def expire(app: Flask, integration_id: int) -> None:
    """Let the access token run out."""
    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        integration.token_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()


def saved_tokens(app: Flask, integration_id: int) -> tuple[str | None, str | None]:
    """Return the integration's access and refresh tokens, decrypted."""
    with app.app_context():
        row = db.session.get(Integration, integration_id)
        return tuple(  # type: ignore[return-value]
            row.unseal(column) if getattr(row, column) else None
            for column in ("access_token_encrypted", "refresh_token_encrypted")
        )
