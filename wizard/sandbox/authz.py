"""The authorization server's HTTP endpoints at Okta's paths."""

from authlib.oauth2 import OAuth2Error
from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from .faults import fault_point
from .models import SUPPORTED_SCOPES
from .models import db
from .oauth import authorization_server
from .signin import current_account
from .state import current_state

bp = Blueprint("authz", __name__, url_prefix="/oauth2/default/v1")


@bp.before_request
def count_request() -> None:
    """Count token-endpoint traffic for the control API's stats."""
    if request.endpoint == "authz.token":
        client_id = request.form.get("client_id")
        if not client_id and request.authorization:
            client_id = request.authorization.username
        current_state().count("token")
        current_state().count(
            "token_grant", "token_grant_type", request.form.get("grant_type")
        )
        current_state().count("token_client", "token_client_id", client_id or "")
    elif request.endpoint == "authz.revoke":
        current_state().count("revoke")


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> ResponseReturnValue:
    """Sign in, show Allow Access, then redirect back with a code or an error."""
    account = current_account()
    server = authorization_server()
    try:
        # Okta checks the app and its Redirect URI before asking anyone to sign in.
        grant = server.get_consent_grant(end_user=account)
    except OAuth2Error as error:
        if error.redirect_uri:
            return server.handle_error_response(None, error)
        # No trustworthy redirect URI: tell the person, never redirect.
        message = error.description or error.error
        return render_template("sandbox/error.html", message=message), 400
    if account is None:
        return redirect(url_for("signin.login", next=request.full_path))
    if request.method == "GET":
        return render_template(
            "sandbox/consent.html",
            application=grant.client,
            scopes=[s for s in grant.request.scope.split() if s in SUPPORTED_SCOPES],
            action=request.full_path,
            user_code=None,
        )
    allowed = request.form.get("decision") == "allow"
    response = server.create_authorization_response(
        grant=grant, grant_user=account if allowed else None
    )
    db.session.commit()
    return response


@bp.post("/token")
@fault_point("token")
def token() -> ResponseReturnValue:
    """Issue tokens for every grant."""
    response = authorization_server().create_token_response()
    # Commit even on errors: polls record their time and slow_down its interval.
    db.session.commit()
    return response


@bp.post("/device/authorize")
@fault_point("device_authorize")
def device_authorize() -> ResponseReturnValue:
    """Start a device authorization (RFC 8628)."""
    response = authorization_server().create_endpoint_response("device_authorization")
    db.session.commit()
    return response


@bp.post("/revoke")
@fault_point("revoke")
def revoke() -> ResponseReturnValue:
    """Revoke a token (RFC 7009)."""
    response = authorization_server().create_endpoint_response("revocation")
    db.session.commit()
    return response
