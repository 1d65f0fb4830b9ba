"""Nodes: resolving NODE arguments and keeping the list in the settings."""

from __future__ import annotations

import pytest

from workstation.config import Settings, load_settings
from workstation.net.nodes import NodeError, add_node, list_nodes, parse_address, remove_node, resolve_node


@pytest.fixture
def settings(tmp_path):
    return load_settings(tmp_path)


def test_parse_address():
    node = parse_address("PACS@pacs.example.org:104")
    assert (node.ae_title, node.host, node.port, node.method) == ("PACS", "pacs.example.org", 104, "move")
    node6 = parse_address("PACS@[::1]:11112")
    assert node6.host == "::1" and node6.port == 11112
    assert parse_address("pacs") is None
    assert parse_address("PACS@host") is None
    with pytest.raises(NodeError):
        parse_address("WAY_TOO_LONG_AE_TITLE_X@host:104")
    with pytest.raises(NodeError):
        parse_address("PACS@host:70000")


def test_add_resolve_remove_persist(settings, tmp_path):
    add_node(settings, "pacs", "PACS", "10.0.0.1", 104, "get")
    again = load_settings(tmp_path)
    assert [(n.name, n.ae_title, n.host, n.port, n.method) for n in list_nodes(again)] == [
        ("pacs", "PACS", "10.0.0.1", 104, "get")]
    assert resolve_node(again, "pacs").method == "get"
    assert resolve_node(again, "X@h:1").ae_title == "X"
    with pytest.raises(NodeError, match="already exists"):
        add_node(again, "pacs", "PACS", "10.0.0.1", 104)
    remove_node(again, "pacs")
    assert load_settings(tmp_path).nodes == []
    with pytest.raises(NodeError, match="no node named"):
        remove_node(again, "pacs")


def test_unknown_node_lists_known(settings):
    add_node(settings, "a", "A", "h", 1, save=False)
    with pytest.raises(NodeError, match=r"unknown node 'b' \(known nodes: a\)"):
        resolve_node(settings, "b")


@pytest.mark.parametrize("args, message", [
    (("x", "", "h", 1), "must not be empty"),
    (("x", "A", "h", 99999), "outside"),
    (("x", "A", "h", 1, "push"), "move' or 'get"),
    (("a@b", "A", "h", 1), "cannot contain"),
])
def test_add_refuses_bad_values(args, message):
    with pytest.raises(NodeError, match=message):
        add_node(Settings(), *args, save=False)
