"""Window presets per modality in the settings: fixed keys, kept in settings.toml, validated."""

from __future__ import annotations

import pytest

from workstation.config import SettingsError, WindowPresetSetting, load_settings


def test_default_ct_presets_are_on_fixed_keys(tmp_path):
    s = load_settings(tmp_path)
    ct = s.window_presets_for("CT")
    assert [(p.name, p.center, p.width) for p in ct[:4]] == [
        ("Brain", 40, 80), ("Subdural", 75, 215), ("Stroke", 40, 40), ("Lung", -600, 1500)]
    assert len(ct) == 9
    # Other modalities: windows over the histogram, not absolute values.
    mr = s.window_presets_for("MR")
    assert mr and mr[0].percentiles == [1.0, 99.0] and s.window_presets_for(None) == mr


def test_presets_survive_a_save_and_load(tmp_path):
    s = load_settings(tmp_path)
    s.window_presets["MR"] = [WindowPresetSetting("T2 brain", 600, 1200), WindowPresetSetting("Auto", percentiles=[2, 98])]
    s.validate()
    s.save()
    again = load_settings(tmp_path)
    mr = again.window_presets_for("mr")
    assert [(p.name, p.center, p.width, p.percentiles) for p in mr] == [
        ("T2 brain", 600, 1200, []), ("Auto", 0, 0, [2.0, 98.0])]
    assert again.window_presets_for("CT")[3].name == "Lung"


def test_a_file_without_presets_gets_the_defaults(tmp_path):
    (tmp_path / "settings.toml").write_text('ae_title = "X"\n')
    assert load_settings(tmp_path).window_presets_for("CT")[0].name == "Brain"


@pytest.mark.parametrize("preset", [
    '{ name = "Bad", center = 40, width = 0 }',
    '{ name = "Bad", percentiles = [99, 1] }',
    '{ name = "", center = 40, width = 80 }',
])
def test_bad_presets_are_refused_with_a_message(tmp_path, preset):
    (tmp_path / "settings.toml").write_text(f"[window_presets]\nCT = [{preset}]\n")
    with pytest.raises(SettingsError, match="preset"):
        load_settings(tmp_path)


def test_presets_are_not_a_config_set_key(tmp_path):
    with pytest.raises(SettingsError, match="unknown setting"):
        load_settings(tmp_path).set("window_presets", "x")
