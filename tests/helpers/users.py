"""People to sign in as: made directly in the database, signed in through the form."""

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from wizard import models
from wizard.models import ROLE_CUSTOMER
from wizard.models import Organization
from wizard.models import User
from wizard.platform.extensions import db

PASSWORD = "correct horse battery staple"
# One round of PBKDF2 in place of scrypt (0.26 s of CPU per sign-in, on purpose):
# hundreds of sign-ins per run would spend a third of the suite's CPU hashing.
# Tests of the hashing itself are marked real_password_hashing and keep scrypt, as
# do the gunicorn-served apps (their first sign-in upgrades a quick hash).
QUICK_PASSWORD_METHOD = "pbkdf2:sha256:1"
_HASH: dict[str, str] = {}


def password_hash(method: str) -> str:
    """Return PASSWORD hashed with this method (once per session: scrypt is slow)."""
    if method not in _HASH:
        _HASH[method] = generate_password_hash(PASSWORD, method=method)
    return _HASH[method]


def make_user(
    app: Flask, email: str, role: str = ROLE_CUSTOMER, org: str | None = None
) -> int:
    """Create a user (and organization) directly; return the user's id."""
    with app.app_context():
        organization = None
        if org:
            organization = db.session.scalar(
                db.select(Organization).filter_by(name=org)
            )
            organization = organization or Organization(name=org)
        user = User(
            email=email,
            role=role,
            organization=organization,
            password_hash=password_hash(models.PASSWORD_METHOD),
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the real form."""
    return client.post("/sign-in", data={"email": email, "password": password})


def signed_in_client(app: Flask, email: str = "owner@bloom.test") -> FlaskClient:
    """A new client of the app, signed in through the form (as the Bloom customer)."""
    client = app.test_client()
    sign_in(client, email)
    return client
