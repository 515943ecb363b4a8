"""Flask commands: users, demo, integrations, keys, sandbox (a module per group)."""

from flask import Flask

from wizard.cli import keys
from wizard.cli.demo import demo_command
from wizard.cli.integrations import integrations_cli
from wizard.cli.users import users_cli
from wizard.sandbox.cli import sandbox_command


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    app.cli.add_command(users_cli)
    app.cli.add_command(integrations_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(sandbox_command)
    app.cli.add_command(keys.keys_cli)
