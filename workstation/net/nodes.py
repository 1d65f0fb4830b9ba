"""Remote DICOM nodes: resolve ``NODE`` arguments and keep the list in the settings.

``NODE`` is either the name of a configured node or an ad-hoc address ``AET@HOST:PORT`` (IPv6 hosts in
brackets: ``AET@[::1]:104``).
"""

from __future__ import annotations

import re

from workstation.config import Node, Settings, SettingsError

_ADDRESS = re.compile(r"^(?P<aet>[^@]+)@(?:\[(?P<host6>[^\]]+)\]|(?P<host>[^:@\[\]]+)):(?P<port>\d+)$")


class NodeError(ValueError):
    """A node argument or change we refuse, with a message for the user."""


def parse_address(text: str, method: str = "move") -> Node | None:
    """``AET@HOST:PORT`` as an unnamed :class:`Node`, or None when ``text`` is not in that form."""
    match = _ADDRESS.match(text.strip())
    if not match:
        return None
    host = match["host6"] or match["host"]
    node = Node(name="", ae_title=match["aet"], host=host, port=int(match["port"]), method=method)
    try:
        node.name = text.strip()
        node.validate()
    except SettingsError as exc:
        raise NodeError(str(exc)) from None
    node.name = ""
    return node


def resolve_node(settings: Settings, text: str) -> Node:
    """The node called ``text`` in the settings, else ``text`` parsed as ``AET@HOST:PORT``."""
    node = settings.node(text)
    if node is not None:
        return node
    parsed = parse_address(text)
    if parsed is not None:
        return parsed
    known = ", ".join(n.name for n in settings.nodes) or "none configured"
    raise NodeError(f"unknown node {text!r} (known nodes: {known}); give a node name or AET@HOST:PORT")


def list_nodes(settings: Settings) -> list[Node]:
    return sorted(settings.nodes, key=lambda n: n.name.lower())


def add_node(
    settings: Settings, name: str, ae_title: str, host: str, port: int | str, method: str = "move",
    *, replace: bool = False, save: bool = True, search_priors: bool = False, fetch_priors: bool = False,
) -> Node:
    """Add (or with ``replace``, update) a node, validate and save the settings."""
    if "@" in name:
        raise NodeError(f"a node name cannot contain '@' ({name!r} looks like an address)")
    try:
        node = Node(name=name.strip(), ae_title=ae_title, host=host.strip(), port=port, method=method,
                    search_priors=search_priors or fetch_priors, fetch_priors=fetch_priors).validate()
    except SettingsError as exc:
        raise NodeError(str(exc)) from None
    existing = settings.node(node.name)
    if existing is not None and not replace:
        raise NodeError(f"a node named {node.name!r} already exists (remove it first)")
    nodes = [n for n in settings.nodes if n.name != node.name] + [node]
    old = settings.nodes
    settings.nodes = nodes
    try:
        settings.validate()
    except SettingsError as exc:
        settings.nodes = old
        raise NodeError(str(exc)) from None
    if save:
        settings.save()
    return node


def remove_node(settings: Settings, name: str, *, save: bool = True) -> Node:
    """Remove the node called ``name`` and save the settings."""
    node = settings.node(name)
    if node is None:
        raise NodeError(f"no node named {name!r}")
    settings.nodes = [n for n in settings.nodes if n.name != name]
    if save:
        settings.save()
    return node
