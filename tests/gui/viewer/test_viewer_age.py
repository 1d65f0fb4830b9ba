"""The overlay's patient line shows an age even when the file has no PatientAge (computed from the dates)."""

from __future__ import annotations

from workstation.gui.viewer.series import patient_line


def test_patient_line_computes_a_missing_age():
    header = {"PatientName": "Doe^Jane", "PatientSex": "F", "PatientAge": "", "PatientBirthDate": "19800304",
              "StudyDate": "20250303"}
    assert patient_line(header) == "Doe Jane  F 44Y"
    assert patient_line({**header, "PatientAge": "045Y"}) == "Doe Jane  F 45Y"  # the file's own value wins
    assert patient_line({**header, "PatientBirthDate": ""}) == "Doe Jane  F"
