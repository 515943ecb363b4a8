"""The problem tables: every error code the wizard can meet has words and a next
step, unknown codes get the fallback, and every next step is a page that exists."""

import ast
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.pofile import read_po
from flask import Flask

from wizard.constant_contact.http import ProviderError
from wizard.domain import problem_words
from wizard.domain.drafts import STEP_COUNT
from wizard.domain.problems import connection_problem
from wizard.domain.problems import problem_for
from wizard.domain.problems import waiting_note
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.status import Code
from wizard.status import Flow
from wizard.web import next_steps

ROOT = Path(__file__).resolve().parent.parent
SPANISH_PO = ROOT / "wizard" / "translations" / "es" / "LC_MESSAGES" / "messages.po"
# Calls in wizard/ that take an error code -> the code's argument position.
CODE_ARGUMENT = {
    "ProviderError": 0,
    "ConnectionProblem": 0,
    "_refused": 0,
    "problem_for": 0,
    "connection_problem": 0,
    "mark_broken": 1,
    "fail": 1,
    "finish": 2,
}
# What an OAuth server may answer (RFC 6749 4.1.2.1 and 5.2, RFC 8628 3.5).
OAUTH_CODES = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "unsupported_response_type",
    "invalid_scope",
    "access_denied",
    "server_error",
    "temporarily_unavailable",
    "authorization_pending",
    "slow_down",
    "expired_token",
}
# Codes meant for the fallback: passing failures, or answers the wizard never asks
# for. A new code the wizard produces must be given words or be listed here.
FALLBACK_CODES = {
    "timeout",
    "unreachable",
    "unavailable",
    "garbage",
    "not_found",
    "unsupported_grant_type",
    "unsupported_response_type",
    "server_error",
    "temporarily_unavailable",
    "authorization_pending",
    "conflict",  # two changes to one contact at once: the next try works
    "bad_request",  # a refused contact: the caller hears it, the person never does
}
KEY = "Constant Contact does not recognise this API Key"
KEY_REFUSED = "Constant Contact did not accept this API Key"
SECRET = "Constant Contact did not accept the API Key and Client Secret"
SPENT = "That code can no longer be used"
SLOW = "Constant Contact asked us to slow down"
# Code -> (heading in the device flow, in the authorization code flow, action),
# written out here rather than read from problem_words.py.
WORDS = {
    "expired": ("Time ran out", None, "new_code"),
    "expired_token": ("Time ran out", None, "new_code"),
    "access_denied": ("Access was not allowed", None, "new_code"),
    "unauthorized_client": (
        "Your Constant Contact app is not set to Device Flow",
        "Your Constant Contact app is not set to Authorization Code Flow",
        "fix_credentials",
    ),
    "invalid_client": (KEY_REFUSED, SECRET, "fix_credentials"),
    "unauthorized": (KEY, SECRET, "fix_credentials"),
    "invalid_scope": (
        "Constant Contact refused the permissions we ask for",
        None,
        "try_again",
    ),
    "invalid_grant": (SPENT, None, "new_code"),
    "invalid_request": (SPENT, None, "new_code"),
    "state_used": (SPENT, None, "new_code"),
    "state_other_user": ("This approval was started by someone else", None, "new_code"),
    "no_refresh_token": (
        "Constant Contact did not give lasting access",
        None,
        "new_code",
    ),
    "list_not_found": ("We could not find your list", None, "fix_list"),
    "list_deleted": ("We could not find your list", None, "fix_list"),
    "forbidden": ("Constant Contact would not show us the list", None, "new_code"),
    "not_connected": ("This integration is not connected", None, "new_code"),
    "unreadable": ("We could not read what we saved", None, "new_code"),
    "replaced": ("A newer code was started", None, "new_code"),
    "quota_exceeded": ("Constant Contact's daily limit is used up", None, "try_again"),
    "throttled": (SLOW, None, "try_again"),
    "slow_down": (SLOW, None, "try_again"),
}


def strings(node: ast.expr) -> set[str]:
    """Return the string constants an expression may evaluate to."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return strings(node.body) | strings(node.orelse)
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Code"
    ):
        return {Code[node.attr].value}
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "list_code":
        return {Code.LIST_NOT_FOUND.value}  # the v3 API's not_found, said of a list
    return set()


def produced_codes() -> set[str]:
    """Return the error codes wizard/ (the sandbox aside) names as literals."""
    found = set()
    for path in (ROOT / "wizard").rglob("*.py"):
        if "sandbox" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                at = CODE_ARGUMENT.get(name, len(node.args))
                if at < len(node.args):
                    found |= strings(node.args[at])
            elif isinstance(node, ast.Assign) and any(
                getattr(target, "id", "") == "code" for target in node.targets
            ):
                found |= strings(node.value)
    return found


def known_codes() -> set[str]:
    """Return every code with words of its own in the tables."""
    by_flow = {code for code, _ in problem_words.FLOW_PROBLEMS}
    return (
        set(problem_words.PROBLEMS) | by_flow | set(problem_words.CONNECTION_PROBLEMS)
    )


def test_every_code_the_wizard_meets_has_words_or_is_meant_for_the_fallback() -> None:
    produced = produced_codes()
    assert {"list_deleted", "state_used", "no_refresh_token", "quota_exceeded"} <= (
        produced
    )
    meets = (
        produced | OAUTH_CODES | ProviderError.TRANSIENT | ProviderError.UNTIL_TOMORROW
    )
    assert meets - known_codes() == FALLBACK_CODES
    # And no table holds a code nobody produces (a typo would never be read).
    assert known_codes() <= meets
    assert set(WORDS) == known_codes()


def test_a_code_with_flow_words_has_them_for_every_flow() -> None:
    by_flow = {code for code, _ in problem_words.FLOW_PROBLEMS}
    assert set(problem_words.FLOW_PROBLEMS) == {(c, f) for c in by_flow for f in Flow}
    assert by_flow.isdisjoint(problem_words.PROBLEMS)


@pytest.mark.parametrize("code", sorted(WORDS))
def test_each_code_says_its_words_and_offers_its_next_step(code: str) -> None:
    device, authorization_code, action = WORDS[code]
    for flow, heading in (
        ("device", device),
        ("authorization_code", authorization_code or device),
    ):
        problem = problem_for(code, flow)
        assert (problem.code, problem.heading_en, problem.action) == (
            code,
            heading,
            action,
        )


@pytest.mark.parametrize("code", ["no_such_code", "", "timeout", "not_found"])
def test_unknown_codes_get_the_fallback(code: str) -> None:
    for flow in Flow:
        problem = problem_for(code, flow)
        assert problem.code == code
        assert problem.heading_en == "Constant Contact did not answer properly"
        assert problem.text_en == (
            "This is usually brief. Nothing is lost: try again in a minute."
        )
        assert problem.action == "try_again"
        assert connection_problem(code, flow) == problem


def test_a_saved_connection_has_its_own_words_only_where_step_4_would_mislead() -> None:
    for code in sorted(known_codes() | FALLBACK_CODES):
        for flow in Flow:
            if code in problem_words.CONNECTION_PROBLEMS:
                assert connection_problem(code, flow) != problem_for(code, flow)
            else:
                assert connection_problem(code, flow) == problem_for(code, flow)
    refused = connection_problem("invalid_grant")
    assert refused.heading_en == "Constant Contact no longer accepts this connection"
    assert refused.action == "new_code"


def all_words() -> set[str]:
    """Return every message id the problem and next-step tables hold."""
    tables = [
        problem_words.PROBLEMS.values(),
        problem_words.FLOW_PROBLEMS.values(),
        problem_words.CONNECTION_PROBLEMS.values(),
        [problem_words.FALLBACK],
    ]
    found = {text for table in tables for w in table for text in (w.heading, w.text)}
    found |= set(problem_words.WAITING_NOTES.values())
    for step in next_steps.NEXT_STEPS.values():
        found |= {step.words, step.note} - {None}
    return found


def test_every_word_in_the_tables_is_translated() -> None:
    with SPANISH_PO.open("rb") as source:
        catalog = read_po(source, locale="es")
    missing = [m for m in sorted(all_words()) if not (catalog.get(m) or {}).string]
    assert missing == []


def test_every_action_has_a_next_step_that_exists(app: Flask) -> None:
    actions = {
        w.action for w in (problem_words.FALLBACK, *problem_words.PROBLEMS.values())
    }
    actions |= {w.action for w in problem_words.FLOW_PROBLEMS.values()}
    actions |= {w.action for w in problem_words.CONNECTION_PROBLEMS.values()}
    assert actions <= set(next_steps.NEXT_STEPS)
    methods = {rule.endpoint: rule.methods for rule in app.url_map.iter_rules()}
    integration = SimpleNamespace(id=7)
    with app.test_request_context():
        for step in next_steps.NEXT_STEPS.values():
            assert ("POST" if step.post else "GET") in methods[step.endpoint]
            assert step.url(integration).startswith("/")


# (action, flow, status, holds tokens, attempt's outcome) -> the step shown.
SITUATIONS = [
    ("new_code", "device", "authorizing", False, "failed", "new_code"),
    ("new_code", "authorization_code", "authorizing", False, "failed", "try_again"),
    (
        "new_code",
        "authorization_code",
        "needs_reauthorization",
        True,
        None,
        "try_again",
    ),
    ("try_again", "device", "authorizing", False, "failed", "try_again"),
    ("try_again", "device", "unverified", True, "approved", "check_again"),
    ("try_again", "device", "needs_reauthorization", True, "approved", "reauthorize"),
    ("try_again", "device", "needs_reauthorization", True, None, "reauthorize"),
    ("fix_credentials", "device", "created", False, "failed", "fix_credentials"),
    ("fix_credentials", "device", "active", True, None, "keep_connection"),
    ("fix_credentials", "device", "failing", True, None, "fix_credentials"),
    ("fix_credentials", "device", "needs_reauthorization", True, None, "reauthorize"),
    ("fix_list", "device", "list_not_found", True, "approved", "fix_list"),
    ("fix_list", "device", "needs_reauthorization", True, None, "fix_list"),
]


@pytest.mark.parametrize(
    ("action", "flow", "status", "holds", "outcome", "shown"), SITUATIONS
)
def test_the_integrations_state_chooses_among_the_next_steps(
    action: str, flow: str, status: str, holds: bool, outcome: str | None, shown: str
) -> None:
    problem = SimpleNamespace(action=action)
    integration = Integration(status=status, flow=flow)
    if holds:
        integration.refresh_token_encrypted = "sealed"
    attempt = AuthorizationAttempt(outcome=outcome) if outcome else None
    assert next_steps.next_action(problem, integration, attempt) == shown


def test_step_4_offers_to_start_again_unless_step_1_must_change() -> None:
    assert next_steps.start_shown(None)
    assert next_steps.start_shown(problem_for("access_denied"))
    assert not next_steps.start_shown(problem_for("invalid_client"))


def test_waiting_notes(app: Flask) -> None:
    with app.test_request_context():
        assert waiting_note("timeout") == (
            "Constant Contact is slow to answer. We keep checking."
        )
        assert waiting_note("throttled") == (
            "Constant Contact asked us to slow down. We keep checking."
        )
        assert waiting_note("access_denied") is None
        assert waiting_note(None) is None


def test_the_step_count_is_written_once(app: Flask) -> None:
    assert app.jinja_env.globals["step_count"] == STEP_COUNT
    written = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in (ROOT / "templates").rglob("*.html")
        for line in path.read_text().splitlines()
        if re.search(rf"\bof {STEP_COUNT}\b|{STEP_COUNT} steps", line)
    ]
    assert written == []
