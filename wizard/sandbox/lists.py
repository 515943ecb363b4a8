"""Contact list pages, whose addresses end in the List ID like the real ones."""

from flask import Blueprint
from flask import abort
from flask import render_template
from flask.typing import ResponseReturnValue

from .contacts import membership_count
from .models import ContactList
from .models import db
from .signin import current_account
from .signin import login_required

bp = Blueprint("lists", __name__)


@bp.get("/pages/contacts/ui")
@login_required
def index() -> ResponseReturnValue:
    """List the signed-in account's contact lists."""
    rows = db.session.scalars(
        db.select(ContactList)
        .filter_by(account_id=current_account().id, deleted_at=None)
        .order_by(ContactList.name)
    ).all()
    counts = {row.list_id: membership_count(row.list_id) for row in rows}
    return render_template("sandbox/lists.html", lists=rows, counts=counts)


@bp.get("/contacts/lists/<list_id>")
@login_required
def detail(list_id: str) -> ResponseReturnValue:
    """Show one list: name, member count and its List ID."""
    row = db.session.get(ContactList, list_id.lower())
    if row is None or row.account_id != current_account().id or row.deleted_at:
        abort(404)
    return render_template(
        "sandbox/list.html", item=row, members=membership_count(list_id.lower())
    )
