"""The local archive: SQLite index + managed storage + importer. No Qt."""

from workstation.archive.archive import (
    Archive,
    ArchiveError,
    ArchiveEvent,
    CheckReport,
    InvalidInstance,
    StoreOutcome,
)
from workstation.archive.index import InstanceRecord
from workstation.archive.matching import QueryError
from workstation.archive.storage import StorageFull

__all__ = [
    "Archive",
    "ArchiveError",
    "ArchiveEvent",
    "CheckReport",
    "InstanceRecord",
    "InvalidInstance",
    "QueryError",
    "StorageFull",
    "StoreOutcome",
]
