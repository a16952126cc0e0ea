"""``civicshield``: the command line. A thin shell over the library; errors are rendered in one place.

Exit codes (also in the README):
    0  every item was analyzed (whatever the verdicts)
    1  internal error (a bug: please report it)
    2  usage or configuration error (bad arguments, unknown analyzer, bad bank file)
    3  at least one item could not be analyzed (unsupported, corrupt or too large); the others are reported
    4  ``--fail-on LABEL`` matched at least one item
    5  signing failed
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from civicshield import __version__
from civicshield.analyzers.registry import AnalyzerRegistry
from civicshield.cli_errors import handled, render_error
from civicshield.collect import STDIN, expand
from civicshield.errors import CivicShieldError, ConfigurationError, MediaError, UsageError
from civicshield.fusion import CAUTIONS
from civicshield.media import Media
from civicshield.pipeline import Engine
from civicshield.report import ReportItem, render_html
from civicshield.report.thumbnails import thumbnail
from civicshield.settings import TRUST_PROFILES, Settings
from civicshield.verdict import Verdict

app = typer.Typer(
    name="civicshield",
    help="Explained verdicts on images, video and audio.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")


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


def _analyze_all(
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


@app.command()
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
) -> None:
    """Analyze media and print an explained verdict per item."""
    with handled():
        settings = _settings(trust, trust_anchors, data_dir, analyzer)
        if fetch_remote:
            settings = settings.with_(fetch_remote_manifests=True)
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
                    items = _analyze_all(
                        engine,
                        targets,
                        report is not None,
                        lambda s: progress.update(task, advance=1, description=s[-40:]),
                    )
            else:
                items = _analyze_all(engine, targets, report is not None, lambda s: None)
        finally:
            engine.close()
        if as_json:
            _print_json(items)
        else:
            _print_table(items, verbose)
        if report is not None:
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(render_html(items), encoding="utf-8")
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


def _label_cell(verdict: Verdict) -> str:
    from civicshield.report.html import LABEL_TEXT

    icon, text = LABEL_TEXT[str(verdict.label)]
    colour = {
        "known_fake": "red",
        "altered_official": "red",
        "tampered": "red",
        "authentic_provenance": "green",
        "likely_authentic": "white",  # a detector's "no sign found" is not a green light
        "inconclusive": "white",
    }.get(str(verdict.label), "yellow")
    return f"[bold {colour}]{icon} {text}[/]"


def _print_table(items: list[ReportItem], verbose: bool) -> None:
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
        shown = (
            list(v.reasons)
            if verbose
            else [r for r in v.reasons if r.decisive or r.code in CAUTIONS] or list(v.reasons[:3])
        )
        why = "\n".join(f"{'▶ ' if r.decisive else '• '}[dim]{r.analyzer}[/] {r.text}" for r in shown)
        if v.unavailable:
            why += "\n[yellow]not checked:[/] " + ", ".join(u.analyzer for u in v.unavailable)
        table.add_row(item.source, _label_cell(v), f"{100 * v.confidence:.0f} %", why)
    out.print(table)


@app.command("analyzers")
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
    if as_json:
        payload = {
            "ready": sorted(ready),
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
    for missing in lineup.unavailable:
        table.add_row(
            missing.analyzer, "[red]unavailable[/]", ", ".join(sorted(missing.kinds)), missing.reason
        )
    out.print(table)


@app.command()
def schema() -> None:
    """Print the JSON Schema of `analyze --json` items."""
    from importlib import resources

    sys.stdout.write(resources.files("civicshield").joinpath("data/schema/verdict-1.json").read_text("utf-8"))


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the demo media, banks and report.")
    ] = Path("out/demo"),
) -> None:
    """Generate a demo set (posters, clips, audio; no faces), analyze it and write out/demo/report.html."""
    from civicshield.demo.builder import build

    with handled():
        demo_set = build(out_dir)
        engine = Engine.from_settings(demo_set.settings)
        targets = sorted(demo_set.media_dir.iterdir())
        try:
            items = _analyze_all(engine, targets, True, lambda s: None)
        finally:
            engine.close()
        _print_table(items, verbose=False)
        report = out_dir / "report.html"
        report.write_text(render_html(items, title="CivicShield demo report"), encoding="utf-8")
        wrong = [
            (i.source, demo_set.expected.get(Path(i.source).name), i.verdict.label if i.verdict else i.error)
            for i in items
            if (str(i.verdict.label) if i.verdict else None) != demo_set.expected.get(Path(i.source).name)
        ]
        for source, expected, got in wrong:
            err.print(f"[red]demo item {source}: expected {expected}, got {got}[/]")
        out.print(f"\nReport: [bold]{report.resolve()}[/]  (open it in a browser)")
        out.print(
            f"Try: .venv/bin/civicshield analyze {demo_set.media_dir} "
            f"--data-dir {demo_set.settings.data_dir} --trust-anchors {demo_set.settings.extra_trust_anchors}"
        )
    if wrong:
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Start the embedded worker.")] = True,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Seed demo organizations, users and items; webhooks may also reach receivers on loopback "
            "unless CIVICSHIELD_WEBHOOK_ALLOWED_NETWORKS says otherwise.",
        ),
    ] = False,
) -> None:
    """Run the coordination service (API + embedded analysis worker) on the configured database."""
    with handled():
        from civicshield.service.runner import serve as run_service
        from civicshield.service.settings import ServiceSettings

        settings = ServiceSettings.from_env()
        if "CIVICSHIELD_BASE_URL" not in os.environ:  # links (set-up, fact-checks, passkeys) name this server
            shown = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104 - a comparison
            settings = settings.with_(base_url=f"http://{shown}:{port}")
        if demo:
            settings = _seed_demo(settings)
            out.print(
                f"\nCivicShield at [bold]http://{host}:{port}/[/]  (public check: /verify, API docs: /docs)"
            )
        err.print(
            f"public links (fact-checks, alerts, sign-in links) point to [bold]{settings.base_url}[/]"
            + ("" if "CIVICSHIELD_BASE_URL" in os.environ else "; set CIVICSHIELD_BASE_URL to change it"),
            highlight=False,
        )
        run_service(settings, host=host, port=port, worker=worker)


def _seed_demo(settings: Any) -> Any:
    """Build the demo set, point analysis at its banks and trust anchor, let webhooks reach loopback
    receivers, seed the database, print a login."""
    from civicshield.demo.builder import build
    from civicshield.egress import LOOPBACK
    from civicshield.service import compose
    from civicshield.service.seed import seed

    demo_dir = settings.data_dir / "demo"
    fresh = not (demo_dir / "media").is_dir()
    demo_set = build(demo_dir, data_dir=settings.data_dir) if fresh else None
    anchors = (demo_dir / "work" / "certs" / "demo-ca.pem").resolve()
    os.environ["CIVICSHIELD_TRUST_ANCHORS"] = str(anchors)  # the embedded worker inherits it
    settings = settings.with_(analysis=settings.analysis.with_(extra_trust_anchors=anchors))
    if "CIVICSHIELD_WEBHOOK_ALLOWED_NETWORKS" not in os.environ:  # a demo's receiver runs on this machine
        settings = settings.with_(webhook_allowed_networks=LOOPBACK)
    rt = compose.runtime(settings)
    login = seed(rt, demo_set.media_dir if demo_set else None)
    rt.db.dispose()
    out.print(f"Demo login: [bold]{login.email}[/] / [bold]{login.password}[/] (demo data only)")
    return settings


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Parallel jobs in this process.")] = 1,
    hostname: Annotated[str | None, typer.Option(help="Celery node name.")] = None,
) -> None:
    """Run an analysis worker against $CIVICSHIELD_BROKER_URL (Redis / RabbitMQ) and the shared database.
    Needs $CIVICSHIELD_BASE_URL (``serve`` sets it for the worker it starts itself)."""
    with handled():
        from civicshield.service.runner import run_worker
        from civicshield.service.settings import ServiceSettings

        if not os.environ.get("CIVICSHIELD_BASE_URL"):
            raise ConfigurationError(
                "set CIVICSHIELD_BASE_URL to the address people reach the service at (e.g. "
                "https://civicshield.example.org): the links in alerts, webhooks and fact-checks this worker "
                "sends are built from it, and a guessed one would point nowhere"
            )
        run_worker(ServiceSettings.from_env(), concurrency=concurrency, hostname=hostname)


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


def _register_subcommands() -> None:
    from civicshield.cli_admin import admin_app
    from civicshield.cli_bank import bank_app
    from civicshield.cli_eval import register as register_eval
    from civicshield.cli_sign import sign

    app.add_typer(bank_app, name="bank")
    app.add_typer(admin_app, name="admin")
    app.command("sign")(sign)
    register_eval(app)


_register_subcommands()


def main() -> None:
    try:
        app()
    except CivicShieldError as exc:  # errors raised outside a command's own handler
        render_error(exc)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
