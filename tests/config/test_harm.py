"""Harm weights: the shipped file covers every crime type; bad files fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, get_config
from config.harm import get_harm_weights, load_harm_weights

TYPES = ("Robbery", "Drugs")


def test_shipped_weights_cover_all_crime():
    weights = get_harm_weights()
    all_crime = get_config().crime_group("All crime").types
    assert set(weights.weights) == set(all_crime)
    assert weights["Anti-social behaviour"] == 0.0
    assert weights["Robbery"] > weights["Violence and sexual offences"] > weights["Shoplifting"]
    with pytest.raises(KeyError, match="harm_weights.toml"):
        weights["Murder"]


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "harm_weights.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_unknown_type_names_file_and_key(tmp_path):
    path = _write(tmp_path, '[weights]\n"Robbery" = 1\n"Drugs" = 2\n"Robery" = 3\n')
    with pytest.raises(ConfigError, match=r"Unknown crime type 'Robery'.*did you mean 'Robbery'"):
        load_harm_weights(path, crime_types=TYPES)


def test_missing_type(tmp_path):
    path = _write(tmp_path, '[weights]\n"Robbery" = 1\n')
    with pytest.raises(ConfigError, match=r"no weight for crime type\(s\) \['Drugs'\]"):
        load_harm_weights(path, crime_types=TYPES)


@pytest.mark.parametrize("value", ["-1", '"high"', "true", "nan"])
def test_bad_weight(tmp_path, value):
    path = _write(tmp_path, f'[weights]\n"Robbery" = {value}\n"Drugs" = 2\n')
    with pytest.raises(ConfigError, match="must be a non-negative number"):
        load_harm_weights(path, crime_types=TYPES)


def test_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_harm_weights(tmp_path / "none.toml", crime_types=TYPES)
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_harm_weights(_write(tmp_path, "[weights"), crime_types=TYPES)
    with pytest.raises(ConfigError, match="non-empty \\[weights\\]"):
        load_harm_weights(_write(tmp_path, 'source = "x"\n'), crime_types=TYPES)
    with pytest.raises(ConfigError, match="Unknown key"):
        load_harm_weights(_write(tmp_path, 'colour = "x"\n[weights]\n"Robbery" = 1\n'),
                          crime_types=TYPES)
    with pytest.raises(ConfigError, match="'source'"):
        load_harm_weights(_write(tmp_path, 'source = 3\n[weights]\n"Robbery" = 1\n'),
                          crime_types=TYPES)
