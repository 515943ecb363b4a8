"""Outgoing e-mail (wizard/platform/mail.py) against a real SMTP server (aiosmtpd).

One message arrives, through STARTTLS or implicit TLS, logged in; every way it can
fail is one MailError in plain words; the password never reaches a log, an error
or a traceback; without a mail server nothing is sent and one log line says so.
"""

import logging
import ssl
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.helpers.app import base_config
from tests.helpers.live import free_port
from tests.helpers.smtp import PASSWORD
from tests.helpers.smtp import USERNAME
from tests.helpers.smtp import mail_server
from tests.helpers.smtp import silent_server
from tests.helpers.tls import self_signed
from wizard.platform import mail

TO = "owner@bloom.test"
BASE = {"BRAND_NAME": "PromoPulse", "PUBLIC_BASE_URL": "https://wizard.test"}


@pytest.fixture
def trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server-side TLS context whose certificate the wizard's side trusts."""
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def send(config: dict[str, Any], to: str = TO) -> bool:
    """Send the test message with these settings."""
    return mail.send(
        BASE | config,
        to=to,
        subject="Carry on setting up",
        text="The link: https://wizard.test/setup/1\n",
        reply_to="help@promopulse.test",
    )


def failure(config: dict[str, Any], to: str = TO) -> mail.MailError:
    """Send, expecting it to fail; return the error."""
    with pytest.raises(mail.MailError) as raised:
        send(config, to)
    return raised.value


def ours(caplog: pytest.LogCaptureFixture) -> str:
    """What the wizard logged (the test's SMTP server logs the conversation too)."""
    return "\n".join(
        logging.Formatter().format(record)
        for record in caplog.records
        if not record.name.startswith(("mail.log", "asyncio"))
    )


def never_told(secret: str, error: BaseException, logs: str) -> None:
    """Assert the secret is in no error text, traceback or log line."""
    told = "".join(traceback.format_exception(error)) + str(error) + logs
    assert secret not in told
    assert error.__cause__ is None and error.__suppress_context__


def test_one_message_arrives_through_starttls_logged_in(
    trusted: ssl.SSLContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # The server takes nothing before STARTTLS and no log-in before TLS.
    with mail_server(tls_context=trusted, require_starttls=True, login=True) as server:
        config = server.settings(
            MAIL_STARTTLS=True, MAIL_USERNAME=USERNAME, MAIL_PASSWORD=PASSWORD
        )
        assert send(config) is True
    [received] = server.inbox.messages
    assert server.inbox.logins == [USERNAME]
    assert received.recipients == [TO] and received.sender == "help@promopulse.test"
    message = received.message
    assert message["To"] == TO and message["Subject"] == "Carry on setting up"
    assert message["From"] == "PromoPulse <help@promopulse.test>"
    assert message["Reply-To"] == "help@promopulse.test"
    assert message["Message-ID"].endswith("@promopulse.test>") and message["Date"]
    assert received.text.splitlines() == ["The link: https://wizard.test/setup/1"]
    assert PASSWORD not in ours(caplog) and TO not in ours(caplog)
    assert "E-mail sent to o…@bloom.test" in ours(caplog)


def test_implicit_tls_and_the_default_ports(trusted: ssl.SSLContext) -> None:
    with mail_server(ssl_context=trusted) as server:
        assert send(server.settings(MAIL_SSL=True, MAIL_STARTTLS=True)) is True
    assert len(server.inbox.messages) == 1
    assert (
        mail.server({"MAIL_SERVER": "smtp.test", "MAIL_SSL": True}) == "smtp.test:465"
    )
    assert mail.server({"MAIL_SERVER": "smtp.test"}) == "smtp.test:587"


def test_a_certificate_nobody_vouches_for_is_refused(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)  # not trusted: SSL_CERT_FILE left alone
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with mail_server(tls_context=context, login=True) as server:
        problem = failure(
            server.settings(
                MAIL_STARTTLS=True, MAIL_USERNAME=USERNAME, MAIL_PASSWORD=PASSWORD
            )
        )
    assert problem.reason == "tls" and "secure connection (TLS) failed" in str(problem)
    assert server.inbox.messages == [] and server.inbox.logins == []


def test_a_refused_log_in_never_tells_the_password(
    trusted: ssl.SSLContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-Pa55word-k3J8"
    with mail_server(tls_context=trusted, login=True) as server:
        problem = failure(
            server.settings(
                MAIL_STARTTLS=True, MAIL_USERNAME=USERNAME, MAIL_PASSWORD=wrong
            )
        )
    assert problem.reason == "login"
    assert str(problem) == (
        f"the mail server 127.0.0.1:{server.port}: it refused the user name or password"
    )
    never_told(wrong, problem, ours(caplog))
    assert server.inbox.messages == []
    assert ours(caplog).count("not sent") == 1  # said once, by the mail module


def test_the_settings_read_from_the_environment(
    trusted: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
    make_app: Callable[[dict[str, Any]], Flask],
    database_url: str,
) -> None:
    with mail_server(tls_context=trusted, login=True) as server:
        # All digits: from_prefixed_env reads it as a number.
        server.inbox.password = "20261207"
        for name, value in {
            "SERVER": "127.0.0.1",
            "PORT": str(server.port),
            "USERNAME": USERNAME,
            "PASSWORD": "20261207",
            "STARTTLS": "true",
            "SENDER": "help@promopulse.test",
            "TIMEOUT": "5",
        }.items():
            monkeypatch.setenv(f"WIZARD_MAIL_{name}", value)
        app = make_app(base_config(database_url))
        assert mail.configured(app)
        assert mail.send(app, to=TO, subject="Hello", text="Hi\n") is True
    assert [m.recipients for m in server.inbox.messages] == [[TO]]


def test_a_server_that_is_down_is_said_in_words(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()  # nobody listens there
    problem = failure(
        {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "MAIL_USERNAME": USERNAME,
            "MAIL_PASSWORD": PASSWORD,
        }
    )
    assert problem.reason == "unreachable"
    assert (
        str(problem) == f"the mail server 127.0.0.1:{port}: it refused the connection"
    )
    never_told(PASSWORD, problem, ours(caplog))


def test_a_hung_server_is_given_up_on_in_time() -> None:
    with silent_server() as port:
        started = time.monotonic()
        problem = failure(
            {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_TIMEOUT": 0.5}
        )
    assert problem.reason == "timeout" and "did not answer in time" in str(problem)
    assert time.monotonic() - started < 3


def test_a_refused_recipient_is_a_failure() -> None:
    with mail_server() as server:
        server.inbox.refuse_recipients = True
        problem = failure(server.settings())
    assert problem.reason == "recipient" and server.inbox.messages == []


def test_starttls_is_required_unless_turned_off() -> None:
    with mail_server() as server:  # offers no STARTTLS
        problem = failure(server.settings(MAIL_STARTTLS=True))
        assert problem.reason == "tls" and "STARTTLS" in str(problem)
        assert server.inbox.messages == []
        # The default is on: only settings that say so send in clear.
        settings = server.settings()
        del settings["MAIL_STARTTLS"]
        assert failure(settings).reason == "tls"


def test_a_password_never_crosses_the_network_in_clear() -> None:
    with mail_server() as server:
        problem = failure(
            server.settings(MAIL_USERNAME=USERNAME, MAIL_PASSWORD=PASSWORD)
        )
    assert problem.reason == "settings" and "in clear" in str(problem)
    assert PASSWORD not in str(problem)
    assert server.inbox.logins == [] and server.inbox.messages == []


def test_no_line_breaks_in_headers() -> None:
    with mail_server() as server:
        problem = failure(server.settings(), to=f"{TO}\nBcc: someone@else.test")
    assert problem.reason == "address" and server.inbox.messages == []


def test_without_a_mail_server_nothing_is_sent_and_one_line_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert not mail.configured(BASE) and not mail.configured({"MAIL_SERVER": " "})
    with mail_server() as server:
        settings = server.settings()
        del settings["MAIL_SERVER"]
        assert send(settings) is False
    assert server.inbox.messages == []
    lines = [r for r in caplog.records if r.name == "wizard.platform.mail"]
    assert [r.getMessage() for r in lines] == [
        "No e-mail sent to o…@bloom.test: no mail server is set (WIZARD_MAIL_SERVER)."
    ]


def test_addresses_are_masked_for_people() -> None:
    assert mail.mask("owner@bloom.test") == "o…@bloom.test"
    assert mail.mask("Owner <x@bloom.test>") == "x…@bloom.test"
    assert mail.mask("not an address") == "…"
