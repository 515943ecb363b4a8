"""Encrypted columns bound to their row, so a copied ciphertext never decrypts."""

from typing import ClassVar

from wizard.platform import crypto
from wizard.platform.extensions import db


class Sealed:
    """A row whose ``*_encrypted`` columns are bound to the row, its owner and column.

    A ciphertext copied into another row, another organization's row or another
    column then fails to decrypt instead of quietly handing over someone else's
    secret (checked on decrypt by AES-GCM's associated data).
    """

    # The encrypted columns, for `flask keys rotate` and `flask keys status`.
    sealed_columns: ClassVar[tuple[str, ...]] = ()

    def owner(self) -> str:
        """Return what the row belongs to, part of every binding."""
        raise NotImplementedError

    def binding(self, column: str) -> str:
        """Return where a value of this column belongs: table, column, row and owner."""
        if column not in self.sealed_columns:
            raise ValueError(f"{column} is not an encrypted column")
        table = self.__table__.name
        return f"{table}.{column}:{self.id}/{self.owner()}"

    def seal(self, column: str, plaintext: str | None) -> None:
        """Store the plaintext encrypted in the column (None clears it)."""
        if plaintext is None:
            setattr(self, column, None)
            return
        if self.id is None:
            # The binding needs the row id, which the database gives at flush.
            db.session.add(self)
            db.session.flush()
        setattr(self, column, crypto.encrypt(plaintext, self.binding(column)))

    def unseal(self, column: str) -> str:
        """Return the column's plaintext; DecryptionError if empty or unreadable."""
        value = getattr(self, column)
        if not value or self.id is None:
            raise crypto.DecryptionError("nothing readable is stored here")
        return crypto.decrypt(value, self.binding(column))
