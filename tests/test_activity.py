"""The Activity page and the support timeline say what happened in words."""

import ast
from pathlib import Path

from flask.testing import FlaskClient

from wizard import audit
from wizard import models

OUTCOMES = {
    value for name, value in vars(models).items() if name.startswith("OUTCOME_")
}

ROOT = Path(__file__).resolve().parent.parent


def recorded_actions() -> set[str]:
    """Return every action code the app records (first argument of audit.record)."""
    found = set()
    for path in (ROOT / "wizard").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) in ("audit.record", "record")
                and node.args
            ):
                first = node.args[0]
                if ast.unparse(first) == "f'authorization.{outcome}'":
                    found |= {f"authorization.{outcome}" for outcome in OUTCOMES}
                    continue
                assert isinstance(first, ast.Constant), (path, ast.unparse(first))
                found.add(first.value)
    return found


def test_every_recorded_action_has_words() -> None:
    actions = recorded_actions()
    # Every recorded action has words, and every entry in WORDS is recorded
    # somewhere (so the scan found every call, and no words are left over).
    assert actions == set(audit.WORDS), actions ^ set(audit.WORDS)


def test_the_activity_page_shows_words_in_the_readers_language(
    signed_in: FlaskClient,
) -> None:
    english = signed_in.get("/activity").text
    assert "Signed in" in english and "user.signed_in" not in english
    signed_in.post("/language", data={"lang": "es"})
    spanish = signed_in.get("/activity").text
    assert "Inició sesión" in spanish and "user.signed_in" not in spanish
