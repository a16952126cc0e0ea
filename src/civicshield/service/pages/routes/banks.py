"""Banks of known fakes and official media: browse, search by hash, import and export entries.

Visibility is the service's (``service.banks``): a bank's own organization sees all of it, others see only
CLEAR and GREEN entries. Writes go through ``service.banks`` like the API's, so live matchers follow them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import File, Form, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from civicshield.banks import entries_to_csv, entries_to_json
from civicshield.service.domain import banks, reads
from civicshield.service.domain.security import Role
from civicshield.service.pages.routing import page_router
from civicshield.service.pages.session import MemberDep, flash
from civicshield.service.pages.templating import render, translate
from civicshield.service.web.deps import DbDep, runtime
from civicshield.service.web.uploads import read_limited
from civicshield.sharing.tlp import TLP

router = page_router("/ui/banks")
SHOWN_ENTRIES = 200


@router.get("")
def list_banks(
    request: Request, member: MemberDep, s: DbDep, value: Annotated[str, Query(max_length=200_000)] = ""
) -> Response:
    rows = banks.list_banks(s, member.who)
    value = value.strip()
    results = reads.search_hash(s, member.who, value) if len(value) >= 8 else None
    return render(
        request,
        "banks.html.j2",
        member=member,
        banks=rows,
        counts=banks.visible_counts(s, member.who, rows),
        value=value,
        results=results,
        can_create=member.can(Role.REVIEWER),
        tlps=list(TLP),
    )


@router.post("")
def create_bank(
    request: Request,
    member: MemberDep,
    s: DbDep,
    name: Annotated[str, Form(max_length=64)],
    kind: Annotated[str, Form(max_length=20)],
    tlp: Annotated[str, Form(max_length=20)],
) -> Response:
    bank_id = banks.create_bank(s, member.who, name.strip(), kind, tlp).id
    return RedirectResponse(f"/ui/banks/{bank_id}", status_code=303)


@router.get("/{bank_id}")
def bank_page(request: Request, member: MemberDep, s: DbDep, bank_id: int) -> Response:
    bank = banks.get_bank(s, member.who, bank_id)
    entries = banks.visible_entries(s, member.who, bank, SHOWN_ENTRIES + 1)
    return render(
        request,
        "bank.html.j2",
        member=member,
        bank=bank,
        entries=entries[:SHOWN_ENTRIES],
        more=len(entries) > SHOWN_ENTRIES,
        total=banks.visible_counts(s, member.who, [bank]).get(bank.id, 0),
        own=bank.org_id == member.who.org_id,
        can_write=member.can(Role.REVIEWER),
        owner=banks.org_name(s, bank.org_id),
        tlps=list(TLP),
    )


@router.post("/{bank_id}/import")
async def import_entries(
    request: Request,
    member: MemberDep,
    bank_id: int,
    file: Annotated[UploadFile, File()],
    tlp: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """CSV (header row naming the columns), JSON (a list of entries or a whole bank file, e.g. one the
    ``civicshield bank`` command wrote), a python-threatexchange signal file (labelled with its name), or
    another coalition's STIX bundle, TAXII envelope or MISP event."""
    data = await read_limited(file, banks.MAX_IMPORT_BYTES)
    name = file.filename or "upload"
    rt = runtime(request)

    def import_now() -> tuple[int, int]:  # parsing and writing block: a worker thread, not the event loop
        with rt.db.session() as s:
            bank = banks.get_bank(s, member.who, bank_id)
            added, imported = banks.import_file(
                s, member.who, bank, data, name, tlp=tlp or None, base_url=rt.settings.base_url
            )
            return added, len(imported.entries)

    added, total = await run_in_threadpool(import_now)
    flash(
        request,
        "success",
        translate(request, "Imported entries: {added} new of {total}.").format(added=added, total=total),
    )
    return RedirectResponse(f"/ui/banks/{bank_id}", status_code=303)


@router.get("/{bank_id}/export.{fmt}")
def export(
    request: Request, member: MemberDep, s: DbDep, bank_id: int, fmt: Literal["csv", "json"]
) -> Response:
    bank = banks.get_bank(s, member.who, bank_id)
    entries = [banks.to_entry(r) for r in banks.visible_entries(s, member.who, bank)]
    filename = f"{bank.name}.{fmt}"
    body, media_type = (
        (entries_to_csv(entries), "text/csv")
        if fmt == "csv"
        else (entries_to_json(entries), "application/json")
    )
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
