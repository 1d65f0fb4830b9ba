"""The private pynetdicom internals our fast paths rely on are still there (issue 15).

The C-GET fast path (:mod:`workstation.net.scu.fastget`), the direct C-STORE (:mod:`workstation.net.scu.direct`), the PDU/DIMSE guard and the fast acceptor reactor
(:mod:`workstation.net.guard`) reach into pynetdicom's private attributes. Each has a fallback to upstream's
code, so an upgrade that removes one would only make things silently slower (or unguarded): this test fails
loudly instead, naming what is missing. pyproject.toml pins the range these tests prove (``>=3.0.4,<3.1``).
"""

from __future__ import annotations

import re
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from pynetdicom.dimse import DIMSEServiceProvider
from pynetdicom.dul import DULServiceProvider
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import Verification

from tests.peers import free_port, loopback_server_settings
from workstation.config import Node, Settings
from workstation.net import guard
from workstation.net.scu import direct as scu_direct, fastget as scu_fastget
from workstation.net.scu.client import association
from workstation.net.scp.server import running_server


@pytest.fixture
def server_settings(settings):
    return loopback_server_settings(settings, nodes=[Node("tester", "TESTSCU", "127.0.0.1", free_port())])


def test_pyproject_pins_the_range_the_tests_prove():
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert re.search(r'"pynetdicom>=3\.0\.4,<3\.1"', text)
    major, minor, *_ = (int(x) for x in re.findall(r"\d+", version("pynetdicom"))[:3])
    assert (major, minor) == (3, 0)


def test_private_classes_members_the_guard_replaces_exist():
    for name in ("_read_pdu_data", "_decode_pdu", "_is_transport_event", "send_pdu", "receive_pdu"):
        assert callable(getattr(DULServiceProvider, name, None)), f"pynetdicom DUL lost {name}"
    assert callable(getattr(DIMSEServiceProvider, "receive_primitive", None)), "pynetdicom DIMSE lost receive_primitive"


def test_live_associations_offer_what_the_fast_paths_need(server_settings, archive, tmp_path):
    client = Settings(data_dir=tmp_path / "client", ae_title="TESTSCU")
    client.acse_timeout = client.dimse_timeout = client.network_timeout = 5.0
    node = Node("ws", server_settings.ae_title, "127.0.0.1", server_settings.port)
    with running_server(server_settings, archive) as srv:
        with association(client, node, [build_context(Verification)]) as assoc:
            # Requestor side: the C-GET fast path.
            assert scu_fastget.usable(assoc), "pynetdicom changed: scu_fastget.usable() is False (C-GET fast path off)"
            assert scu_direct.usable(assoc), "pynetdicom changed: scu_direct.usable() is False (direct C-STORE off)"
            for name in ("_recv_pdu", "event_queue", "to_provider_queue", "state_machine", "_idle_timer"):
                assert hasattr(assoc.dul, name), f"pynetdicom DUL instance lost {name}"
            # Acceptor side: the guard's DUL hook, the DIMSE guard and the fast reactor.
            deadline = time.monotonic() + 5
            accepted = []
            while not accepted and time.monotonic() < deadline:
                accepted = [a for a in srv._server.active_associations if a.is_established]
                time.sleep(0.02)
            assert accepted, "no acceptor-side association seen"
            peer = accepted[0]
            assert guard._reactor_compatible(peer), "pynetdicom changed: the fast acceptor reactor is off"
            assert peer._run_reactor.__func__ is guard._fast_acceptor_reactor
            assert peer.dul._read_pdu_data.__func__.__name__ == "<lambda>", "the PDU guard is not installed"
            for name in ("message", "msg_queue", "cancel_req"):
                assert hasattr(peer.dimse, name), f"pynetdicom DIMSE instance lost {name} (DIMSE guard off)"
            assert peer.dimse.receive_primitive.__qualname__ != DIMSEServiceProvider.receive_primitive.__qualname__
