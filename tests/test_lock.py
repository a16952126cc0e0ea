"""The locks in requirements/ agree with pyproject.toml, so every install gets what the project asks for.

``make run`` and ``make test`` install only from the locks (``--require-hashes --no-deps``). If someone
edits a dependency in pyproject.toml and forgets ``make lock``, installs would silently keep the old pin or
miss the new package: these tests fail instead, naming what to refresh.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "requirements"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
#: Build-time only (tools/aasist): its CPU torch wheel is not PyPI's, so it is pinned exactly, not locked.
UNLOCKED_EXTRAS = {"aasist"}
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def pins(name: str) -> dict[str, Version]:
    """``{package: version}`` of a lock, keeping only the lines whose markers hold on this interpreter."""
    found: dict[str, Version] = {}
    env = default_environment()
    for line in (LOCKS / name).read_text().splitlines():
        match = PIN.match(line)
        if not match:
            continue
        package, version, marker = match.groups()
        if marker and not Requirement(f"x; {marker}").marker.evaluate(env):  # type: ignore[union-attr]
            continue
        found[canonicalize_name(package)] = Version(version)
    return found


def wanted(*extras: str) -> list[Requirement]:
    lines = list(PROJECT["dependencies"])
    for extra in extras:
        lines += PROJECT["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def unmet(requirements: list[Requirement], locked: dict[str, Version]) -> list[str]:
    problems = []
    for req in requirements:
        if req.marker is not None and not req.marker.evaluate():
            continue
        version = locked.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{req.name} is not in the lock")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name}=={version} does not satisfy {req}")
    return problems


@pytest.mark.parametrize(
    ("lock", "extras"), [("dev.lock", ("ml", "service", "dev")), ("run.lock", ("ml", "service"))]
)
def test_lock_satisfies_pyproject(lock: str, extras: tuple[str, ...]) -> None:
    assert unmet(wanted(*extras), pins(lock)) == [], f"run `make lock`: {lock} disagrees with pyproject.toml"


def test_every_extra_is_locked_or_pinned_exactly() -> None:
    extras = set(PROJECT["optional-dependencies"])
    assert extras - UNLOCKED_EXTRAS <= {"ml", "service", "dev"}, (
        "a new extra needs a place in scripts/lock.sh"
    )
    for extra in UNLOCKED_EXTRAS:
        locked = pins("dev.lock")
        for req in wanted(extra)[len(PROJECT["dependencies"]) :]:
            exact = any(spec.operator == "==" for spec in req.specifier)
            assert exact or not unmet([req], locked), f"{req} ({extra}) is neither pinned exactly nor locked"


def test_run_and_dev_locks_agree() -> None:
    run, dev = pins("run.lock"), pins("dev.lock")
    assert {name: (version, dev.get(name)) for name, version in run.items() if dev.get(name) != version} == {}


def test_no_deps_packages_are_locked() -> None:
    for source, lock in (("nodeps.in", "nodeps.lock"), ("bootstrap.in", "bootstrap.lock")):
        lines = (LOCKS / source).read_text().splitlines()
        asked = [Requirement(line) for line in lines if line and not line.startswith("#")]
        assert asked and unmet(asked, pins(lock)) == [], f"run `make lock`: {lock} disagrees with {source}"


def test_every_locked_line_is_hashed() -> None:
    for lock in ("dev.lock", "run.lock", "nodeps.lock", "bootstrap.lock"):
        text = (LOCKS / lock).read_text()
        assert text.count("==") >= 1
        for block in re.split(r"\n(?=\S)", text):
            if PIN.match(block.splitlines()[0]):
                assert "--hash=sha256:" in block, f"{lock}: {block.splitlines()[0]}"


def test_installed_versions_are_the_locked_ones() -> None:
    """What this environment runs is what dev.lock says (catches a stale .venv as much as a wrong lock)."""
    from importlib.metadata import distributions

    locked = pins("dev.lock")
    installed = {canonicalize_name(d.metadata["Name"]): Version(d.version) for d in distributions()}
    drift = {
        n: (str(v), str(installed[n])) for n, v in locked.items() if n in installed and installed[n] != v
    }
    assert drift == {}, "the environment differs from requirements/dev.lock: run `make install-dev`"
