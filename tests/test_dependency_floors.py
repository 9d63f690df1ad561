"""R10: dependencies with a security history are installed at or above the floors in docs/operations.md.

The table in the "Dependency floors" section of docs/operations.md is the one source: package → floor →
advisories. This test reads it, checks that every package we parse untrusted input or HTTP with is listed,
and fails when an installed version is below its floor (no vulnerability database is reachable from the
build machines, so this stands in for ``pip-audit``).
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = ROOT / "docs" / "operations.md"
# Packages that parse untrusted bytes or HTTP in this service; each must have a floor in the table.
REQUIRED = ("pypdf", "starlette", "python-multipart", "fastapi", "uvicorn", "lxml", "h11")
# Installed only with optional extras (jinja2 comes with torch in the `st` extra): checked when present.
OPTIONAL = ("jinja2",)
_ROW = re.compile(r"^\|\s*`?([A-Za-z0-9_.-]+)`?\s*\|\s*`?(\d[0-9A-Za-z.]*)`?\s*\|(.*)\|\s*$")


def _floors() -> dict[str, tuple[str, str]]:
    """package (lower case) → (floor, advisories) from the "Dependency floors" table."""
    text = OPERATIONS.read_text(encoding="utf-8")
    match = re.search(r"^## Dependency floors\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"{OPERATIONS} has no '## Dependency floors' section"
    rows = {}
    for line in match.group(1).splitlines():
        row = _ROW.match(line.strip())
        if row and row.group(1).lower() != "package":
            rows[row.group(1).lower()] = (row.group(2), row.group(3).strip())
    return rows


def test_every_security_relevant_package_has_a_documented_floor() -> None:
    floors = _floors()
    missing = [p for p in (*REQUIRED, *OPTIONAL) if p not in floors]
    assert not missing, f"docs/operations.md has no floor for {missing}"
    for package, (floor, advisories) in floors.items():
        Version(floor)  # a floor that does not parse is a typo
        assert re.search(r"CVE-\d{4}-\d+|GHSA-[\w-]+|PYSEC-\d{4}-\d+", advisories), (
            f"the floor of {package} cites no advisory; name the CVE/GHSA it fixes"
        )


@pytest.mark.parametrize("package", [*REQUIRED, *OPTIONAL])
def test_installed_version_is_at_or_above_its_floor(package: str) -> None:
    floor, advisories = _floors()[package]
    try:
        installed = metadata.version(package)
    except metadata.PackageNotFoundError:
        if package in OPTIONAL:
            pytest.skip(f"{package} is not installed (optional extra)")
        raise
    assert Version(installed) >= Version(floor), (
        f"{package}=={installed} is below the floor {floor} ({advisories}); upgrade it and pin the new "
        "version in pyproject.toml"
    )


def test_pinned_versions_in_pyproject_are_at_or_above_their_floors() -> None:
    """A clean clone installs the pins, so the pins themselves must clear the floors."""
    pins = dict(re.findall(r'"([A-Za-z0-9_.-]+)==([0-9][0-9A-Za-z.]*)"',
                           (ROOT / "pyproject.toml").read_text(encoding="utf-8")))
    pins = {name.lower(): version for name, version in pins.items()}
    for package, (floor, _) in _floors().items():
        if package in pins:
            assert Version(pins[package]) >= Version(floor), f"pyproject pins {package}=={pins[package]} < {floor}"
