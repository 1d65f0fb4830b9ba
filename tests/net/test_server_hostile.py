"""Hostile peers at the PDU level against the in-process DicomServer, from raw sockets.

Every case ends with the same health check (:func:`assert_healthy`): a real C-ECHO is answered at once, no thread
died and nothing was logged with a traceback, storage holds no temp file, every index row has its file and every
file its row, and exactly the instances acknowledged with Success are indexed. The fuzz cases are seeded
mutations of valid PDUs (fixed seed, bounded counts), so a failure names a reproducible case.
"""

from __future__ import annotations

import logging
import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE
from pynetdicom.dsutils import decode, encode
from pynetdicom.sop_class import Verification

from tests.peers import loopback_server_settings
from workstation.net.scp.server import DicomServer, running_server

SEED = 20261122
TIMEOUT = 2.0  # the server's ACSE/network timeouts here
PROMPT = 1.5  # a well-formed PDU (however wrong its content) is answered within this

APP_CONTEXT = b"1.2.840.10008.3.1.1.1"
VERIFICATION = "1.2.840.10008.1.1"
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
EXPLICIT = "1.2.840.10008.1.2.1"
IMPLICIT = "1.2.840.10008.1.2"

# --- raw encoders (PS3.8 9.3, PS3.7 E) ------------------------------------------------------------------------


def item(item_type: int, body: bytes) -> bytes:
    return struct.pack(">BBH", item_type, 0, len(body)) + body


def pres_ctx(cid: int, abstract: str | bytes, syntaxes: list[str | bytes]) -> bytes:
    def b(v: str | bytes) -> bytes:
        return v.encode() if isinstance(v, str) else v

    return item(0x20, struct.pack(">BBBB", cid, 0, 0, 0) + item(0x30, b(abstract))
                + b"".join(item(0x40, b(s)) for s in syntaxes))


def user_info(max_len: int = 16384, extra: bytes = b"") -> bytes:
    return item(0x50, item(0x51, struct.pack(">I", max_len)) + item(0x52, b"1.2.826.0.1.3680043.9.7433") + extra)


def assoc_rq(items: list[bytes] | None = None, *, called: bytes = b"WORKSTATION", calling: bytes = b"HOSTILE",
             version: int = 1) -> bytes:
    if items is None:
        items = standard_items()
    body = struct.pack(">HH", version, 0) + called.ljust(16)[:16] + calling.ljust(16)[:16] + b"\0" * 32
    return pdu(0x01, body + b"".join(items))


def standard_items(extra_user_info: bytes = b"", max_len: int = 16384) -> list[bytes]:
    """Verification on context 1 (implicit), CT on context 3 (explicit)."""
    return [item(0x10, APP_CONTEXT), pres_ctx(1, VERIFICATION, [IMPLICIT]), pres_ctx(3, CT, [EXPLICIT]),
            user_info(max_len, extra_user_info)]


def pdu(pdu_type: int, body: bytes) -> bytes:
    return struct.pack(">BBI", pdu_type, 0, len(body)) + body


def pdv(cid: int, control: int, data: bytes) -> bytes:
    return struct.pack(">IBB", len(data) + 2, cid, control) + data


RELEASE_RQ = pdu(0x05, b"\0" * 4)
RELEASE_RP = pdu(0x06, b"\0" * 4)


def element(tag: int, value: bytes) -> bytes:
    if len(value) % 2:
        value += b"\0"
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, len(value)) + value


def command(fields: dict[int, bytes]) -> bytes:
    body = b"".join(element(t, v) for t, v in sorted(fields.items()))
    return element(0x00000000, struct.pack("<I", len(body))) + body


def us(value: int) -> bytes:
    return struct.pack("<H", value)


def echo_rq(msg_id: int = 1) -> bytes:
    return command({0x00000002: VERIFICATION.encode(), 0x00000100: us(0x0030), 0x00000110: us(msg_id),
                    0x00000800: us(0x0101)})


def store_rq(sop_uid: str, msg_id: int = 1, sop_class: str = CT) -> bytes:
    return command({0x00000002: sop_class.encode(), 0x00000100: us(0x0001), 0x00000110: us(msg_id),
                    0x00000700: us(0), 0x00000800: us(0x0000), 0x00001000: sop_uid.encode()})


def ct_bytes(sop_uid: str, sop_class: str = CT) -> bytes:
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = "HOSTILE"
    ds.Modality = "CT"
    ds.Rows = ds.Columns = 4
    return encode(ds, False, True)


def bare_bytes(sop_uid: str) -> bytes:
    """A data set with its SOP UIDs and nothing else (the archive cannot index it)."""
    ds = Dataset()
    ds.SOPClassUID = CT
    ds.SOPInstanceUID = sop_uid
    return encode(ds, False, True)


def store_pdus(sop_uid: str, *, data: bytes | None = None, cid: int = 3, msg_id: int = 1,
               sop_class: str = CT) -> list[bytes]:
    return [pdu(0x04, pdv(cid, 0x03, store_rq(sop_uid, msg_id, sop_class))),
            pdu(0x04, pdv(cid, 0x02, ct_bytes(sop_uid) if data is None else data))]


# --- a raw peer ------------------------------------------------------------------------------------------------


@dataclass
class Answer:
    pdus: list[tuple[int, bytes]] = field(default_factory=list)
    closed: bool = False
    seconds: float = 0.0

    @property
    def kind(self) -> str:
        """AC, RJ, ABORT, RP, PDATA (first PDU), CLOSED (nothing, then closed) or SILENT."""
        if self.pdus:
            return {0x02: "AC", 0x03: "RJ", 0x04: "PDATA", 0x06: "RP", 0x07: "ABORT"}.get(self.pdus[0][0], "OTHER")
        return "CLOSED" if self.closed else "SILENT"

    def error_comment(self) -> str:
        return str(decode(BytesIO(self.pdus[0][1][6:]), True, True).get("ErrorComment", ""))

    def store_status(self) -> tuple[int, str]:
        """(status, AffectedSOPInstanceUID) of the C-STORE-RSP in the first P-DATA-TF."""
        assert self.kind == "PDATA", self
        body = self.pdus[0][1]
        cs = decode(BytesIO(body[6:]), True, True)
        return int(cs.Status), str(cs.AffectedSOPInstanceUID)


class RawPeer:
    def __init__(self, address: tuple[str, int]):
        self.sock = socket.create_connection(address, timeout=5)
        self.buffer = b""

    def send(self, *chunks: bytes) -> None:
        for chunk in chunks:
            self.sock.sendall(chunk)

    def _fill(self, size: int, deadline: float) -> bool:
        while len(self.buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def read(self, timeout: float = PROMPT, until_closed: bool = False) -> Answer:
        """PDUs received within ``timeout`` (the first one only, unless ``until_closed``)."""
        answer = Answer()
        start = time.monotonic()
        deadline = start + timeout
        try:
            while True:
                if not self._fill(6, deadline):
                    answer.closed = True
                    break
                pdu_type, _, length = struct.unpack(">BBI", self.buffer[:6])
                if not self._fill(6 + length, deadline):
                    answer.closed = True
                    break
                answer.pdus.append((pdu_type, self.buffer[6:6 + length]))
                self.buffer = self.buffer[6 + length:]
                if not until_closed:
                    break
        except TimeoutError:
            pass
        except (ConnectionResetError, BrokenPipeError):
            answer.closed = True
        answer.seconds = time.monotonic() - start
        return answer

    def associate(self, rq: bytes | None = None) -> Answer:
        self.send(rq or assoc_rq())
        answer = self.read()
        assert answer.kind == "AC", answer
        return answer

    def close(self) -> None:
        self.sock.close()


# --- fixtures and the health check -----------------------------------------------------------------------------


# pynetdicom's own one-line errors for a peer's mistake: a clear message, no exception behind it.
CLEAR_ERRORS = ("A-ASSOCIATE-RQ: Unsupported protocol version", "Network timeout reached")


class Watch(logging.Handler):
    """Every log record of the process, and exceptions that ended a thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.thread_errors: list[str] = []
        self.seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def problems(self) -> list[str]:
        """New records with a traceback, at ERROR (but the clear ones listed), and thread deaths, since the last
        call."""
        new, self.seen = self.records[self.seen:], len(self.records)
        out = [f"{r.name} {r.levelname}: {r.getMessage()}" for r in new
               if r.exc_info or "Traceback" in r.getMessage()
               or (r.levelno >= logging.ERROR and not r.getMessage().startswith(CLEAR_ERRORS))]
        out += self.thread_errors
        self.thread_errors = []
        return out

    def warnings(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == logging.WARNING]


@pytest.fixture
def watch(monkeypatch):
    handler = Watch()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # pynetdicom's own error paths log at ERROR; INFO keeps its chatter cheap
    monkeypatch.setattr(threading, "excepthook",
                        lambda args: handler.thread_errors.append(
                            f"thread {args.thread.name if args.thread else '?'} died: "
                            f"{args.exc_type.__name__}: {args.exc_value}"))
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def server_settings(settings):
    return loopback_server_settings(settings, timeout=TIMEOUT, dimse_timeout=5.0, max_pdu=16384, max_associations=32)


@pytest.fixture
def server(server_settings, archive, watch):
    with running_server(server_settings, archive) as srv:
        yield srv


@pytest.fixture
def acknowledged() -> set[str]:
    """SOP Instance UIDs the server answered with Success in this test."""
    return set()


def real_echo(server: DicomServer) -> float:
    ae = AE(ae_title="HEALTHCHECK")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 5
    ae.add_requested_context(Verification)
    start = time.monotonic()
    assoc = ae.associate(*server.address, ae_title=server.settings.ae_title)
    assert assoc.is_established, "the server no longer accepts an association"
    status = assoc.send_c_echo()
    assoc.release()
    assert status and status.Status == 0x0000
    return time.monotonic() - start


def assert_healthy(server: DicomServer, archive, watch: Watch, acknowledged: set[str], case: str = "") -> None:
    took = real_echo(server)
    assert took < 1.0, f"{case}: C-ECHO took {took:.2f} s"
    problems = watch.problems()
    assert not problems, f"{case}: {problems}"
    storage = archive.storage
    assert storage.temp_files() == [], f"{case}: temp files left"
    rows = {r["SOPInstanceUID"]: Path(r["path"]) for r in archive.query("instance")}
    assert set(rows) == acknowledged, f"{case}: indexed {set(rows) ^ acknowledged} differs from acknowledged"
    assert set(rows.values()) == set(storage.iter_files()), f"{case}: files and rows differ"


def wait_closed(peer: RawPeer, timeout: float = PROMPT) -> Answer:
    return peer.read(timeout, until_closed=True)


# --- A-ASSOCIATE-RQ: hand-made cases ----------------------------------------------------------------------------

U = standard_items  # short alias for the table below
APP = item(0x10, APP_CONTEXT)
VER = pres_ctx(1, VERIFICATION, [IMPLICIT])


def ui_sub(sub_type: int, body: bytes) -> bytes:
    return item(sub_type, body)


def identity(kind: int, primary: bytes = b"user", secondary: bytes = b"", response: int = 1) -> bytes:
    return ui_sub(0x58, bytes([kind, response]) + struct.pack(">H", len(primary)) + primary
                  + struct.pack(">H", len(secondary)) + secondary)


def role(uid: bytes, scu: int = 1, scp: int = 1, declared: int | None = None) -> bytes:
    return ui_sub(0x54, struct.pack(">H", len(uid) if declared is None else declared) + uid + bytes([scu, scp]))


REFUSED = {"ABORT", "RJ"}
ACCEPTED = {"AC"}

ASSOCIATE_CASES: list[tuple[str, bytes, set[str]]] = [
    ("valid", assoc_rq(), ACCEPTED),
    ("even context ID", assoc_rq([APP, pres_ctx(2, VERIFICATION, [IMPLICIT]), user_info()]), REFUSED),
    ("even context ID beside a valid one", assoc_rq([APP, VER, pres_ctx(4, CT, [EXPLICIT]), user_info()]), REFUSED),
    ("duplicate context IDs", assoc_rq([APP, VER, pres_ctx(1, CT, [EXPLICIT]), user_info()]), REFUSED),
    ("unknown item type", assoc_rq([APP, item(0x99, b"abc"), VER, user_info()]), REFUSED),
    ("A-ASSOCIATE-AC context item in a request", assoc_rq([APP, item(0x21, b"\1\0\0\0"), user_info()]), REFUSED),
    ("zero-length application context", assoc_rq([item(0x10, b""), VER, user_info()]), REFUSED),
    ("zero-length presentation context", assoc_rq([APP, item(0x20, b""), user_info()]), REFUSED),
    ("zero-length user information", assoc_rq([APP, VER, item(0x50, b"")]), REFUSED),
    ("no user information", assoc_rq([APP, VER]), REFUSED),
    ("two user information items", assoc_rq([APP, VER, user_info(), user_info()]), REFUSED),
    ("no application context", assoc_rq([VER, user_info()]), REFUSED),
    ("item longer than the PDU", assoc_rq([APP, VER, b"\x50\x00\x00\x20" + ui_sub(0x51, b"\0\0\x40\0")]), REFUSED),
    ("item declaring 65535 bytes", assoc_rq([APP, VER, b"\x50\x00\xff\xff" + b"\x51\x00\x00\x04\x00\x00\x40\x00"]),
     REFUSED),
    ("sub-item longer than its item", assoc_rq([APP, item(0x20, b"\1\0\0\0" + b"\x30\x00\x00\x40" + b"1.2"),
                                                 user_info()]), REFUSED),
    ("truncated item header", assoc_rq([APP, VER, user_info(), b"\x50\x00"]), REFUSED),
    ("no abstract syntax", assoc_rq([APP, item(0x20, b"\1\0\0\0" + item(0x40, IMPLICIT.encode())), user_info()]),
     REFUSED),
    ("two abstract syntaxes", assoc_rq([APP, item(0x20, b"\1\0\0\0" + item(0x30, VERIFICATION.encode())
                                                  + item(0x30, CT.encode()) + item(0x40, IMPLICIT.encode())),
                                        user_info()]), REFUSED),
    ("no transfer syntax", assoc_rq([APP, pres_ctx(1, VERIFICATION, []), user_info()]), REFUSED),
    ("empty transfer syntax", assoc_rq([APP, pres_ctx(1, VERIFICATION, [b""]), user_info()]), REFUSED),
    ("unknown transfer syntax only", assoc_rq([APP, pres_ctx(1, VERIFICATION, ["1.2.3.4.5.6"]), user_info()]),
     ACCEPTED),
    ("garbage abstract syntax", assoc_rq([APP, pres_ctx(1, b"\xff\x00garbage" * 5, [IMPLICIT]), user_info()]),
     REFUSED),
    ("overlong abstract syntax", assoc_rq([APP, pres_ctx(1, "1." + "2" * 120, [IMPLICIT]), user_info()]), REFUSED),
    ("unknown abstract syntax", assoc_rq([APP, pres_ctx(1, "1.2.3.4.5.6.7", [IMPLICIT]), user_info()]), ACCEPTED),
    ("garbage transfer syntax", assoc_rq([APP, pres_ctx(1, VERIFICATION, [b"\x80\x81" * 8]), user_info()]), REFUSED),
    ("garbage application context", assoc_rq([item(0x10, b"\xfe" * 30), VER, user_info()]), REFUSED),
    ("no presentation context", assoc_rq([APP, user_info()]), REFUSED),
    ("128 contexts", assoc_rq([APP] + [pres_ctx(2 * i + 1, VERIFICATION, [IMPLICIT]) for i in range(128)]
                              + [user_info()]), ACCEPTED),
    ("maximum length 0 (unlimited)", assoc_rq(U(max_len=0)), ACCEPTED),
    ("maximum length sub-item of 2 bytes", assoc_rq([APP, VER, item(0x50, ui_sub(0x51, b"\0\0"))]), REFUSED),
    ("asynchronous operations window", assoc_rq(U(ui_sub(0x53, struct.pack(">HH", 5, 5)))), ACCEPTED),
    ("asynchronous operations window 0/0", assoc_rq(U(ui_sub(0x53, b"\0\0\0\0"))), ACCEPTED),
    ("asynchronous operations window of 2 bytes", assoc_rq(U(ui_sub(0x53, b"\0\5"))), REFUSED),
    ("role selection for an unknown class", assoc_rq(U(role(b"1.2.3.4.5"))), ACCEPTED),
    ("role selection for CT (SCP role)", assoc_rq(U(role(CT.encode(), 0, 1))), ACCEPTED),
    ("role selection with a wrong UID length", assoc_rq(U(role(b"1.2.3.4.5", declared=70))), REFUSED),
    ("role selection with a garbage UID", assoc_rq(U(role(b"\x01\x02\x03"))), REFUSED),
    ("implementation version name of 40 bytes", assoc_rq(U(ui_sub(0x55, b"X" * 40))), REFUSED),
    ("empty implementation version name", assoc_rq(U(ui_sub(0x55, b""))), REFUSED),
    ("SOP class extended negotiation", assoc_rq(U(ui_sub(0x56, struct.pack(">H", 7) + b"1.2.3.4" + b"\1\1\1"))),
     ACCEPTED),
    ("common extended negotiation", assoc_rq(U(ui_sub(0x57, struct.pack(">H", 7) + b"1.2.3.4" + struct.pack(">H", 7)
                                                     + b"1.2.3.5" + struct.pack(">H", 0)))), ACCEPTED),
    ("common extended negotiation, bad related length",
     assoc_rq(U(ui_sub(0x57, struct.pack(">H", 7) + b"1.2.3.4" + struct.pack(">H", 7) + b"1.2.3.5"
                       + struct.pack(">H", 9) + b"\0\7" + b"1.2.3"))), REFUSED),
    ("unknown user information sub-item", assoc_rq(U(ui_sub(0x5F, b"xx"))), REFUSED),
    ("user identity AC item in a request", assoc_rq(U(ui_sub(0x59, struct.pack(">H", 4) + b"resp"))), REFUSED),
    *[(f"user identity type {kind}", assoc_rq(U(identity(kind, secondary=b"pw" if kind == 2 else b""))), ACCEPTED)
      for kind in (1, 2, 3, 4, 5)],
    *[(f"user identity type {kind} (invalid)", assoc_rq(U(identity(kind))), REFUSED) for kind in (0, 6, 9, 255)],
    ("user identity without positive response flag", assoc_rq(U(identity(1, response=0))), ACCEPTED),
    ("user identity with an empty primary field", assoc_rq(U(identity(1, primary=b""))), REFUSED),
    ("user identity primary longer than the item", assoc_rq(U(ui_sub(0x58, b"\1\1" + struct.pack(">H", 400) + b"user"
                                                                     + b"\0\0"))), REFUSED),
    ("user identity of one byte", assoc_rq(U(ui_sub(0x58, b"\1"))), REFUSED),
    ("protocol version 0", assoc_rq(version=0), REFUSED | ACCEPTED),
    ("garbage called AE title", assoc_rq(called=b"\xff" * 16), REFUSED),
    ("control characters in the calling AE title", assoc_rq(calling=b"\x00\x01" * 8), REFUSED),
    ("blank AE titles", assoc_rq(called=b" " * 16, calling=b" " * 16), ACCEPTED | REFUSED),
    ("PDU shorter than the fixed fields", pdu(0x01, b"\0\1\0\0" + b"WORKSTATION"), REFUSED),
    ("empty PDU", pdu(0x01, b""), REFUSED),
]


@pytest.mark.parametrize("name,rq,expected", ASSOCIATE_CASES, ids=[c[0] for c in ASSOCIATE_CASES])
def test_associate_request_variants(server, archive, watch, acknowledged, name, rq, expected):
    peer = RawPeer(server.address)
    try:
        peer.send(rq)
        answer = peer.read()
        assert answer.kind in expected, f"{name}: {answer.kind} after {answer.seconds:.2f} s"
        if answer.kind == "AC":
            # The state machine is alive: a release is answered.
            peer.send(RELEASE_RQ)
            assert peer.read().kind == "RP"
        else:
            assert wait_closed(peer).closed, "the refused connection stays open"
    finally:
        peer.close()
    if expected == REFUSED:
        assert any("aborted" in w or "rejected" in w for w in watch.warnings()), "no reason logged"
    assert_healthy(server, archive, watch, acknowledged, name)


def _context_results(ac_body: bytes) -> dict[int, int]:
    """Presentation context ID -> result of an A-ASSOCIATE-AC."""
    out, offset = {}, 68
    while offset + 4 <= len(ac_body):
        item_type, _, length = struct.unpack_from(">BBH", ac_body, offset)
        if item_type == 0x21:
            out[ac_body[offset + 4]] = ac_body[offset + 6]
        offset += 4 + length
    return out


def test_unknown_transfer_syntax_is_a_rejected_context_and_unlimited_pdu_is_served(server, archive, watch,
                                                                                   acknowledged):
    peer = RawPeer(server.address)
    try:
        answer = peer.associate(assoc_rq([APP, pres_ctx(1, VERIFICATION, ["1.2.3.4.5.6"]),
                                          pres_ctx(3, VERIFICATION, [IMPLICIT]), user_info(max_len=0)]))
        assert _context_results(answer.pdus[0][1]) == {1: 4, 3: 0}  # 4: transfer syntaxes not supported
        peer.send(pdu(0x04, pdv(3, 0x03, echo_rq(7))))
        reply = peer.read()
        assert reply.kind == "PDATA"
        assert decode(BytesIO(reply.pdus[0][1][6:]), True, True).Status == 0
    finally:
        peer.close()
    assert_healthy(server, archive, watch, acknowledged)


# --- A-ASSOCIATE-RQ: seeded mutations ---------------------------------------------------------------------------


def _mutations(rng: random.Random, n: int) -> list[tuple[str, bytes]]:
    """Mutated A-ASSOCIATE-RQs whose PDU length is right (so the server has the whole PDU and must answer)."""
    base_items = [APP, VER, pres_ctx(3, CT, [EXPLICIT, IMPLICIT]), pres_ctx(5, MR, [EXPLICIT]),
                  user_info(extra=role(CT.encode(), 1, 1) + ui_sub(0x53, b"\0\1\0\1") + identity(2, secondary=b"pw")
                            + ui_sub(0x55, b"HOSTILE_1"))]
    base = assoc_rq(base_items)[6:]
    # Offsets of every item and sub-item length field (16-bit) in the body.
    length_fields = []
    offset = 68
    while offset < len(base):
        length_fields.append(offset + 2)
        item_type, _, length = struct.unpack_from(">BBH", base, offset)
        if item_type in (0x20, 0x50):
            inner = offset + 4 + (4 if item_type == 0x20 else 0)
            while inner < offset + 4 + length:
                length_fields.append(inner + 2)
                inner += 4 + struct.unpack_from(">H", base, inner + 2)[0]
        offset += 4 + length
    out = []
    for i in range(n):
        body = bytearray(base)
        how = rng.choice(["length", "length", "flip", "truncate", "insert", "zero", "duplicate", "type"])
        if how == "length":
            at = rng.choice(length_fields)
            value = rng.choice([0, 1, 2, 3, 0xFFFF, 0x8000, rng.randrange(0x10000),
                                struct.unpack_from(">H", body, at)[0] + rng.choice([-2, -1, 1, 2])])
            struct.pack_into(">H", body, at, max(0, min(0xFFFF, value)))
            desc = f"length at {at} = {value}"
        elif how == "flip":
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(len(body))
                body[at] ^= 1 << rng.randrange(8)
            desc = "bit flips"
        elif how == "truncate":
            cut = rng.randrange(68, len(body))
            body = body[:cut]
            desc = f"cut at {cut}"
        elif how == "insert":
            at = rng.choice([68] + [f - 2 for f in length_fields])
            junk = bytes([rng.choice([0x10, 0x20, 0x21, 0x30, 0x40, 0x50, 0x51, 0x58, 0x5F, 0x99, 0xFF])]) + bytes(
                rng.randrange(256) for _ in range(rng.randint(1, 12)))
            body[at:at] = junk
            desc = f"{len(junk)} bytes inserted at {at}"
        elif how == "zero":
            at = rng.choice(length_fields)
            body[at:at + 2] = b"\0\0"
            desc = f"zero length at {at}"
        elif how == "duplicate":
            start = rng.choice([f - 2 for f in length_fields])
            length = struct.unpack_from(">H", body, start + 2)[0]
            body[start:start] = body[start:start + 4 + length]
            desc = f"item at {start} duplicated"
        else:
            at = rng.choice([f - 2 for f in length_fields])
            body[at] = rng.randrange(256)
            desc = f"item type at {at} = {body[at]:#x}"
        out.append((f"#{i} {how}: {desc}", pdu(0x01, bytes(body))))
    return out


def test_associate_request_mutations(server, archive, watch, acknowledged):
    outcomes: dict[str, int] = {}
    for name, rq in _mutations(random.Random(SEED), 120):
        peer = RawPeer(server.address)
        try:
            peer.send(rq)
            answer = peer.read()
            assert answer.kind in {"AC", "RJ", "ABORT", "CLOSED"}, f"{name}: {answer.kind}"
            if answer.kind == "AC":
                peer.send(RELEASE_RQ)
                assert peer.read().kind == "RP", name
        finally:
            peer.close()
        outcomes[answer.kind] = outcomes.get(answer.kind, 0) + 1
        assert not watch.problems(), name
    assert outcomes.get("AC", 0) >= 2 and outcomes.get("ABORT", 0) >= 60, outcomes  # both paths were exercised
    assert_healthy(server, archive, watch, acknowledged)


# --- established association: P-DATA, release and state ----------------------------------------------------------

ECHO_ON_UNACCEPTED = pdu(0x04, pdv(5, 0x03, echo_rq()))

PDATA_ABORT_CASES: list[tuple[str, list[bytes]]] = [
    ("PDV length beyond the PDU", [pdu(0x04, struct.pack(">IBB", 500, 1, 3) + echo_rq())]),
    ("PDV length 1 (no context ID)", [pdu(0x04, struct.pack(">IB", 1, 1) + b"\0")]),
    ("PDV on a context not accepted", [ECHO_ON_UNACCEPTED]),
    ("PDV on an even context ID", [pdu(0x04, pdv(2, 0x03, echo_rq()))]),
    ("command without (0000,0100)", [pdu(0x04, pdv(1, 0x03, command({
        0x00000002: VERIFICATION.encode(), 0x00000110: us(1), 0x00000800: us(0x0101)})))]),
    ("command without (0000,0800)", [pdu(0x04, pdv(1, 0x03, command({
        0x00000002: VERIFICATION.encode(), 0x00000100: us(0x30), 0x00000110: us(1)})))]),
    ("unknown command field", [pdu(0x04, pdv(1, 0x03, command({
        0x00000002: VERIFICATION.encode(), 0x00000100: us(0x77), 0x00000110: us(1), 0x00000800: us(0x0101)})))]),
    ("command field of 4 bytes", [pdu(0x04, pdv(1, 0x03, command({
        0x00000002: VERIFICATION.encode(), 0x00000100: b"\x30\0\0\0", 0x00000110: us(1),
        0x00000800: us(0x0101)})))]),
    ("command with an undefined length", [pdu(0x04, pdv(1, 0x03, b"\0\0\0\0\xff\xff\xff\xff" + b"junk" * 5))]),
    ("command element longer than the command", [pdu(0x04, pdv(1, 0x03, echo_rq()[:-10] + b"\0\0\x00\x01\0\1\0\0"))]),
    ("command of random bytes", [pdu(0x04, pdv(1, 0x03, bytes(range(256))))]),
    ("command in explicit VR", [pdu(0x04, pdv(1, 0x03, b"\0\0\0\0UL\4\0\x0c\0\0\0\0\0\0\1US\2\0\x30\0"))]),
    ("data set before its command", [pdu(0x04, pdv(3, 0x02, ct_bytes("1.2.3.4.1")))]),
    ("data set fragment before its command", [pdu(0x04, pdv(3, 0x00, ct_bytes("1.2.3.4.2")))]),
    ("a second command while the data set is due", [pdu(0x04, pdv(3, 0x03, store_rq("1.2.3.4.3"))),
                                                    pdu(0x04, pdv(3, 0x03, store_rq("1.2.3.4.3")))]),
    ("data set on another context than its command", [pdu(0x04, pdv(3, 0x03, store_rq("1.2.3.4.4"))),
                                                      pdu(0x04, pdv(1, 0x02, ct_bytes("1.2.3.4.4")))]),
    ("A-RELEASE-RP without a request", [RELEASE_RP]),
    ("a second A-ASSOCIATE-RQ", [assoc_rq()]),
    ("A-ASSOCIATE-AC from the requestor", [pdu(0x02, b"\0" * 68)]),
    ("A-ASSOCIATE-RJ from the requestor", [pdu(0x03, b"\0\1\1\1")]),
    ("unknown PDU type", [pdu(0x0A, b"\0" * 4)]),
    ("P-DATA longer than our maximum", [struct.pack(">BBI", 0x04, 0, 16384 + 100) + b"\0" * 16]),
]


@pytest.mark.parametrize("name,pdus", PDATA_ABORT_CASES, ids=[c[0] for c in PDATA_ABORT_CASES])
def test_broken_messages_abort_the_association(server, archive, watch, acknowledged, name, pdus):
    peer = RawPeer(server.address)
    try:
        peer.associate()
        for p in pdus[:-1]:
            peer.send(p)
            assert peer.read(0.2).kind == "SILENT", name  # nothing answered yet: the message is incomplete
        peer.send(pdus[-1])
        answer = wait_closed(peer)
        assert answer.kind == "ABORT" and answer.closed, f"{name}: {answer.kind}, closed {answer.closed}"
    finally:
        peer.close()
    assert any("aborted" in w for w in watch.warnings()), "no reason logged"
    assert_healthy(server, archive, watch, acknowledged, name)


def _store(peer: RawPeer, pdus: list[bytes]) -> tuple[int, str]:
    peer.send(*pdus)
    return peer.read(3.0).store_status()


STORE_REFUSALS = [
    # name, pdus, status
    ("truncated data set", store_pdus("1.2.3.5.1", data=ct_bytes("1.2.3.5.1")[:-7]), 0xC000),
    ("data set of garbage", store_pdus("1.2.3.5.2", data=b"\xff" * 64), 0xC000),
    ("empty data set", store_pdus("1.2.3.5.3", data=b""), 0xC000),
    ("SOP Instance UID differs from the command's", store_pdus("1.2.3.5.4", data=ct_bytes("1.2.3.5.44")), 0xC000),
    ("SOP Class UID differs from the command's", store_pdus("1.2.3.5.5", data=ct_bytes("1.2.3.5.5", MR)), 0xA900),
    ("C-STORE on the Verification context", store_pdus("1.2.3.5.6", cid=1), 0x0122),
    ("MR C-STORE on the CT context", store_pdus("1.2.3.5.7", sop_class=MR), 0x0122),
    ("data set without a Study Instance UID", store_pdus("1.2.3.5.8", data=bare_bytes("1.2.3.5.8")), 0xC000),
]


@pytest.mark.parametrize("name,pdus,status", STORE_REFUSALS, ids=[c[0] for c in STORE_REFUSALS])
def test_bad_stores_are_refused_and_nothing_is_indexed(server, archive, watch, acknowledged, name, pdus, status):
    peer = RawPeer(server.address)
    try:
        peer.associate()
        peer.send(*pdus)
        answer = peer.read(3.0)
        got, _ = answer.store_status()
        assert got == status, f"{name}: {got:#06x}"
        assert answer.error_comment(), "a refusal without a reason"
        # The association goes on: a good store on it succeeds.
        good = generate_uid()
        assert _store(peer, store_pdus(good, msg_id=2)) == (0, good)
        acknowledged.add(good)
        peer.send(RELEASE_RQ)
        assert peer.read().kind == "RP"
    finally:
        peer.close()
    assert_healthy(server, archive, watch, acknowledged, name)


def test_odd_length_element_is_stored_consistently(server, archive, watch, acknowledged):
    uid = generate_uid()
    # (0010,0010) PN with length 3 appended (odd lengths are illegal, PS3.5 7.1.1, but readable).
    data = ct_bytes(uid) + struct.pack("<HH2sH", 0x0010, 0x0010, b"PN", 3) + b"abc"
    peer = RawPeer(server.address)
    try:
        peer.associate()
        status, got = _store(peer, store_pdus(uid, data=data))
    finally:
        peer.close()
    if status == 0:
        acknowledged.add(got)
        assert archive.instance_path(uid).read_bytes().endswith(data)  # archived byte for byte
    assert_healthy(server, archive, watch, acknowledged)


def test_empty_pdata_is_ignored_and_the_association_still_serves(server, archive, watch, acknowledged):
    peer = RawPeer(server.address)
    try:
        peer.associate()
        peer.send(pdu(0x04, b""))
        assert peer.read(0.3).kind == "SILENT"
        peer.send(pdu(0x04, pdv(1, 0x03, echo_rq(3))))
        assert peer.read().kind == "PDATA"
        # Two messages in one P-DATA-TF: both answered (upstream stops reading a P-DATA at its first message).
        peer.send(pdu(0x04, pdv(1, 0x03, echo_rq(4)) + pdv(1, 0x03, echo_rq(5))))
        first, second = peer.read(), peer.read()
        assert first.kind == second.kind == "PDATA"
        ids = {int(decode(BytesIO(a.pdus[0][1][6:]), True, True).MessageIDBeingRespondedTo) for a in (first, second)}
        assert ids == {4, 5}
    finally:
        peer.close()
    assert_healthy(server, archive, watch, acknowledged)


def test_release_then_more_data_and_release_twice(server, archive, watch, acknowledged):
    peer = RawPeer(server.address)
    try:
        peer.associate()
        peer.send(RELEASE_RQ)
        assert peer.read().kind == "RP"
        try:
            peer.send(RELEASE_RQ, pdu(0x04, pdv(1, 0x03, echo_rq())))
        except OSError:
            pass  # already closed by the server: fine
        answer = wait_closed(peer)
        assert answer.closed and "PDATA" not in {answer.kind}
    finally:
        peer.close()
    assert_healthy(server, archive, watch, acknowledged)


@pytest.mark.parametrize("first", [RELEASE_RQ, RELEASE_RP, pdu(0x04, pdv(1, 0x03, echo_rq())), pdu(0x07, b"\0" * 4)],
                         ids=["A-RELEASE-RQ", "A-RELEASE-RP", "P-DATA", "A-ABORT"])
def test_pdu_before_association(server, archive, watch, acknowledged, first):
    peer = RawPeer(server.address)
    try:
        peer.send(first)
        answer = wait_closed(peer)
        assert answer.closed and answer.kind in {"ABORT", "CLOSED"}, answer
        assert answer.seconds < PROMPT
    finally:
        peer.close()
    assert any("expected an A-ASSOCIATE-RQ" in w for w in watch.warnings()), "no reason logged"
    assert_healthy(server, archive, watch, acknowledged)


# --- P-DATA: seeded mutations of a C-STORE --------------------------------------------------------------------


def test_store_message_mutations(server, archive, watch, acknowledged):
    """Mutated C-STORE messages on one association after another: whatever the server answers, Success means
    indexed and anything else means nothing indexed."""
    rng = random.Random(SEED + 1)
    outcomes: dict[str, int] = {}
    for i in range(60):
        uid = f"1.2.826.0.1.3680043.9.7433.{i + 1}"
        cmd, data = bytearray(store_rq(uid, msg_id=i + 1)), bytearray(ct_bytes(uid))
        target = rng.choice([cmd, data, data])
        how = rng.choice(["flip", "truncate", "length"])
        if how == "flip":
            for _ in range(rng.randint(1, 3)):
                target[rng.randrange(len(target))] ^= 1 << rng.randrange(8)
        elif how == "truncate":
            del target[rng.randrange(len(target)):]
        else:  # an element length field: 4 bytes after each tag in implicit command / explicit short VR data
            at = rng.randrange(0, len(target) - 4, 2)
            struct.pack_into("<H", target, at, rng.choice([0, 1, 0xFFFF, rng.randrange(0x10000)]))
        peer = RawPeer(server.address)
        try:
            peer.associate()
            peer.send(pdu(0x04, pdv(3, 0x03, bytes(cmd))), pdu(0x04, pdv(3, 0x02, bytes(data))))
            answer = peer.read(3.0, until_closed=False)
            if answer.kind == "PDATA":
                status, got = answer.store_status()
                if status == 0:
                    acknowledged.add(got)
                kind = "success" if status == 0 else f"{status:#06x}"
            else:
                kind = answer.kind
        finally:
            peer.close()
        outcomes[kind] = outcomes.get(kind, 0) + 1
        assert not watch.problems(), f"#{i} {how}"
    assert len(outcomes) >= 3, outcomes
    time.sleep(0.2)  # the last association's thread finishes its clean-up
    assert_healthy(server, archive, watch, acknowledged)


# --- slow, vanishing and many peers ------------------------------------------------------------------------------


@pytest.mark.parametrize("established", [False, True], ids=["before association", "established"])
def test_slowloris_header_then_nothing(server, archive, watch, acknowledged, established):
    peer = RawPeer(server.address)
    try:
        if established:
            peer.associate()
            peer.send(struct.pack(">BBI", 0x04, 0, 1000))
        else:
            peer.send(struct.pack(">BBI", 0x01, 0, 300) + b"\0\1")
        # Served meanwhile.
        assert real_echo(server) < 1.0
        answer = peer.read(TIMEOUT * 3, until_closed=True)
        assert answer.closed, "a peer stalled inside a PDU keeps its connection"
        assert answer.seconds < TIMEOUT * 2.5
    finally:
        peer.close()
    assert_healthy(server, archive, watch, acknowledged)


@pytest.mark.parametrize("where", ["inside an A-ASSOCIATE-RQ", "inside a command", "inside a data set",
                                   "after a command, before its data set"])
def test_peer_closes_mid_pdu(server, archive, watch, acknowledged, where):
    uid = generate_uid()
    peer = RawPeer(server.address)
    try:
        if where == "inside an A-ASSOCIATE-RQ":
            peer.send(assoc_rq()[:40])
        else:
            peer.associate()
            command_pdu, data_pdu = store_pdus(uid)
            if where == "inside a command":
                peer.send(command_pdu[:20])
            elif where == "inside a data set":
                peer.send(command_pdu, data_pdu[: len(data_pdu) // 2])
            else:
                peer.send(command_pdu)
        time.sleep(0.05)
    finally:
        peer.close()
    deadline = time.monotonic() + 2
    while server.active_associations and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.active_associations == 0
    assert_healthy(server, archive, watch, acknowledged, where)


def test_many_connections_at_once(server, archive, watch, acknowledged):
    """20 good senders and 20 hostile connections (garbage, stalls, aborts mid-store) at the same moment."""
    rng = random.Random(SEED + 2)
    results: list[tuple[int, str]] = []
    errors: list[str] = []
    start = threading.Barrier(40)

    def good(n: int) -> None:
        try:
            peer = RawPeer(server.address)
            start.wait(5)
            peer.associate(assoc_rq(calling=f"GOOD{n}".encode()))
            uid = generate_uid()
            results.append(_store(peer, store_pdus(uid)))
            peer.send(RELEASE_RQ)
            assert peer.read().kind == "RP"
            peer.close()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(f"good {n}: {type(exc).__name__}: {exc}")

    def hostile(n: int) -> None:
        try:
            peer = RawPeer(server.address)
            start.wait(5)
            kind = n % 4
            if kind == 0:
                peer.send(bytes(rng.randrange(256) for _ in range(300)))
            elif kind == 1:
                peer.send(assoc_rq()[:50])  # and stall
                time.sleep(0.5)
            elif kind == 2:
                peer.associate()
                peer.send(store_pdus(generate_uid())[0])
                peer.send(pdu(0x07, b"\0\0\0\0"))  # abort with the data set due
            else:
                peer.send(assoc_rq([APP, pres_ctx(2, VERIFICATION, [IMPLICIT]), user_info()]))
            peer.read(0.5, until_closed=True)
            peer.close()
        except Exception as exc:  # noqa: BLE001
            errors.append(f"hostile {n}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=good, args=(i,)) for i in range(20)]
    threads += [threading.Thread(target=hostile, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    assert len(results) == 20 and all(status == 0 for status, _ in results), results
    acknowledged.update(uid for _, uid in results)
    time.sleep(0.3)
    assert_healthy(server, archive, watch, acknowledged)
