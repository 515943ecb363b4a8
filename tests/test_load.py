"""Load without loss: many complete setups at once on four gunicorn workers.

The short run of bench/load.py: on SQLite it is the "concurrent writers" case (eight
customers writing at the same moment), on PostgreSQL the same journeys.
"""

import json

import pytest
from flask import Flask

from tests import journeys
from tests.conftest import base_config
from tests.conftest import sandbox_settings
from tests.live import gunicorn
from tests.live import wizard_environment
from wizard.sandbox.testing import get_stats

pytestmark = pytest.mark.load

CUSTOMERS = 24
CLIENTS = 8
WORKERS = 4


def test_many_customers_set_up_at_once_and_nothing_is_lost(
    app: Flask, database_url: str, cc: str
) -> None:
    emails = journeys.add_customers(app, CUSTOMERS)
    settings = base_config(database_url) | sandbox_settings(cc)
    settings |= {
        "PUBLIC_BASE_URL": "http://127.0.0.1",  # cookies over plain http
        # Everyone arrives from 127.0.0.1 here; the limit is tested on its own.
        "SIGN_IN_RATE_LIMIT": "1000 per minute",
    }
    with gunicorn(wizard_environment(settings), workers=WORKERS) as base_url:
        done, seconds = journeys.setup_many(base_url, cc, emails, CLIENTS)
    summary = journeys.summarize(done, seconds)
    print(json.dumps(summary, indent=1))  # the figures, with `pytest -s`

    assert summary["failed"] == []
    assert summary["server_errors"] == 0
    assert summary["active"] == CUSTOMERS
    # Every step was taken by every customer, the status poll at least twice.
    assert {s: r["count"] >= CUSTOMERS for s, r in summary["steps"].items()} == {
        s: True for s in journeys.STEPS
    }
    assert summary["steps"]["status poll"]["count"] >= 2 * CUSTOMERS
    # Nothing lost or doubled: one active connection with tokens, one attempt each.
    assert journeys.check_saved(app, emails) == []
    stats = get_stats(cc)
    assert stats["device_authorizations"] == CUSTOMERS
    # Constant Contact was never asked sooner than its interval, by any worker.
    assert stats["slow_downs"] == 0
    assert len(stats["token_requests"]["by_client_id"]) == CUSTOMERS
