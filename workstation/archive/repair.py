"""Repair on the way in: an instance is never archived in a state it could not be sent in.

A file whose data set lacks its SOPInstanceUID or SOPClassUID (only the file meta names them) reads fine here -
the header falls back to the meta - but a peer reads the data set: dcmtk's storescp answers such a C-STORE with
C000 "bad DICOM file". Such a file is re-encoded with the UIDs from the meta written into its data set (same
transfer syntax, pixel data untouched) before it is stored, and the repair is reported. When there is nothing to
repair from (neither the data set nor the meta has the UID) ``read_header`` rejects the file already.

Link mode indexes the user's file in place and never changes it, so such a file is rejected there with a reason
(import it in copy mode to repair it): archiving it as it is would list an instance that cannot be sent.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import pydicom
from pydicom.dataset import FileMetaDataset

from workstation.dicom.header import Header, NotDicom, Unusable, read_header


def repair_note(header: Header) -> str:
    """The sentence the import report and the log give for a repaired file."""
    keys = " and ".join(header.from_meta)
    return f"repaired: {keys} only in the file meta, written into the data set"


def link_reason(header: Header) -> str:
    keys = " and ".join(header.from_meta)
    return (f"its data set lacks {keys} (only the file meta has it), so it could not be sent; link mode leaves "
            "files unchanged: import it in copy mode to repair it")


def repair(source: str | os.PathLike[str] | bytes, header: Header, label: str = "") -> tuple[bytes, Header, str]:
    """The whole file re-encoded with ``header.from_meta`` written into its data set, its new header, and what was
    done (for the report and the log). File meta elements found inside the data set (group 0002, which no writer
    may put there) are dropped on the way: the file meta has its own.

    Raises Unusable when it cannot be re-encoded (the caller rejects the file with that reason).
    """
    attrs = header.attributes
    note = repair_note(header)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(source, (bytes, bytearray, memoryview)):
                ds = pydicom.dcmread(io.BytesIO(bytes(source)), force=True)
            else:
                ds = pydicom.dcmread(Path(source), force=True)
            for key in header.from_meta:
                setattr(ds, key, attrs[key])
            stray = [tag for tag in ds._dict if tag >> 16 == 0x0002]
            for tag in stray:
                del ds[tag]
            if stray:
                note += f"; {len(stray)} file meta element(s) found inside the data set dropped"
            meta = ds.file_meta if getattr(ds, "file_meta", None) is not None else FileMetaDataset()
            meta.MediaStorageSOPClassUID = attrs["SOPClassUID"]
            meta.MediaStorageSOPInstanceUID = attrs["SOPInstanceUID"]
            if "TransferSyntaxUID" not in meta:
                meta.TransferSyntaxUID = header.transfer_syntax
            ds.file_meta = meta
            out = io.BytesIO()
            ds.save_as(out, enforce_file_format=True)
        data = out.getvalue()
    except Exception as exc:  # noqa: BLE001 - any failure to re-encode means: reject with the reason
        raise Unusable(f"its data set lacks {' and '.join(header.from_meta)} and could not be repaired: "
                       f"{type(exc).__name__}: {exc}") from None
    try:
        repaired = read_header(data, name=label or None)
    except (NotDicom, Unusable) as exc:
        raise Unusable(f"the repaired file does not read back: {exc}") from None
    if repaired.from_meta or repaired.sop_instance_uid != header.sop_instance_uid:
        raise Unusable("the repaired file does not read back with its UIDs in the data set")
    return data, repaired, note
