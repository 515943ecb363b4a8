"""The flask commands: users create, demo, integrations list, db upgrade."""

from flask import Flask
from flask.testing import FlaskCliRunner

from tests.conftest import sign_in
from wizard.extensions import db
from wizard.models import Integration
from wizard.models import Organization
from wizard.models import User


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


def test_demo_is_repeatable(app: Flask, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == second.exit_code == 0
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
    assert version == "0001"
