"""``civicshield sign``: attach Content Credentials and register the signed item as official media."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from civicshield.cli.errors import handled
from civicshield.errors import UsageError

err = Console(stderr=True)


def sign(
    src: Annotated[Path, typer.Argument(help="Media file to sign.")],
    dst: Annotated[Path, typer.Argument(help="Where to write the signed copy.")],
    cert: Annotated[
        Path | None, typer.Option("--cert", help="Certificate chain (PEM, signer first).")
    ] = None,
    key: Annotated[Path | None, typer.Option("--key", help="Private key (PEM).")] = None,
    org: Annotated[str, typer.Option("--org", help="Signing organization, recorded as author.")] = "",
    source_type: Annotated[
        str, typer.Option("--source-type", help="IPTC digitalSourceType term or URI.")
    ] = "digitalCapture",
    action: Annotated[
        list[str] | None, typer.Option("--action", help="C2PA action(s), default c2pa.created.")
    ] = None,
    tsa: Annotated[str | None, typer.Option("--tsa", help="Time-stamp authority URL (network!).")] = None,
    demo_signer: Annotated[
        Path | None,
        typer.Option(
            "--demo-signer",
            help="Make and use an untrusted demo certificate in this folder instead of --cert/--key.",
        ),
    ] = None,
    register: Annotated[
        bool,
        typer.Option(
            "--register/--no-register",
            help="Add the signed item to the authentic bank so altered copies are caught.",
        ),
    ] = True,
    bank: Annotated[str, typer.Option("--bank", help="Authentic bank to register in.")] = "official",
    label: Annotated[
        str | None, typer.Option("--label", help="Label in the bank (default: file name).")
    ] = None,
    link: Annotated[str | None, typer.Option("--link", help="Where the original is published.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where banks live.")] = None,
) -> None:
    """Sign SRC into DST with Content Credentials, then register DST's hashes as authentic official media."""
    from civicshield.banks import BankStore, register_official
    from civicshield.media import Media
    from civicshield.settings import Settings
    from civicshield.signing import make_demo_signer, sign_media

    with handled():
        if demo_signer is not None:
            cert, key = make_demo_signer(demo_signer, organization=org or "CivicShield Demo")
            err.print(f"[yellow]demo certificate (untrusted) in {demo_signer}[/]")
        if cert is None or key is None:
            raise UsageError("give --cert and --key (or --demo-signer DIR)")
        if not org:
            raise UsageError("--org is required: who vouches for this media")
        try:
            chain, pkey = cert.read_bytes(), key.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read certificate or key: {exc}") from exc
        signed = sign_media(
            src,
            dst,
            cert_chain_pem=chain,
            private_key_pem=pkey,
            organization=org,
            digital_source_type=source_type,
            actions=tuple(action or ("c2pa.created",)),
            tsa_url=tsa,
        )
        err.print(f"signed {dst} ({signed.alg}, {signed.digital_source_type})")
        if register:
            settings = Settings.from_env()
            if data_dir is not None:
                settings = settings.with_(data_dir=data_dir)
            store = BankStore.from_settings(settings)
            added = register_official(
                store, Media.open(dst, settings.limits), label or dst.name, link, bank=bank
            )
            err.print(f"registered {len(added)} hashes in authentic bank {bank!r} ({store.root})")
