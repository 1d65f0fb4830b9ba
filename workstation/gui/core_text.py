"""Messages of the core (network, archive, import, export, results), shown in the user's language.

The core never imports Qt, so its messages are plain English sentences built from a few templates. Each template
is listed here once, exactly as the core writes it with its variable parts as %1, %2, …; :func:`core_text` finds
the template a message was built from, translates the template and puts the variable parts back (each translated
again when it is itself a core message, e.g. an OS reason). A message no template matches is shown as it is:
English, never lost. ``tests/gui/test_core_text.py`` produces the messages from the real core and checks that
each is matched, so a reworded core message fails there instead of silently going untranslated.
"""

from __future__ import annotations

import functools
import re

from PySide6 import QtCore

# Most specific first: "not a DICOM file (no preamble…)" before "not a DICOM file (%1)".
TEMPLATES = (
    # connecting to a node (workstation/net/scu/client.py)
    QtCore.QT_TRANSLATE_NOOP("CoreText", "cannot reach %1: unknown host %2"),
    QtCore.QT_TRANSLATE_NOOP("CoreText",
        "cannot connect to %1: connection refused or no route (is the node running and are host and port "
        "right?)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText",
        "%1 accepted the connection but did not answer the association request within %2 s"),
    QtCore.QT_TRANSLATE_NOOP("CoreText",
        "%1 rejected the association (check its AE title %2 and that it knows ours)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText",
        "%1 closed the connection during association negotiation (check the AE titles on both sides)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText",
        "%1 accepted the association but none of the proposed services (SOP classes / transfer syntaxes)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "%1 permanently rejected the association (%2, source: %3)%4"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "%1 transiently rejected the association (%2, source: %3)%4"),
    QtCore.QT_TRANSLATE_NOOP("CoreText",
        ": the node does not know this workstation's AE title %1 - add %2 and this computer's host/port "
        "to its configuration"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", ": check the node's AE title (we called it %1)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", ": the node is busy, try again later"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "%1 did not answer the C-ECHO within %2 s"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "%1 answered the C-ECHO with status %2"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "%1 failed the C-FIND: status %2 (%3)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "%1 does not support %2-root C-FIND"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "query cancelled"),
    # nodes and the listener
    QtCore.QT_TRANSLATE_NOOP("CoreText", "unknown node %1 (known nodes: %2); give a node name or AET@HOST:PORT"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "a node named %1 already exists (remove it first)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "no node named %1"),
    QtCore.QT_TRANSLATE_NOOP("CoreText",
        "port %1 is already in use (another DICOM server?): choose another with `workstation config set "
        "port N`"),
    QtCore.QT_TRANSLATE_NOOP("CoreText",
        "not allowed to listen on port %1 (ports below 1024 need privileges): choose another with "
        "`workstation config set port N`"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "cannot listen on %1: %2"),
    # reading and importing files (workstation/dicom/header.py, workstation/archive/importer.py)
    QtCore.QT_TRANSLATE_NOOP("CoreText", "not a DICOM file (no preamble and no recognisable DICOM elements)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "not a DICOM file (%1)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "not a DICOM file"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "empty file"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "not a regular file (%1)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "a DICOMDIR (media directory), not an instance"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "unreadable DICOM: sequences nested too deeply to read"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "unreadable DICOM: %1"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "unreadable: %1"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "cannot read: %1"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "truncated: %1"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "cannot copy into the archive: %1"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "[Errno %1] no space left on the archive's disk: %2"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "no space left on the archive's disk"),
    # the archive and export
    QtCore.QT_TRANSLATE_NOOP("CoreText", "cannot open the archive in %1: %2"),
    QtCore.QT_TRANSLATE_NOOP("CoreText",
        "the archive is open in another process (app or serve): close it before a rebuild"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "nothing to export: no instance matches"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "%1 already exists: choose a new name"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "%1 is a file, not a folder"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "cannot write %1: %2"),
    # reading results and priors
    QtCore.QT_TRANSLATE_NOOP("CoreText", "none of the images of these measurements is in the archive"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "presentation state not written: %1"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "none of the key images is in the archive"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "study %1 is not in the archive"),
    # volumes: why a series is not reconstructed, what was done to it (workstation/imaging/volume.py)
    QtCore.QT_TRANSLATE_NOOP("CoreText", "no images"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "%1 series mixed; a volume is made of one"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "localizer images mixed in (%1 of %2 images)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "mixed image sizes (%1)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "images not parallel (%1 different orientations)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "images from several frames of reference"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "the images form %1 separate stacks"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "too few images (%1; a volume needs at least %2)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "color images are not reconstructed"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "%1 of %2 images have no ImagePositionPatient"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "images without ImageOrientationPatient"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "images without PixelSpacing"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "localizer images"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "image orientation is not a pair of perpendicular directions"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "images not parallel"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "PixelSpacing is not a positive size"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "pixel spacing differs between images"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "rescale slope/intercept differs between images"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "too few images per time point (%1)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "gantry tilt %1°, resampled"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "slices shifted within their plane, resampled"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "uneven slice spacing (%1–%2 mm), resampled to %3 mm"),
    QtCore.QT_TRANSLATE_NOOP("CoreText",
        "several images per position (%1 of %2 positions) and no time point tells them apart"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "no time point %1 (the series has %2)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText",
        "the volume needs %1 MiB, more than the memory budget (%2 MiB; raise memory_budget_fraction in the "
        "settings)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText",
        "the series (%1 MiB) does not fit the frame cache's memory budget (%2 MiB; raise memory_budget_fraction "
        "in the settings)"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "time point %1 of %2"),
    # operating-system reasons inside the messages above
    QtCore.QT_TRANSLATE_NOOP("CoreText", "Connection refused"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "No space left on device"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "Permission denied"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "No such file or directory"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "Is a directory"),
    QtCore.QT_TRANSLATE_NOOP("CoreText", "timed out"),
)


@functools.lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern, str], ...]:
    out = []
    for template in TEMPLATES:
        parts = re.split(r"(%\d)", template)
        regex = "".join("(.*?)" if re.fullmatch(r"%\d", p) else re.escape(p) for p in parts)
        out.append((re.compile("^" + regex + "$", re.S), template))
    return tuple(out)


def match(message: str) -> tuple[str, list[str]] | None:
    """The template ``message`` was built from and its variable parts, or None."""
    for pattern, template in _patterns():
        m = pattern.match(message)
        if m:
            return template, list(m.groups())
    return None


def core_text(message, depth: int = 0) -> str:
    """``message`` (a core message, an exception or anything printable) in the user's language."""
    text = str(message) if message is not None else ""
    if not text or depth > 3:
        return text
    if "\n" in text:
        return "\n".join(core_text(line, depth + 1) for line in text.split("\n"))
    found = match(text)
    if found is None:
        return text
    template, values = found
    out = QtCore.QCoreApplication.translate("CoreText", template)
    # Filled in one pass, so a value that itself contains "%2" is not replaced again.
    pieces = re.split(r"(%\d)", out)
    return "".join(core_text(values[int(p[1]) - 1], depth + 1) if re.fullmatch(r"%\d", p) and
                   0 < int(p[1]) <= len(values) else p for p in pieces)
