"""Fixtures of the server tests: ``server`` runs our DicomServer with the module's ``server_settings``; ``events``
collects what it reports."""

from __future__ import annotations

import pytest

from workstation.net.scp.server import running_server


@pytest.fixture
def events():
    return []


@pytest.fixture
def server(server_settings, archive, events):
    with running_server(server_settings, archive, on_event=events.append) as srv:
        yield srv
