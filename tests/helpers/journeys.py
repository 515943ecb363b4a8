"""Complete setups over HTTP, many at once: sign in, steps 1-4, "active".

Shared by tests/test_load.py (a short run in `make test`) and bench/load.py (the
full run by hand), so both prove the same thing: no 5xx, nothing lost or doubled.
"""

import math
import re
import statistics
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask

from tests.helpers.live import csrf_token
from tests.helpers.users import PASSWORD
from tests.helpers.users import make_user
from wizard.models import ROLE_CUSTOMER
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.models import Organization
from wizard.models import User
from wizard.platform import crypto
from wizard.platform.extensions import db
from wizard.sandbox import seed
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import create_application
from wizard.status import Outcome
from wizard.status import Status

# The order of a setup, as the bench table lists it.
STEPS = (
    "sign in",
    "start",
    "step 1 API Key",
    "step 2 List ID",
    "step 3 create",
    "step 4 start",
    "status poll",
    "active page",
)
ACTIVE = "Your integration is now active!"
CODE = re.compile(r'id="activation-code"[^>]*>([A-Z0-9]{4})-?([A-Z0-9]{4})<')
TOKEN = re.compile(r'name="token"[^>]*value="([^"]+)"')


class StepFailed(Exception):
    """A request answered something a customer's browser would not expect."""


@dataclass
class Journey:
    """One customer's setup: what each step took and what went wrong."""

    email: str
    integration_id: int | None = None
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    requests: int = 0
    server_errors: int = 0
    error: str | None = None
    active: bool = False
    elapsed: float = 0.0


class Customer:
    """A browser-like session that times each step and checks each answer."""

    def __init__(self, base_url: str, journey: Journey, timeout: float) -> None:
        self.base_url = base_url
        self.journey = journey
        self.timeout = timeout
        self.session = requests.Session()

    def request(
        self, step: str, method: str, path: str, expect: int, **kwargs: Any
    ) -> requests.Response:
        """Send one request, count it, and fail the step on an unexpected answer."""
        started = time.perf_counter()
        response = self.session.request(
            method,
            f"{self.base_url}{path}",
            allow_redirects=False,
            timeout=self.timeout,
            **kwargs,
        )
        self.journey.seconds[step].append(time.perf_counter() - started)
        self.journey.requests += 1
        if response.status_code >= 500:
            self.journey.server_errors += 1
        if response.status_code != expect:
            raise StepFailed(f"{step}: {method} {path} -> {response.status_code}")
        return response

    def form(
        self, step: str, path: str, data: dict[str, str] | None = None
    ) -> tuple[str, str]:
        """Open a page, send its form; return the page and where the answer leads."""
        page = self.request(step, "GET", path, 200).text
        sent = self.request(
            step,
            "POST",
            path,
            302,
            data={"csrf_token": csrf_token(page), **(data or {})},
        )
        self.merge_step(step)
        return page, urlsplit(sent.headers["Location"]).path

    def merge_step(self, step: str) -> None:
        """Count a step's page and its form as one step, as the customer feels it."""
        times = self.journey.seconds[step]
        times[-2:] = [sum(times[-2:])]


def setup_one(
    base_url: str,
    cc: str,
    email: str,
    *,
    password: str = PASSWORD,
    poll_every: float = 2.0,
    approve_after: float = 0.0,
    timeout: float = 60.0,
) -> Journey:
    """Go from the sign-in page to "active" as one customer with their own app."""
    journey = Journey(email)
    customer = Customer(base_url, journey, timeout)
    began = time.monotonic()
    try:
        _walk(customer, cc, password, poll_every, approve_after)
    except (StepFailed, requests.RequestException, KeyError, ValueError) as exc:
        journey.error = f"{type(exc).__name__}: {exc}"
    finally:
        customer.session.close()
        journey.elapsed = time.monotonic() - began
    return journey


def _walk(
    customer: Customer,
    cc: str,
    password: str,
    poll_every: float,
    approve_after: float,
) -> None:
    """The steps themselves; any surprise raises and ends the journey."""
    journey = customer.journey
    customer.form("sign in", "/sign-in", {"email": journey.email, "password": password})
    # The customer made a Device Flow app in Constant Contact's portal beforehand.
    api_key = create_application(cc, name=f"PromoPulse {journey.email}")["api_key"]
    start_page = customer.request("start", "GET", "/integrations/new", 200).text
    token = TOKEN.search(start_page)
    if token is None:
        raise StepFailed("start: no Start now form")
    answer = customer.request(
        "start",
        "POST",
        "/integrations/new",
        302,
        data={"csrf_token": csrf_token(start_page), "token": token[1]},
    )
    customer.merge_step("start")
    step_1 = urlsplit(answer.headers["Location"]).path
    journey.integration_id = int(step_1.split("/")[2])
    _, step_2 = customer.form("step 1 API Key", step_1, {"api_key": api_key})
    _, step_3 = customer.form(
        "step 2 List ID", step_2, {"list_id": seed.NEWSLETTER_LIST_ID}
    )
    _, created = customer.form("step 3 create", step_3)
    customer.request("step 3 create", "GET", created, 200)
    customer.merge_step("step 3 create")
    _, attempt = customer.form(
        "step 4 start", f"/integrations/{journey.integration_id}/authorize"
    )
    page = customer.request("step 4 start", "GET", attempt, 200).text
    customer.merge_step("step 4 start")
    code = CODE.search(page)
    if code is None:
        raise StepFailed("step 4 start: no activation code on the page")
    approve_at = time.monotonic() + approve_after
    approved = False
    # Five minutes is the window; the page's script asks every poll_every seconds.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        state = customer.request("status poll", "GET", f"{attempt}/status", 200).json()
        if state["state"] == "done":
            break
        if state["state"] != "waiting":
            raise StepFailed(f"status poll: {state}")
        if not approved and time.monotonic() >= approve_at:
            # The person allows access in Constant Contact's window.
            approve_device(cc, code[1] + code[2])
            approved = True
        time.sleep(poll_every)
    else:
        raise StepFailed("status poll: still waiting after five minutes")
    active = customer.request("active page", "GET", state["next"], 200).text
    if ACTIVE not in active:
        raise StepFailed("active page: no success message")
    journey.active = True


def setup_many(
    base_url: str,
    cc: str,
    emails: list[str],
    clients: int,
    **options: Any,
) -> tuple[list[Journey], float]:
    """Run every customer's setup, `clients` at a time; return them and the seconds."""
    began = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        journeys = list(
            pool.map(lambda email: setup_one(base_url, cc, email, **options), emails)
        )
    return journeys, time.monotonic() - began


def customer_email(n: int) -> str:
    """The sign-in of the n-th load customer."""
    return f"owner{n:04d}@load.test"


def add_customers(app: Flask, count: int) -> list[str]:
    """Make `count` customers, each in their own organization; return their emails."""
    emails = [customer_email(n) for n in range(count)]
    for n, email in enumerate(emails):
        make_user(app, email, ROLE_CUSTOMER, f"Load customer {n:04d}")
    return emails


def check_saved(app: Flask, emails: list[str]) -> list[str]:
    """Return what is wrong in the database: each customer one active connection."""
    problems = []
    with app.app_context():
        for email in emails:
            user = db.session.scalar(db.select(User).filter_by(email=email))
            organization = db.session.get(Organization, user.organization_id)
            integrations = db.session.scalars(
                db.select(Integration).filter_by(organization_id=organization.id)
            ).all()
            if len(integrations) != 1:
                problems.append(f"{email}: {len(integrations)} integrations")
                continue
            integration = integrations[0]
            if integration.status != Status.ACTIVE:
                problems.append(f"{email}: {integration.status}")
            for name in ("access_token_encrypted", "refresh_token_encrypted"):
                try:
                    readable = bool(integration.unseal(name))
                except crypto.DecryptionError:
                    readable = False
                if not readable:
                    problems.append(f"{email}: no {name}")
            attempts = db.session.scalars(
                db.select(AuthorizationAttempt).filter_by(integration_id=integration.id)
            ).all()
            if [a.outcome for a in attempts] != [Outcome.APPROVED]:
                problems.append(f"{email}: attempts {[a.outcome for a in attempts]}")
        total = db.session.scalar(db.select(db.func.count(Integration.id)))
        if total != len(emails):
            problems.append(f"{total} integrations for {len(emails)} customers")
        db.session.remove()
    return problems


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile, in milliseconds."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[rank - 1] * 1000, 1)


def summarize(journeys: list[Journey], seconds: float) -> dict[str, Any]:
    """Figures for the report: totals, errors, and latency per step."""
    steps = {}
    for step in STEPS:
        values = [v for j in journeys for v in j.seconds.get(step, [])]
        if values:
            steps[step] = {
                "count": len(values),
                "p50_ms": percentile(values, 0.50),
                "p95_ms": percentile(values, 0.95),
                "p99_ms": percentile(values, 0.99),
                "max_ms": round(max(values) * 1000, 1),
            }
    setups = [j.elapsed for j in journeys]
    return {
        "customers": len(journeys),
        "active": sum(j.active for j in journeys),
        "seconds": round(seconds, 1),
        "requests": sum(j.requests for j in journeys),
        "server_errors": sum(j.server_errors for j in journeys),
        "failed": [f"{j.email}: {j.error}" for j in journeys if j.error],
        "setup_p50_s": round(statistics.median(setups), 1),
        "setup_max_s": round(max(setups), 1),
        "steps": steps,
    }


def markdown(summary: dict[str, Any]) -> str:
    """The per-step table for bench/README.md."""
    lines = [
        "| Step | Requests | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for step, row in summary["steps"].items():
        lines.append(
            f"| {step} | {row['count']} | {row['p50_ms']} | {row['p95_ms']} "
            f"| {row['p99_ms']} | {row['max_ms']} |"
        )
    return "\n".join(lines)
