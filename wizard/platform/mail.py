"""Outgoing e-mail over SMTP, from the WIZARD_MAIL_* settings, one message a call.

No WIZARD_MAIL_SERVER, no mail: send() says so in one log line and returns False.
Every failure (unreachable, refused, too slow, TLS, a refused log-in or address) is
one MailError, whose words hold neither the password nor what the server echoed.
"""

import logging
import smtplib
import socket
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr
from email.utils import formatdate
from email.utils import make_msgid
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

log = logging.getLogger(__name__)
STARTTLS_PORT = 587
SSL_PORT = 465
# Words for each way sending fails: for logs and operators, never the server's text
# (a server may echo the AUTH line, which carries the password in base64).
_REASONS = (
    (smtplib.SMTPAuthenticationError, "login", "it refused the user name or password"),
    (smtplib.SMTPNotSupportedError, "tls", "it does not offer STARTTLS or log-in"),
    (smtplib.SMTPRecipientsRefused, "recipient", "it refused the recipient's address"),
    (smtplib.SMTPSenderRefused, "sender", "it refused the sender's address"),
    (ssl.SSLError, "tls", "the secure connection (TLS) failed"),
    (socket.gaierror, "unreachable", "its name was not found"),
    (ConnectionRefusedError, "unreachable", "it refused the connection"),
    (TimeoutError, "timeout", "it did not answer in time"),
    (smtplib.SMTPServerDisconnected, "unreachable", "it closed the connection"),
)

Settings = Flask | Mapping[str, Any]


class MailError(Exception):
    """A message that was not sent, and why, in words safe to log and show."""

    def __init__(self, reason: str, words: str) -> None:
        super().__init__(words)
        self.reason = reason  # a short code for the audit trail: "unreachable", ...


def _config(source: Settings) -> Mapping[str, Any]:
    return source.config if isinstance(source, Flask) else source


def _text(config: Mapping[str, Any], name: str) -> str:
    # from_prefixed_env reads JSON: a numeric password or user name arrives as int.
    value = config.get(name)
    return "" if value is None else str(value).strip()


def _flag(config: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = config.get(name, default)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def configured(source: Settings) -> bool:
    """Return whether outgoing mail is set up (WIZARD_MAIL_SERVER is given)."""
    return bool(_text(_config(source), "MAIL_SERVER"))


def mask(address: str) -> str:
    """Return an address as people may see it: its first character and its domain."""
    local, _, domain = parseaddr(address)[1].rpartition("@")
    return f"{local[:1]}…@{domain}" if local and domain else "…"


def sender(source: Settings) -> str:
    """The From address: WIZARD_MAIL_SENDER, else the user name when it is an
    address, else no-reply at the public address's host, named as the brand."""
    config = _config(source)
    chosen = _text(config, "MAIL_SENDER")
    if chosen:
        return chosen
    username = _text(config, "MAIL_USERNAME")
    host = urlsplit(_text(config, "PUBLIC_BASE_URL")).hostname or "localhost"
    address = username if "@" in username else f"no-reply@{host}"
    return formataddr((_text(config, "BRAND_NAME"), address))


def server(source: Settings) -> str:
    """The mail server as host:port, for log lines."""
    config = _config(source)
    return f"{_text(config, 'MAIL_SERVER')}:{_port(config)}"


def _port(config: Mapping[str, Any]) -> int:
    port = config.get("MAIL_PORT")
    if port:
        return int(port)
    return SSL_PORT if _flag(config, "MAIL_SSL") else STARTTLS_PORT


def send(
    source: Settings, *, to: str, subject: str, text: str, reply_to: str = ""
) -> bool:
    """Send one plain-text message; return False (and log it) if mail is not set up.

    :raise MailError: the message was not sent (the log says why, once).
    """
    config = _config(source)
    if not configured(config):
        log.info(
            "No e-mail sent to %s: no mail server is set (WIZARD_MAIL_SERVER).",
            mask(to),
        )
        return False
    try:
        message = _message(config, to, subject, text, reply_to)
        with _connect(config) as smtp:
            smtp.send_message(message)
    except MailError as problem:
        log.warning("E-mail to %s not sent: %s", mask(to), problem)
        raise
    except (OSError, ValueError) as error:  # smtplib's and ssl's errors are OSErrors
        problem = _why(error, config)
        log.warning("E-mail to %s not sent: %s", mask(to), problem)
        # from None: the original error (and its arguments) stays out of tracebacks.
        raise problem from None
    log.info("E-mail sent to %s through %s.", mask(to), server(config))
    return True


def _message(
    config: Mapping[str, Any], to: str, subject: str, text: str, reply_to: str
) -> EmailMessage:
    """Build the message; a header with a line break in it raises ValueError."""
    message = EmailMessage()
    message["From"] = sender(config)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(message["From"])[1].rpartition("@")[2] or "localhost"
    # A domain given: make_msgid would otherwise ask DNS for this host's name.
    message["Message-ID"] = make_msgid(domain=domain)
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(text)
    return message


def _connect(config: Mapping[str, Any]) -> smtplib.SMTP:
    """Connect, secure the connection and log in, as the settings say."""
    host, port = _text(config, "MAIL_SERVER"), _port(config)
    timeout = float(config.get("MAIL_TIMEOUT") or 10)
    username, password = _text(config, "MAIL_USERNAME"), _text(config, "MAIL_PASSWORD")
    use_ssl = _flag(config, "MAIL_SSL")
    use_starttls = not use_ssl and _flag(config, "MAIL_STARTTLS", default=True)
    if username and not (use_ssl or use_starttls):
        raise MailError(
            "settings",
            "WIZARD_MAIL_USERNAME is set but neither WIZARD_MAIL_STARTTLS nor "
            "WIZARD_MAIL_SSL is on: the password would cross the network in clear",
        )
    context = ssl.create_default_context()
    if use_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if use_starttls:
            smtp.starttls(context=context)
        if username:
            smtp.login(username, password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _why(error: BaseException, config: Mapping[str, Any]) -> MailError:
    """Say why sending failed, in our words only."""
    where = f"the mail server {server(config)}"
    if not isinstance(error, OSError):  # ssl's certificate errors are ValueErrors too
        return MailError("address", "an address or subject has a line break in it")
    if isinstance(error, smtplib.SMTPServerDisconnected) and "timed out" in str(error):
        error = TimeoutError()  # smtplib reports a silent server as a closed one
    for kind, reason, words in _REASONS:
        if isinstance(error, kind):
            return MailError(reason, f"{where}: {words}")
    if isinstance(error, smtplib.SMTPResponseException):
        return MailError("refused", f"{where}: it answered {error.smtp_code}")
    if isinstance(error, smtplib.SMTPException):
        return MailError("refused", f"{where}: {type(error).__name__}")
    return MailError(
        "unreachable", f"{where}: {error.strerror or type(error).__name__}"
    )
