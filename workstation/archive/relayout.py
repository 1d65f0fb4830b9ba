"""Move an older archive's files from the instance layout to the series layout (``workstation migrate-storage``).

Archives made before the series layout keep a folder per instance key (``storage/ab/cd/<key>.dcm``); a copy
import or a C-GET into them makes a folder per file. This moves them to a folder per series, without copying a
byte and without a moment where a file has no name the archive can find:

1. every file gets a second name, a hard link in its series folder (the old name still works; the layout file
   still says "instance");
2. one sync makes the new names durable; the index is marked schema 2 (older versions refuse it from then on);
3. the layout file switches to "series", atomically: from here the new names are the ones looked up;
4. the old names are removed, each only after checking it is the same file as its new name.

A crash before step 3 leaves extra names in series folders, a crash after it leaves the old names: either way the
archive's check (at the next start: the crash left the session open) finds them as second copies of instances
whose rows name another, existing file, and removes them; running the command again finishes the move. The
archive must not be open in another process meanwhile (the app, ``serve``): the command refuses then.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from workstation.archive.storage import INSTANCE_LAYOUT, SERIES_LAYOUT

if TYPE_CHECKING:
    from workstation.archive.archive import Archive

log = logging.getLogger(__name__)


class RelayoutError(Exception):
    """The files could not be moved; the archive is as it was (one line for the user)."""


def to_series_layout(archive: "Archive", progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Move ``archive``'s files to the series layout. Returns {"moved", "not_moved": [path: reason], "already"}."""
    storage = archive.storage
    if storage.layout == SERIES_LAYOUT:
        return {"moved": 0, "not_moved": [], "already": True}
    # First what a crash left: files without rows get theirs (the rows give each file its series), temp files go.
    archive.check(full=True)
    if not archive._lock.try_exclusive():
        raise RelayoutError("the archive is open in another process (app or serve): close it first")
    try:
        pairs, not_moved = _link_all(archive, progress)
        try:
            storage.sync_written([new for _, new in pairs], {new.parent for _, new in pairs})
            archive.index.require_schema(2)
        except (OSError, sqlite3.Error) as exc:
            _unlink_new_names(pairs)
            raise RelayoutError(f"could not make the new names durable: {exc}") from None
        try:
            storage.switch_layout(SERIES_LAYOUT)
        except OSError as exc:
            # Every file has both names: whichever layout the file names at the next open, its files are found,
            # and the check removes the other names.
            raise RelayoutError(f"could not switch the layout file: {exc}; run `workstation check`") from None
        moved = _drop_old_names(pairs)
    finally:
        archive._lock.downgrade()
    log.info("storage moved to the series layout: %d files, %d not moved", moved, len(not_moved))
    return {"moved": moved, "not_moved": not_moved, "already": False}


def _link_all(archive: "Archive", progress: Callable[[int, int], None] | None
              ) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Step 1: (old name, new name) of every file linked into its series folder; what could not be, with why."""
    storage = archive.storage
    series_of = {storage.key(sop): (sop, series)
                 for sop, linked, series in archive.index.all_instances() if not linked}
    files = list(storage.iter_files())
    pairs: list[tuple[Path, Path]] = []
    not_moved: list[str] = []
    made: set[Path] = set()
    try:
        for n, old in enumerate(files):
            if progress:
                progress(n, len(files))
            uids = series_of.get(old.stem)
            if uids is None:  # the check could not index it (unreadable, misnamed): it stays where it is
                not_moved.append(f"{old}: not in the index (see `workstation check`)")
                continue
            new = Path(storage.path_text_for(uids[0], uids[1], SERIES_LAYOUT))
            if new == old:
                continue  # a name an interrupted run made: paired below from its old name
            if storage.path_text_for(uids[0], uids[1], INSTANCE_LAYOUT) != str(old):
                not_moved.append(f"{old}: its name does not match its SOP Instance UID")
                continue
            if new.parent not in made:
                new.parent.mkdir(parents=True, exist_ok=True)
                made.add(new.parent)
            try:
                os.link(old, new)
            except FileExistsError:
                if not os.path.samefile(old, new):  # a copy of the same instance: the check sorts it out
                    not_moved.append(f"{old}: another file has its name in the series layout ({new})")
                    continue
            pairs.append((old, new))
    except OSError as exc:
        _unlink_new_names(pairs)
        raise RelayoutError(f"could not link the files into series folders: {exc.strerror or exc} "
                            "(a file system without hard links cannot be moved in place)") from None
    return pairs, not_moved


def _unlink_new_names(pairs: list[tuple[Path, Path]]) -> None:
    for old, new in pairs:
        try:
            if os.path.samefile(old, new):
                os.unlink(new)
        except OSError:
            pass


def _drop_old_names(pairs: list[tuple[Path, Path]]) -> int:
    """Step 4: the old names go, each only while its new name is the same file; then their empty folders."""
    moved = 0
    folders: set[Path] = set()
    for old, new in pairs:
        try:
            if os.path.samefile(old, new):
                os.unlink(old)
                folders.add(old.parent)
                moved += 1
        except OSError as exc:
            log.warning("could not remove the old name %s: %s (the check removes it)", old, exc)
    for folder in folders:
        try:
            folder.rmdir()  # the two-digit second level; the first level is shared by both layouts
        except OSError:
            pass
    return moved
