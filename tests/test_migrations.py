"""Migrations: they build what the models describe, keep data, and never change.

A revision that has landed is never edited: a schema change is a new revision, which
adds its line to ``migrations/versions/SHA256SUMS``. Databases out there were built
by the revision as it was; an edit would leave them different from a fresh one.
"""

import hashlib
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask import current_app
from flask_migrate import upgrade

from tests.helpers.app import POSTGRES_URL
from tests.helpers.app import base_config
from wizard.platform import crypto
from wizard.platform.extensions import db
from wizard.platform.sealing import Sealed

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
VERSIONS = MIGRATIONS / "versions"
MANIFEST = VERSIONS / "SHA256SUMS"


def earlier_revisions() -> list[str]:
    """Return "base" and every revision before head, oldest first."""
    script = ScriptDirectory(str(MIGRATIONS))
    heads = set(script.get_heads())
    walked = [r.revision for r in script.walk_revisions() if r.revision not in heads]
    return ["base", *reversed(walked)]


def test_the_migrations_build_what_the_models_describe(app: Flask) -> None:
    """Autogenerate finds nothing to change: types, nullability, keys, indexes."""
    with app.app_context():
        # The options `flask db migrate` compares with, and server defaults too.
        options = current_app.extensions["migrate"].configure_args | {
            "compare_type": True,
            "compare_server_default": True,
        }
        options.pop("process_revision_directives", None)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=options)
            differences = compare_metadata(context, db.metadata)
    assert differences == []


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database, on whichever server WIZARD_TEST_DATABASE_URL names."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'earlier.sqlite'}"
        return
    name = f"wizard_migrations_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.make_url(POSTGRES_URL).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


# Values the app gives meaning to; other columns get a plain value of their type.
SAMPLES: dict[str, Any] = {
    "name": "Bloom",
    "email": "owner@bloom.test",
    "actor_label": "owner@bloom.test",
    "role": "customer",
    "reference_code": "K7Q-4M2P",
    "type": "constant_contact",
    "status": "active",
    "flow": "device",
    "api_key": "0b8f3c6e-5a1d-4e2b-9c7f-1a2b3c4d5e6f",
    "client_secret_hint": "9f2a",
    "list_id": "7c5b38ee-81d3-11f0-a43c-fa163ea34668",
    "user_code": "ABCD-EFGH",
    "verification_uri": "https://sandbox.test/device",
    "action": "connection.refreshed",
    "details": {"mode": "rotating", "attempt": 1},
    "password_hash": "scrypt:32768:8:3$salt$0123456789abcdef",
    "outcome": "approved",
}
AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def sample(table: sa.Table, column: sa.Column[Any]) -> Any:
    """Return a representative value for a column, known only from the database."""
    if column.name in SAMPLES:
        return SAMPLES[column.name]
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.Integer):
        return 3
    if isinstance(kind, sa.DateTime):
        return AT
    if isinstance(kind, sa.JSON):
        return {"sample": table.name}
    if isinstance(kind, sa.String):  # Text too
        return f"{table.name}.{column.name}"[: kind.length or None]
    raise AssertionError(f"no sample for {table.name}.{column.name} ({kind!r})")


def models_by_table() -> dict[str, type[Any]]:
    """Return the head models by the name of their table."""
    return {m.local_table.name: m.class_ for m in db.Model.registry.mappers}


def fill(connection: sa.Connection) -> dict[str, dict[int, dict[str, Any]]]:
    """Insert one row in every table the database has now; return what went in.

    Encrypted columns get real ciphertexts, bound to their row as the app binds them.
    """
    tables = sa.MetaData()
    tables.reflect(connection)
    inserted: dict[str, dict[int, dict[str, Any]]] = {}
    for table in tables.sorted_tables:  # parents before the rows that point at them
        if table.name == "alembic_version":
            continue
        (key,) = table.primary_key.columns
        values = {}
        for column in table.columns:
            parents = [fk.column.table.name for fk in column.foreign_keys]
            if column is key and not parents:  # a key of its own: the database's
                continue
            if parents:
                values[column.name] = next(iter(inserted[parents[0]]))
            else:
                values[column.name] = sample(table, column)
        added = connection.execute(table.insert().values(values).returning(key))
        inserted[table.name] = {added.scalar_one(): values}
    models = models_by_table()
    for name, rows in inserted.items():
        model = models.get(name)
        if model is None or not issubclass(model, Sealed):
            continue
        table = tables.tables[name]
        (key,) = table.primary_key.columns
        for row_id, values in rows.items():
            located = model(id=row_id, **values)
            sealed = {
                column: crypto.encrypt(
                    f"{column} of row {row_id}", located.binding(column)
                )
                for column in model.sealed_columns
                if column in values
            }
            connection.execute(table.update().where(key == row_id).values(sealed))
            values.update(sealed)
    return inserted


@pytest.mark.parametrize("revision", earlier_revisions())
def test_a_database_with_rows_upgrades_to_head(
    make_app: Callable[[dict[str, Any]], Flask],
    empty_database_url: str,
    revision: str,
) -> None:
    """Rows written at an earlier revision are all there, and readable, at head."""
    app = make_app(base_config(empty_database_url))
    with app.app_context():
        upgrade(revision=revision)
        with db.engine.begin() as connection:
            inserted = fill(connection)
        upgrade()
        models = models_by_table()
        for name, rows in inserted.items():
            assert name in models, f"table {name} with rows in it is gone at head"
            model = models[name]
            for row_id, values in rows.items():
                loaded = db.session.get(model, row_id)
                assert loaded is not None, f"{name} {row_id} is gone"
                kept = {c: getattr(loaded, c) for c in values if c in model.__table__.c}
                assert kept == {c: v for c, v in values.items() if c in kept}
                for column in getattr(model, "sealed_columns", ()):
                    if column in values:
                        assert loaded.unseal(column) == f"{column} of row {row_id}"
        version = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert version in ScriptDirectory(str(MIGRATIONS)).get_heads()


def manifest() -> dict[str, str]:
    """Return the checked-in hashes (file name -> SHA-256), as sha256sum writes them."""
    listed = {}
    for line in MANIFEST.read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    return listed


def test_landed_revisions_are_never_edited() -> None:
    """Each revision file still has the hash it landed with, and every one is listed.

    A new revision adds its line (`sha256sum NEW.py >> SHA256SUMS` in
    migrations/versions); an existing line never changes.
    """
    listed = manifest()
    files = sorted(p.name for p in VERSIONS.glob("*.py"))
    assert sorted(listed) == files, "every revision file has one line in SHA256SUMS"
    for name, digest in listed.items():
        actual = hashlib.sha256((VERSIONS / name).read_bytes()).hexdigest()
        assert actual == digest, f"{name} was edited after it landed: add a revision"
