"""``civicshield serve``, ``worker`` and ``demo``: the coordination service and the demo set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from civicshield.cli.analyze import analyze_all, print_table
from civicshield.cli.console import err, out
from civicshield.cli.errors import handled
from civicshield.errors import ConfigurationError, UsageError
from civicshield.pipeline import Engine
from civicshield.report import render_html


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
            items = analyze_all(engine, targets, True, lambda s: None)
        finally:
            engine.close()
        print_table(items, verbose=False)
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
            f"--data-dir {demo_set.settings.data_dir} "
            f"--trust-anchors {demo_set.settings.extra_trust_anchors} "
            f"--watchlist {demo_set.settings.watchlist}"
        )
    if wrong:
        raise typer.Exit(1)


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Start the embedded worker.")] = True,
    processes: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="API processes answering on the port (match traffic: about one per core). They share large "
            "banks' indexes through files under the data folder.",
        ),
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log every request, a line each (turn off for high-rate match traffic). Errors and the "
            "service's own events are logged either way.",
        ),
    ] = True,
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
        run_service(settings, host=host, port=port, worker=worker, processes=processes, access_log=access_log)


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
    watchlist = (demo_dir / "work" / "watchlist.toml").resolve()
    os.environ["CIVICSHIELD_TRUST_ANCHORS"] = str(anchors)  # the embedded worker inherits them
    os.environ["CIVICSHIELD_WATCHLIST"] = str(watchlist)
    analysis = settings.analysis.with_(extra_trust_anchors=anchors, watchlist=watchlist)
    settings = settings.with_(analysis=analysis)
    if "CIVICSHIELD_WEBHOOK_ALLOWED_NETWORKS" not in os.environ:  # a demo's receiver runs on this machine
        settings = settings.with_(webhook_allowed_networks=LOOPBACK)
    rt = compose.runtime(settings)
    login = seed(rt, demo_set.media_dir if demo_set else None)
    rt.db.dispose()
    out.print(f"Demo login: [bold]{login.email}[/] / [bold]{login.password}[/] (demo data only)")
    return settings


def worker(
    concurrency: Annotated[int, typer.Option(help="Parallel jobs in this process.")] = 1,
    hostname: Annotated[str | None, typer.Option(help="Celery node name.")] = None,
    queues: Annotated[
        str, typer.Option(help="all (election-incident items first) or surge (a worker reserved for them).")
    ] = "all",
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
        if queues not in ("all", "surge"):
            raise UsageError("--queues is all or surge")
        run_worker(ServiceSettings.from_env(), concurrency=concurrency, hostname=hostname, queues=queues)


def tipline_smtp(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (put it behind your mail server).")] = 2525,
) -> None:
    """Receive tips by e-mail (SMTP) for $CIVICSHIELD_TIPLINE_ORG, with CIVICSHIELD_TIPLINE_EMAIL=1; replies
    go out through $CIVICSHIELD_SMTP_HOST. Runs until interrupted."""
    with handled():
        import time

        from civicshield.service import compose, tipline_smtp
        from civicshield.service.settings import ServiceSettings

        settings = ServiceSettings.from_env()
        if not (settings.tiplines.org and settings.tiplines.email):
            raise ConfigurationError("set CIVICSHIELD_TIPLINE_ORG and CIVICSHIELD_TIPLINE_EMAIL=1 first")
        rt = compose.runtime(settings)
        controller = tipline_smtp.start(rt, compose.queue(rt), host, port)
        out.print(f"e-mail tipline listening on {host}:{port}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            controller.stop()
