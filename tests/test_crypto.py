"""Encryption at rest: round trip, tampering, key rotation."""

import base64
from typing import Any

import pytest
from cryptography.fernet import Fernet

from wizard import crypto


def test_round_trip_hides_the_plaintext(app: Any) -> None:
    with app.app_context():
        token = crypto.encrypt("refresh-token-value")
        assert "refresh-token-value" not in token
        assert crypto.decrypt(token) == "refresh-token-value"
        assert crypto.encrypt("same") != crypto.encrypt("same")


def test_tampering_is_detected(app: Any) -> None:
    with app.app_context():
        raw = bytearray(base64.urlsafe_b64decode(crypto.encrypt("secret")))
        raw[40] ^= 0x01  # one bit of the ciphertext
        tampered = base64.urlsafe_b64encode(bytes(raw)).decode()
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(tampered)


def test_rotation_keeps_old_values_readable(
    make_app: Any, config: dict[str, Any]
) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old_app = make_app({**config, "ENCRYPTION_KEYS": old_key})
    with old_app.app_context():
        stored = crypto.encrypt("client-secret")
    rotated_app = make_app({**config, "ENCRYPTION_KEYS": f"{new_key}, {old_key}"})
    with rotated_app.app_context():
        assert crypto.decrypt(stored) == "client-secret"
        rewritten = crypto.rotate(stored)
    new_only = make_app({**config, "ENCRYPTION_KEYS": new_key})
    with new_only.app_context():
        assert crypto.decrypt(rewritten) == "client-secret"
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(stored)


def test_bad_key_is_refused(make_app: Any, config: dict[str, Any]) -> None:
    with pytest.raises(RuntimeError, match="not a valid key"):
        make_app({**config, "ENCRYPTION_KEYS": "not-a-key"})
