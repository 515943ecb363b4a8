"""Sign-in limits: per client address, and failed sign-ins per email address."""

import math
import time
from ipaddress import IPv6Address
from ipaddress import IPv6Network
from ipaddress import ip_address

from flask import current_app
from flask import request
from limits import RateLimitItem
from limits import parse_many

from wizard.platform.extensions import limiter


def client_address() -> str:
    """Return the client's address as the sign-in limits count it.

    An IPv6 client counts by its /64, the block one subscriber is given: otherwise
    each of its addresses would be a fresh client.
    """
    address = request.remote_addr or ""
    try:
        parsed = ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is None:
        return str(IPv6Network((parsed, 64), strict=False))
    return address


class FailedSignIns:
    """Failed sign-ins for one email address: from this client, and from anywhere.

    Only this client's own failures hold it (SIGN_IN_ACCOUNT_RATE_LIMIT), so
    nobody can keep the owner out by guessing. Past the ceiling, all clients'
    failures together (SIGN_IN_ACCOUNT_CEILING), a client that has failed for this
    email waits too, and any other gets one try: guessing from many addresses is
    braked, while the right password from an address with no failures still works.
    """

    def __init__(self, email: str) -> None:
        config = current_app.config
        # Like the limiter's own keys, so that several apps can share one Redis.
        prefix = str(config.get("RATELIMIT_KEY_PREFIX") or "")
        email = email.strip().lower()[:320]
        here = (prefix, "sign-in-failed", email, client_address())
        anywhere = (prefix, "sign-in-failed-anywhere", email)
        self.here = [
            (limit, here) for limit in parse_many(config["SIGN_IN_ACCOUNT_RATE_LIMIT"])
        ]
        self.anywhere = [
            (limit, anywhere) for limit in parse_many(config["SIGN_IN_ACCOUNT_CEILING"])
        ]

    def wait(self) -> int | None:
        """Return the seconds this client must wait to try this email, or None."""
        if not limiter.enabled:
            return None
        own = _windows(self.here)
        spent = [reset for reset, left, _ in own if left <= 0]
        if spent:
            return _seconds_until(max(spent))
        failed = [reset for reset, left, amount in own if left < amount]
        full = [reset for reset, left, _ in _windows(self.anywhere) if left <= 0]
        if not failed or not full:
            return None
        # Free once its own failures are forgotten, or when the ceiling's window ends.
        return _seconds_until(min(max(failed), max(full)))

    def count(self) -> None:
        """Count one more failure, here and in the total for the email."""
        if limiter.enabled:
            for limit, key in self.here + self.anywhere:
                limiter.limiter.hit(limit, *key)


def _windows(
    counters: list[tuple[RateLimitItem, tuple[str, ...]]],
) -> list[tuple[float, int, int]]:
    """Return when each counter's window ends, the tries left in it, and its amount."""
    windows = []
    for limit, key in counters:
        reset, left = limiter.limiter.get_window_stats(limit, *key)
        windows.append((reset, left, limit.amount))
    return windows


def _seconds_until(moment: float) -> int:
    return max(1, math.ceil(moment - time.time()))
