"""The Activity page and the support timeline say what happened in words."""

import ast
from collections.abc import Iterator
from pathlib import Path

from flask.testing import FlaskClient

from wizard.domain import audit
from wizard.status import Outcome

OUTCOMES = {str(value) for value in Outcome}

ROOT = Path(__file__).resolve().parent.parent


# Functions that record the action their caller names: the callers are scanned.
RECORDERS = {"audit.record", "record", "on_record"}


def recorded_actions() -> set[str]:
    """Return every action code the app records (first argument of a recorder)."""
    found: set[str] = set()
    for path in (ROOT / "wizard").rglob("*.py"):
        for function, node in calls(ast.parse(path.read_text()), None):
            if ast.unparse(node.func) not in RECORDERS or not node.args:
                continue
            first = node.args[0]
            if ast.unparse(first) == "f'authorization.{outcome}'":
                found |= {f"authorization.{outcome}" for outcome in OUTCOMES}
            elif (
                isinstance(first, ast.Name)
                and function is not None
                and function.name in RECORDERS
                and first.id in {argument.arg for argument in function.args.args}
            ):
                continue  # a recorder handing on the action its caller named
            else:
                assert isinstance(first, ast.Constant), (path, ast.unparse(first))
                found.add(first.value)
    return found


def calls(
    node: ast.AST, function: ast.FunctionDef | None
) -> Iterator[tuple[ast.FunctionDef | None, ast.Call]]:
    """Yield every call under ``node`` with the function it is written in."""
    for child in ast.iter_child_nodes(node):
        inner = child if isinstance(child, ast.FunctionDef) else function
        if isinstance(child, ast.Call):
            yield function, child
        yield from calls(child, inner)


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
