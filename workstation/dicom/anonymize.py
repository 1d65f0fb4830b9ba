"""De-identify a dataset for teaching, research or sharing: a subset of PS3.15 Annex E's Basic Application Level
Confidentiality Profile, with the options radiologists usually want.

What it does (E.1-1 actions, simplified):
* PatientName / PatientID replaced by the given pseudonym (numbered for a second, third... patient); birth date and time emptied; every other patient
  identifier, address, phone, other IDs/names, comments and history removed;
* accession number and study ID emptied; institution, station, device serial number, request and procedure step
  identifiers removed;
* every person name anywhere (referring, performing, reading physicians, operators, SR observers...) emptied, in
  nested sequences too: a catch-all for PN values this list does not name;
* every UID that is not a well-known DICOM UID (study, series, instance, frame of reference, references between
  instances, the file meta's) replaced by a new one, the same old UID always giving the same new UID within one
  :class:`Anonymizer` (so studies, series and references stay consistent across the files of one export), and a
  different one in another (a fresh secret each time, unless one is given);
* private elements removed; PatientIdentityRemoved = YES and DeidentificationMethod say what was done.

Kept on purpose (the profile's "Retain Longitudinal Temporal Information with Full Dates", "Retain Patient
Characteristics" and descriptor options): study/series/acquisition dates and times, sex, age, size, weight, study
and series descriptions, and pixel data. Text burned into the pixels cannot be removed here: instances that declare
BurnedInAnnotation = YES are reported by :meth:`Anonymizer.apply`'s return value.
"""

from __future__ import annotations

import secrets
from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

# Replaced by a pseudonym.
_PSEUDONYM = ("PatientName", "PatientID")
# Emptied (type 2 in most IODs: present but empty). Operators' Name is type 2 in RT Series (E.1-1 allows Z).
_EMPTY = ("PatientBirthDate", "AccessionNumber", "StudyID", "ReferringPhysicianName", "OperatorsName")
# Removed wherever they are.
_REMOVE = (
    "PatientBirthTime", "OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames", "PatientBirthName",
    "PatientMotherBirthName", "PatientAddress", "PatientTelephoneNumbers", "PatientTelecomInformation",
    "IssuerOfPatientID", "IssuerOfPatientIDQualifiersSequence", "MedicalRecordLocator", "MilitaryRank",
    "BranchOfService", "EthnicGroup", "Occupation", "AdditionalPatientHistory", "PatientComments",
    "PatientReligiousPreference", "CountryOfResidence", "RegionOfResidence", "ResponsiblePerson",
    "ResponsibleOrganization", "PatientInsurancePlanCodeSequence", "MedicalAlerts", "Allergies",
    "PersonIdentificationCodeSequence", "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers",
    "ReferringPhysicianIdentificationSequence", "PhysiciansOfRecord", "PhysiciansOfRecordIdentificationSequence",
    "PerformingPhysicianName", "PerformingPhysicianIdentificationSequence", "NameOfPhysiciansReadingStudy",
    "PhysiciansReadingStudyIdentificationSequence", "OperatorIdentificationSequence",
    "RequestingPhysician", "ScheduledPerformingPhysicianName", "InstitutionName", "InstitutionAddress",
    "InstitutionalDepartmentName", "InstitutionCodeSequence", "StationName", "DeviceSerialNumber",
    "RequestAttributesSequence", "RequestedProcedureID", "PerformedProcedureStepID", "ScheduledProcedureStepID",
    "StudyComments", "ImageComments", "InterpretationAuthor", "InterpretationApproverSequence",
    "AdmissionID", "IssuerOfAdmissionIDSequence", "ServiceEpisodeID", "PatientState", "CurrentPatientLocation",
    "FillerOrderNumberImagingServiceRequest", "PlacerOrderNumberImagingServiceRequest", "OrderCallbackPhoneNumber",
    "OrderEnteredBy", "OrderEntererLocation", "TextComments", "DerivationDescription",
)
# UIDs that are never changed: they name things (classes, syntaxes, coding schemes), not people's data.
_WELL_KNOWN_ROOT = "1.2.840.10008."
_KEEP_UIDS = {"SOPClassUID", "ReferencedSOPClassUID", "MediaStorageSOPClassUID", "TransferSyntaxUID",
              "ImplementationClassUID", "AffectedSOPClassUID", "RequestedSOPClassUID",
              "ReferencedSOPClassUIDInFile", "CodingSchemeUID", "ContextGroupExtensionCreatorUID"}

# De-identification Method is LO (64 characters at most) but multi-valued: one statement per value.
METHOD = ("workstation: PS3.15 E.1 basic profile subset", "dates, patient characteristics, descriptions kept",
          "UIDs replaced, private elements removed")


class Anonymizer:
    """One de-identification run: a pseudonym and a UID mapping shared by all the files it is applied to."""

    def __init__(self, patient_name: str = "ANONYMOUS", patient_id: str | None = None, secret: str | None = None):
        self.secret = secret or secrets.token_hex(16)
        self.patient_name = patient_name
        self.patient_id = patient_id or "ANON" + self.secret[:8].upper()
        self._uids: dict[str, str] = {}
        self._patients: dict[tuple[str, str], tuple[str, str]] = {}  # original (ID, name) -> pseudonym

    def pseudonym(self, patient_id: str, patient_name: str) -> tuple[str, str]:
        """(name, ID) for an original patient: the given pseudonym for the first, numbered ones for the others,
        so that different patients exported together stay different."""
        key = (patient_id, patient_name)
        found = self._patients.get(key)
        if found is None:
            n = len(self._patients) + 1
            # A space outside a component makes a PN the retired "Last First" form (dciodvfy warns): number the
            # given-name component instead.
            numbered = f"{self.patient_name} {n}" if "^" in self.patient_name else f"{self.patient_name}^{n}"
            found = (self.patient_name, self.patient_id) if n == 1 else (numbered, f"{self.patient_id}-{n}")
            self._patients[key] = found
        return found

    def new_uid(self, old: str) -> str:
        new = self._uids.get(old)
        if new is None:
            # Deterministic from (secret, old UID): the same within this run, unguessable without the secret.
            new = self._uids[old] = str(generate_uid(entropy_srcs=[self.secret, old]))
        return new

    def apply(self, ds: Dataset) -> list[str]:
        """De-identify ``ds`` in place (its file meta too). Returns warnings a user should read."""
        warnings: list[str] = []
        if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
            warnings.append(f"{ds.get('SOPInstanceUID', '?')}: text is burned into the pixels (BurnedInAnnotation"
                            " = YES) and was not removed")
        name, pid = self.pseudonym(str(ds.get("PatientID", "") or ""), str(ds.get("PatientName", "") or ""))
        ds.remove_private_tags()
        self._clean(ds)
        ds.PatientName = name
        ds.PatientID = pid
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = list(METHOD)
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            if "MediaStorageSOPInstanceUID" in meta and "SOPInstanceUID" in ds:
                meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        return warnings

    def _clean(self, ds: Dataset) -> None:
        for keyword in _REMOVE:
            if keyword in ds:
                delattr(ds, keyword)
        for keyword in _EMPTY:
            if keyword in ds:
                ds.data_element(keyword).value = ""  # type: ignore[union-attr]
        for elem in list(ds):
            if elem.VR == "SQ":
                for item in elem.value or Sequence():
                    self._clean(item)
            elif elem.VR == "PN" and elem.keyword not in _PSEUDONYM:
                elem.value = ""
            elif elem.VR == "UI" and elem.keyword not in _KEEP_UIDS:
                elem.value = self._map_uids(elem.value)

    def _map_uids(self, value: Any) -> Any:
        if not value:
            return value
        if isinstance(value, (list, tuple)) or hasattr(value, "__iter__") and not isinstance(value, str):
            return [self._map_one(str(v)) for v in value]
        return self._map_one(str(value))

    def _map_one(self, uid: str) -> str:
        uid = uid.strip("\x00 ")
        if not uid or uid.startswith(_WELL_KNOWN_ROOT):
            return uid
        return self.new_uid(uid)
