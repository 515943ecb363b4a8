"""Control API for lists and grants: what a person does in Constant Contact itself
(add or delete a list, remove an app's access) and what a test reads back."""

import uuid

from flask import jsonify
from flask.typing import ResponseReturnValue

from .clock import utcnow
from .control import body
from .control import bp
from .control import named_account
from .control import problem
from .models import AccessToken
from .models import Contact
from .models import ContactList
from .models import ListMembership
from .models import RefreshToken
from .models import db
from .seed import _list
from .state import current_state


@bp.post("/lists")
def add_list() -> ResponseReturnValue:
    """Add an empty list to an account (the demo login's unless told)."""
    data = body()
    email, account = named_account(data)
    if account is None:
        return problem(f"no sandbox login {email}")
    list_id = str(uuid.uuid4())
    _list(account, list_id, str(data.get("name") or f"List {list_id[:8]}"), [])
    db.session.commit()
    return jsonify(list_id=list_id), 201


@bp.post("/lists/<list_id>")
def change_list(list_id: str) -> ResponseReturnValue:
    """Delete a list ({"deleted": true}) or bring it back ({"deleted": false})."""
    found = db.session.get(ContactList, list_id.lower())
    if found is None:
        return problem("no such list", 404)
    found.deleted_at = utcnow() if body().get("deleted") else None
    db.session.commit()
    return jsonify(list_id=found.list_id, deleted=found.deleted_at is not None)


@bp.get("/lists/<list_id>/members")
def members(list_id: str) -> ResponseReturnValue:
    """Return the list's members, and how often each address was signed up."""
    rows = db.session.scalars(
        db.select(Contact)
        .join(ListMembership, ListMembership.contact_id == Contact.contact_id)
        .where(ListMembership.list_id == list_id.lower())
        .order_by(Contact.email_address)
    ).all()
    signed_up = current_state().snapshot()["sign_ups_by_email"]
    return jsonify(
        members=[
            {
                "email": row.email_address,
                "first_name": row.first_name,
                "last_name": row.last_name,
                "sign_ups": signed_up.get(row.email_address, 0),
            }
            for row in rows
        ]
    )


@bp.post("/applications/<client_id>/revoke")
def revoke_access(client_id: str) -> ResponseReturnValue:
    """Remove the app's access, as a person does in Constant Contact's settings:
    every token it holds stops working."""
    revoked = 0
    for model in (AccessToken, RefreshToken):
        done = db.session.execute(
            db.update(model)
            .where(model.client_id == client_id, model.revoked.is_(False))
            .values(revoked=True)
        )
        revoked += done.rowcount
    db.session.commit()
    return jsonify(revoked=revoked)
