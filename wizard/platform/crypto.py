"""Encrypt secrets and tokens at rest, bound to the row and column they belong in.

The setting holds Fernet keys, newest first. Each value is written as
``v2:<key id>:<base64 of nonce + AES-256-GCM ciphertext>``; the AES key comes from
the Fernet key by HKDF, and the value's *binding* (table, column, row id and owner,
see :meth:`wizard.platform.sealing.Sealed.binding`) is the associated data, so a
ciphertext copied into another row or column does not decrypt. The key id names the
key without revealing it, so rotation knows which values still need the old key.

Values written before v2 are plain Fernet tokens (no prefix, no binding). The app
refuses them unless ACCEPT_UNBOUND_CIPHERTEXT is on (an install upgrading from before
v2, until ``flask keys rotate`` has rewritten them); rotation reads them either way.
"""

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask
from flask import current_app

EXTENSION = "wizard.platform.crypto"
VERSION = "v2"
LEGACY = "legacy"
NONCE_BYTES = 12
# Distinct HKDF labels: the AES key and the public key id never coincide.
AEAD_INFO = b"cc-wizard v2 aes-256-gcm"
KEY_ID_INFO = b"cc-wizard v2 key id"
LOOKUP_INFO = b"cc-wizard v2 lookup hmac-sha256"
AAD_PREFIX = b"cc-wizard v2|"


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@dataclass(frozen=True)
class Key:
    """One configured key: its public id and the AES-GCM key derived from it."""

    id: str
    aead: AESGCM
    # Keys values are found by (an e-mail held twice) without storing them in clear.
    lookup: bytes


@dataclass(frozen=True)
class Ring:
    """The configured keys, newest (the one that encrypts) first."""

    keys: tuple[Key, ...]
    legacy: MultiFernet

    def find(self, key_id: str) -> Key | None:
        """Return the configured key with this id, if any."""
        return next((key for key in self.keys if key.id == key_id), None)


def generate_key() -> str:
    """Return a new random encryption key as text."""
    return Fernet.generate_key().decode()


def parse_keys(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """Split a comma-separated key setting into a list of keys."""
    if isinstance(value, str):
        value = value.split(",")
    return [key.strip() for key in value if key and key.strip()]


def _derive(raw: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(
        raw
    )


def build_ring(keys: list[str]) -> Ring:
    """Derive the key ring from Fernet keys; ValueError if one is not a key."""
    fernets = [Fernet(key.encode()) for key in keys]
    derived = []
    for key in keys:
        raw = base64.urlsafe_b64decode(key.encode())
        key_id = base64.urlsafe_b64encode(_derive(raw, KEY_ID_INFO, 6)).decode()
        derived.append(
            Key(
                id=key_id,
                aead=AESGCM(_derive(raw, AEAD_INFO, 32)),
                lookup=_derive(raw, LOOKUP_INFO, 32),
            )
        )
    return Ring(keys=tuple(derived), legacy=MultiFernet(fernets))


def init_app(app: Flask) -> None:
    """Build the key ring from ENCRYPTION_KEYS; refuse to start without one."""
    keys = parse_keys(app.config.get("ENCRYPTION_KEYS") or "")
    if not keys:
        # Never derived from anything else, in debug or tests either: a key made
        # from the secret key would fall with it.
        raise RuntimeError(
            "WIZARD_ENCRYPTION_KEYS is not set. Run `make run` once (it writes "
            "instance/config.py) or set it to the output of "
            "`python -m wizard.platform.bootstrap --print-key`."
        )
    try:
        ring = build_ring(keys)
    except (ValueError, binascii.Error) as exc:
        raise RuntimeError(
            "WIZARD_ENCRYPTION_KEYS holds a value that is not a valid key."
        ) from exc
    app.extensions[EXTENSION] = ring


def _ring() -> Ring:
    return current_app.extensions[EXTENSION]


def _aad(binding: str) -> bytes:
    if not binding:
        # An empty binding would bind to nothing: refuse rather than weaken.
        raise ValueError("a binding names where the value belongs")
    return AAD_PREFIX + binding.encode()


def encrypt(plaintext: str, binding: str) -> str:
    """Encrypt text with the current key, for the place ``binding`` names."""
    key = _ring().keys[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.aead.encrypt(nonce, plaintext.encode(), _aad(binding))
    return f"{VERSION}:{key.id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def accepts_unbound() -> bool:
    """Return whether values in the old unbound format (before v2) are read."""
    return bool(current_app.config["ACCEPT_UNBOUND_CIPHERTEXT"])


def decrypt(ciphertext: str, binding: str) -> str:
    """Decrypt a value stored at ``binding`` with whichever configured key wrote it."""
    return _open(ciphertext, binding, unbound=accepts_unbound())


def _open(ciphertext: str, binding: str, unbound: bool) -> str:
    aad = _aad(binding)
    if not ciphertext.startswith(f"{VERSION}:"):
        if not unbound:
            # Bound to no row: a copy from anywhere would read as if it belonged here.
            raise DecryptionError(
                "values saved before v2 are refused (ACCEPT_UNBOUND_CIPHERTEXT is off)"
            )
        try:
            return _ring().legacy.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionError("no configured key decrypts this value") from exc
    _, key_id, body = (ciphertext.split(":", 2) + ["", ""])[:3]
    key = _ring().find(key_id)
    if key is None:
        raise DecryptionError("the key that wrote this value is not configured")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
        plain = key.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError, binascii.Error) as exc:
        # Tampered, truncated, or written for another row or column.
        raise DecryptionError("this value does not belong here or was altered") from exc
    return plain.decode()


def key_id(ciphertext: str) -> str:
    """Return the id of the key that wrote a value ("legacy" for old Fernet tokens)."""
    if ciphertext.startswith(f"{VERSION}:"):
        return ciphertext.split(":", 2)[1]
    return LEGACY


def current_key_id() -> str:
    """Return the id of the key that encrypts now."""
    return _ring().keys[0].id


def key_ids() -> list[str]:
    """Return the ids of the configured keys, current first."""
    return [key.id for key in _ring().keys]


def is_current(ciphertext: str) -> bool:
    """Return whether a value is already in the current format under the current key."""
    return key_id(ciphertext) == current_key_id()


def rotate(ciphertext: str, binding: str) -> str:
    """Re-encrypt a value under the current key, in the current format.

    Values from before v2 are read whatever ACCEPT_UNBOUND_CIPHERTEXT says: rewriting
    them is how an upgraded install gets to refuse them.
    """
    return encrypt(_open(ciphertext, binding, unbound=True), binding)


def lookup_hashes(value: str) -> list[str]:
    """Return the value's keyed hashes, the current key's first: stored with the
    first, found by any (a value stored before a key rotation is still found)."""
    return [
        hmac.new(key.lookup, value.encode(), hashlib.sha256).hexdigest()
        for key in _ring().keys
    ]


def fingerprint(secret: str) -> str:
    """Return the last four characters of a secret, for people to recognise it."""
    return secret[-4:] if len(secret) >= 8 else ""
