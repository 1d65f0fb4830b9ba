"""Core messages reach the user in the user's language: the real core produces each message (a node that is down, a
port in use, a file that is not DICOM, an export onto an existing file, an unknown node...), and the GUI's
:func:`core_text` finds its template and gives it in Chinese with the variable parts kept. A core message
reworded without its template here fails the match."""

from __future__ import annotations

import socket

import pytest
from PySide6 import QtCore

from tests.peers import LOCAL_AE, free_port
from workstation.config import Node, Settings
from workstation.gui import core_text as ct


def core_messages(tmp_path) -> dict[str, str]:
    """name -> the message the core raises (each from the real code path)."""
    from workstation.archive import Archive
    from workstation.archive.export import export
    from workstation.dicom.header import read_header
    from workstation.net.scu.client import echo
    from workstation.net.nodes import remove_node
    from workstation.net.scp.server import DicomServer

    out = {}
    settings = Settings(data_dir=tmp_path / "data", path=tmp_path / "data" / "settings.toml", bind="127.0.0.1",
                        ae_title=LOCAL_AE)
    settings.acse_timeout = settings.network_timeout = settings.dimse_timeout = 2
    down = Node("down", "NOBODY", "127.0.0.1", free_port())
    try:
        echo(settings, down)
    except Exception as exc:  # noqa: BLE001
        out["refused"] = str(exc)
    text = tmp_path / "notes.txt"
    text.write_text("not an image, just words\n" * 20)
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    for name, path in (("not dicom", text), ("empty", empty)):
        try:
            read_header(path)
        except Exception as exc:  # noqa: BLE001
            out[name] = str(exc)
    try:
        remove_node(settings, "nosuch", save=False)
    except Exception as exc:  # noqa: BLE001
        out["no node"] = str(exc)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        settings.port = busy.getsockname()[1]
        archive = Archive.open(settings)
        try:
            try:
                DicomServer(settings, archive).start()
            except Exception as exc:  # noqa: BLE001
                out["port in use"] = str(exc)
            try:
                export(archive, [("study", "1.2.3.4.5")], tmp_path / "out")
            except Exception as exc:  # noqa: BLE001
                out["nothing to export"] = str(exc)
        finally:
            archive.close()
    return out


@pytest.fixture
def chinese(qapp):
    from workstation.gui.i18n import TRANSLATIONS

    translator = QtCore.QTranslator()
    assert translator.load("workstation_zh_CN", str(TRANSLATIONS)), "catalogues not built"
    qapp.installTranslator(translator)
    yield
    qapp.removeTranslator(translator)


def test_every_core_message_produced_here_has_its_template(tmp_path):
    messages = core_messages(tmp_path)
    assert set(messages) == {"refused", "not dicom", "empty", "no node", "port in use", "nothing to export"}
    unmatched = {k: v for k, v in messages.items() if ct.match(v) is None}
    assert not unmatched, unmatched


def test_core_messages_are_shown_in_chinese_with_their_values(tmp_path, chinese):
    messages = core_messages(tmp_path)
    shown = {k: ct.core_text(v) for k, v in messages.items()}
    assert shown["refused"].startswith("无法连接 down (NOBODY@127.0.0.1:"), shown["refused"]
    assert "连接被拒绝" in shown["refused"]
    assert shown["not dicom"] == "不是 DICOM 文件（无前导码，也无可识别的 DICOM 元素）"
    assert shown["empty"] == "空文件"
    assert shown["no node"] == "没有名为 'nosuch' 的节点"
    assert shown["port in use"].startswith(f"端口 {messages['port in use'].split()[1]} 已被占用")
    assert shown["nothing to export"] == "没有可导出的内容：没有匹配的实例"


def test_nested_reasons_and_unknown_text(chinese):
    # An OS reason inside a template is translated too; a message of no template stays as it is.
    assert ct.core_text("cannot write /x/y: Permission denied") == "无法写入 /x/y：权限不足"
    assert ct.core_text("unreadable: truncated: (7FE0,0010) declares 10 bytes") == \
        "无法读取：文件不完整（截断）：(7FE0,0010) declares 10 bytes"
    assert ct.core_text("something the core never said") == "something the core never said"
    # Values holding %2 are not replaced again.
    assert ct.core_text("cannot listen on %2: timed out") == "无法在 %2 上监听：超时"


def test_the_error_dialog_and_a_failed_job_speak_chinese(qtbot, tmp_path, chinese):
    from workstation.gui.common import show_error
    from workstation.gui.jobs import Job, JobManager
    from workstation.net.scu.client import echo

    settings = Settings(data_dir=tmp_path / "d", path=tmp_path / "d" / "settings.toml", bind="127.0.0.1",
                        ae_title=LOCAL_AE)
    settings.acse_timeout = settings.network_timeout = 2
    box = show_error(None, "Echo", "no node named 'pacs'", modal=False)
    assert box.text() == "没有名为 'pacs' 的节点"
    box.close()
    jobs = JobManager()

    def run_echo(settings, node, progress=None, cancel=None):  # the job's calling convention
        return echo(settings, node)

    job = Job("echo", "echo", run_echo, settings, Node("down", "NOBODY", "127.0.0.1", free_port()))
    with qtbot.waitSignal(job.ended, timeout=20000):
        jobs.submit(job)
    assert job.message.startswith("无法连接 down"), job.message
    assert QtCore.QCoreApplication.translate("Job", "cancelled") == "已取消"
