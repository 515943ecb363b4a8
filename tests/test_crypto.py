"""Encryption at rest: round trip, tampering, binding to a place, key rotation."""

import base64
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Config

from tests.helpers.app import ENCRYPTION_KEY
from tests.helpers.app import AppWith
from wizard.platform import crypto
from wizard.platform.bootstrap import write_instance_config

HERE = "integration.refresh_token_encrypted:7/organization:1"


def test_round_trip_hides_the_plaintext(app: Any) -> None:
    with app.app_context():
        token = crypto.encrypt("refresh-token-value", HERE)
        assert "refresh-token-value" not in token
        assert token.startswith(f"v2:{crypto.current_key_id()}:")
        assert crypto.decrypt(token, HERE) == "refresh-token-value"
        assert crypto.encrypt("same", HERE) != crypto.encrypt("same", HERE)


def test_tampering_is_detected(app: Any) -> None:
    with app.app_context():
        prefix, key_id, body = crypto.encrypt("secret", HERE).split(":")
        raw = bytearray(base64.urlsafe_b64decode(body))
        for position in (0, 13, len(raw) - 1):  # nonce, ciphertext, tag
            changed = bytearray(raw)
            changed[position] ^= 0x01
            tampered = f"{prefix}:{key_id}:{base64.urlsafe_b64encode(changed).decode()}"
            with pytest.raises(crypto.DecryptionError):
                crypto.decrypt(tampered, HERE)
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(f"{prefix}:{key_id}:{body[:20]}", HERE)  # cut short
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(f"{prefix}:{key_id}:not base64!", HERE)


@pytest.mark.parametrize(
    "elsewhere",
    [
        "integration.refresh_token_encrypted:8/organization:1",  # another row
        "integration.refresh_token_encrypted:7/organization:2",  # another tenant
        "integration.access_token_encrypted:7/organization:1",  # another column
        "authorization_attempt.refresh_token_encrypted:7/organization:1",  # table
    ],
)
def test_a_value_moved_elsewhere_does_not_decrypt(app: Any, elsewhere: str) -> None:
    with app.app_context():
        stored = crypto.encrypt("tenant-a-refresh-token", HERE)
        with pytest.raises(crypto.DecryptionError) as caught:
            crypto.decrypt(stored, elsewhere)
        assert "tenant-a-refresh-token" not in str(caught.value)


def test_a_binding_is_required(app: Any) -> None:
    with app.app_context():
        with pytest.raises(ValueError):
            crypto.encrypt("secret", "")
        with pytest.raises(ValueError):
            crypto.decrypt(crypto.encrypt("secret", HERE), "")


def legacy(plaintext: str, key: str = ENCRYPTION_KEY) -> str:
    """Return a value as releases before v2 stored it: plain Fernet, unbound."""
    return Fernet(key.encode()).encrypt(plaintext.encode()).decode()


def test_old_fernet_values_are_refused_by_default(app: Any) -> None:
    stored = legacy("from-before-v2")
    with app.app_context():
        assert crypto.key_id(stored) == crypto.LEGACY
        assert not crypto.is_current(stored)
        with pytest.raises(crypto.DecryptionError, match="before v2") as caught:
            crypto.decrypt(stored, HERE)
        assert "from-before-v2" not in str(caught.value)


def test_old_fernet_values_decrypt_only_while_accepted(app_with: AppWith) -> None:
    stored = legacy("from-before-v2")
    with app_with(ACCEPT_UNBOUND_CIPHERTEXT=True).app_context():
        assert crypto.decrypt(stored, HERE) == "from-before-v2"
        # Bound to nothing: any place reads it, which is why acceptance must end.
        assert crypto.decrypt(stored, "integration.refresh_token_encrypted:8/x")
        with pytest.raises(crypto.DecryptionError, match="no configured key"):
            crypto.decrypt(legacy("x", Fernet.generate_key().decode()), HERE)


@pytest.mark.parametrize("accepted", [False, True])
def test_rotation_rewrites_old_values_whatever_the_setting(
    app_with: AppWith, accepted: bool
) -> None:
    app = app_with(ACCEPT_UNBOUND_CIPHERTEXT=accepted)
    with app.app_context():
        rotated = crypto.rotate(legacy("from-before-v2"), HERE)
        assert crypto.is_current(rotated)
        assert crypto.decrypt(rotated, HERE) == "from-before-v2"
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(rotated, "integration.refresh_token_encrypted:8/x")
        with pytest.raises(crypto.DecryptionError, match="no configured key"):
            crypto.rotate(legacy("x", Fernet.generate_key().decode()), HERE)


@pytest.mark.parametrize(
    ("given", "accepted"),
    [
        ("true", True),
        ("1", True),
        ("yes", True),
        ("on", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("off", False),
        ('""', False),
    ],
)
def test_the_acceptance_setting_reads_plain_words(
    app_with: AppWith, monkeypatch: pytest.MonkeyPatch, given: str, accepted: bool
) -> None:
    monkeypatch.setenv("WIZARD_ACCEPT_UNBOUND_CIPHERTEXT", given)
    app = app_with()
    assert app.config["ACCEPT_UNBOUND_CIPHERTEXT"] is accepted
    with app.app_context():
        if accepted:
            assert crypto.decrypt(legacy("old"), HERE) == "old"
        else:
            with pytest.raises(crypto.DecryptionError):
                crypto.decrypt(legacy("old"), HERE)


def test_an_unclear_acceptance_setting_is_refused(
    app_with: AppWith, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIZARD_ACCEPT_UNBOUND_CIPHERTEXT", "maybe")
    with pytest.raises(RuntimeError) as caught:
        app_with()
    assert str(caught.value) == (
        "WIZARD_ACCEPT_UNBOUND_CIPHERTEXT must be true or false, not 'maybe'."
    )


def test_key_ids_name_keys_without_revealing_them(app_with: AppWith) -> None:
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with app_with(ENCRYPTION_KEYS=f"{first},{second}").app_context():
        ids = crypto.key_ids()
        assert len(set(ids)) == 2 and ids[0] == crypto.current_key_id()
        for key_id in ids:
            assert len(key_id) == 8
            assert key_id not in first and key_id not in second
    with app_with(ENCRYPTION_KEYS=second).app_context():
        assert crypto.key_ids() == ids[1:]  # the same key has the same id everywhere


def test_rotation_keeps_old_values_readable(app_with: AppWith) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old_app = app_with(ENCRYPTION_KEYS=old_key)
    with old_app.app_context():
        stored = crypto.encrypt("client-secret", HERE)
        old_id = crypto.current_key_id()
    rotated_app = app_with(ENCRYPTION_KEYS=f"{new_key}, {old_key}")
    with rotated_app.app_context():
        assert crypto.decrypt(stored, HERE) == "client-secret"
        assert not crypto.is_current(stored) and crypto.key_id(stored) == old_id
        rewritten = crypto.rotate(stored, HERE)
        assert crypto.is_current(rewritten)
    new_only = app_with(ENCRYPTION_KEYS=new_key)
    with new_only.app_context():
        assert crypto.decrypt(rewritten, HERE) == "client-secret"
        with pytest.raises(crypto.DecryptionError, match="not configured"):
            crypto.decrypt(stored, HERE)


def test_bad_key_is_refused(app_with: AppWith) -> None:
    with pytest.raises(RuntimeError, match="not a valid key"):
        app_with(ENCRYPTION_KEYS="not-a-key")


def test_a_new_install_refuses_old_values(app_with: AppWith, tmp_path: Path) -> None:
    """What `make run` writes: its own keys, and old unbound values refused."""
    assert write_instance_config(tmp_path)
    assert not write_instance_config(tmp_path)  # written once, never replaced
    assert (tmp_path / "config.py").stat().st_mode & 0o777 == 0o600
    written = Config(str(tmp_path))
    written.from_pyfile("config.py")
    settings = {
        k: written[k]
        for k in ("SECRET_KEY", "ENCRYPTION_KEYS", "ACCEPT_UNBOUND_CIPHERTEXT")
    }
    assert settings["ACCEPT_UNBOUND_CIPHERTEXT"] is False
    with app_with(**settings, TESTING=False).app_context():
        with pytest.raises(crypto.DecryptionError, match="before v2"):
            crypto.decrypt(legacy("old", written["ENCRYPTION_KEYS"]), HERE)
        assert crypto.decrypt(crypto.encrypt("new", HERE), HERE) == "new"
