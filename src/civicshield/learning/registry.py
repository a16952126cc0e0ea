"""The model registry: versions of a detector with their cards and measurements, and which one decides.

A deployment's registry is a folder under its data folder (``Settings.models_dir``)::

    registry.json                      which version is active / in shadow, every version, the history
    <model>/<version>/head.json        the model file (its sha256 is in registry.json)
    <model>/<version>/MODEL_CARD.md    what it was trained on and what was measured

Nothing is downloaded and nothing loads unverified: an analyzer loads the active (or shadow) file only
after its sha256 matches the one recorded at registration, so an edited file is a load failure
(``AnalyzerUnavailable``), never a silently different detector. With no active version, the analyzer uses
the model shipped in the package. States move only by these steps, each recorded with who and why:
``register`` (a candidate) → ``shadow`` (scored beside the model in use, deciding nothing) → ``promote``
(only if ``PromotionPolicy`` accepts the measured comparison) → ``retire`` (back to the shipped model or
out of shadow). Writes are atomic and serialised by a lock file, so a worker reading while an operator
promotes sees the old or the new registry, never half of one.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civicshield.errors import ConfigurationError, Conflict, NotFound, UsageError
from civicshield.learning.promotion import Comparison, Decision, PromotionPolicy

__all__ = ["FORMAT", "ModelRegistry", "RegisteredModel"]

FORMAT = "civicshield.model-registry/1"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,63}$")
MODEL_FILE = "head.json"
CARD_FILE = "MODEL_CARD.md"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _checked(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(f"{kind} {name!r}: lower-case letters, digits and . _ + - only (at most 64)")
    return name


@dataclass(frozen=True)
class RegisteredModel:
    model: str
    version: str
    sha256: str
    registered_at: str
    state: str  # candidate | shadow | active | retired
    comparison: Comparison
    note: str
    folder: Path

    @property
    def file(self) -> Path:
        return self.folder / MODEL_FILE

    @property
    def card(self) -> Path:
        return self.folder / CARD_FILE


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._index = root / "registry.json"

    # -- reading ---------------------------------------------------------------------------------------
    def _read(self) -> dict[str, Any]:
        if not self._index.is_file():
            return {"format": FORMAT, "models": {}}
        try:
            raw = json.loads(self._index.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"model registry {self._index} is unreadable: {exc}") from exc
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ConfigurationError(f"{self._index} is not a civicshield model-registry file ({FORMAT})")
        return raw

    def _model(self, data: Mapping[str, Any], model: str) -> dict[str, Any]:
        found: dict[str, Any] = data["models"].get(model) or {
            "active": None,
            "shadow": None,
            "versions": {},
            "history": [],
        }
        return found

    def _entry(self, model: str, version: str, block: Mapping[str, Any]) -> RegisteredModel:
        raw = block["versions"][version]
        state = (
            "active"
            if block.get("active") == version
            else "shadow"
            if block.get("shadow") == version
            else "retired"
            if raw.get("retired")
            else "candidate"
        )
        return RegisteredModel(
            model=model,
            version=version,
            sha256=str(raw["sha256"]),
            registered_at=str(raw["registered_at"]),
            state=state,
            comparison=Comparison.from_dict(raw["comparison"]),
            note=str(raw.get("note", "")),
            folder=self.root / model / version,
        )

    def versions(self, model: str) -> list[RegisteredModel]:
        block = self._model(self._read(), model)
        return [self._entry(model, v, block) for v in block["versions"]]

    def get(self, model: str, version: str) -> RegisteredModel:
        block = self._model(self._read(), model)
        if version not in block["versions"]:
            raise NotFound(f"{model} has no registered version {version!r}")
        return self._entry(model, version, block)

    def history(self, model: str) -> list[dict[str, Any]]:
        return list(self._model(self._read(), model)["history"])

    def _in(self, model: str, role: str) -> RegisteredModel | None:
        block = self._model(self._read(), model)
        version = block.get(role)
        return self._entry(model, version, block) if version else None

    def active(self, model: str) -> RegisteredModel | None:
        """The promoted version (``None``: the shipped model decides). Load its file only through
        ``weights.verified(entry.file, entry.sha256, …)``."""
        return self._in(model, "active")

    def shadow(self, model: str) -> RegisteredModel | None:
        """The version scored alongside the active one, if any (verify its file the same way)."""
        return self._in(model, "shadow")

    # -- writing ---------------------------------------------------------------------------------------
    @contextmanager
    def _changing(self) -> Iterator[dict[str, Any]]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self._read()
            yield data
            tmp = self._index.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            tmp.replace(self._index)

    @staticmethod
    def _log(block: dict[str, Any], action: str, version: str, actor: str, reason: str) -> None:
        block["history"].append(
            {"at": _now(), "action": action, "version": version, "by": actor, "reason": reason}
        )

    def register(
        self,
        model: str,
        version: str,
        *,
        model_file: bytes,
        card: str,
        comparison: Comparison,
        sha256: str,
        actor: str,
        note: str = "",
    ) -> RegisteredModel:
        """Add a candidate (never overwrites a version: a new measurement is a new version)."""
        _checked("model", model)
        _checked("version", version)
        folder = self.root / model / version
        with self._changing() as data:
            block = data["models"].setdefault(model, self._model(data, model))
            if version in block["versions"] or folder.exists():
                raise Conflict(f"{model} {version} is already registered: choose a new version name")
            if hashlib.sha256(model_file).hexdigest() != sha256:
                raise UsageError(f"{model} {version}: the model file does not have the sha256 given")
            folder.mkdir(parents=True)
            (folder / MODEL_FILE).write_bytes(model_file)
            (folder / CARD_FILE).write_text(card, encoding="utf-8")
            block["versions"][version] = {
                "sha256": sha256,
                "registered_at": _now(),
                "comparison": comparison.to_dict(),
                "note": note,
            }
            self._log(block, "register", version, actor, note)
        return self.get(model, version)

    def start_shadow(self, model: str, version: str, *, actor: str) -> RegisteredModel:
        """Score ``version`` beside the active model from the next analyzer start on; it decides nothing."""
        with self._changing() as data:
            block = self._model(data, model)
            entry = self._entry(model, version, block) if version in block["versions"] else None
            if entry is None:
                raise NotFound(f"{model} has no registered version {version!r}")
            if entry.state in ("active", "retired"):
                raise Conflict(f"{model} {version} is {entry.state}: only a candidate goes into shadow")
            block["shadow"] = version
            self._log(block, "shadow", version, actor, "")
        return self.get(model, version)

    def promote(
        self, model: str, version: str, *, actor: str, policy: PromotionPolicy | None = None
    ) -> Decision:
        """Make ``version`` the active model if it has run in shadow and ``policy`` accepts its comparison
        with the model now in use; otherwise ``Conflict`` with the policy's reasons (nothing changes)."""
        policy = policy or PromotionPolicy()
        with self._changing() as data:
            block = self._model(data, model)
            if version not in block["versions"]:
                raise NotFound(f"{model} has no registered version {version!r}")
            entry = self._entry(model, version, block)
            if entry.state != "shadow":
                raise Conflict(
                    f"{model} {version} is {entry.state}: a version is promoted only after running in shadow"
                )
            in_use = block.get("active") or "shipped"
            if entry.comparison.active_version != in_use:
                raise Conflict(
                    f"{model} {version} was measured against {entry.comparison.active_version}, but "
                    f"{in_use} is in use now: train and measure it again"
                )
            decision = policy.decide(entry.comparison)
            if not decision.approved:
                self._log(block, "promotion refused", version, actor, "; ".join(decision.reasons))
                data["models"][model] = block
            else:
                block["active"], block["shadow"] = version, None
                self._log(block, "promote", version, actor, "; ".join(decision.reasons))
                data["models"][model] = block
        if not decision.approved:
            raise Conflict(
                f"{model} {version} is not promoted: " + "; ".join(decision.refusals),
                detail={"reasons": list(decision.reasons)},
            )
        return decision

    def retire(self, model: str, version: str, *, actor: str, reason: str) -> RegisteredModel:
        """Stop using ``version``, active or in shadow (the active role falls back to the shipped model)."""
        if not reason.strip():
            raise UsageError("retiring a model needs a reason")
        with self._changing() as data:
            block = self._model(data, model)
            if version not in block["versions"]:
                raise NotFound(f"{model} has no registered version {version!r}")
            for role in ("active", "shadow"):
                if block.get(role) == version:
                    block[role] = None
            block["versions"][version]["retired"] = True
            self._log(block, "retire", version, actor, reason.strip())
        return self.get(model, version)
