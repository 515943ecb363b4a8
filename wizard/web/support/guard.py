"""Who may use the support console: support staff, on integrations that exist."""

from functools import wraps
from typing import Any

from flask import abort
from flask import g
from flask_login import current_user
from flask_login import login_required

from wizard.web.access import names_integration


def support_required(view: Any) -> Any:
    """Let only support staff through, to integrations that exist; else 404."""

    @login_required
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_support:
            abort(404)
        if names_integration() and g.get("integration") is None:
            abort(404)
        return view(*args, **kwargs)

    return wrapped
