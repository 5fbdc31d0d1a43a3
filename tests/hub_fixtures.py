"""Pytest fixtures for tests that need a Hub: the loopback Hub server on 127.0.0.1:conftest.HUB_PORT.

Use them with `pytest_plugins = ("hub_fixtures",)` in a test module. conftest.py has already pointed HF_ENDPOINT at that
port and set HF_TOKEN to `hub_server.DEFAULT_TOKEN` before datasets or huggingface_hub were imported.
"""

from __future__ import annotations

import os

import pytest
from conftest import HUB_PORT
from hub_server import HubServer


@pytest.fixture(scope="session")
def hub_session() -> HubServer:
    """One loopback Hub for the whole session (the clients read HF_ENDPOINT once, at import)."""
    if os.environ.get("HF_ENDPOINT") != f"http://127.0.0.1:{HUB_PORT}":
        raise RuntimeError(f"HF_ENDPOINT is {os.environ.get('HF_ENDPOINT')!r}; conftest.py should have set it first")
    server = HubServer(HUB_PORT).start()
    yield server
    server.stop()


@pytest.fixture
def hub(hub_session: HubServer) -> HubServer:
    """The loopback Hub, emptied: no repos, no faults, an empty request log. HF_TOKEN (DEFAULT_TOKEN) is valid on it."""
    hub_session.reset()
    yield hub_session
    hub_session.clear_faults()
