"""DicomServer in-process: lifecycle, Store/Find/Move/Get over the archive, policy, statuses, activity events.

Peers here are our own client (workstation.net.scu.client) and plain pynetdicom; dcmtk/Orthanc are in tests/interop.
"""

from __future__ import annotations

import errno
import socket
import threading
import time

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, build_context
from pynetdicom.sop_class import (
    CTImageStorage,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelMove,
)

from tests.peers import free_port, loopback_server_settings, make_ct_series
from workstation.archive import InstanceRecord
from workstation.config import Node
from workstation.net.scu.client import NetError, QuerySession, echo, find
from workstation.net.scu.send import send
from workstation.net.scp.server import DicomServer, PortInUse, ServerEvent, running_server

CLIENT_AE = "TESTSCU"


@pytest.fixture
def server_settings(settings):
    return loopback_server_settings(settings, nodes=[Node("tester", CLIENT_AE, "127.0.0.1", free_port())])


@pytest.fixture
def client(tmp_path, server_settings):
    """Client-side settings (another archive, our test AE title)."""
    from workstation.config import Settings

    s = Settings(data_dir=tmp_path / "client", ae_title=CLIENT_AE)
    s.acse_timeout = s.dimse_timeout = s.network_timeout = 5.0
    return s


def node_of(server: DicomServer) -> Node:
    host, port = server.address
    return Node("server", server.settings.ae_title, host, port)


def pyn_assoc(server: DicomServer, contexts, ae_title: str = CLIENT_AE):
    ae = AE(ae_title=ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 5
    return ae.associate(*server.address, contexts=contexts, ae_title=server.settings.ae_title)


def ct_dataset(sop_class: str = CTImageStorage, **attrs) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = "P1"
    ds.PatientName = "Doe^John"
    ds.Modality = "CT"
    for k, v in attrs.items():
        setattr(ds, k, v)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


# --- lifecycle -----------------------------------------------------------------------------------------------


def test_start_stop_running_and_address(server_settings, archive):
    srv = DicomServer(server_settings, archive)
    assert not srv.running
    srv.start()
    try:
        assert srv.running
        assert srv.address == ("127.0.0.1", server_settings.port)
    finally:
        srv.stop()
    assert not srv.running
    # The port is free again: a second start works.
    with running_server(server_settings, archive) as again:
        assert again.running


def test_port_in_use_is_one_clear_error(server_settings, archive):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", server_settings.port))
    blocker.listen(1)
    try:
        with pytest.raises(PortInUse) as info:
            DicomServer(server_settings, archive).start()
    finally:
        blocker.close()
    assert str(info.value) == (
        f"port {server_settings.port} is already in use (another DICOM server?): choose another with "
        "`workstation config set port N`"
    )
    assert isinstance(info.value, OSError)  # the net-client's retrieve catches OSError


def test_port_zero_reports_the_real_port(server_settings, archive):
    server_settings.port = 0
    with running_server(server_settings, archive) as srv:
        assert srv.address[1] > 0


# --- echo / store ----------------------------------------------------------------------------------------------


def test_echo_from_anyone(server, client):
    client.ae_title = "STRANGER"
    assert echo(client, node_of(server)) < 5


def test_store_series_is_indexed_with_activity_events(server, client, archive, tmp_path, events):
    files = make_ct_series(tmp_path / "ct", 4)
    report = send(client, node_of(server), files)
    assert report.exit_code == 0, report.summary()
    rows = archive.query("instance")
    assert len(rows) == 4
    for f in files:
        ds = pydicom.dcmread(f)
        stored = archive.instance_path(ds.SOPInstanceUID)
        assert stored is not None
        assert pydicom.dcmread(stored).PixelData == ds.PixelData
    kinds = [e.kind for e in events]
    assert kinds[0] == "association-opened" and kinds[-1] == "association-closed"
    received = [e for e in events if e.kind == "instance-received"]
    assert [e.received for e in received] == [1, 2, 3, 4]
    assert events[-1].received == 4 and events[-1].calling_ae == CLIENT_AE
    assert server.total_received == 4
    assert all(isinstance(e, ServerEvent) for e in events)


def test_private_sop_class_is_stored(server, archive):
    private = "1.2.826.0.1.3680043.9.9999.1"
    assoc = pyn_assoc(server, [build_context(private, ExplicitVRLittleEndian)])
    assert assoc.is_established
    ds = ct_dataset(sop_class=private)
    status = assoc.send_c_store(ds)
    assoc.release()
    assert status.Status == 0x0000
    assert archive.instance_path(ds.SOPInstanceUID) is not None


def test_unindexable_instance_gets_c000_with_a_reason(server, archive, events):
    ds = ct_dataset()
    del ds.StudyInstanceUID
    assoc = pyn_assoc(server, [build_context(CTImageStorage, ExplicitVRLittleEndian)])
    status = assoc.send_c_store(ds)
    assoc.release()
    assert status.Status == 0xC000
    assert "StudyInstanceUID" in status.ErrorComment
    assert archive.query("instance") == []
    assert any(e.kind == "instance-failed" for e in events)


def test_disk_full_gives_a700_and_nothing_partial(server, archive, monkeypatch):
    import workstation.archive.storage as storage_mod

    def enospc(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage_mod, "_datasync", enospc)
    ds = ct_dataset()
    assoc = pyn_assoc(server, [build_context(CTImageStorage, ExplicitVRLittleEndian)])
    status = assoc.send_c_store(ds)
    assoc.release()
    assert status.Status == 0xA700
    assert archive.query("instance") == []
    assert list(archive.storage.iter_files()) == []
    assert archive.storage.temp_files() == []


def test_store_refused_from_unknown_when_configured(server_settings, archive, client, tmp_path):
    server_settings.allow_store_from_unknown = False
    client.ae_title = "STRANGER"
    with running_server(server_settings, archive) as srv:
        try:
            report = send(client, node_of(srv), make_ct_series(tmp_path / "ct", 1))
        except NetError as exc:
            assert "rejected" in str(exc)
        else:
            assert report.exit_code != 0 and "rejected" in report.summary()
    assert archive.query("instance") == []


# --- find ------------------------------------------------------------------------------------------------------


@pytest.fixture
def populated(server, client, tmp_path):
    make = make_ct_series
    files = make(tmp_path / "a", 3, patient_id="PA", patient_name="Alpha^Ann", study_date="20240105")
    files += make(tmp_path / "b", 2, patient_id="PB", patient_name="Beta^Bob", study_date="20230610",
                  accession="ACC2")
    files += make(tmp_path / "c", 1, patient_id="PC", patient_name="Çelik^Émile", study_date="20220101",
                  accession="ACC3")
    assert send(client, node_of(server), files).exit_code == 0
    return files


def test_find_each_level_with_wildcards_and_ranges(server, client, populated):
    node = node_of(server)
    patients = find(client, node, "patient", {"PatientName": "*"})
    assert sorted(p["PatientID"] for p in patients) == ["PA", "PB", "PC"]
    studies = find(client, node, "study", {"StudyDate": "20230101-20241231"})
    assert sorted(s["PatientID"] for s in studies) == ["PA", "PB"]
    assert {s["PatientID"]: s["NumberOfStudyRelatedInstances"] for s in studies} == {"PA": 3, "PB": 2}
    studies = find(client, node, "study", {"PatientName": "b?ta*"})
    assert [s["PatientID"] for s in studies] == ["PB"]
    series = find(client, node, "series", {"StudyInstanceUID": studies[0]["StudyInstanceUID"]})
    assert len(series) == 1 and series[0]["NumberOfSeriesRelatedInstances"] == 2
    images = find(client, node, "image", {"SeriesInstanceUID": series[0]["SeriesInstanceUID"]})
    assert sorted(i["InstanceNumber"] for i in images) == [1, 2]
    # Patient Root at study level, open-ended range
    studies = find(client, node, "study", {"StudyDate": "-20221231"}, model="patient")
    assert [s["PatientID"] for s in studies] == ["PC"]


def test_find_returns_only_requested_keys_and_utf8_when_needed(server, populated):
    assoc = pyn_assoc(server, [build_context(StudyRootQueryRetrieveInformationModelFind)])
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.PatientID = "PC"
    query.PatientName = ""
    query.StudyInstanceUID = ""
    responses = [ds for status, ds in assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind)
                 if status and status.Status in (0xFF00, 0xFF01)]
    query.PatientID = "PA"
    ascii_rsp = [ds for status, ds in assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind)
                 if status and status.Status in (0xFF00, 0xFF01)]
    assoc.release()
    assert len(responses) == 1
    rsp = responses[0]
    assert {e.keyword for e in rsp} == {"SpecificCharacterSet", "QueryRetrieveLevel", "PatientID", "PatientName",
                                        "StudyInstanceUID"}
    assert rsp.SpecificCharacterSet == "ISO_IR 192"
    assert str(rsp.PatientName) == "Çelik^Émile"
    assert "SpecificCharacterSet" not in ascii_rsp[0]


def test_study_root_has_no_patient_level(server, populated):
    assoc = pyn_assoc(server, [build_context(StudyRootQueryRetrieveInformationModelFind)])
    query = Dataset()
    query.QueryRetrieveLevel = "PATIENT"
    query.PatientID = ""
    statuses = [status.Status for status, _ in assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind)]
    assoc.release()
    assert statuses == [0xA900]


def test_find_cancel_is_honoured(server, archive, monkeypatch):
    import workstation.net.scp.query as scp_query

    original = scp_query.encode_match

    def slow_encode(*args):
        time.sleep(0.002)  # so the C-CANCEL surely arrives while matches remain
        return original(*args)

    monkeypatch.setattr(scp_query, "encode_match", slow_encode)
    study = generate_uid()
    records = [InstanceRecord({"PatientID": "P", "PatientName": "X", "StudyInstanceUID": study,
                               "SeriesInstanceUID": "1.2.3", "SOPInstanceUID": f"1.2.3.{i}", "InstanceNumber": i},
                              10) for i in range(1000)]
    archive.index.add(records)
    assoc = pyn_assoc(server, [build_context(StudyRootQueryRetrieveInformationModelFind)])
    query = Dataset()
    query.QueryRetrieveLevel = "IMAGE"
    query.StudyInstanceUID = study
    query.SeriesInstanceUID = "1.2.3"
    query.SOPInstanceUID = ""
    pending, final = 0, None
    for status, _ in assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind, msg_id=7):
        if status.Status == 0xFF00:
            pending += 1
            if pending == 1:
                assoc.send_c_cancel(7, query_model=StudyRootQueryRetrieveInformationModelFind)
        else:
            final = status.Status
    assoc.release()
    assert final == 0xFE00
    assert pending < 1000


def test_query_from_unknown_ae_is_rejected_and_logged(server, client, populated, caplog):
    client.ae_title = "STRANGER"
    with caplog.at_level("WARNING", logger="workstation.net.scp.server"):
        with pytest.raises(NetError, match="rejected"):
            find(client, node_of(server), "study", {})
    assert "STRANGER is not a known node" in caplog.text


def test_query_contexts_refused_but_store_accepted_for_unknown_ae(server):
    assoc = pyn_assoc(server, [build_context(StudyRootQueryRetrieveInformationModelFind),
                               build_context(CTImageStorage)], ae_title="STRANGER")
    assert assoc.is_established
    accepted = {cx.abstract_syntax for cx in assoc.accepted_contexts}
    assoc.release()
    assert accepted == {CTImageStorage}


def test_query_allowed_from_unknown_when_configured(server_settings, archive, client):
    server_settings.allow_query_from_unknown = True
    client.ae_title = "STRANGER"
    with running_server(server_settings, archive) as srv:
        assert find(client, node_of(srv), "study", {}) == []


def test_check_node_host(server_settings, archive, client):
    server_settings.check_node_host = True
    server_settings.nodes = [Node("tester", CLIENT_AE, "192.0.2.1", 104)]
    with running_server(server_settings, archive) as srv:
        with pytest.raises(NetError, match="rejected"):
            find(client, node_of(srv), "study", {})
        server_settings.nodes = [Node("tester", CLIENT_AE, "localhost", 104)]
        assert find(client, node_of(srv), "study", {}) == []


def test_require_called_ae_title(server_settings, archive, client):
    server_settings.require_called_ae_title = True
    with running_server(server_settings, archive) as srv:
        wrong = Node("x", "NOTME", *srv.address)
        with pytest.raises(NetError, match="rejected"):
            echo(client, wrong)
        assert echo(client, node_of(srv)) < 5


# --- move / get ------------------------------------------------------------------------------------------------


def test_move_to_unknown_destination_is_a801(server, populated):
    assoc = pyn_assoc(server, [build_context(StudyRootQueryRetrieveInformationModelMove)])
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = pydicom.dcmread(populated[0]).StudyInstanceUID
    statuses = [s.Status for s, _ in assoc.send_c_move(query, "NOWHERE", StudyRootQueryRetrieveInformationModelMove)]
    assoc.release()
    assert statuses == [0xA801]


def test_move_and_get_to_our_own_client(server, server_settings, client, populated, tmp_path):
    """C-MOVE to a second DicomServer registered as a node; C-GET with the net-client's retrieve."""
    from workstation.archive import Archive
    from workstation.config import Settings
    from workstation.net.scu.retrieve import retrieve

    study_uid = pydicom.dcmread(populated[0]).StudyInstanceUID
    dest_settings = Settings(data_dir=tmp_path / "dest", ae_title=CLIENT_AE, bind="127.0.0.1", port=free_port())
    server_settings.nodes = [Node("dest", CLIENT_AE, "127.0.0.1", dest_settings.port)]
    with Archive.open(dest_settings) as dest_archive, running_server(dest_settings, dest_archive):
        result = retrieve(client, node_of(server), study_uid=study_uid, method="move")
        assert result.ok, result.message
        assert result.completed == 3
        assert len(dest_archive.query("instance")) == 3
    with Archive.open(client) as client_archive:
        result = retrieve(client, node_of(server), study_uid=study_uid, method="get",
                          store=client_archive.store_bytes)
        assert result.ok, result.message
        assert result.received == 3
        assert len(client_archive.query("instance", {"StudyInstanceUID": study_uid})) == 3


# --- capacity ----------------------------------------------------------------------------------------------------


def test_max_associations_counts_associations_not_bare_connections(server_settings, archive, client):
    server_settings.max_associations = 1
    with running_server(server_settings, archive) as srv:
        idle = [socket.create_connection(srv.address) for _ in range(5)]  # connected, never associating
        try:
            with QuerySession(client, node_of(srv)):
                with pytest.raises(NetError, match="transiently rejected"):
                    echo(client, node_of(srv))
            assert echo(client, node_of(srv)) < 5
        finally:
            for s in idle:
                s.close()


def test_listener_errors_do_not_break_the_server(server, client):
    def broken(event):
        raise RuntimeError("listener bug")

    server.add_listener(broken)
    assert echo(client, node_of(server)) < 5
    server.remove_listener(broken)


def test_stop_aborts_open_associations(server_settings, archive, client):
    srv = DicomServer(server_settings, archive)
    srv.start()
    session = QuerySession(client, node_of(srv))
    t = time.monotonic()
    srv.stop()
    assert time.monotonic() - t < 5
    deadline = time.monotonic() + 5
    while session.assoc.is_established and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not session.assoc.is_established


def test_file_meta_is_what_pydicom_reads_back():
    from io import BytesIO

    from workstation.net.scp.store import file_meta_bytes

    ds = ct_dataset()
    from pynetdicom.dsutils import encode

    raw = encode(ds, False, True)
    data = file_meta_bytes(CTImageStorage, ds.SOPInstanceUID, ExplicitVRLittleEndian, "ODD") + raw
    back = pydicom.dcmread(BytesIO(data))
    assert back.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert back.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert back.file_meta.SourceApplicationEntityTitle == "ODD"
    assert back.PatientName == "Doe^John"
    assert back.file_meta.FileMetaInformationGroupLength == len(data) - 132 - len(raw) - 12


def test_nodes_added_while_serving_are_known_at_once(server_settings, archive, client):
    # `workstation serve` runs; the admin adds the querying node from another shell (`workstation nodes add`,
    # which rewrites settings.toml). The next association must see it without a restart, and a removal too.
    from workstation.config import load_settings

    server_settings.nodes = []
    server_settings.save()
    with running_server(server_settings, archive) as srv:
        with pytest.raises(NetError):
            find(client, node_of(srv), "study", {})
        other = load_settings(server_settings.data_dir)  # what the other process does
        assert other.path == server_settings.path
        other.nodes.append(Node("tester", CLIENT_AE, "127.0.0.1", free_port()))
        time.sleep(0.01)  # a distinct mtime even on coarse file systems
        other.save()
        assert find(client, node_of(srv), "study", {}) == []
        other.nodes = []
        time.sleep(0.01)
        other.save()
        with pytest.raises(NetError):
            find(client, node_of(srv), "study", {})


def test_an_association_over_the_limit_waits_for_a_free_slot(server_settings, archive, client):
    """Issue 15 (8): over max_associations, an association waits (a few seconds) instead of being refused."""
    server_settings.max_associations = 1
    with running_server(server_settings, archive) as srv:
        assert 1.0 < srv.slot_wait <= 5.0
        session = QuerySession(client, node_of(srv))
        result: list[object] = []
        waiter = threading.Thread(target=lambda: result.append(_echo_or_error(client, srv)))
        start = time.monotonic()
        waiter.start()
        time.sleep(0.5)
        assert waiter.is_alive()  # waiting for the slot, not refused
        session.close()
        waiter.join(10)
        assert isinstance(result[0], float), result
        assert 0.4 < time.monotonic() - start < srv.slot_wait + 1


def _echo_or_error(client, srv):
    try:
        return echo(client, node_of(srv))
    except NetError as exc:
        return exc


def test_idle_housekeeping_never_runs_a_full_collection(server_settings, archive):
    """pynetdicom's server ran a full gc.collect() every 60 polls: with a series' headers alive in the app, that
    froze the GUI thread for 121 ms (traced). Ours collects the young generations only, where a finished
    association's cycles are."""
    import gc

    generations: list[int] = []

    def seen(phase, info):
        if phase == "start":
            generations.append(info["generation"])

    def poll(server, times=150):
        gc.callbacks.append(seen)
        try:
            for _ in range(times):
                server._server.service_actions()
        finally:
            gc.callbacks.remove(seen)

    with running_server(server_settings, archive) as server:
        poll(server)
        assert 2 not in generations
        assert generations.count(1) >= 2  # still collected, every 60 polls
        # While the viewer pauses the collector (reading a series' headers), the young generations hold every
        # header object: housekeeping leaves them alone.
        generations.clear()
        gc.disable()
        try:
            poll(server)
        finally:
            gc.enable()
        assert generations == []


def test_each_received_instance_gives_way_to_the_gui_first(server, client, archive, tmp_path):
    """In the app, the Store SCP passes the GUI's gate (workstation.give_way) before it reads and indexes each instance:
    both hold the GIL the GUI thread needs."""
    import threading

    from workstation import give_way

    passed: list[str] = []
    previous = give_way._gate  # the app's gate, if a GUI test installed one
    give_way.set_gate(lambda: passed.append(threading.current_thread().name))
    try:
        report = send(client, node_of(server), make_ct_series(tmp_path / "ct", 3))
    finally:
        give_way.set_gate(previous)
    assert report.exit_code == 0, report.summary()
    assert len(passed) == 3 and threading.main_thread().name not in passed
    assert len(archive.query("instance")) == 3
