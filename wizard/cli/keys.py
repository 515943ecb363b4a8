"""`flask keys`: a new key, which keys stored values need, rotation."""

import click
from flask.cli import AppGroup

from wizard.platform import crypto
from wizard.platform import keys

keys_cli = AppGroup("keys", help="Encryption keys: new key, status, rotation.")


@keys_cli.command("new")
def new_key() -> None:
    """Print a fresh random key (put it first in WIZARD_ENCRYPTION_KEYS)."""
    click.echo(crypto.generate_key())


@keys_cli.command("status")
def key_status() -> None:
    """Show how many stored values each key encrypted; exit 1 if old keys are needed."""
    _report_census()


@keys_cli.command("rotate")
@click.option("--batch-size", default=keys.BATCH_SIZE, show_default=True, type=int)
def rotate_command(batch_size: int) -> None:
    """Re-encrypt every stored secret and token under the first key."""
    if batch_size < 1:
        raise click.UsageError("--batch-size must be at least 1.")
    result = keys.rotate_all(batch_size)
    click.echo(f"{result.rewritten} values re-encrypted under key 1.")
    for where in result.unreadable:
        click.echo(f"unreadable: {where}")
    if result.unreadable:
        click.echo(
            f"{len(result.unreadable)} values could not be read with any configured "
            "key; they were left as they are (those connections need authorizing "
            "again)."
        )
    _report_census()


def _report_census() -> None:
    """Say which keys the stored values need; exit 1 while old keys are still needed."""
    counts = keys.census()
    for line in keys.describe(counts):
        click.echo(line)
    safe, sentence = keys.verdict(counts)
    click.echo(sentence)
    if not safe:
        raise SystemExit(1)
