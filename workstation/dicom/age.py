"""Patient age: the file's PatientAge (AS), else computed from the birth and study dates, as an AS string.

Many files carry no PatientAge (it is Type 3 in most IODs) while the birth and study dates are there; a browser or
overlay showing no age then hides what the reader wants. The computed value uses the units PS3.5 gives the Age
String (``nnnD``, ``nnnW``, ``nnnM``, ``nnnY``) the way readers expect them: days under a month, months under two
years (an infant of 18 months is "018M", not "001Y"), years from then on. Whole units only, counted as on a
calendar (a birthday on the 29th of February is reached on the 28th in other years). No Qt, no pydicom objects.
"""

from __future__ import annotations

import datetime as dt
import re

_AS = re.compile(r"^\s*(\d{1,3})\s*([DWMY])\s*$", re.IGNORECASE)
_UNITS = {"D": "day", "W": "week", "M": "month", "Y": "year"}


def parse_da(value: object) -> dt.date | None:
    """A DICOM DA ("YYYYMMDD"; the old ACR-NEMA "YYYY.MM.DD" too) as a date, or None when absent or invalid."""
    text = re.sub(r"[.\-/ ]", "", str(value or "").strip())
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _months_between(birth: dt.date, on: dt.date) -> int:
    months = (on.year - birth.year) * 12 + (on.month - birth.month)
    # Not yet the day of the month: one month less. A birth on the 31st reaches its monthly day at a month's end.
    last_day = (dt.date(on.year + on.month // 12, on.month % 12 + 1, 1) - dt.timedelta(days=1)).day
    if on.day < min(birth.day, last_day):
        months -= 1
    return months


def age_between(birth_date: object, on_date: object) -> str | None:
    """The age on ``on_date`` of someone born on ``birth_date`` (both DA) as an AS string ("045Y", "018M",
    "020D"), or None when a date is missing, invalid, or the birth comes after the other date."""
    birth, on = parse_da(birth_date), parse_da(on_date)
    if birth is None or on is None or on < birth:
        return None
    months = _months_between(birth, on)
    if months < 1:
        return f"{(on - birth).days:03d}D"
    if months < 24:
        return f"{months:03d}M"
    years = months // 12
    return f"{min(years, 999):03d}Y"


def valid_age(value: object) -> str | None:
    """``value`` normalised as an AS string ("45Y" -> "045Y"), or None when it is not one."""
    m = _AS.match(str(value or ""))
    if not m:
        return None
    return f"{int(m.group(1)):03d}{m.group(2).upper()}"


def patient_age(patient_age: object, birth_date: object, study_date: object) -> str | None:
    """The age to show: the file's PatientAge when it is a valid AS, else computed from the dates, else None."""
    return valid_age(patient_age) or age_between(birth_date, study_date)


def short_age(age: str | None) -> str:
    """An AS string for a compact display: "045Y" -> "45Y", "000D" -> "0D", None -> ""."""
    if not age:
        return ""
    m = _AS.match(age)
    if not m:
        return age.strip()
    return f"{int(m.group(1))}{m.group(2).upper()}"
