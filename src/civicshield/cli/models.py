"""``civicshield models ...``: the deployment's model registry (``civicshield.learning.registry``).

``train feedback-probe`` registers a candidate learnt from reviewers; ``models shadow`` makes the workers
score it beside the model in use (from their next start; it decides nothing); ``models promote`` makes it
decide, only if the promotion rule accepts its measured comparison; ``models retire`` goes back.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from civicshield.cli.console import out
from civicshield.cli.errors import handled
from civicshield.learning.promotion import Comparison
from civicshield.learning.registry import ModelRegistry
from civicshield.settings import Settings

__all__ = ["comparison_table", "models_app", "registry_of"]

models_app = typer.Typer(help="Detector versions: candidates, shadow, promotion.", no_args_is_help=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="The deployment's data folder.")]
Model = Annotated[str, typer.Option("--model", help="Which detector.")]
Version = Annotated[str, typer.Argument(help="A registered version.")]


def registry_of(data_dir: Path | None) -> ModelRegistry:
    settings = Settings.from_env()
    if data_dir is not None:
        settings = settings.with_(data_dir=data_dir)
    return ModelRegistry(settings.models_dir)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def comparison_table(c: Comparison) -> list[str]:
    """The comparison as a Markdown table (the model card and the notes quote it)."""
    ra, rc, ca, cc = c.reviewed_active, c.reviewed_candidate, c.check_active, c.check_candidate
    return [
        f"| measured on the same items | in use ({c.active_version}) | candidate |",
        "|---|---|---|",
        f"| reviewed AI-generated caught (out of fold) | {ra.caught} of {ra.ai} | {rc.caught} of {rc.ai} |",
        f"| reviewed genuine flagged | {ra.flagged} of {ra.genuine} | {rc.flagged} of {rc.genuine} |",
        f"| genuine check photos flagged | {ca.flagged} of {ca.genuine} | {cc.flagged} of {cc.genuine} |",
    ]


@models_app.command("list")
def list_models(model: Model = "clip_detector", data_dir: DataDir = None) -> None:
    """Every registered version with its state; the shipped model decides while none is active."""
    with handled():
        registry = registry_of(data_dir)
        versions = registry.versions(model)
        active = registry.active(model)
        out.print(f"{model}: in use {active.version if active else 'shipped'}")
        for v in versions:
            out.print(f"  {v.version:24} {v.state:9} registered {v.registered_at}  sha256 {v.sha256[:12]}")


@models_app.command("show")
def show(version: Version, model: Model = "clip_detector", data_dir: DataDir = None) -> None:
    """A version's comparison with the model it was measured against, and what promotion would say."""
    with handled():
        entry = registry_of(data_dir).get(model, version)
        out.print(f"{model} {entry.version}: {entry.state}")
        out.print("\n".join(comparison_table(entry.comparison)))
        out.print(f"model card: {entry.card}")


@models_app.command("shadow")
def shadow(version: Version, model: Model = "clip_detector", data_dir: DataDir = None) -> None:
    """Score VERSION beside the model in use (workers pick it up when they start); it decides nothing."""
    with handled():
        registry_of(data_dir).start_shadow(model, version, actor=_actor())
        out.print(f"{model} {version} runs in shadow from the next start of each worker")


@models_app.command("promote")
def promote(version: Version, model: Model = "clip_detector", data_dir: DataDir = None) -> None:
    """Make VERSION decide, if it ran in shadow and the promotion rule accepts its measurements."""
    with handled():
        decision = registry_of(data_dir).promote(model, version, actor=_actor())
        out.print(f"{model} {version} promoted; it decides from the next start of each worker")
        for reason in decision.reasons:
            out.print(f"  - {reason}")


@models_app.command("retire")
def retire(
    version: Version,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the registry's history).")],
    model: Model = "clip_detector",
    data_dir: DataDir = None,
) -> None:
    """Stop using VERSION (active or in shadow); the shipped model decides again if it was active."""
    with handled():
        registry_of(data_dir).retire(model, version, actor=_actor(), reason=reason)
        out.print(f"{model} {version} retired")


@models_app.command("history")
def history(model: Model = "clip_detector", data_dir: DataDir = None) -> None:
    """Every registration, shadow start, promotion (and refusal) and retirement, with who and why."""
    with handled():
        for h in registry_of(data_dir).history(model):
            out.print(f"{h['at']}  {h['action']:18} {h['version']:20} {h['by']}  {h['reason']}")
