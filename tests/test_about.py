"""Help ▸ About: versions and licences of what this build is made of."""

from workstation.about import component_versions


def test_versions_name_the_decoders_and_licences():
    names = {name: (version, licence) for name, version, _role, licence in component_versions()}
    assert names["workstation"][1] == "MIT"
    for dist in ("pydicom", "pynetdicom", "python-gdcm", "PySide6-Essentials"):
        assert names[dist][0][0].isdigit()
    assert "LGPL" in names["PySide6-Essentials"][1]
