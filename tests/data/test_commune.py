"""The commune file is validated at start with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.commune import CommuneConfigError, load_commune_config


def test_the_sample_commune_loads() -> None:
    config = load_commune_config()
    commune = config.communes[0]
    assert commune.name == "Xã Tân Học (xã mẫu)"
    assert commune.adults == 820 + 640 + 910 + 455 + 1130
    assert commune.target_for(2026).basic_skills_share == 1.0
    assert commune.target_for(2030).year == 2026
    assert commune.target_for(2024).year == 2025


HEAD = (
    "communes:\n  - id: a\n    name: Xã A\n    province: Tỉnh\n"
    "    targets: [{year: 2025, basic_skills_share: 0.8}]\n"
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("communes: []", "communes: List should have at least 1 item"),
        ("communes:\n  - id: X Y\n    name: A\n", "communes.0.id: String should match pattern"),
        (
            HEAD + "    villages: [{id: t, name: T, adults: -3}]\n",
            "communes.0.villages.0.adults: Input should be greater",
        ),
        (
            HEAD + "    villages: [{id: t, name: T, adults: 3}, {id: t, name: U, adults: 4}]\n",
            "two villages share an id",
        ),
        ("communes: [", "invalid YAML"),
    ],
)
def test_errors_name_the_file_and_the_field(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "commune.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CommuneConfigError) as error:
        load_commune_config(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommuneConfigError, match="commune file not found"):
        load_commune_config(tmp_path / "none.yaml")
