"""Test knobs as a JSON API under /__sandbox__/ (only with SANDBOX_TEST_CONTROL)."""

from typing import Any

from flask import Blueprint
from flask import jsonify
from flask import request
from flask.typing import ResponseReturnValue

from .activate import decide
from .activate import normalize_user_code
from .activate import pending_device_code
from .applications import ApplicationError
from .applications import create_application
from .clock import now
from .faults import FAULTS
from .models import Account
from .models import ContactList
from .models import db
from .seed import DEMO_LOGIN_EMAIL
from .seed import add_account
from .state import current_state

bp = Blueprint("control", __name__, url_prefix="/__sandbox__")

FAULT_ENDPOINTS = (
    "token",
    "device_authorize",
    "revoke",
    "account_summary",
    "contact_list",
    "contact_lists",
    "sign_up_form",
)


def body() -> dict[str, Any]:
    """Return the JSON request body as a dict (empty if absent)."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def named_account(data: dict[str, Any]) -> tuple[str, Account | None]:
    """Return the login a control request names (the demo login's unless told) and
    its account, if there is one."""
    email = data.get("account_email", DEMO_LOGIN_EMAIL)
    return email, db.session.scalar(db.select(Account).filter_by(login_email=email))


def problem(message: str, status: int = 400) -> ResponseReturnValue:
    """Return a control API error."""
    return jsonify({"error": message}), status


def check_faults(faults: Any) -> dict[str, str]:
    """Return a valid fault map or raise ValueError."""
    if not isinstance(faults, dict):
        raise ValueError("faults must be an object of endpoint -> fault")
    for endpoint, fault in faults.items():
        if endpoint not in FAULT_ENDPOINTS or str(fault) not in FAULTS:
            raise ValueError(f"unknown fault {endpoint!r}: {fault!r}")
    return {endpoint: str(fault) for endpoint, fault in faults.items()}


@bp.post("/applications")
def applications() -> ResponseReturnValue:
    """Create an application and its client secret, as the portal would."""
    data = body()
    email, account = named_account(data)
    if account is None:
        return problem(f"no sandbox login {email}")
    try:
        application = create_application(
            account,
            data.get("name", "Sandbox test app"),
            data.get("flow", "device"),
            data.get("refresh_token_type", "long_lived"),
            data.get("redirect_uris", []),
        )
    except ApplicationError as exc:
        return problem(str(exc))
    secret = application.new_secret()
    db.session.commit()
    return jsonify(
        api_key=application.client_id,
        client_secret=secret,
        name=application.name,
        flow=application.flow,
        refresh_token_type=application.refresh_token_type,
        redirect_uris=application.redirect_uris,
    ), 201


def check_lists(lists: Any) -> list[tuple[str, int]]:
    """Return [(name, members)] from [{"name", "members"}], or raise ValueError."""
    if not isinstance(lists, list):
        raise ValueError("lists must be a list of {name, members}")
    checked = []
    for item in lists:
        name = item.get("name") if isinstance(item, dict) else None
        members = item.get("members", 0) if isinstance(item, dict) else None
        if not isinstance(name, str) or not name or len(name) > 255:
            raise ValueError("each list needs a name (1 to 255 characters)")
        if not isinstance(members, int) or not 0 <= members <= 10_000:
            raise ValueError("members is a whole number from 0 to 10000")
        checked.append((name, members))
    return checked


@bp.post("/accounts")
def accounts() -> ResponseReturnValue:
    """Add an account with the demo password and these lists (for paging tests)."""
    data = body()
    email = data.get("email")
    if not isinstance(email, str) or "@" not in email:
        return problem("email is required")
    if db.session.scalar(db.select(Account.id).filter_by(login_email=email)):
        return problem(f"{email} already has an account")
    try:
        lists = check_lists(data.get("lists", []))
    except ValueError as exc:
        return problem(str(exc))
    account = add_account(email, str(data.get("organization_name") or email), lists)
    rows = db.session.scalars(
        db.select(ContactList)
        .filter_by(account_id=account.id)
        .order_by(ContactList.name)
    ).all()
    return jsonify(
        email=account.login_email,
        organization_name=account.organization_name,
        lists=[{"list_id": row.list_id, "name": row.name} for row in rows],
    ), 201


@bp.post("/faults")
def faults() -> ResponseReturnValue:
    """Replace the fault map."""
    try:
        new_faults = check_faults(body())
    except ValueError as exc:
        return problem(str(exc))
    with current_state().lock:
        current_state().faults = new_faults
    return jsonify(faults=new_faults)


@bp.post("/hold")
def hold() -> ResponseReturnValue:
    """Keep requests to an endpoint waiting ({"endpoint", "count", "grant_type"})."""
    data = body()
    endpoint = data.get("endpoint")
    count = data.get("count")
    if endpoint not in FAULT_ENDPOINTS:
        return problem(f"unknown endpoint {endpoint!r}")
    if count is not None and (not isinstance(count, int) or count < 1):
        return problem("count is a whole number from 1, or absent for every request")
    grant_type = data.get("grant_type")
    current_state().hold(endpoint, count, str(grant_type) if grant_type else None)
    return jsonify(current_state().snapshot()["held"])


@bp.post("/release")
def release() -> ResponseReturnValue:
    """Let held requests go on ({"endpoint"}; without it, every endpoint's)."""
    current_state().release(body().get("endpoint"))
    return jsonify(current_state().snapshot()["held"])


@bp.post("/clock")
def clock() -> ResponseReturnValue:
    """Set ({"offset": s}) or move ({"advance": s}) the sandbox clock."""
    data = body()
    with current_state().lock:
        if "offset" in data:
            current_state().clock_offset = float(data["offset"])
        current_state().clock_offset += float(data.get("advance", 0))
        offset = current_state().clock_offset
    return jsonify(offset=offset, now=now())


@bp.post("/device/<decision>")
def device_decision(decision: str) -> ResponseReturnValue:
    """Approve or deny a pending user code as a sandbox login, without a browser."""
    if decision not in ("approve", "deny"):
        return problem("use /device/approve or /device/deny", 404)
    data = body()
    row = pending_device_code(normalize_user_code(data.get("user_code")))
    if row is None:
        return problem("Invalid code. Try again.", 404)
    email = data.get("email", DEMO_LOGIN_EMAIL)
    account = db.session.scalar(db.select(Account).filter_by(login_email=email))
    if account is None:
        return problem(f"no sandbox login {email}")
    decide(row, account, decision == "approve")
    db.session.commit()
    return jsonify(user_code=row.user_code, status=row.status)


@bp.get("/stats")
def stats() -> ResponseReturnValue:
    """Return request counters."""
    return jsonify(current_state().snapshot())


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    """Clear stats and the clock offset, and restore the configured faults."""
    current_state().reset()
    return jsonify(current_state().snapshot())
