"""Encrypt secrets and tokens at rest with authenticated encryption and key rotation.

Keys are Fernet keys (AES-128-CBC + HMAC-SHA256). The first key encrypts; every key
decrypts, so an operator rotates by putting a new key first and re-encrypting later.
"""

import base64
import hashlib

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet
from flask import Flask
from flask import current_app

EXTENSION = "wizard.crypto"


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


def generate_key() -> str:
    """Return a new random encryption key as text."""
    return Fernet.generate_key().decode()


def parse_keys(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """Split a comma-separated key setting into a list of keys."""
    if isinstance(value, str):
        value = value.split(",")
    return [key.strip() for key in value if key and key.strip()]


def init_app(app: Flask) -> None:
    """Build the key ring from ENCRYPTION_KEYS, or derive one in debug and tests."""
    keys = parse_keys(app.config.get("ENCRYPTION_KEYS") or "")
    if not keys:
        if not (app.debug or app.config.get("TESTING")):
            raise RuntimeError(
                "WIZARD_ENCRYPTION_KEYS is not set. Run `make run` once (it writes "
                "instance/config.py) or set it to the output of "
                "`python -m wizard.bootstrap --print-key`."
            )
        # Only for development: tie the key to the secret key so data survives restarts.
        digest = hashlib.sha256(
            b"wizard-dev-key:" + str(app.config["SECRET_KEY"]).encode()
        )
        keys = [base64.urlsafe_b64encode(digest.digest()).decode()]
    try:
        ring = MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise RuntimeError(
            "WIZARD_ENCRYPTION_KEYS holds a value that is not a valid key."
        ) from exc
    app.extensions[EXTENSION] = ring


def _ring() -> MultiFernet:
    return current_app.extensions[EXTENSION]


def encrypt(plaintext: str) -> str:
    """Encrypt text with the current key."""
    return _ring().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """Decrypt text encrypted with any configured key."""
    try:
        return _ring().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("no configured key decrypts this value") from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt a value under the current key."""
    try:
        return _ring().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("no configured key decrypts this value") from exc


def fingerprint(secret: str) -> str:
    """Return the last four characters of a secret, for people to recognise it."""
    return secret[-4:] if len(secret) >= 8 else ""
