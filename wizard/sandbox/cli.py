"""The `sandbox` command: serve the local Constant Contact."""

import ipaddress
import os

import click
from werkzeug.serving import run_simple

from . import create_app
from .seed import DEMO_LOGIN_EMAIL
from .seed import DEMO_PASSWORD
from .seed import NEWSLETTER_LIST_ID


def is_loopback(host: str) -> bool:
    """Return True for localhost and loopback addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface.")
@click.option("--port", default=5001, show_default=True, type=int, help="Port.")
@click.option("--debug/--no-debug", default=False, help="Reloader and debugger.")
def sandbox_command(host: str, port: int, debug: bool) -> None:
    """Serve a local imitation of Constant Contact (OAuth server, v3 API, portal)."""
    if not is_loopback(host):
        # Authlib refuses plain http except on loopback; this is a local fake.
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    app = create_app()
    base_url = f"http://{host}:{port}"
    click.echo(f"Constant Contact sandbox at {base_url}")
    click.echo(f"  authorization server  {base_url}/oauth2/default/v1/")
    click.echo(f"  v3 API base URL       {base_url}/v3")
    click.echo(f"  developer portal      {base_url}/pages/dma/portal/")
    click.echo(f"  contact lists         {base_url}/pages/contacts/ui")
    click.echo(f"  Sign in as {DEMO_LOGIN_EMAIL} / password {DEMO_PASSWORD}")
    click.echo(f"  Example List ID       {NEWSLETTER_LIST_ID}")
    run_simple(
        host,
        port,
        app,
        threaded=True,
        use_reloader=debug,
        use_debugger=debug,
    )
