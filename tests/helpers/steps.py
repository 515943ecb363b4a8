"""Steps 1-3 through the test client: start a draft, send step 1, read the answer."""

import re
from typing import Any
from uuid import uuid4

from flask.testing import FlaskClient

# Well-formed values for the forms: an API Key, a Client Secret and a List ID.
KEY = "1d2c3b4a-5e6f-4a1b-8c9d-0e1f2a3b4c5d"
SECRET = "Xy3_kq9ZpL0mN2bV4cD6eQ"
LIST_ID = "7c5b38ee-81d3-11f0-a43c-fa163ea34668"


def start_draft(client: FlaskClient, token: str | None = None) -> int:
    """Press Start now; return the new draft's id."""
    response = client.post("/integrations/new", data={"token": token or uuid4().hex})
    return draft_id(response)


def step1(client: FlaskClient, integration_id: int | None = None, **data: str) -> Any:
    """Send step 1 for a draft (a new one unless given)."""
    integration_id = integration_id or start_draft(client)
    fields = {"api_key": KEY, "client_secret": ""} | data
    return client.post(f"/integrations/{integration_id}/api-key", data=fields)


def draft_id(response: Any) -> int:
    """Return the draft's id from the address an answer leads to."""
    match = re.search(r"/integrations/(\d+)/", response.headers["Location"])
    assert match, response.headers.get("Location")
    return int(match.group(1))
