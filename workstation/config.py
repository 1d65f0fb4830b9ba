"""Settings: one typed object, one TOML file, defaults that work with no file at all.

Where things live:

* the data dir (archive index + storage) is ``--data-dir``, else ``$WORKSTATION_DATA_DIR``, else the
  platformdirs user data dir;
* the settings file is ``settings.toml`` in the platformdirs config dir for the default archive, and inside the
  data dir when one was chosen explicitly, so that separate archives (tests, users, a USB stick) never share nodes
  or ports by accident.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

APP_NAME = "workstation"
SCHEMA_VERSION = 1
DATA_DIR_ENV = "WORKSTATION_DATA_DIR"


class SettingsError(ValueError):
    """A setting has a value we refuse, with a message fit for the user."""


_AE_FORBIDDEN = re.compile(r"[\\\x00-\x1f\x7f]")


def validate_ae_title(value: str, what: str = "AE title") -> str:
    """Return ``value`` stripped if it is a valid AE title (PS3.5 6.2, VR AE), else raise SettingsError."""
    if not isinstance(value, str):
        raise SettingsError(f"{what} must be text")
    stripped = value.strip(" ")
    if not stripped:
        raise SettingsError(f"{what} must not be empty")
    if len(stripped) > 16:
        raise SettingsError(f"{what} {_shown(value)} is longer than 16 characters")
    if _AE_FORBIDDEN.search(stripped):
        raise SettingsError(f"{what} {_shown(value)} contains a backslash or a control character")
    return stripped


def _shown(value: str) -> str:
    """``value`` quoted as typed: control characters escaped, a backslash shown once (repr doubles it)."""
    return "'" + "".join(c if c.isprintable() else repr(c)[1:-1] for c in value) + "'"


def validate_port(value: Any, what: str = "port") -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{what} must be a whole number, not {value!r}") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"{what} {port} is outside 0-65535")
    return port


@dataclass
class Node:
    """A remote DICOM node: where to send, whom to query."""

    name: str
    ae_title: str
    host: str
    port: int
    method: str = "move"  # default retrieve method: "move" or "get"
    search_priors: bool = False  # asked for the patient's prior studies when a study is opened
    fetch_priors: bool = False  # and its relevant priors retrieved automatically

    def validate(self) -> "Node":
        if not self.name or not self.name.strip():
            raise SettingsError("a node needs a name")
        self.ae_title = validate_ae_title(self.ae_title, f"AE title of node {self.name!r}")
        self.port = validate_port(self.port, f"port of node {self.name!r}")
        if not self.host:
            raise SettingsError(f"node {self.name!r} needs a host")
        if self.method not in ("move", "get"):
            raise SettingsError(f"retrieve method of node {self.name!r} must be 'move' or 'get'")
        return self


@dataclass
class WindowPresetSetting:
    """A user window preset: an absolute window (``center``/``width`` in modality units, e.g. HU), or, with
    ``percentiles`` = [low, high], a window over that part of the image's histogram (for MR, US, radiographs,
    whose values have no fixed meaning)."""

    name: str
    center: float = 0.0
    width: float = 0.0
    percentiles: list[float] = field(default_factory=list)

    def validate(self, modality: str) -> "WindowPresetSetting":
        if not str(self.name).strip():
            raise SettingsError(f"a {modality} window preset needs a name")
        if self.percentiles:
            if len(self.percentiles) != 2 or not 0 <= float(self.percentiles[0]) < float(self.percentiles[1]) <= 100:
                raise SettingsError(f"window preset {self.name!r} ({modality}): percentiles must be two numbers"
                                    " 0 <= low < high <= 100")
            self.percentiles = [float(v) for v in self.percentiles]
        elif not float(self.width) > 0:
            raise SettingsError(f"window preset {self.name!r} ({modality}) needs a width above 0")
        self.center, self.width = float(self.center), float(self.width)
        return self


# Keys 1..9 apply these, in this order, whatever the file holds (the file's own windows are listed apart), so a
# key always means the same window for a modality. CT in HU (Radiopaedia's usual values); modalities whose values
# have no fixed meaning get windows over the image's histogram. "*" is every modality not listed.
_HISTOGRAM_PRESETS = (("Auto (1-99 %)", 1.0, 99.0), ("Wide (0.1-99.9 %)", 0.1, 99.9),
                      ("Narrow (5-95 %)", 5.0, 95.0), ("Full range", 0.0, 100.0))


def default_window_presets() -> dict[str, list[WindowPresetSetting]]:
    ct = [WindowPresetSetting(name, c, w) for name, c, w in (
        ("Brain", 40, 80), ("Subdural", 75, 215), ("Stroke", 40, 40), ("Lung", -600, 1500),
        ("Mediastinum", 50, 350), ("Bone", 400, 1800), ("Liver", 60, 160), ("Abdomen", 40, 400),
        ("Angio", 300, 600))]
    hist = [WindowPresetSetting(name, percentiles=[lo, hi]) for name, lo, hi in _HISTOGRAM_PRESETS]
    return {"CT": ct, "*": hist}


@dataclass
class Settings:
    """Everything a user can set. Field names are the keys of ``workstation config set``."""

    schema_version: int = SCHEMA_VERSION
    ae_title: str = "WORKSTATION"
    port: int = 11112
    bind: str = "0.0.0.0"
    # Transfer syntaxes the Store SCP accepts; empty means every syntax we can decode.
    accepted_transfer_syntaxes: list[str] = field(default_factory=list)
    duplicate_policy: str = "keep"  # "keep" the stored file or "overwrite" it
    import_mode: str = "copy"  # "copy" into managed storage or "link" (index in place)
    # Security, Orthanc-like: echo/store from anyone, query/retrieve from known nodes only.
    allow_store_from_unknown: bool = True
    allow_query_from_unknown: bool = False
    check_node_host: bool = False
    require_called_ae_title: bool = False
    max_associations: int = 64  # above a department's burst; more wait a few seconds (net/scp/server.py)
    acse_timeout: float = 30.0
    dimse_timeout: float = 60.0
    network_timeout: float = 60.0
    max_pdu: int = 262144
    memory_budget_fraction: float = 0.25
    language: str = ""  # the GUI's language: "" follows the system locale; "en", "zh_CN", ...
    nodes: list[Node] = field(default_factory=list)
    # Window presets per modality (keys 1..9 in this order); "*" for the modalities not listed.
    window_presets: dict[str, list[WindowPresetSetting]] = field(default_factory=default_window_presets)

    # --- not stored: where this object was loaded from ---------------------------------------------------------
    data_dir: Path = field(default_factory=lambda: default_data_dir(), metadata={"stored": False})
    path: Path | None = field(default=None, metadata={"stored": False})

    def node(self, name: str) -> Node | None:
        for node in self.nodes:
            if node.name == name:
                return node
        return None

    # --- validation ------------------------------------------------------------------------------------------
    def validate(self) -> "Settings":
        self.ae_title = validate_ae_title(self.ae_title, "local AE title")
        self.port = validate_port(self.port)
        if self.duplicate_policy not in ("keep", "overwrite"):
            raise SettingsError("duplicate_policy must be 'keep' or 'overwrite'")
        if self.import_mode not in ("copy", "link"):
            raise SettingsError("import_mode must be 'copy' or 'link'")
        if not 1 <= int(self.max_associations) <= 1000:
            raise SettingsError("max_associations must be between 1 and 1000")
        if not 0.01 <= float(self.memory_budget_fraction) <= 0.9:
            raise SettingsError("memory_budget_fraction must be between 0.01 and 0.9")
        if self.language and not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", str(self.language)):
            raise SettingsError("language must be empty (the system's) or a locale name such as en or zh_CN")
        if not 4096 <= int(self.max_pdu) <= 16 * 1024 * 1024:
            raise SettingsError("max_pdu must be between 4096 and 16777216")
        names = set()
        for node in self.nodes:
            node.validate()
            if node.name in names:
                raise SettingsError(f"two nodes are named {node.name!r}")
            names.add(node.name)
        for modality, presets in self.window_presets.items():
            if len(presets) > 9:
                raise SettingsError(f"{modality} has {len(presets)} window presets; keys 1-9 hold nine")
            for preset in presets:
                preset.validate(modality)
        return self

    def window_presets_for(self, modality: str | None) -> list[WindowPresetSetting]:
        """The presets keys 1..9 apply for ``modality`` (its own list, else the "*" list)."""
        key = (modality or "").strip().upper()
        if key in self.window_presets:
            return self.window_presets[key]
        return self.window_presets.get("*", [])

    def set(self, key: str, value: str) -> None:
        """Set one key from its text form (the CLI's ``config set``), validated."""
        fields = {f.name: f for f in dataclasses.fields(self) if f.metadata.get("stored", True)}
        structured = ("schema_version", "nodes", "window_presets")
        if key not in fields or key in structured:
            settable = ", ".join(sorted(k for k in fields if k not in structured))
            raise SettingsError(f"unknown setting {key!r}; settable keys: {settable}")
        current = getattr(self, key)
        if isinstance(current, bool):
            low = value.strip().lower()
            if low not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise SettingsError(f"{key} takes true or false, not {value!r}")
            new: Any = low in ("true", "1", "yes", "on")
        elif isinstance(current, int):
            try:
                new = int(value)
            except ValueError:
                raise SettingsError(f"{key} takes a whole number, not {value!r}") from None
        elif isinstance(current, float):
            try:
                new = float(value)
            except ValueError:
                raise SettingsError(f"{key} takes a number, not {value!r}") from None
        elif isinstance(current, list):
            new = [v.strip() for v in value.split(",") if v.strip()]
        else:
            new = value
        old = current
        setattr(self, key, new)
        try:
            self.validate()
        except SettingsError:
            setattr(self, key, old)
            raise

    # --- persistence -----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if not f.metadata.get("stored", True):
                continue
            value = getattr(self, f.name)
            if f.name == "nodes":
                value = [dataclasses.asdict(n) for n in value]
            elif f.name == "window_presets":
                value = {m: [_preset_dict(p) for p in ps] for m, ps in value.items()}
            out[f.name] = value
        return out

    def save(self, path: Path | None = None) -> Path:
        """Write the settings atomically (a crash never leaves half a TOML file)."""
        path = Path(path or self.path or settings_path(self.data_dir, explicit=False))
        path.parent.mkdir(parents=True, exist_ok=True)
        data = tomli_w.dumps(self.to_dict()).encode()
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        self.path = path
        return path


def _preset_dict(p: WindowPresetSetting) -> dict[str, Any]:
    d: dict[str, Any] = {"name": p.name}
    if p.percentiles:
        d["percentiles"] = list(p.percentiles)
    else:
        d["center"], d["width"] = p.center, p.width
    return d


def _read_presets(raw: Any) -> dict[str, list[WindowPresetSetting]]:
    if not isinstance(raw, dict):
        raise TypeError("window_presets must be a table of modality = [presets]")
    return {str(m).strip().upper(): [WindowPresetSetting(**p) for p in ps] for m, ps in raw.items()}


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def resolve_data_dir(cli_value: str | os.PathLike[str] | None = None) -> tuple[Path, bool]:
    """The data dir to use and whether it was chosen explicitly (option or environment)."""
    if cli_value:
        return Path(cli_value).expanduser().resolve(), True
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser().resolve(), True
    return default_data_dir(), False


def settings_path(data_dir: Path, explicit: bool) -> Path:
    if explicit:
        return data_dir / "settings.toml"
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "settings.toml"


def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring an older settings file up to SCHEMA_VERSION (version 1 is the first; nothing to do yet)."""
    version = int(raw.get("schema_version", 1))
    if version > SCHEMA_VERSION:
        raise SettingsError(
            f"the settings file was written by a newer version (schema {version}); refusing to downgrade it"
        )
    raw["schema_version"] = SCHEMA_VERSION
    return raw


def read_nodes(path: Path) -> list[Node]:
    """The nodes of a settings file as it is on disk now (a running server follows `workstation nodes add`)."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return [Node(**n).validate() for n in raw.get("nodes", [])]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, TypeError) as exc:
        raise SettingsError(f"cannot read the nodes of {path}: {exc}") from None


def load_settings(data_dir: str | os.PathLike[str] | None = None) -> Settings:
    """Load settings for the archive at ``data_dir`` (see the module docstring for the lookup order)."""
    resolved, explicit = resolve_data_dir(data_dir)
    path = settings_path(resolved, explicit)
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read settings file {path}: {exc}") from None
    raw = _migrate(raw)
    known = {f.name for f in dataclasses.fields(Settings) if f.metadata.get("stored", True)}
    kwargs = {k: v for k, v in raw.items() if k in known}
    try:
        nodes = [Node(**n) for n in kwargs.pop("nodes", [])]
        if "window_presets" in kwargs:
            kwargs["window_presets"] = _read_presets(kwargs["window_presets"])
        settings = Settings(**kwargs, nodes=nodes, data_dir=resolved, path=path)
    except TypeError as exc:
        raise SettingsError(f"settings file {path} has an entry of the wrong shape: {exc}") from None
    return settings.validate()
