"""Write instance/config.py with a fresh secret key and encryption key, once."""

import argparse
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

TEMPLATE = '''"""Local settings written by `make run`. Keep this file private."""

SECRET_KEY = "{secret_key}"
ENCRYPTION_KEYS = "{encryption_key}"
# A new install has no values from before v2 (bound to no row): never read one.
ACCEPT_UNBOUND_CIPHERTEXT = False
'''


def write_instance_config(instance: Path) -> bool:
    """Create instance/config.py if it does not exist; return whether it was written."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "config.py"
    if path.exists():
        return False
    text = TEMPLATE.format(
        secret_key=secrets.token_urlsafe(48),
        encryption_key=Fernet.generate_key().decode(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return True


def main() -> None:
    """Parse arguments and write the instance config or print a key."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("instance", nargs="?", default="instance")
    parser.add_argument("--print-key", action="store_true", help="print a new key")
    args = parser.parse_args()
    if args.print_key:
        print(Fernet.generate_key().decode())
        return
    if write_instance_config(Path(args.instance)):
        print(
            f"Wrote {args.instance}/config.py with a new secret key and encryption key."
        )


if __name__ == "__main__":
    main()
