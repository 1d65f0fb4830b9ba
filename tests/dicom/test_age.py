"""Patient age computed from the birth and study dates when PatientAge is absent (AS units as readers expect)."""

from __future__ import annotations

import pytest

from workstation.dicom.age import age_between, parse_da, patient_age, short_age, valid_age


@pytest.mark.parametrize("birth,on,expected", [
    ("19800304", "20250304", "045Y"),   # the birthday itself
    ("19800304", "20250303", "044Y"),   # the day before
    ("20240101", "20241215", "011M"),   # under two years: months
    ("20230601", "20241215", "018M"),   # 18 months, not "001Y"
    ("20221215", "20241215", "002Y"),   # two years exactly: years
    ("20241125", "20241215", "020D"),   # under a month: days
    ("20241215", "20241215", "000D"),   # born on the study day
    ("20000229", "20250228", "025Y"),   # a leap-day birth has its birthday on the 28th in other years
    ("20000229", "20250227", "024Y"),
    ("20240131", "20240229", "001M"),   # a birth on the 31st reaches its month at February's end
    ("1980.03.04", "2025.03.04", "045Y"),  # ACR-NEMA dates
])
def test_age_between(birth, on, expected):
    assert age_between(birth, on) == expected


@pytest.mark.parametrize("birth,on", [("", "20250101"), ("19800304", ""), ("20250102", "20250101"),
                                      ("19801304", "20250101"), ("1980", "2025"), (None, None)])
def test_age_between_says_nothing_when_it_cannot_know(birth, on):
    assert age_between(birth, on) is None


def test_the_files_age_wins_and_is_normalised():
    assert patient_age("45Y", "19000101", "20250101") == "045Y"
    assert patient_age("", "19800304", "20250304") == "045Y"
    assert patient_age("garbage", "19800304", "20250304") == "045Y"
    assert patient_age(None, None, "20250304") is None
    assert valid_age("011m") == "011M" and valid_age("1234Y") is None
    assert parse_da("20250230") is None


def test_short_age():
    assert short_age("045Y") == "45Y" and short_age("000D") == "0D" and short_age(None) == ""
