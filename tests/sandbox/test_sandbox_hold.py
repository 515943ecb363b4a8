"""The hold: requests to an endpoint wait at the sandbox until the test lets go."""

import http.client
import threading
from urllib.parse import urlsplit

import requests

from tests.helpers.sandbox_http import api_get
from wizard.sandbox.seed import NEWSLETTER_LIST_ID
from wizard.sandbox.testing import answered
from wizard.sandbox.testing import held
from wizard.sandbox.testing import held_ports
from wizard.sandbox.testing import hold
from wizard.sandbox.testing import release
from wizard.sandbox.testing import reset
from wizard.sandbox.testing import wait_until_held

TOKEN = "/oauth2/default/v1/token"


def post_grant(base_url: str, grant_type: str) -> int:
    """Send a token request without client credentials: 401 once it is answered."""
    return requests.post(
        f"{base_url}{TOKEN}",
        data={"grant_type": grant_type, "refresh_token": "x", "device_code": "x"},
        timeout=30,
    ).status_code


def test_a_held_request_waits_until_released_and_only_count_are_held(
    base_url: str,
) -> None:
    hold(base_url, "token", count=1)
    answers: list[str] = []
    first = threading.Thread(
        target=lambda: answers.append(f"first {post_grant(base_url, 'refresh_token')}")
    )
    first.start()
    wait_until_held(base_url, "token", 1)
    # The hold took its one request: the next goes straight through, ahead of it.
    answers.append(f"second {post_grant(base_url, 'refresh_token')}")
    assert answers == ["second 401"]
    assert held(base_url, "token") == {"taken": 1, "waiting": 1}
    release(base_url, "token")
    first.join()
    assert answers == ["second 401", "first 401"]
    assert held(base_url, "token") == {"taken": 0, "waiting": 0}


def test_a_hold_can_take_one_grant_type_only(base_url: str) -> None:
    hold(base_url, "token", grant_type="refresh_token")
    done: list[int] = []
    refresh = threading.Thread(
        target=lambda: done.append(post_grant(base_url, "refresh_token"))
    )
    refresh.start()
    wait_until_held(base_url, "token", 1)
    assert post_grant(base_url, "authorization_code") == 401
    assert done == [] and held(base_url, "token")["waiting"] == 1
    reset(base_url)  # a reset lets every held request go too
    refresh.join()
    assert done == [401]


def test_an_api_endpoint_can_be_held(base_url: str) -> None:
    hold(base_url, "contact_list")
    statuses: list[int] = []
    readers = [
        threading.Thread(
            target=lambda: statuses.append(
                api_get(
                    base_url, f"/contact_lists/{NEWSLETTER_LIST_ID}", None
                ).status_code
            )
        )
        for _ in range(3)
    ]
    for reader in readers:
        reader.start()
    wait_until_held(base_url, "contact_list", 3)
    assert statuses == []
    release(base_url)
    for reader in readers:
        reader.join()
    assert statuses == [401, 401, 401]


def test_a_held_request_names_its_client_port_and_counts_once_answered(
    base_url: str,
) -> None:
    """The port tells which process sent it; "answered" when it is done, not before."""
    hold(base_url, "token", count=1)
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.connect()
    port = connection.sock.getsockname()[1]
    before = answered(base_url, "token")
    statuses: list[int] = []

    def send() -> None:
        connection.request(
            "POST",
            TOKEN,
            body="grant_type=refresh_token&refresh_token=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        statuses.append(connection.getresponse().status)

    sender = threading.Thread(target=send)
    sender.start()
    wait_until_held(base_url, "token", 1)
    assert held_ports(base_url, "token") == [port]
    assert answered(base_url, "token") == before
    release(base_url, "token")
    sender.join()
    connection.close()
    assert statuses == [401]
    assert answered(base_url, "token") == before + 1
    assert held_ports(base_url, "token") == []
