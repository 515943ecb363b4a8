"""Where Constant Contact is: its OAuth endpoints, API, scopes and patience, read
from the CC_* settings here and nowhere else."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Provider:
    """Where Constant Contact's OAuth endpoints and API are, and how long to wait."""

    authorization_url: str
    token_url: str
    device_authorization_url: str
    revocation_url: str
    api_base_url: str
    scopes: str
    timeout: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Provider":
        """Read the CC_* settings."""
        return cls(
            authorization_url=config["CC_AUTHORIZATION_URL"],
            token_url=config["CC_TOKEN_URL"],
            device_authorization_url=config["CC_DEVICE_AUTHORIZATION_URL"],
            revocation_url=config["CC_REVOCATION_URL"],
            api_base_url=str(config["CC_API_BASE_URL"]).rstrip("/"),
            scopes=config["CC_SCOPES"],
            timeout=float(config["CC_HTTP_TIMEOUT_SECONDS"]),
        )
