"""requirements.txt is installed with ``--no-deps`` (README command 1, ``.ci/run``): it must pin
every package its packages need, and each at a version they accept."""

from __future__ import annotations

import re
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT


def pinned() -> dict[str, str]:
    """Package name (canonical) -> version, from requirements.txt."""
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    found = (re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip()) for line in lines if not line.startswith("#"))
    return {canonicalize_name(match.group(1)): match.group(2) for match in found if match}


def test_every_dependency_of_a_pinned_package_is_pinned_at_a_version_it_accepts() -> None:
    pins = pinned()
    assert len(pins) > 50
    missing, refused = [], []
    for name in pins:  # its requirements as installed here (in CI, the pinned version itself)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            # the extras a pinned package is installed with: none, as pip does with --no-deps
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            needed = canonicalize_name(requirement.name)
            if needed not in pins:
                missing.append(f"{name} needs {requirement}")
            elif not requirement.specifier.contains(pins[needed], prereleases=True):
                refused.append(f"{name} needs {requirement}, pinned {pins[needed]}")
    assert not missing and not refused, missing + refused
