"""A small part of the v3 API (api.cc.email/v3) with Constant Contact's error shapes."""

import base64
import functools
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from .clock import now
from .clock import utcnow
from .contacts import list_as_json
from .contacts import sign_up
from .faults import fault_point
from .models import AccessToken
from .models import Account
from .models import ContactList
from .models import db
from .state import current_state

bp = Blueprint("api", __name__, url_prefix="/v3")

FORBIDDEN_MESSAGE = (
    "Forbidden request. You lack the necessary scopes, you lack the necessary "
    "user privileges, or the application is deactivated."
)


def error_list(status: int, key: str, message: str) -> Response:
    """Return Constant Contact's usual error shape: a JSON array of errors."""
    response = jsonify([{"error_key": key, "error_message": message}])
    response.status_code = status
    return response


def unauthorized() -> Response:
    """Return the 401 as API Gateway sends it: one object, plus the Bearer realm."""
    response = jsonify({"error_key": "unauthorized", "error_message": "Unauthorized"})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = "Bearer realm=api.cc.email"
    response.headers["x-amzn-ErrorType"] = "UnauthorizedException"
    return response


def bearer_token() -> AccessToken | None:
    """Return the active access token presented with the request."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    token = db.session.get(AccessToken, value.strip())
    return token if token is not None and token.is_active() else None


def api_route(endpoint: str, scopes: set[str]) -> Callable[..., Any]:
    """Guard a v3 view: faults, 401, rate limits, then 403 for missing scopes."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @fault_point(endpoint)
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = bearer_token()
            current_state().count("api", "api_endpoint", endpoint)
            if token is None:
                return unauthorized()
            current_state().count("api_client", "api_client_id", token.client_id)
            over = current_state().take_rate_budget(
                token.client_id,
                now(),
                int(current_app.config["SANDBOX_RATE_LIMIT_PER_SECOND"]),
                int(current_app.config["SANDBOX_DAILY_LIMIT"]),
            )
            if over:
                message = (
                    "Too Many Requests" if over == "throttled" else "Limit Exceeded"
                )
                response = jsonify({"error_key": over, "error_message": message})
                response.status_code = 429
                return response
            if not scopes & set(token.scope.split()):
                return error_list(403, "forbidden", FORBIDDEN_MESSAGE)
            g.account = db.session.get(Account, token.account_id)
            return view(*args, **kwargs)

        return wrapper

    return decorator


@bp.get("/account/summary")
@api_route("account_summary", {"account_read", "account_update"})
def account_summary() -> ResponseReturnValue:
    """Return the account's details."""
    account: Account = g.account
    return jsonify(
        {
            "contact_email": account.login_email,
            "contact_phone": account.contact_phone,
            "country_code": account.country_code,
            "encoded_account_id": account.encoded_account_id,
            "first_name": account.first_name,
            "last_name": account.last_name,
            "organization_name": account.organization_name,
            "organization_phone": account.contact_phone,
            "state_code": account.state_code,
            "time_zone_id": account.time_zone_id,
            "website": account.website,
        }
    )


COUNT_MODES = (None, "all", "active")
# GET /contact_lists: "from 1 - 1000, default = 50" lists a page.
DEFAULT_LIMIT = 50
MOST_LIMIT = 1000


def bad_count_mode() -> Response:
    """Refuse an include_membership_count the API does not know."""
    return error_list(
        400,
        "contacts.api.validation.error",
        "include_membership_count must be 'all' or 'active'.",
    )


def whole(value: str | None, default: int) -> int:
    """Return a whole number sent as text, the default if absent, or -1."""
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return -1


class Refused(Exception):
    """A request the API answers with a 400; ``response`` is that answer."""

    def __init__(self, response: Response) -> None:
        super().__init__("refused")
        self.response = response


def list_query(args: Mapping[str, str]) -> dict[str, str]:
    """Read a list-collection query (or the one a cursor carries); Refused if bad."""
    limit, start = whole(args.get("limit"), DEFAULT_LIMIT), whole(args.get("next"), 0)
    if not 1 <= limit <= MOST_LIMIT:
        raise Refused(
            error_list(
                400,
                "contacts.api.validation.error",
                f"limit must be between 1 and {MOST_LIMIT}.",
            )
        )
    if start < 0:
        raise Refused(bad_cursor())
    if args.get("include_membership_count") not in COUNT_MODES:
        raise Refused(bad_count_mode())
    query = {"limit": str(limit), "next": str(start)}
    for name in ("include_membership_count", "include_count", "status"):
        if args.get(name) is not None:
            query[name] = args[name]
    return query


def bad_cursor() -> Response:
    """Refuse a cursor this server did not hand out."""
    return error_list(400, "contacts.api.validation.error", "The cursor is not valid.")


def encode_cursor(query: dict[str, str]) -> str:
    """Return an opaque cursor: like Constant Contact's, base64 of a query string."""
    return base64.urlsafe_b64encode(urlencode(query).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, str] | None:
    """Return the query a cursor carries, or None if it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
        return dict(parse_qsl(text, strict_parsing=True))
    except ValueError:  # not base64, not ASCII or UTF-8, not a query string
        return None


@bp.get("/contact_lists")
@api_route("contact_lists", {"contact_data"})
def contact_lists() -> ResponseReturnValue:
    """List the account's lists a page at a time (active ones unless status says
    otherwise); ``_links.next.href`` carries a cursor to the next page, if any."""
    args: Mapping[str, str] | None = request.args
    if "cursor" in request.args:
        # The cursor stands for the whole query; Constant Contact's next links
        # carry nothing else.
        args = decode_cursor(request.args["cursor"])
    try:
        if args is None:
            raise Refused(bad_cursor())
        query = list_query(args)
    except Refused as refused:
        return refused.response
    status = query.get("status", "active")
    select = db.select(ContactList).filter_by(account_id=g.account.id)
    if status == "active":
        select = select.where(ContactList.deleted_at.is_(None))
    elif status == "deleted":
        select = select.where(ContactList.deleted_at.is_not(None))
    limit, start = int(query["limit"]), int(query["next"])
    total = db.session.scalar(db.select(db.func.count()).select_from(select.subquery()))
    page = db.session.scalars(
        select.order_by(ContactList.name, ContactList.list_id)
        .offset(start)
        .limit(limit)
    ).all()
    count_mode = query.get("include_membership_count")
    body: dict[str, Any] = {"lists": [list_as_json(item, count_mode) for item in page]}
    if query.get("include_count") == "true":
        body["lists_count"] = total
    if start + limit < (total or 0):
        cursor = encode_cursor(query | {"next": str(start + limit)})
        body["_links"] = {"next": {"href": url_for(".contact_lists", cursor=cursor)}}
    return jsonify(body)


@bp.get("/contact_lists/<list_id>")
@api_route("contact_list", {"contact_data"})
def contact_list(list_id: str) -> ResponseReturnValue:
    """Return one list; a deleted list still answers, with deleted_at set."""
    count_mode = request.args.get("include_membership_count")
    if count_mode not in COUNT_MODES:
        return bad_count_mode()
    item = db.session.get(ContactList, list_id.lower())
    if item is None or item.account_id != g.account.id:
        return error_list(
            404, "contacts.api.not_found", f"The list {list_id} was not found."
        )
    return jsonify(list_as_json(item, count_mode))


@bp.post("/contacts/sign_up_form")
@api_route("sign_up_form", {"contact_data"})
def sign_up_form() -> ResponseReturnValue:
    """Create or update a contact and add it to lists: 201 created, 200 updated."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return error_list(400, "contacts.api.bad.request", "Invalid JSON body.")
    result = sign_up(g.account, payload, utcnow())
    if isinstance(result, str):
        return error_list(400, "contacts.api.validation.error", result)
    db.session.commit()
    address = str(payload.get("email_address") or "").strip().lower()
    current_state().count("sign_up", "sign_up_email", address)
    contact_id, action = result
    response = jsonify({"contact_id": contact_id, "action": action})
    response.status_code = 201 if action == "created" else 200
    return response
