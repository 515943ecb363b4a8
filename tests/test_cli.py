"""The flask commands: users create, demo, integrations list, db upgrade."""

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.helpers.app import UNREACHABLE_CONSTANT_CONTACT
from tests.helpers.app import AppWith
from tests.helpers.sandbox import sandbox_settings
from tests.helpers.users import make_user
from tests.helpers.users import sign_in
from wizard.cli.demo import DEMO_SUPPORT
from wizard.models import ROLE_SUPPORT
from wizard.models import Integration
from wizard.models import Organization
from wizard.models import User
from wizard.platform.config import DEFAULTS
from wizard.platform.extensions import db

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.real_password_hashing
def test_users_create_customer_then_sign_in(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Ann@Shop.test",
            "--role",
            "customer",
            "--org",
            "Ann's Shop",
            "--password",
            "long enough pw",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "ann@shop.test can now sign in as customer of Ann's Shop" in result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="ann@shop.test"))
        assert user.organization.name == "Ann's Shop"
        assert user.password_hash.startswith("scrypt:")
        assert "long enough pw" not in user.password_hash
    client = app.test_client()
    assert sign_in(client, "ann@shop.test", "long enough pw").status_code == 302


def test_users_create_prompts_for_the_password(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(
        args=["users", "create", "helper@x.test", "--role", "support"],
        input="prompted password\nprompted password\n",
    )
    assert result.exit_code == 0, result.output
    assert "prompted password" not in result.output
    assert (
        sign_in(app.test_client(), "helper@x.test", "prompted password").status_code
        == 302
    )


def test_users_create_refuses_bad_input(runner: FlaskCliRunner) -> None:
    no_org = runner.invoke(
        args=[
            "users",
            "create",
            "a@x.test",
            "--role",
            "customer",
            "--password",
            "x" * 10,
        ]
    )
    assert no_org.exit_code != 0 and "--org" in no_org.output
    short = runner.invoke(
        args=["users", "create", "a@x.test", "--role", "support", "--password", "short"]
    )
    assert short.exit_code != 0 and "at least 8" in short.output
    role = runner.invoke(
        args=["users", "create", "a@x.test", "--role", "admin", "--password", "x" * 10]
    )
    assert role.exit_code != 0


def test_resetting_a_password_signs_the_user_out_everywhere(
    app: Flask, runner: FlaskCliRunner, customer: int
) -> None:
    elsewhere = app.test_client()
    assert sign_in(elsewhere, "owner@bloom.test").status_code == 302
    assert elsewhere.get("/integrations").status_code == 200
    result = runner.invoke(
        args=[
            "users",
            "create",
            "owner@bloom.test",
            "--role",
            "customer",
            "--org",
            "Bloom",
            "--password",
            "a brand new password",
        ]
    )
    assert result.exit_code == 0, result.output
    # The session signed in with the old password has ended.
    left = elsewhere.get("/integrations")
    assert left.status_code == 302 and left.headers["Location"].startswith("/sign-in")
    assert sign_in(app.test_client(), "owner@bloom.test").status_code == 200
    fresh = app.test_client()
    assert sign_in(fresh, "owner@bloom.test", "a brand new password").status_code == 302
    assert fresh.get("/integrations").status_code == 200


# What scripts/run-local.sh sets: the local Constant Contact.
LOCAL = sandbox_settings("http://127.0.0.1:5001")


def demo_support_hash(app: Flask) -> str | None:
    with app.app_context():
        return db.session.scalar(
            db.select(User.password_hash).filter_by(email=DEMO_SUPPORT[0])
        )


def test_demo_refuses_an_instance_that_talks_to_the_real_constant_contact(
    app_with: AppWith,
) -> None:
    app = app_with(**{name: DEFAULTS[name] for name in UNREACHABLE_CONSTANT_CONTACT})
    runner = app.test_cli_runner()
    assert app.config["CC_TOKEN_URL"] == DEFAULTS["CC_TOKEN_URL"]
    make_user(app, DEMO_SUPPORT[0], ROLE_SUPPORT)
    before = demo_support_hash(app)
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "Error: Not seeding the demo" in result.output
    assert "the real Constant Contact" in result.output and "--force" in result.output
    assert "Traceback" not in result.output and DEMO_SUPPORT[1] not in result.output
    assert demo_support_hash(app) == before
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1
    client = app.test_client()
    assert sign_in(client, *DEMO_SUPPORT).status_code == 200
    # One endpoint on Constant Contact's own hosts is enough to refuse.
    for name, url in (
        ("CC_API_BASE_URL", "https://api.cc.email/v3"),
        ("CC_TOKEN_URL", "https://AUTHZ.constantcontact.com/oauth2/x/token"),
    ):
        mixed = app_with(**(LOCAL | {name: url}))
        refused = mixed.test_cli_runner().invoke(args=["demo"])
        assert refused.exit_code == 1 and f"WIZARD_{name}" in refused.output
        assert demo_support_hash(app) == before


def test_demo_with_force_seeds_even_the_real_constant_contact(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["demo", "--force"])
    assert result.exit_code == 0, result.output
    assert sign_in(app.test_client(), *DEMO_SUPPORT).status_code == 302


def test_demo_is_repeatable(app_with: AppWith) -> None:
    app = app_with(**LOCAL)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == second.exit_code == 0, first.output
    assert "customer@bloom.example  password: demo-customer" in first.output
    assert "support@promopulse.example  password: demo-support" in first.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 2
        organization = db.session.scalars(db.select(Organization)).one()
        assert organization.reference_code in first.output
    client = app.test_client()
    assert sign_in(client, "customer@bloom.example", "demo-customer").status_code == 302


def test_integrations_list(app: Flask, runner: FlaskCliRunner) -> None:
    assert "No integrations yet." in runner.invoke(args=["integrations", "list"]).output
    with app.app_context():
        organization = Organization(name="Bloom")
        db.session.add(
            Integration(
                organization=organization,
                name="Newsletter",
                status="created",
                list_id="7c5b38ee-81d3-11f0-a43c-fa163ea34668",
            )
        )
        db.session.commit()
    output = runner.invoke(args=["integrations", "list"]).output
    row = output.splitlines()[1].split("\t")
    assert row[1:] == [
        "Bloom",
        "Newsletter",
        "created",
        "7c5b38ee-81d3-11f0-a43c-fa163ea34668",
        "never",
    ]


def test_db_upgrade_is_idempotent(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        version = db.session.scalar(db.text("SELECT version_num FROM alembic_version"))
    # The newest revision, whichever that is: a second upgrade changes nothing.
    assert version == ScriptDirectory(str(ROOT / "migrations")).get_current_head()
