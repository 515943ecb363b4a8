"""Integrations stored directly, as if steps 1-3 were done, and read back."""

from flask import Flask

from wizard.models import Integration
from wizard.platform.extensions import db
from wizard.sandbox import seed
from wizard.sandbox.testing import create_application

REDIRECT_URI = "https://wizard.test/callback/constant-contact-auth"


def make_integration(
    app: Flask,
    api_key: str,
    list_id: str = seed.NEWSLETTER_LIST_ID,
    flow: str = "device",
    secret: str | None = None,
    organization_id: int = 1,
) -> int:
    """Store an integration that finished steps 1-3, for Bloom unless told."""
    with app.app_context():
        integration = Integration(
            organization_id=organization_id,
            status="created",
            flow=flow,
            api_key=api_key,
            list_id=list_id,
            name="Constant Contact list",
        )
        integration.client_secret = secret
        db.session.add(integration)
        db.session.commit()
        return integration.id


def code_flow_integration(app: Flask, cc: str) -> int:
    """Store an integration whose sandbox app uses the authorization code flow."""
    created = create_application(
        cc, flow="authorization_code", redirect_uris=[REDIRECT_URI]
    )
    return make_integration(
        app,
        created["api_key"],
        flow="authorization_code",
        secret=created["client_secret"],
    )


def load(app: Flask, integration_id: int) -> Integration:
    """Return the integration as saved, detached from the session."""
    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        db.session.expunge(integration)
        return integration
