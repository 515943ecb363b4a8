"""A page's time for Constant Contact starts when the request arrives.

CC_REQUEST_BUDGET_SECONDS bounds the whole page, not only its calls: time spent
before the first call (waiting for another request's token refresh, say) is
spent budget, so a late call gets what is left and a page past its budget does
not call at all.
"""

from typing import Any

import pytest
from flask import Flask

from wizard.constant_contact import http
from wizard.sandbox.testing import get_stats

pytestmark = pytest.mark.sandboxed

BUDGET = 20.0


@pytest.fixture
def config(config: dict[str, Any]) -> dict[str, Any]:
    """A known budget for the tests' clock to spend."""
    return config | {"CC_REQUEST_BUDGET_SECONDS": BUDGET}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The clock the budget is kept by, moved by the test (``clock[0] += ...``)."""
    now = [1000.0]
    monkeypatch.setattr(http.time, "monotonic", lambda: now[0])
    return now


def test_time_before_the_first_call_counts_against_the_budget(
    app: Flask, cc: str, clock: list[float]
) -> None:
    with app.test_request_context("/integrations"):
        app.preprocess_request()  # the request arrives: its hooks run
        clock[0] += BUDGET + 1  # the page waited longer than its budget
        with pytest.raises(http.ProviderError) as raised:
            http.call("GET", f"{cc}/v3/account/summary", timeout=5)
    assert raised.value.code == "timeout"
    assert get_stats(cc)["api_calls"]["total"] == 0


def test_a_late_first_call_gets_only_what_is_left(
    app: Flask, clock: list[float]
) -> None:
    with app.test_request_context("/integrations"):
        app.preprocess_request()
        clock[0] += BUDGET - 3
        assert http.budget_left() == 3
    # Outside a request (the CLI, cron) nothing limits the calls but their timeout.
    with app.app_context():
        assert http.budget_left() == float("inf")
