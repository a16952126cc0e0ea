"""``civicshield analyze``, ``analyzers`` and ``schema``: verdicts on files, and what produces them."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from civicshield import __version__
from civicshield.analyzers.registry import AnalyzerRegistry
from civicshield.cli.console import err, out
from civicshield.cli.errors import handled
from civicshield.collect import STDIN, expand
from civicshield.errors import MediaError, UsageError
from civicshield.fusion import CAUTIONS
from civicshield.media import Media
from civicshield.pipeline import Engine
from civicshield.report import ReportItem, render_html
from civicshield.report.messages import LANGUAGES, translated
from civicshield.report.thumbnails import thumbnail
from civicshield.settings import TRUST_PROFILES, Settings
from civicshield.verdict import Verdict

T = TypeVar("T")
TrustOpt = Annotated[
    str | None,
    typer.Option(
        "--trust",
        help="C2PA trust profile: none | c2pa | verify "
        "(default verify: what Content Credentials Verify trusts).",
    ),
]
AnchorsOpt = Annotated[
    Path | None, typer.Option("--trust-anchors", help="Extra trust anchors (PEM) to accept.")
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Where banks live (default .civicshield, or $CIVICSHIELD_DATA_DIR)."),
]


def _settings(
    trust: str | None, trust_anchors: Path | None, data_dir: Path | None, analyzers: Sequence[str] | None
) -> Settings:
    settings = Settings.from_env()
    changes: dict[str, Any] = {}
    if trust is not None:
        if trust not in TRUST_PROFILES:
            raise UsageError(f"--trust must be one of {', '.join(TRUST_PROFILES)}")
        changes["trust"] = trust
    if trust_anchors is not None:
        changes["extra_trust_anchors"] = trust_anchors
    if data_dir is not None:
        changes["data_dir"] = data_dir
    if analyzers:
        changes["analyzers"] = tuple(analyzers)
    return settings.with_(**changes)


def _read_stdin(settings: Settings) -> Media:
    data = sys.stdin.buffer.read(settings.limits.max_bytes + 1)
    return Media.from_bytes(data, name="stdin", limits=settings.limits)


def _progress(total: int) -> Progress | None:
    if total < 2 or not err.is_terminal:
        return None
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def analyze_all(
    engine: Engine, paths: list[Path], want_thumbs: bool, tick: Callable[[str], None]
) -> list[ReportItem]:
    items: list[ReportItem] = []
    for path in paths:
        source = "stdin" if path == STDIN else str(path)
        tick(source)
        try:
            media = _read_stdin(engine.settings) if path == STDIN else engine.open(path)
            verdict = engine.analyze(media)
            items.append(
                ReportItem(source, verdict=verdict, thumbnail_png=thumbnail(media) if want_thumbs else None)
            )
        except MediaError as exc:
            items.append(ReportItem(source, error=exc))
    return items


def analyze(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (recursive) or - for stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (schema: civicshield schema).")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML report.")
    ] = None,
    trust: TrustOpt = None,
    trust_anchors: AnchorsOpt = None,
    data_dir: DataDirOpt = None,
    analyzer: Annotated[
        list[str] | None, typer.Option("--analyzer", "-a", help="Only these analyzers.")
    ] = None,
    fail_on: Annotated[
        list[str] | None, typer.Option("--fail-on", help="Exit 4 if any item gets this label.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show every analyzer's signal.")] = False,
    fetch_remote: Annotated[
        bool,
        typer.Option(
            "--fetch-remote-manifests",
            help="Fetch Content Credentials that a file says are stored remotely (the only network access; "
            "public addresses only; cached in the data folder).",
        ),
    ] = False,
    watchlist: Annotated[
        Path | None,
        typer.Option(
            "--watchlist",
            help="Protected people and domains (TOML, see the README): items naming them or linking to "
            "lookalikes of their domains are flagged (or $CIVICSHIELD_WATCHLIST).",
        ),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="Headlines and reasons in en, nl, fr or de (table and report).")
    ] = "en",
) -> None:
    """Analyze media and print an explained verdict per item."""
    with handled():
        if lang not in LANGUAGES:
            raise UsageError(f"--lang must be one of {', '.join(LANGUAGES)}")
        settings = _settings(trust, trust_anchors, data_dir, analyzer)
        if fetch_remote:
            settings = settings.with_(fetch_remote_manifests=True)
        if watchlist is not None:
            settings = settings.with_(watchlist=watchlist)
        targets = expand(paths)
        if not targets:
            raise UsageError("nothing to analyze (empty folder?)")
        engine = Engine.from_settings(settings)
        for missing in engine.unavailable:
            err.print(
                f"[yellow]analyzer {missing.analyzer} unavailable:[/] {missing.reason}", highlight=False
            )
        progress = _progress(len(targets))
        try:
            if progress is not None:
                with progress:
                    task = progress.add_task("analyzing", total=len(targets))
                    items = analyze_all(
                        engine,
                        targets,
                        report is not None,
                        lambda s: progress.update(task, advance=1, description=s[-40:]),
                    )
            else:
                items = analyze_all(engine, targets, report is not None, lambda s: None)
        finally:
            engine.close()
        if as_json:
            _print_json(items)
        else:
            print_table(items, verbose, lang)
        if report is not None:
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(render_html(items, lang=lang), encoding="utf-8")
            err.print(f"report written to {report}")
    labels = {str(i.verdict.label) for i in items if i.verdict is not None}
    if fail_on and labels & set(fail_on):
        raise typer.Exit(4)
    if any(i.error is not None for i in items):
        raise typer.Exit(3)


def _print_json(items: list[ReportItem]) -> None:
    payload = {
        "schema_version": 1,
        "civicshield": __version__,
        "items": [i.verdict.to_dict() for i in items if i.verdict is not None],
        "errors": [{"source": i.source, **i.error.to_dict()} for i in items if i.error is not None],
    }
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def _label_cell(verdict: Verdict, lang: str = "en") -> str:
    from civicshield.report.html import badge

    icon, text = badge(str(verdict.label), lang)
    colour = {
        "known_fake": "red",
        "impersonation_suspected": "red",
        "altered_official": "red",
        "tampered": "red",
        "authentic_provenance": "green",
        "likely_authentic": "white",  # a detector's "no sign found" is not a green light
        "possibly_synthetic": "white",  # weak signs: uncertain, not a warning
        "inconclusive": "white",
    }.get(str(verdict.label), "yellow")
    return f"[bold {colour}]{icon} {text}[/]"


def print_table(items: list[ReportItem], verbose: bool, lang: str = "en") -> None:
    table = Table(show_lines=True, title="CivicShield verdicts")
    table.add_column("item", overflow="fold", max_width=40)
    table.add_column("verdict")
    table.add_column("conf.", justify="right")
    table.add_column("why", overflow="fold")
    for item in items:
        if item.error is not None:
            table.add_row(item.source, f"[red]✖ {item.error.code}[/]", "", item.error.message)
            continue
        if item.verdict is None:
            continue
        v = item.verdict
        reasons = translated(v.to_dict(), lang)["verdict"]["reasons"]
        shown = (
            reasons
            if verbose
            else [r for r in reasons if r["decisive"] or r["code"] in CAUTIONS] or reasons[:3]
        )
        why = "\n".join(
            f"{'▶ ' if r['decisive'] else '• '}[dim]{r['analyzer']}[/] {r['text']}" for r in shown
        )
        if v.unavailable:
            why += "\n[yellow]not checked:[/] " + ", ".join(u.analyzer for u in v.unavailable)
        table.add_row(item.source, _label_cell(v, lang), f"{100 * v.confidence:.0f} %", why)
    out.print(table)


def list_analyzers(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the analyzers and whether each one loads here (models are loaded to find out), with the reason
    for each that does not."""
    with handled():
        settings = Settings.from_env()
        registry = AnalyzerRegistry.discover(plugins=settings.plugins)
        lineup = registry.assemble(settings, settings.analyzers)
        for analyzer in lineup.analyzers:
            analyzer.close()
    ready = {a.name for a in lineup.analyzers}
    off = (
        []
        if settings.analyzers is not None
        else sorted(set(registry.names()) - set(registry.default_names()))
    )
    if as_json:
        payload = {
            "ready": sorted(ready),
            "off_by_default": off,
            "unavailable": [u.to_dict() for u in lineup.unavailable],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    table = Table(title="Analyzers")
    table.add_column("name")
    table.add_column("status")
    table.add_column("media")
    table.add_column("description", overflow="fold")
    for name in sorted(ready):
        cls = registry.get(name)
        kinds = ", ".join(sorted(str(k) for k in cls.kinds))
        table.add_row(name, "[green]ready[/]", kinds, cls.description)
    for name in off:
        cls = registry.get(name)
        kinds = ", ".join(sorted(str(k) for k in cls.kinds))
        table.add_row(name, f"off by default (-a {name})", kinds, cls.description)
    for missing in lineup.unavailable:
        table.add_row(
            missing.analyzer, "[red]unavailable[/]", ", ".join(sorted(missing.kinds)), missing.reason
        )
    out.print(table)


def schema() -> None:
    """Print the JSON Schema of `analyze --json` items."""
    from importlib import resources

    sys.stdout.write(resources.files("civicshield").joinpath("data/schema/verdict-1.json").read_text("utf-8"))
