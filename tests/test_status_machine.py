"""One status state machine: the table of transitions, and nothing else writes one."""

import ast
import re
from pathlib import Path

import pytest
from flask import Flask

from wizard.constant_contact.http import ProviderError
from wizard.domain import transitions
from wizard.models import Integration
from wizard.platform.extensions import db
from wizard.status import Flow
from wizard.status import Outcome
from wizard.status import Status
from wizard.status import after_failure
from wizard.status import after_success
from wizard.status import list_code

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "wizard"
TRANSITIONS = PACKAGE / "domain" / "transitions.py"
# ProviderError keeps the HTTP status of Constant Contact's answer: not a connection's.
NOT_A_CONNECTION = {("constant_contact/http.py", "self.status")}

# What a failed use of the connection leads to: from a working connection (active or
# failing), and from any other status.
GONE, REAUTH = Status.LIST_NOT_FOUND, Status.NEEDS_REAUTHORIZATION
FAILURES = {
    # code: (transient, from active or failing, from any other status)
    "list_not_found": (False, GONE, GONE),
    "list_deleted": (False, GONE, GONE),
    "unauthorized": (False, REAUTH, REAUTH),
    "invalid_grant": (False, REAUTH, REAUTH),
    "invalid_client": (False, REAUTH, REAUTH),
    "unreadable": (False, REAUTH, REAUTH),
    "forbidden": (False, REAUTH, REAUTH),
    "quota_exceeded": (False, Status.FAILING, Status.UNVERIFIED),
    "timeout": (True, Status.FAILING, Status.UNVERIFIED),
    "unreachable": (True, Status.FAILING, Status.UNVERIFIED),
    "throttled": (True, Status.FAILING, Status.UNVERIFIED),
    "unavailable": (True, Status.FAILING, Status.UNVERIFIED),
    "garbage": (True, Status.FAILING, Status.UNVERIFIED),
    "unauthorized_client": (False, Status.UNVERIFIED, Status.UNVERIFIED),
    "not_connected": (False, Status.UNVERIFIED, Status.UNVERIFIED),
    "access_denied": (False, Status.UNVERIFIED, Status.UNVERIFIED),
}
WORKING = (Status.ACTIVE, Status.FAILING)


def test_the_stored_strings_stay_as_they_are() -> None:
    assert [str(status) for status in Status] == [
        "draft",
        "created",
        "authorizing",
        "active",
        "list_not_found",
        "unverified",
        "failing",
        "needs_reauthorization",
        "disconnected",
    ]
    assert [str(outcome) for outcome in Outcome] == [
        "approved",
        "failed",
        "expired",
        "replaced",
    ]
    assert [str(flow) for flow in Flow] == ["device", "authorization_code"]


@pytest.mark.parametrize("current", list(Status))
@pytest.mark.parametrize("code", sorted(FAILURES))
def test_which_status_a_failure_leads_to(current: Status, code: str) -> None:
    transient, from_working, from_other = FAILURES[code]
    expected = from_working if current in WORKING else from_other
    assert after_failure(current, code, transient=transient) == expected


@pytest.mark.parametrize("current", list(Status))
def test_a_call_that_works_makes_it_active_unless_renewal_was_refused(
    current: Status,
) -> None:
    expected = (
        Status.NEEDS_REAUTHORIZATION
        if current == Status.NEEDS_REAUTHORIZATION
        else Status.ACTIVE
    )
    assert after_success(current) == expected


def test_the_v3_apis_not_found_is_the_lists() -> None:
    assert list_code("not_found") == "list_not_found"
    assert type(list_code("not_found")) is str
    assert list_code("list_deleted") == "list_deleted"
    assert list_code("timeout") == "timeout"


@pytest.mark.parametrize(
    ("current", "code", "expected"),
    [
        (Status.ACTIVE, "not_found", Status.LIST_NOT_FOUND),
        (Status.ACTIVE, "timeout", Status.FAILING),
        (Status.UNVERIFIED, "timeout", Status.UNVERIFIED),
        (Status.FAILING, "invalid_grant", Status.NEEDS_REAUTHORIZATION),
    ],
)
def test_a_check_failure_is_recorded_with_its_status(
    app: Flask, current: Status, code: str, expected: Status
) -> None:
    with app.app_context():
        integration = Integration(organization_id=1, status=current, flow="device")
        transitions.record_check_failure(integration, ProviderError(code))
        assert integration.status == expected
        assert integration.last_error_code == list_code(code)
        assert integration.last_error_message
        db.session.rollback()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("invalid_grant", Status.NEEDS_REAUTHORIZATION),
        ("invalid_client", Status.NEEDS_REAUTHORIZATION),
        ("unauthorized_client", Status.NEEDS_REAUTHORIZATION),
        ("timeout", Status.FAILING),
        ("quota_exceeded", Status.FAILING),
    ],
)
def test_a_refused_refresh_breaks_the_connection(
    app: Flask, code: str, expected: Status
) -> None:
    with app.app_context():
        integration = Integration(organization_id=1, status="active", flow="device")
        transitions.refresh_failed(integration, ProviderError(code))
        assert (integration.status, integration.last_error_code) == (expected, code)
        db.session.rollback()


def test_step_4_moves_between_created_and_authorizing() -> None:
    integration = Integration(status="created")
    transitions.authorizing(integration)
    assert integration.status == Status.AUTHORIZING
    transitions.stopped_authorizing(integration, others_open=True)
    assert integration.status == Status.AUTHORIZING
    transitions.stopped_authorizing(integration, others_open=False)
    assert integration.status == Status.CREATED


def test_a_connection_keeps_its_status_while_authorizing_again() -> None:
    integration = Integration(status="failing", refresh_token_encrypted="v2:x:y")
    transitions.authorizing(integration)
    assert integration.status == Status.FAILING
    transitions.authorized(integration)
    assert integration.status == Status.UNVERIFIED


def test_working_and_disconnecting() -> None:
    broken = Integration(status="needs_reauthorization", last_error_code="x")
    transitions.working(broken)
    assert (broken.status, broken.last_error_code) == ("needs_reauthorization", "x")
    failing = Integration(status="failing", last_error_code="timeout")
    transitions.working(failing)
    assert (failing.status, failing.last_error_code) == ("active", None)
    transitions.disconnected(failing)
    assert failing.status == Status.DISCONNECTED


def status_writes(tree: ast.Module) -> list[tuple[int, str]]:
    """Return where a module sets a status: ``x.status =`` or ``status=`` in a write."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    found.append((node.lineno, ast.unparse(target)))
        if not isinstance(node, ast.Call):
            continue
        called = ast.unparse(node.func)
        if called == "setattr" and any(
            isinstance(arg, ast.Constant) and arg.value == "status" for arg in node.args
        ):
            found.append((node.lineno, "setattr status"))
        writes = called == "Integration" or called.endswith(".values")
        if writes and any(keyword.arg == "status" for keyword in node.keywords):
            found.append((node.lineno, f"{called}(status=...)"))
        if writes and any(
            isinstance(arg, ast.Dict)
            and any(
                key is not None and "status" in ast.unparse(key) for key in arg.keys
            )
            for arg in node.args
        ):
            found.append((node.lineno, f"{called}({{status: ...}})"))
    return sorted(found)


def test_only_the_transitions_module_writes_a_status() -> None:
    writes = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if path == TRANSITIONS or relative.startswith("sandbox/"):
            continue
        for line, what in status_writes(ast.parse(path.read_text(), str(path))):
            if (relative, what) not in NOT_A_CONNECTION:
                writes.append(f"wizard/{relative}:{line}: {what}")
    assert writes == []
    assert status_writes(ast.parse(TRANSITIONS.read_text()))


def test_the_scan_sees_every_kind_of_write() -> None:
    source = """
integration.status = "active"
setattr(integration, "status", "active")
Integration(status="draft")
db.update(Integration).values(status="created")
db.update(Integration).values({Integration.status: "created"})
db.select(Integration).filter_by(status="draft")
"""
    assert [what for _, what in status_writes(ast.parse(source))] == [
        "integration.status",
        "setattr status",
        "Integration(status=...)",
        "db.update(Integration).values(status=...)",
        "db.update(Integration).values({status: ...})",
    ]


def test_templates_ask_questions_instead_of_comparing_strings() -> None:
    comparison = re.compile(r"\.(status|outcome|flow)\s*(==|!=|in\b|not in\b)")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if comparison.search(line)
    ]
    assert found == []
