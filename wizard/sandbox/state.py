"""In-process state of one sandbox server: clock offset, faults, counters."""

import threading
from collections import Counter
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from typing import Any

from flask import current_app

# A hold nobody releases lets go after this long, so a failed test cannot hang.
LONGEST_HOLD_SECONDS = 60.0


@dataclass
class Hold:
    """Requests to one endpoint kept waiting until the test releases them.

    ``count`` is how many arrivals to keep (None: every one); ``grant_type`` limits
    a token endpoint hold to one grant (e.g. only refreshes).
    """

    count: int | None = None
    grant_type: str | None = None
    taken: int = 0
    waiting: int = 0
    # The client port of each waiting request: tells which process sent it.
    ports: list[int] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)


class SandboxState:
    """Mutable knobs and statistics, shared by the server's request threads."""

    def __init__(self, faults: dict[str, str] | None = None) -> None:
        self.lock = threading.Lock()
        self.configured_faults = dict(faults or {})
        self.holds: dict[str, Hold] = {}
        # Answers held by a `timeout` or `drip` fault right now. Not cleared by
        # reset: a test waits for the holds an earlier one left behind.
        self.held_now = 0
        self.reset()

    def hold(
        self, endpoint: str, count: int | None = None, grant_type: str | None = None
    ) -> None:
        """Keep the next ``count`` requests to the endpoint waiting until released."""
        with self.lock:
            previous = self.holds.get(endpoint)
            self.holds[endpoint] = Hold(count=count, grant_type=grant_type)
        if previous is not None:
            previous.released.set()

    def release(self, endpoint: str | None = None) -> None:
        """Let the held requests of one endpoint (or of all) go on."""
        with self.lock:
            names = [endpoint] if endpoint else list(self.holds)
            released = [self.holds.pop(name) for name in names if name in self.holds]
        for hold in released:
            hold.released.set()

    def wait_if_held(
        self, endpoint: str, grant_type: str | None, port: int | None = None
    ) -> None:
        """Block this request (from client ``port``) while a hold takes it."""
        with self.lock:
            hold = self.holds.get(endpoint)
            if (
                hold is None
                or (hold.grant_type is not None and hold.grant_type != grant_type)
                or (hold.count is not None and hold.taken >= hold.count)
            ):
                return
            hold.taken += 1
            hold.waiting += 1
            if port is not None:
                hold.ports.append(port)
        try:
            hold.released.wait(LONGEST_HOLD_SECONDS)
        finally:
            with self.lock:
                hold.waiting -= 1
                if port is not None:
                    hold.ports.remove(port)

    def reset(self) -> None:
        """Clear stats, holds and the clock offset; restore the configured faults."""
        self.release()
        with self.lock:
            self.clock_offset = 0.0
            self.faults = dict(self.configured_faults)
            self.counters: Counter[str] = Counter()
            self.by_key: defaultdict[str, Counter[str]] = defaultdict(Counter)
            self.per_second: dict[str, tuple[int, int]] = {}
            self.per_day: dict[str, tuple[str, int]] = {}

    def count(
        self, name: str, key: str | None = None, value: str | None = None
    ) -> None:
        """Add one to a counter, and to a per-key breakdown when given."""
        with self.lock:
            self.counters[name] += 1
            if key is not None and value is not None:
                self.by_key[key][value] += 1

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Count an answer held back by a fault while it is held."""
        self.count("held")
        with self.lock:
            self.held_now += 1
        try:
            yield
        finally:
            with self.lock:
                self.held_now -= 1

    def take_rate_budget(
        self, api_key: str, now: float, per_second: int, per_day: int
    ) -> str | None:
        """Spend one request of an API key's budget; return the error_key if over."""
        second = int(now)
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
        with self.lock:
            sec_bucket, sec_count = self.per_second.get(api_key, (second, 0))
            if sec_bucket != second:
                sec_count = 0
            if sec_count >= per_second:
                return "throttled"
            self.per_second[api_key] = (second, sec_count + 1)
            day_bucket, day_count = self.per_day.get(api_key, (day, 0))
            if day_bucket != day:
                day_count = 0
            if day_count >= per_day:
                return "quota_exceeded"
            self.per_day[api_key] = (day, day_count + 1)
        return None

    def snapshot(self) -> dict[str, Any]:
        """Return the statistics as a JSON-ready dict."""
        with self.lock:
            c = self.counters
            return {
                "token_requests": {
                    "total": c["token"],
                    "by_grant_type": dict(self.by_key["token_grant_type"]),
                    "by_client_id": dict(self.by_key["token_client_id"]),
                },
                "device_authorizations": c["device_authorize"],
                "device_polls": c["device_poll"],
                "device_polls_by_user_code": dict(self.by_key["device_poll_code"]),
                "slow_downs": c["slow_down"],
                "refreshes": c["refresh"],
                "revocations": c["revoke"],
                "api_calls": {
                    "total": c["api"],
                    "by_client_id": dict(self.by_key["api_client_id"]),
                    "by_endpoint": dict(self.by_key["api_endpoint"]),
                },
                # Held: how many answers a fault held back since the reset, how
                # many of those it then sent whole, and how many it holds now.
                "delayed": {
                    "begun": c["held"],
                    "answered": c["held_answered"],
                    "now": self.held_now,
                },
                "clock_offset": self.clock_offset,
                "faults": dict(self.faults),
                # Per held endpoint: how many it took, and how many wait right now.
                "held": {
                    name: {
                        "taken": hold.taken,
                        "waiting": hold.waiting,
                        "ports": list(hold.ports),
                    }
                    for name, hold in self.holds.items()
                },
                # Per fault endpoint: requests answered (held ones once let go).
                "answered": dict(self.by_key["answered"]),
                # Sign-ups that went in (created or updated), per lower-cased address.
                "sign_ups_by_email": dict(self.by_key["sign_up_email"]),
            }


def current_state() -> SandboxState:
    """Return the running sandbox app's state."""
    return current_app.extensions["cc_sandbox"]
