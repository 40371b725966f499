"""Configuration: the shipped files load, and every malformed input fails with a clear message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config import ConfigError, get_config, load_config
from config.loader import CONFIG_DIR


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    for name in ("areas.toml", "crime_groups.toml", "settings.toml"):
        shutil.copy(CONFIG_DIR / name, tmp_path / name)
    return tmp_path


def test_shipped_config_has_the_four_csps_and_the_required_groups():
    config = get_config()
    assert {a.code: a.short_name for a in config.areas} == {
        "E06000010": "Hull", "E06000011": "East Riding of Yorkshire",
        "E06000012": "North East Lincolnshire", "E06000013": "North Lincolnshire"}
    names = [g.name for g in config.crime_groups]
    assert names == ["Serious violence (police.uk proxy)", "Violence and sexual offences",
                     "Robbery", "Weapons", "Public order and ASB (precursors)", "All crime"]
    assert config.crime_group("Serious violence (police.uk proxy)").types == (
        "Violence and sexual offences", "Robbery", "Possession of weapons")
    assert config.default_crime_group == "Serious violence (police.uk proxy)"


def test_every_setting_is_documented_and_its_default_in_bounds():
    for setting in get_config().settings.values():
        assert len(setting.help) > 20, setting.name
        if setting.min is not None:
            assert setting.min <= setting.default <= setting.max, setting.name
        if setting.choices:
            assert setting.default in setting.choices


def test_misspelt_setting_key_names_the_file_and_suggests_the_right_one(config_copy):
    text = (config_copy / "settings.toml").read_text().replace("[kde_bandwidth]\ndefault",
                                                             "[kde_bandwidth]\ndefualt")
    (config_copy / "settings.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"Unknown key 'defualt' in settings.toml "
                                          r"\[kde_bandwidth\] \(did you mean 'default'\?\)"):
        load_config(config_copy)


def test_default_out_of_bounds_is_refused(config_copy):
    text = (config_copy / "settings.toml").read_text().replace("default = 250.0",
                                                             "default = 5000.0")
    (config_copy / "settings.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"must lie in \[50.0, 2000.0\]. Got 5000.0"):
        load_config(config_copy)


def test_bad_area_code_is_refused(config_copy):
    text = (config_copy / "areas.toml").read_text().replace('"E06000010"', '"Hull"')
    (config_copy / "areas.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"must be a LAD code such as 'E06000010'. Got 'Hull'"):
        load_config(config_copy)


def test_unknown_default_group_is_refused(config_copy):
    path = config_copy / "crime_groups.toml"
    path.write_text(path.read_text().replace('default = "Serious violence (police.uk proxy)"',
                                             'default = "Knife crime"'))
    with pytest.raises(ConfigError, match=r"'default' in crime_groups.toml must name one"):
        load_config(config_copy)


def test_missing_file_and_invalid_toml_are_reported(config_copy):
    (config_copy / "areas.toml").write_text("[region\n")
    with pytest.raises(ConfigError, match=r"areas.toml is not valid TOML"):
        load_config(config_copy)
    (config_copy / "areas.toml").unlink()
    with pytest.raises(ConfigError, match=r"areas.toml is missing"):
        load_config(config_copy)


def test_lookups_name_what_is_known():
    config = get_config()
    with pytest.raises(KeyError, match="known codes"):
        config.area("E06000099")
    with pytest.raises(KeyError, match="did you mean 'kde_bandwidth'"):
        config.setting("kde_bandwith")
