"""One integration's client for Constant Contact: OAuth (device flow, RFC 8628;
authorization code with PKCE, RFC 7636; refresh; revocation, RFC 7009) and the v3
API calls. Endpoints come from settings, so any standards-compliant server works.

``client_for(integration)`` builds it: the endpoints, the API key, the redirect URI,
and the client secret, decrypted only by the requests that send it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import current_app

from wizard.constant_contact import answers
from wizard.constant_contact import api
from wizard.constant_contact import formats
from wizard.constant_contact.answers import DeviceAuthorization
from wizard.constant_contact.answers import TokenSet
from wizard.constant_contact.http import call
from wizard.constant_contact.provider import Provider
from wizard.models import Integration

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def redirect_uri() -> str:
    """Return the Redirect URI registered in the customer's Constant Contact app."""
    return current_app.config["PUBLIC_BASE_URL"] + formats.REDIRECT_PATH


def new_pkce_pair() -> tuple[str, str]:
    """Return a fresh state and PKCE code verifier."""
    return generate_token(43), generate_token(64)


def _no_secret() -> str | None:
    return None


@dataclass(frozen=True)
class Client:
    """Constant Contact as one customer's app (its API key) reaches it."""

    provider: Provider
    api_key: str
    redirect_uri: str
    # Decrypts the client secret (DecryptionError if unreadable): called only by the
    # requests that send it, so the device flow never reads it.
    read_secret: Callable[[], str | None] = _no_secret

    def request_device_authorization(self) -> DeviceAuthorization:
        """Ask for a device code and an activation code for this API key."""
        body = self._post(
            self.provider.device_authorization_url,
            {"client_id": self.api_key, "scope": self.provider.scopes},
        )
        return answers.device_authorization(body, self.provider)

    def poll_device_token(self, device_code: str) -> TokenSet:
        """Ask once whether the person approved; ProviderError says what instead."""
        body = self._post(
            self.provider.token_url,
            {
                "grant_type": DEVICE_GRANT,
                "device_code": device_code,
                "client_id": self.api_key,
            },
        )
        return answers.token_set(body)

    def authorization_url(self, state: str, verifier: str) -> str:
        """Build the authorize URL with an S256 challenge."""
        return add_params_to_uri(
            self.provider.authorization_url,
            [
                ("response_type", "code"),
                ("client_id", self.api_key),
                ("redirect_uri", self.redirect_uri),
                ("scope", self.provider.scopes),
                ("state", state),
                ("code_challenge", create_s256_code_challenge(verifier)),
                ("code_challenge_method", "S256"),
            ],
        )

    def exchange_code(self, code: str, verifier: str) -> TokenSet:
        """Trade an authorization code for tokens, authenticating with HTTP Basic."""
        secret = self.read_secret() or ""
        body = self._post(
            self.provider.token_url,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            },
            auth=(self.api_key, secret),
        )
        return answers.token_set(body)

    def refresh_tokens(self, refresh_token: str) -> TokenSet:
        """Trade a refresh token for new tokens (the same scope as before).

        Rotating refresh tokens come back new; long-lived ones come back the same or
        not at all, in which case the one we have stays.
        """
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        tokens = answers.token_set(self._post_as_client(self.provider.token_url, data))
        if tokens.refresh_token is None:
            return TokenSet(
                tokens.access_token, refresh_token, tokens.expires_in, tokens.scope
            )
        return tokens

    def revoke(self, token: str, hint: str | None = None) -> None:
        """Revoke a token (RFC 7009)."""
        data = {"token": token}
        if hint:
            data["token_type_hint"] = hint
        self._post_as_client(self.provider.revocation_url, data)

    def _post_as_client(self, url: str, data: dict[str, str]) -> Any:
        """POST a form as this app: Basic auth with a secret, else client_id in body."""
        secret = self.read_secret()
        if not secret:
            data = data | {"client_id": self.api_key}
        return self._post(url, data, auth=(self.api_key, secret) if secret else None)

    def _post(
        self, url: str, data: dict[str, str], auth: tuple[str, str] | None = None
    ) -> Any:
        """POST a form to an OAuth endpoint and return the JSON answer."""
        return call("POST", url, data=data, auth=auth, timeout=self.provider.timeout)

    def account_summary(self, access_token: str) -> api.Account:
        """Read the account's name (organization, else the owner's name)."""
        return api.account_summary(self.provider, access_token)

    def get_list(self, access_token: str, list_id: str) -> api.ContactList:
        """Read one list and its member count; ProviderError("not_found") if gone."""
        return api.get_list(self.provider, access_token, list_id)

    def list_page(self, access_token: str, next_url: str | None = None) -> api.ListPage:
        """Read a page of the account's lists with member counts (the first, or the
        one at the previous page's next link)."""
        return api.list_page(self.provider, access_token, next_url)

    def sign_up(self, access_token: str, list_id: str, person: api.Person) -> str:
        """Create or update a contact on one list; return "created" or "updated"."""
        return api.sign_up(self.provider, access_token, list_id, person)


def client_for(integration: Integration) -> Client:
    """Return the client for this integration's app, with the settings of this app."""
    return Client(
        provider=Provider.from_config(current_app.config),
        api_key=integration.api_key or "",
        redirect_uri=redirect_uri(),
        read_secret=lambda: integration.client_secret,
    )
