"""Hanging protocols: rule files, choice of protocol (table-driven), placement of display sets, saving a layout."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from workstation.reading.hanging import (
    DisplaySet, ProtocolError, StudyInfo, display_sets, hang, load_protocols, matching_protocols, orientation_of,
    parse_protocols, protocol_from_layout, save_protocol,
)

AXIAL = [1, 0, 0, 0, 1, 0]
CORONAL = [1, 0, 0, 0, 0, -1]
SAGITTAL = [0, 1, 0, 0, 0, -1]


@pytest.fixture(scope="module")
def defaults():
    return load_protocols(None)


@pytest.mark.parametrize("modalities,body_parts,description,priors,expected", [
    (("CT",), ("CHEST",), "CT THORAX MIT KM", 1, "CT chest: mediastinum | lung, prior beside"),
    (("CT",), (), "CT Chest/PE protocol", 0, "CT chest: mediastinum | lung, prior beside"),
    (("CT", "SR"), ("ABDOMEN",), "", 1, "CT abdomen: current | prior"),
    (("CT",), (), "CT Abdomen Pelvis", 0, "CT abdomen: current | prior"),
    (("MR",), ("HEAD",), "MRT Schädel", 0, "MR brain: T1 | T2 | FLAIR"),
    (("MR",), ("BRAIN",), "", 0, "MR brain: T1 | T2 | FLAIR"),
    (("DX",), ("CHEST",), "", 1, "Chest radiograph: current | prior"),
    (("CR",), (), "Chest PA/LAT", 0, "Chest radiograph: current | prior"),
    (("MG",), ("BREAST",), "Screening", 2, "Mammography: RCC LCC RMLO LMLO, priors below"),
    (("US",), ("ABDOMEN",), "US upper abdomen", 0, "Ultrasound: cine, one image"),
    (("MR",), ("KNEE",), "MR knee", 1, "Any study: current | prior"),
    (("MR",), ("KNEE",), "MR knee", 0, "Any study"),
    (("CTX",), ("CHEST",), "chest", 0, "Any study"),  # modality matches whole values, not substrings
])
def test_protocol_chosen_as_the_rules_say(defaults, modalities, body_parts, description, priors, expected):
    chosen = matching_protocols(defaults, StudyInfo(modalities, body_parts, description), priors)
    assert chosen[0].name == expected
    assert chosen[-1].name == "Any study"  # the reader can always step down to the plainest


def test_user_rules_come_first_among_equals(tmp_path):
    (tmp_path / "hanging_protocols.toml").write_text(
        '[[protocol]]\nname = "My chest"\nmodality = "CT"\nbody_part = "CHEST"\nlayout = [1, 1]\n'
        '[[protocol.viewport]]\nstudy = "current"\n', encoding="utf-8")
    chosen = matching_protocols(load_protocols(tmp_path), StudyInfo(("CT",), ("CHEST",), ""), 0)
    assert [p.name for p in chosen[:2]] == ["My chest", "CT chest: mediastinum | lung, prior beside"]


@pytest.mark.parametrize("text,message", [
    ('[[protocol]]\nname = "x"\nlayout = [1, 9]\n', "layout"),
    ('[[protocol]]\nname = "x"\nmodality = "CT("\n', "bad regular expression"),
    ('[[protocol]]\nname = "x"\ncolour = 1\n', "unknown key"),
    ('[[protocol]]\nname = "x"\n[[protocol.viewport]]\nstudy = "yesterday"\n', "study must be"),
    ('[[protocol]]\nname = "x"\n[[protocol.viewport]]\norientation = "diagonal"\n', "orientation"),
    ('[[protocol]]\nname = "x"\nlayout = [1, 1]\n[[protocol.viewport]]\n[[protocol.viewport]]\n', "do not fit"),
    ('[[protocol]\n', "hanging"),
])
def test_bad_rule_files_are_refused_with_a_reason(text, message):
    with pytest.raises(ProtocolError, match=message):
        parse_protocols(text, "hanging.toml")


def ds(uid, description="", orientation="axial", number=1, count=100, **kw):
    return DisplaySet(series_uid=uid, description=description, orientation=orientation, number=number,
                      count=count, **kw)


def test_ct_chest_places_windows_and_prior(defaults):
    protocol = defaults[0]
    current = [ds("scout", "Topogram", "", 1, 1, image_type=("ORIGINAL", "PRIMARY", "LOCALIZER")),
               ds("med", "Thorax 1.0 Mediastinum", number=2, count=300),
               ds("lung", "Thorax 1.0 Lung", number=3, count=300),
               ds("cor", "Thorax cor MPR", "coronal", 4, 80)]
    prior = [ds("pmed", "Chest soft tissue 2mm", number=5), ds("plung", "Chest lung 2mm", number=6)]
    hanging = hang(protocol, [current, prior])
    assert (hanging.rows, hanging.columns) == (2, 2)
    assert [c.display_set.series_uid for c in hanging.cells] == ["med", "pmed", "lung", "plung"]
    assert [c.rule.preset for c in hanging.cells] == ["Mediastinum", "Mediastinum", "Lung", "Lung"]
    assert [c.study_index for c in hanging.cells] == [0, 1, 0, 1]
    # Without a prior, its cells stay empty - never the current study's image in a "prior" cell.
    alone = hang(protocol, [current])
    assert [c.display_set.series_uid if c.display_set else None for c in alone.cells] == ["med", None, "lung", None]
    # One reconstruction only: both windows on the biggest axial series, the localizer never chosen.
    single = hang(protocol, [[current[0], ds("only", "Thorax 3mm", count=120), current[3]]])
    assert [c.display_set.series_uid for c in single.cells if c.display_set] == ["only", "only"]


def test_mr_brain_t1_t2_flair(defaults):
    protocol = next(p for p in defaults if p.name.startswith("MR brain"))
    series = [ds("flair", "t2_tirm_tra_dark-fluid FLAIR", number=4), ds("t2", "t2_tse_tra", number=3),
              ds("t1", "t1_se_tra", number=2), ds("t1sag", "t1_se_sag", "sagittal", 1)]
    assert [c.display_set.series_uid for c in hang(protocol, [series]).cells] == ["t1", "t2", "flair"]


def test_mammography_views_mirrored_priors_below(defaults):
    protocol = next(p for p in defaults if p.name.startswith("Mammography"))

    def header(lat, view, uid):
        d = Dataset()
        d.ImageLaterality, d.ViewPosition, d.SOPInstanceUID = lat, view, uid
        return d
    row = {"SeriesInstanceUID": "s", "StudyInstanceUID": "st", "SeriesNumber": 1, "Modality": "MG",
           "NumberOfSeriesRelatedInstances": 4}
    views = [("R", "CC"), ("L", "CC"), ("R", "MLO"), ("L", "MLO")]
    uid = {f"{lat}{v}": f"1.2.{i}" for i, (lat, v) in enumerate(views, 1)}
    uid.update({f"p{lat}{v}": f"1.3.{i}" for i, (lat, v) in enumerate(views, 1)})
    name = {v: k for k, v in uid.items()}
    current = display_sets(row, [header(lat, v, uid[f"{lat}{v}"]) for lat, v in reversed(views)])
    prior = display_sets(dict(row, SeriesInstanceUID="p"), [header(lat, v, uid[f"p{lat}{v}"]) for lat, v in views[:2]])
    hanging = hang(protocol, [current, prior])
    placed = [name[c.display_set.instance_uids[0]] if c.display_set else None for c in hanging.cells]
    assert placed == ["RCC", "LCC", "RMLO", "LMLO", "pRCC", "pLCC", None, None]
    assert [c.rule.flip for c in hanging.cells[:4]] == [False, True, False, True]


@pytest.mark.parametrize("iop,expected", [(AXIAL, "axial"), (CORONAL, "coronal"), (SAGITTAL, "sagittal"),
                                          ([1, 0, 0, 0, 0.7071, 0.7071], "oblique"), (None, "")])
def test_orientation_of(iop, expected):
    assert orientation_of(iop) == expected


def test_saved_layout_round_trips(tmp_path, defaults):
    study = StudyInfo(("CT",), ("CHEST",), "CT Thorax (low dose)")
    cells = [(0, ds("a", "Lung 1.0 [B70f]"), "Lung"), (1, ds("b", "Lung 1.0 [B70f]"), "Lung")]
    table = protocol_from_layout("Low-dose chest", study, 1, 2, cells)
    path = save_protocol(tmp_path, table)
    save_protocol(tmp_path, table)  # saved again: replaced, not duplicated
    protocols = load_protocols(tmp_path)
    assert [p.name for p in protocols].count("Low-dose chest") == 1
    chosen = matching_protocols(protocols, study, 1)[0]
    assert chosen.name == "Low-dose chest" and chosen.source == str(path)
    other = [ds("x", "Lung 1.0 [B70f] old"), ds("y", "Lung 1.0 [B70f]", number=7)]
    assert [c.display_set.series_uid for c in hang(chosen, [cells and [cells[0][1]], other]).cells] == ["a", "y"]
