"""Repeated C-FINDs on one association never lose a response (pynetdicom's reactor thread once took responses
off the queue behind the waiting call, about once per 300-1,000 queries against our fast server). A race: this
test catches a regression often, not always."""

from __future__ import annotations

from pydicom.uid import generate_uid

from tests.peers import free_port
from workstation.archive import Archive, InstanceRecord
from workstation.config import Node, Settings
from workstation.net.scu.client import QuerySession
from workstation.net.scp.server import DicomServer


def test_no_match_lost_over_many_queries(tmp_path):
    settings = Settings(data_dir=tmp_path / "ws", bind="127.0.0.1", port=free_port())
    settings.nodes = [Node("me", "RELIABLE", "127.0.0.1", 1)]
    client = Settings(data_dir=tmp_path / "client", ae_title="RELIABLE")
    with Archive.open(settings) as archive:
        archive.index.add([
            InstanceRecord({"PatientID": f"P{s // 2:04d}", "PatientName": f"Name{s // 2:04d}^Given",
                            "StudyInstanceUID": generate_uid(), "StudyDate": "20200101",
                            "SeriesInstanceUID": generate_uid(), "SOPInstanceUID": generate_uid()}, 10)
            for s in range(200)
        ])
        with DicomServer(settings, archive) as server:
            node = Node("srv", settings.ae_title, "127.0.0.1", server.address[1])
            with QuerySession(client, node) as session:
                session.assoc.dul._run_loop_delay = 0.00005  # a busy reactor makes the old race likely
                counts = [len(session.find("study", {"PatientName": "name001*"})) for _ in range(300)]
    assert set(counts) == {20}
