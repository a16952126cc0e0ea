"""Typed settings, built once at the entry point (CLI, service) and passed down. Nothing reads the
environment anywhere else.

Each analyzer declares the options a deployment may change (``Analyzer.options``: a name, the policy field it
sets, a line of help); values come from a TOML file named by ``CIVICSHIELD_SETTINGS_FILE`` (a table
``[analyzers.<name>]``) and from ``CIVICSHIELD_<ANALYZER>__<OPTION>`` variables, which win. Thresholds and
confidences are not options: they are measured, and the model cards state the error rates they give.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

TrustProfile = Literal["none", "c2pa", "verify"]
TRUST_PROFILES: tuple[TrustProfile, ...] = ("none", "c2pa", "verify")
#: How a yes/no setting is written (lower case).
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class Limits:
    """Decoding limits. Anything over them is refused with ``MediaTooLarge`` before or while decoding."""

    max_bytes: int = 512 * 1024 * 1024
    max_pixels: int = 80_000_000
    # Decoded size of an image's first frame (width x height x bands x bytes per band, at least RGB), checked
    # from the header before decoding: a pixel count alone undercounts RGBA, CMYK and 32-bit modes.
    max_decoded_bytes: int = 80_000_000 * 4
    max_duration_s: float = 2 * 60 * 60.0
    max_decoded_frames: int = 250_000  # 2 h at 30 fps; bounds decoding cost independently of duration
    max_audio_samples: int = 16_000 * 60 * 60 * 3


@dataclass(frozen=True)
class Option:
    """One setting of one analyzer: the field of its policy it sets (dotted for nested policies), and why a
    deployment would change it."""

    field: str
    help: str


#: Analyzer name -> option name -> value as written (text from the environment, TOML values from the file).
AnalyzerOptions = Mapping[str, Mapping[str, object]]


@dataclass(frozen=True)
class Settings:
    """Everything configurable about an analysis run."""

    data_dir: Path = field(default_factory=lambda: Path(".civicshield"))
    limits: Limits = field(default_factory=Limits)
    trust: TrustProfile = "verify"
    # Extra C2PA trust anchors (PEM file) added to the profile's, e.g. a test CA or a national signer.
    extra_trust_anchors: Path | None = None
    analyzers: tuple[str, ...] | None = None  # None = every registered analyzer that loads
    # Analyzers this deployment must not run without: if one cannot load, starting fails instead of the
    # verdicts naming it as a missing line of evidence.
    required_analyzers: tuple[str, ...] = ()
    # Extra analyzer plugins without packaging them: "name=module:Class" (like entry points).
    plugins: tuple[str, ...] = ()
    # Opt-in: fetch Content Credentials that an asset says are stored remotely (the only network access the
    # library makes), through the egress guard, from public addresses and ``remote_manifest_networks``.
    fetch_remote_manifests: bool = False
    remote_manifest_networks: tuple[str, ...] = ()
    # Links to posts (``intake.links``) are fetched from public addresses and these networks only.
    link_networks: tuple[str, ...] = ()
    # The people and domains the ``impersonation`` analyzer looks for (``protection.watchlist``, TOML).
    watchlist: Path | None = None
    # Per-analyzer options (``Analyzer.options``), checked when the engine is built.
    analyzer_options: AnalyzerOptions = field(default_factory=dict)
    # Threads running one item's analyzers side by side (1: one after another). Most of their time is in
    # numpy, OpenCV and onnxruntime, which release the GIL.
    analysis_threads: int = 2

    @property
    def banks_dir(self) -> Path:
        return self.data_dir / "banks"

    @property
    def models_dir(self) -> Path:
        """The deployment's model registry (``civicshield.learning.registry``)."""
        return self.data_dir / "models"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Settings from ``CIVICSHIELD_*`` variables, falling back to the defaults above."""
        env = dict(os.environ if environ is None else environ)
        base = cls()
        data_dir = Path(env.get("CIVICSHIELD_DATA_DIR", str(base.data_dir)))
        trust = env.get("CIVICSHIELD_TRUST", base.trust)
        if trust not in TRUST_PROFILES:
            from civicshield.errors import ConfigurationError

            raise ConfigurationError(
                f"CIVICSHIELD_TRUST must be one of {', '.join(TRUST_PROFILES)}, not {trust!r}"
            )
        anchors = env.get("CIVICSHIELD_TRUST_ANCHORS")
        plugins = tuple(p.strip() for p in env.get("CIVICSHIELD_PLUGINS", "").split(",") if p.strip())
        only = tuple(a.strip() for a in env.get("CIVICSHIELD_ANALYZERS", "").split(",") if a.strip())
        required = tuple(
            a.strip() for a in env.get("CIVICSHIELD_REQUIRED_ANALYZERS", "").split(",") if a.strip()
        )
        fetch = env.get("CIVICSHIELD_FETCH_REMOTE_MANIFESTS", "").strip().lower() in TRUE_WORDS
        networks = tuple(
            n.strip() for n in env.get("CIVICSHIELD_REMOTE_MANIFEST_NETWORKS", "").split(",") if n.strip()
        )
        link_networks = tuple(
            n.strip() for n in env.get("CIVICSHIELD_LINK_NETWORKS", "").split(",") if n.strip()
        )
        watchlist = env.get("CIVICSHIELD_WATCHLIST", "").strip()
        threads = env.get("CIVICSHIELD_ANALYSIS_THREADS", "").strip() or str(base.analysis_threads)
        if not threads.isdigit() or not 1 <= int(threads) <= 64:
            from civicshield.errors import ConfigurationError

            raise ConfigurationError(f"CIVICSHIELD_ANALYSIS_THREADS must be 1 to 64, not {threads!r}")
        return replace(
            base,
            analysis_threads=int(threads),
            watchlist=Path(watchlist) if watchlist else None,
            analyzer_options=_analyzer_options(env),
            fetch_remote_manifests=fetch,
            remote_manifest_networks=networks,
            link_networks=link_networks,
            plugins=plugins,
            analyzers=only or None,
            required_analyzers=required,
            data_dir=data_dir,
            trust=trust,  # type: ignore[arg-type]
            extra_trust_anchors=Path(anchors) if anchors else None,
        )


def _analyzer_options(env: Mapping[str, str]) -> dict[str, dict[str, object]]:
    """``[analyzers.<name>]`` of ``CIVICSHIELD_SETTINGS_FILE``, then ``CIVICSHIELD_<NAME>__<OPTION>``."""
    from civicshield.errors import ConfigurationError

    out: dict[str, dict[str, object]] = {}
    path = env.get("CIVICSHIELD_SETTINGS_FILE", "").strip()
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"CIVICSHIELD_SETTINGS_FILE {path}: {exc}") from exc
        tables = data.get("analyzers", {})
        if not isinstance(tables, dict) or not all(isinstance(v, dict) for v in tables.values()):
            raise ConfigurationError(f"{path}: [analyzers.<name>] tables of option = value expected")
        for name, options in tables.items():
            out.setdefault(name, {}).update(options)
    for key, value in env.items():
        if key.startswith("CIVICSHIELD_") and "__" in key:
            name, _, option = key.removeprefix("CIVICSHIELD_").partition("__")
            out.setdefault(name.lower(), {})[option.lower()] = value
    return out
