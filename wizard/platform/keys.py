"""Encryption keys: which key each stored value needs; re-encrypt under the first.

Rotation goes in batches of rows, each under the same row locks a token refresh
takes (see :func:`wizard.platform.locks.locked_rows`) and committed on its own, so
it may run while the app serves requests and may be stopped and run again: a value
already under the first key is left alone. Each write also only replaces the exact
value that was read, so a value changed meanwhile is never overwritten.
"""

from collections import Counter
from dataclasses import dataclass
from dataclasses import field

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from wizard.models import AuthorizationAttempt
from wizard.models import HeldContact
from wizard.models import Integration
from wizard.platform import crypto
from wizard.platform.extensions import db
from wizard.platform.locks import locked_rows
from wizard.platform.sealing import Sealed

SEALED_MODELS: tuple[type[Sealed], ...] = (
    Integration,
    AuthorizationAttempt,
    HeldContact,
)
BATCH_SIZE = 100


@dataclass
class Rotation:
    """What a rotation did: values rewritten, and rows whose values nobody can read."""

    rewritten: int = 0
    unreadable: list[str] = field(default_factory=list)


def _needs_rotation(model: type[Sealed], current: str) -> object:
    """Return a SQL condition: an encrypted column is set and not under ``current``."""
    return db.or_(
        *(
            db.and_(
                getattr(model, column).is_not(None),
                getattr(model, column).not_like(f"{crypto.VERSION}:{current}:%"),
            )
            for column in model.sealed_columns
        )
    )


def _rotate_row(model: type[Sealed], row: Sealed, result: Rotation) -> None:
    values = {}
    for column in model.sealed_columns:
        value = getattr(row, column)
        if value is None or crypto.is_current(value):
            continue
        try:
            values[column] = (value, crypto.rotate(value, row.binding(column)))
        except crypto.DecryptionError:
            result.unreadable.append(f"{model.__table__.name} {row.id} {column}")
    for column, (old, new) in values.items():
        kept = {"updated_at": Integration.updated_at} if model is Integration else {}
        # Only the value read is replaced, and "updated" stays as people left it.
        written = db.session.execute(
            db.update(model)
            .where(model.id == row.id, getattr(model, column) == old)
            .values({column: new, **kept})
            .execution_options(synchronize_session=False)
        )
        result.rewritten += written.rowcount


def rotate_all(batch_size: int = BATCH_SIZE) -> Rotation:
    """Re-encrypt every stored value under the first key, batch by committed batch."""
    result = Rotation()
    current = crypto.current_key_id()
    for model in SEALED_MODELS:
        after = 0
        while True:
            ids = list(
                db.session.scalars(
                    db.select(model.id)
                    .where(model.id > after, _needs_rotation(model, current))
                    .order_by(model.id)
                    .limit(batch_size)
                )
            )
            if not ids:
                break
            with locked_rows(model, ids) as rows:
                for row in rows:
                    _rotate_row(model, row, result)
            after = ids[-1]
    return result


def census() -> Counter[str]:
    """Count stored values by the id of the key that wrote them ("legacy" for old)."""
    counts: Counter[str] = Counter()
    for model in SEALED_MODELS:
        for column in model.sealed_columns:
            values = db.session.scalars(
                db.select(getattr(model, column)).where(
                    getattr(model, column).is_not(None)
                )
            )
            counts.update(crypto.key_id(value) for value in values)
    return counts


def describe(counts: Counter[str]) -> list[str]:
    """Say, per key, how many stored values need it; no key material, only ids."""
    configured = crypto.key_ids()
    lines = []
    for position, key_id in enumerate(configured, start=1):
        role = "encrypts new values" if position == 1 else "decrypts only"
        lines.append(f"key {position} ({key_id}, {role}): {counts[key_id]} values")
    if counts[crypto.LEGACY]:
        lines.append(f"old format (before v2): {counts[crypto.LEGACY]} values")
    unknown = sum(
        n for key_id, n in counts.items() if key_id not in (*configured, crypto.LEGACY)
    )
    if unknown:
        lines.append(f"written by a key that is not configured: {unknown} values")
    advice = _unbound_advice(counts[crypto.LEGACY])
    return lines + ([advice] if advice else [])


def _unbound_advice(left: int) -> str:
    """Say what the app does with values from before v2, and when to stop reading."""
    if left and crypto.accepts_unbound():
        return (
            f"{left} values in the old format (before v2) are read only because "
            "WIZARD_ACCEPT_UNBOUND_CIPHERTEXT is on: run `flask keys rotate`, then "
            "turn it off."
        )
    if left:
        return (
            f"{left} values in the old format (before v2) are refused by the app "
            "until `flask keys rotate` rewrites them."
        )
    if crypto.accepts_unbound():
        return (
            "No values in the old format (before v2) are left: turn "
            "WIZARD_ACCEPT_UNBOUND_CIPHERTEXT off (the default) and restart."
        )
    return ""


def count_unbound() -> int:
    """Count the stored values in the old unbound format (before v2), in SQL."""
    total = 0
    for model in SEALED_MODELS:
        for column in model.sealed_columns:
            field = getattr(model, column)
            total += db.session.scalar(
                db.select(db.func.count()).where(
                    field.is_not(None), field.not_like(f"{crypto.VERSION}:%")
                )
            )
    return total


def check_unbound_at_start(app: Flask) -> str:
    """Return why the web server must not start (old values it would refuse), or "".

    Refused at request time, each would mark a working connection as needing
    re-authorization; refusing to start loses nothing and names the fix.
    """
    with app.app_context():
        try:
            left = count_unbound()
        except SQLAlchemyError:
            # Not migrated yet, or unreachable: /readyz says so, and nothing is read.
            return ""
        finally:
            db.session.remove()
            db.engine.dispose()  # the gunicorn master keeps no connection
        if refused := _refusal(left):
            return refused
        if advice := _unbound_advice(left):
            app.logger.warning(advice)
    return ""


def refusal() -> str:
    """Return why nothing may use the saved connections yet, or "" (in app context).

    For the commands that use connections (cron's keep-alive among them): run
    between an upgrade and `keys rotate`, they would mark working connections as
    needing re-authorization, as requests would.
    """
    return _refusal(count_unbound())


def _refusal(left: int) -> str:
    if not left or crypto.accepts_unbound():
        return ""
    return (
        f"The database holds {left} values saved before v2, which this release "
        "refuses (WIZARD_ACCEPT_UNBOUND_CIPHERTEXT is off). Run `flask --app wizard "
        "keys rotate` once to rewrite them, then start again; or set "
        "WIZARD_ACCEPT_UNBOUND_CIPHERTEXT=true until it has run."
    )


def verdict(counts: Counter[str]) -> tuple[bool, str]:
    """Return whether keys after the first may be removed, and a sentence saying so."""
    waiting = sum(counts.values()) - counts[crypto.current_key_id()]
    if waiting:
        return False, (
            f"{waiting} values still need an older key (or one that is gone): "
            "keep every key until `flask keys rotate` has rewritten them."
        )
    return True, "Every value is under key 1: the other keys may be removed."
