"""The app check: ask Constant Contact about a customer's app before any clock starts.

Three probes, each answered the way RFC 8628, RFC 6749 and Okta (Constant
Contact's authorization server) answer them; docs/app-check.md gives each answer
with its source.

1. The device authorization endpoint, with the API Key alone: a device code back
   means the app is set to Device Flow (the code is dropped, never shown or used);
   ``unauthorized_client`` means the app is there but set to another flow;
   ``invalid_client`` means no such app, or an app that must authenticate with its
   secret (an Authorization Code app).
2. With a Client Secret, the token endpoint with a code nobody issued: HTTP Basic
   is checked before the code, so ``invalid_grant`` means key and secret are right
   and ``invalid_client`` that they are not.
3. For an Authorization Code app, the authorize endpoint with our Redirect URI,
   never followed: a redirect (to sign in, or back to us) means it is registered;
   a 4xx error page means it is not (RFC 6749 4.1.2.1: never redirect to it).
"""

import dataclasses

from authlib.common.security import generate_token

from wizard.constant_contact.client import Client
from wizard.constant_contact.http import ProviderError
from wizard.constant_contact.http import peek
from wizard.status import AppCheck

# Transient trouble, or a daily quota: nobody could say, so she may go on.
_NOBODY_SAID = ProviderError.TRANSIENT | ProviderError.UNTIL_TOMORROW


def check_app(client: Client) -> AppCheck:
    """Ask whether the API Key belongs to an app set to Device Flow."""
    try:
        client.request_device_authorization()
    except ProviderError as error:
        if error.code in _NOBODY_SAID:
            return AppCheck.UNREACHABLE
        if error.code == "unauthorized_client":
            return AppCheck.WRONG_FLOW
        # invalid_client and anything else: not a Device Flow app we can reach
        # with the key alone (unknown, or one that must send its secret).
        return AppCheck.NOT_DEVICE
    return AppCheck.DEVICE


def check_app_with_secret(client: Client, secret: str) -> AppCheck:
    """Ask whether key and secret make an Authorization Code app, then its URI."""
    with_secret = dataclasses.replace(client, read_secret=lambda: secret)
    try:
        # A code nobody issued: only the client authentication can pass.
        with_secret.exchange_code(generate_token(43), generate_token(64))
    except ProviderError as error:
        if error.code in _NOBODY_SAID:
            return AppCheck.UNREACHABLE
        if error.code == "unauthorized_client":
            return AppCheck.WRONG_FLOW
        if error.code != "invalid_grant":
            return AppCheck.SECRET_REFUSED
    return check_redirect_uri(client)


def check_redirect_uri(client: Client) -> AppCheck:
    """Ask the authorize endpoint whether our Redirect URI is registered."""
    address = client.authorization_url(generate_token(43), generate_token(64))
    try:
        status, _ = peek(address, timeout=client.provider.timeout)
    except ProviderError:
        return AppCheck.REDIRECT_UNKNOWN
    if 200 <= status < 400:
        return AppCheck.CODE_FLOW
    if 400 <= status < 500 and status != 429:
        return AppCheck.REDIRECT_MISSING
    return AppCheck.REDIRECT_UNKNOWN
