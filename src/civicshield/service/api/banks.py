"""Banks: browse, create, add and export entries (TLP enforced), search by hash."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from civicshield.banks import BankEntry, entries_to_csv, entries_to_json
from civicshield.banks.threatexchange import entries_to_te
from civicshield.errors import NotFound
from civicshield.service.api.schemas import (
    BankIn,
    BankOut,
    BankSettingsIn,
    EntriesIn,
    EntryChangeIn,
    EntryOut,
)
from civicshield.service.domain import banks, reads
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.tables import BankEntryRow, BankRow
from civicshield.service.web.deps import DbDep, IdPath, Reviewer, RuntimeDep, Viewer
from civicshield.service.web.uploads import UPLOAD_BODY, uploaded_file
from civicshield.sharing.tlp import TLP

router = APIRouter(prefix="/api/v1/banks", tags=["banks"])


def bank_out(s: DbDep, who: Principal, row: BankRow) -> BankOut:
    count = banks.visible_counts(s, who, [row]).get(row.id, 0)
    return BankOut(
        id=row.id,
        org_id=row.org_id,
        name=row.name,
        kind=row.kind,
        tlp=row.tlp,
        entries=count,
        pdq_max_distance=row.pdq_max_distance,
    )


def entry_out(row: BankEntryRow) -> EntryOut:
    return EntryOut(
        id=row.id,
        signal_type=row.signal_type,
        hash=row.value,
        label=row.label,
        link=row.link,
        tlp=row.tlp,
        quality=row.quality,
        case_id=row.case_id,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
    )


@router.get("", response_model=list[BankOut])
def list_banks(s: DbDep, who: Viewer) -> list[BankOut]:
    return [bank_out(s, who, b) for b in banks.list_banks(s, who)]


@router.post("", response_model=BankOut, status_code=201)
def create_bank(body: BankIn, s: DbDep, who: Reviewer) -> BankOut:
    return bank_out(s, who, banks.create_bank(s, who, body.name, body.kind, body.tlp))


@router.get("/{bank_id}/entries", response_model=list[EntryOut])
def list_entries(
    bank_id: IdPath, s: DbDep, who: Viewer, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
) -> list[EntryOut]:
    bank = banks.get_bank(s, who, bank_id)
    return [entry_out(r) for r in banks.visible_entries(s, who, bank, limit)]


@router.post("/{bank_id}/entries", response_model=list[EntryOut], status_code=201)
def add_entries(bank_id: IdPath, body: EntriesIn, s: DbDep, rt: RuntimeDep, who: Reviewer) -> list[EntryOut]:
    """Add entries; in a known-fake bank, earlier items of every organization that may see them are matched
    and their owners told (``match.found`` with ``earlier_item``)."""
    bank = banks.get_bank(s, who, bank_id)
    entries = [
        BankEntry.create(e.signal_type, e.hash, e.label, link=e.link, quality=e.quality) for e in body.entries
    ]
    rows = banks.add_entries(s, who, bank, entries, tlp=body.tlp, base_url=rt.settings.base_url)
    return [entry_out(r) for r in rows]


@router.post("/{bank_id}/import", openapi_extra=UPLOAD_BODY)
async def import_file(
    bank_id: IdPath, request: Request, rt: RuntimeDep, who: Reviewer, tlp: TLP | None = None
) -> dict[str, Any]:
    """Add the entries of a file (multipart field ``file``): another coalition's STIX 2.1 bundle or TAXII
    envelope, a MISP event, a bank file or entry list (JSON), a python-threatexchange signal file, or CSV.
    All or nothing; a file marked more restrictively than the bank is refused."""

    def owned() -> None:  # another organization's bank is a 404 before any upload is read
        with rt.db.reading() as s:
            if banks.get_bank(s, who, bank_id).org_id != who.org_id:
                raise NotFound("no such bank")

    await run_in_threadpool(owned)
    data, name = await uploaded_file(request, banks.MAX_IMPORT_BYTES)

    def import_now() -> dict[str, Any]:
        with rt.db.session() as s:
            bank = banks.get_bank(s, who, bank_id)
            added, imported = banks.import_file(
                s, who, bank, data, name, tlp=tlp, base_url=rt.settings.base_url
            )
            return {
                "format": imported.format,
                "entries": len(imported.entries),
                "added": added,
                "tlp": imported.tlp,
                "skipped": dict(imported.skipped),
            }

    return await run_in_threadpool(import_now)


@router.get("/{bank_id}/export")
def export(
    bank_id: IdPath,
    s: DbDep,
    who: Viewer,
    format: Annotated[Literal["csv", "json", "threatexchange"], Query()] = "json",
) -> PlainTextResponse:
    """The entries the caller may see, as CSV, JSON, or a python-threatexchange signal file (``<type>
    <signal>`` lines: labels, links and TLP do not fit that format; ``X-Left-Out`` counts what had no
    threatexchange signal type)."""
    bank = banks.get_bank(s, who, bank_id)
    entries = [banks.to_entry(r) for r in banks.visible_entries(s, who, bank)]
    if format == "csv":
        return PlainTextResponse(entries_to_csv(entries), media_type="text/csv")
    if format == "threatexchange":
        exported = entries_to_te(entries)
        left_out = str(sum(exported.left_out.values()))
        return PlainTextResponse(exported.text, media_type="text/plain", headers={"X-Left-Out": left_out})
    return PlainTextResponse(entries_to_json(entries), media_type="application/json")


@router.get("/search/by-hash", response_model=list[EntryOut])
def search(
    s: DbDep, who: Viewer, value: Annotated[str, Query(min_length=8, max_length=200_000)]
) -> list[EntryOut]:
    """Entries holding exactly this hash value, in banks the caller may see."""
    return [entry_out(row) for row, _ in reads.search_hash(s, who, value)]


@router.post("/{bank_id}/entries/{entry_id}/{action}", response_model=EntryOut)
def change_entry(
    bank_id: IdPath,
    entry_id: IdPath,
    action: Literal["disable", "enable"],
    body: EntryChangeIn,
    s: DbDep,
    who: Reviewer,
) -> EntryOut:
    """Disable an entry (it stops matching at once and leaves exports) or enable it again, with a reason."""
    bank = banks.get_bank(s, who, bank_id)
    return entry_out(banks.set_entry(s, who, bank, entry_id, enabled=action == "enable", reason=body.reason))


@router.delete("/{bank_id}/entries/{entry_id}", status_code=204)
def delete_entry(
    bank_id: IdPath,
    entry_id: IdPath,
    s: DbDep,
    who: Reviewer,
    reason: Annotated[str, Query(min_length=1, max_length=2000)],
) -> Response:
    """Delete an entry, with a reason (``?reason=``)."""
    banks.delete_entry(s, who, banks.get_bank(s, who, bank_id), entry_id, reason=reason)
    return Response(status_code=204)


@router.patch("/{bank_id}", response_model=BankOut)
def settings(bank_id: IdPath, body: BankSettingsIn, s: DbDep, who: Reviewer) -> BankOut:
    """A stricter PDQ match distance for this bank (a bank of look-alike posters may need one)."""
    bank = banks.set_threshold(s, who, banks.get_bank(s, who, bank_id), body.pdq_max_distance)
    return bank_out(s, who, bank)
