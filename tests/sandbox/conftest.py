"""Fixtures: one sandbox server over real HTTP for the whole session."""

from collections.abc import Iterator

import pytest

from tests.helpers.sandbox_http import sandbox_config
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import reset
from wizard.sandbox.testing import start_server


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """Serve the sandbox on a free loopback port."""
    with start_server(sandbox_config(tmp_path_factory)) as server:
        yield server


@pytest.fixture
def base_url(sandbox: SandboxServer) -> Iterator[str]:
    """Return the sandbox's base URL; clear clock, faults and stats afterwards."""
    yield sandbox.base_url
    reset(sandbox.base_url)
