"""Database work per request: the pages people repeat most stay cheap."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.conftest import sandbox_settings
from tests.test_authorize import attempt_of
from tests.test_authorize import device_app
from tests.test_authorize import make_due
from tests.test_authorize import make_integration
from tests.test_authorize import start
from wizard.extensions import db
from wizard.sandbox.testing import get_stats


@pytest.fixture
def config(config: dict[str, Any], cc: str) -> dict[str, Any]:
    return config | sandbox_settings(cc)


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements the app sends while the block runs."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement.split(None, 1)[0].upper())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_status_poll_that_is_not_due_reads_two_rows_and_writes_nothing(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = make_integration(app, device_app(cc))
    start(signed_in, integration_id)
    attempt = attempt_of(app, integration_id)
    url = f"/integrations/{integration_id}/authorize/{attempt.id}/status"
    assert signed_in.get(url).json["state"] == "waiting"  # the first poll asks
    polls = get_stats(cc)["device_polls"]
    with statements(app) as sent:
        for _ in range(5):
            assert signed_in.get(url).json["state"] == "waiting"
    # Per poll: the signed-in user, then the attempt joined to its integration.
    assert sent == ["SELECT", "SELECT"] * 5
    assert get_stats(cc)["device_polls"] == polls
    # Once due, one poll asks Constant Contact and records when to ask next.
    make_due(app, attempt.id)
    with statements(app) as sent:
        assert signed_in.get(url).json["state"] == "waiting"
    assert "UPDATE" in sent
    assert get_stats(cc)["device_polls"] == polls + 1


@pytest.mark.parametrize("path", ["/integrations", "/activity"])
def test_listing_pages_do_not_grow_with_the_number_of_integrations(
    signed_in: FlaskClient, app: Flask, cc: str, path: str
) -> None:
    def count() -> int:
        with statements(app) as sent:
            assert signed_in.get(path).status_code == 200
        return len(sent)

    key = device_app(cc)
    make_integration(app, key)
    few = count()
    for _ in range(10):
        integration_id = make_integration(app, key)
        start(signed_in, integration_id)
    assert count() == few
