"""A real SMTP server for the tests (aiosmtpd).

The server runs in a thread of the test process on a loopback port and keeps every
message it accepts. STARTTLS, implicit TLS and AUTH are aiosmtpd's own; the wizard's
side trusts the test certificate through SSL_CERT_FILE, as OpenSSL reads it.
"""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from email import message_from_bytes
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import AuthResult
from aiosmtpd.smtp import Envelope
from aiosmtpd.smtp import LoginPassword
from aiosmtpd.smtp import Session

from tests.helpers.live import free_port

USERNAME = "mailer@promopulse.test"
# Looks like nothing else on a page or in a log, so finding it anywhere is a leak.
PASSWORD = "Smtp-Pa55word-7qX9zW"


@dataclass
class Received:
    """One message as the server got it: the envelope and the parsed message."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        """The plain-text body."""
        body = self.message.get_body(("plain",))
        assert body is not None
        return body.get_content()


@dataclass
class Inbox:
    """What the server accepted, and who logged in."""

    messages: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    refuse_recipients: bool = False
    password: str = PASSWORD

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, *_: Any
    ) -> str:
        """Take the recipient, or refuse every one when told to."""
        if self.refuse_recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        """Keep the message."""
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed)
        )
        return "250 Message accepted"

    def authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        data: Any,
    ) -> AuthResult:
        """Let USERNAME in with the inbox's password only."""
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == USERNAME
            and data.password.decode() == self.password
        )
        if ok:
            self.logins.append(USERNAME)
        return AuthResult(success=ok, handled=False)


@dataclass
class MailServer:
    """A running SMTP server: where it listens and what it received."""

    port: int
    inbox: Inbox

    def settings(self, **more: Any) -> dict[str, Any]:
        """The wizard's MAIL_* settings for this server (no TLS, no log-in)."""
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": self.port,
            "MAIL_STARTTLS": False,
            "MAIL_SENDER": "PromoPulse <help@promopulse.test>",
            "MAIL_TIMEOUT": 5,
        } | more


@contextmanager
def mail_server(**smtp: Any) -> Iterator[MailServer]:
    """Run an SMTP server on a free loopback port while the block runs.

    Keyword arguments go to aiosmtpd (tls_context=, ssl_context=, auth...).
    """
    inbox = Inbox()
    port = free_port()
    if smtp.pop("login", False):
        smtp |= {"authenticator": inbox.authenticate, "auth_required": True}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **smtp)
    controller.start()
    try:
        yield MailServer(port, inbox)
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that takes connections and never says a word (a hung mail server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]
