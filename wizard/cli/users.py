"""`flask users`: people who can sign in."""

import click
from flask.cli import AppGroup

from wizard.models import ROLE_CUSTOMER
from wizard.models import ROLES
from wizard.models import Organization
from wizard.models import User
from wizard.platform.extensions import db

users_cli = AppGroup("users", help="Manage people who can sign in.")


def organization_named(name: str) -> Organization:
    """Return the organization with this name, creating it if needed."""
    organization = db.session.scalar(db.select(Organization).filter_by(name=name))
    if organization is None:
        organization = Organization(name=name)
        db.session.add(organization)
        db.session.flush()
    return organization


def upsert_user(email: str, password: str, role: str, org: str | None) -> User:
    """Create or update a user; customers need an organization."""
    email = email.strip().lower()
    if role == ROLE_CUSTOMER and not org:
        raise click.UsageError("A customer needs --org NAME (their organization).")
    if len(password) < 8:
        raise click.UsageError("Use a password of at least 8 characters.")
    organization = organization_named(org) if role == ROLE_CUSTOMER and org else None
    user = db.session.scalar(db.select(User).filter_by(email=email))
    if user is None:
        user = User(email=email)
    else:
        # A reset password ends every session signed in with the old one.
        user.session_version += 1
    user.role = role
    user.organization = organization
    user.set_password(password)
    db.session.add(user)
    return user


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--org", "org", help="The customer's organization (created if new).")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when not given.",
)
def create_user(email: str, role: str, org: str | None, password: str) -> None:
    """Create a user who can sign in (or reset an existing one's password)."""
    user = upsert_user(email, password, role, org)
    db.session.commit()
    where = f" of {user.organization.name}" if user.organization else ""
    click.echo(f"{user.email} can now sign in as {role}{where}.")
