"""pyproject.toml's package-data names files that exist (a pattern matching nothing is stale)."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_data_pattern_matches_a_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package_data = config["tool"]["setuptools"]["package-data"]
    empty = [
        f"{package}: {pattern}"
        for package, patterns in package_data.items()
        for pattern in patterns
        if not any(path.is_file() for path in (ROOT / package).glob(pattern))
    ]
    assert not empty, f"package-data patterns that match no file: {empty}"
