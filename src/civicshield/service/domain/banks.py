"""Banks in the database, one live matcher per bank, and TLP-aware visibility.

Visibility (TLP 2.0 on the community of organizations using this service): an organization sees every entry
of its own banks; other organizations see entries labelled CLEAR or GREEN. AMBER, AMBER+STRICT and RED stay
with the owner (sharing them with named recipients goes through subscriptions and exports, which check the
label again). An entry's label is the more restrictive of its own and its bank's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from civicshield.banks import Bank, BankEntry, BankKind
from civicshield.banks.exchange import Imported, read_bank_text
from civicshield.banks.policy import DEFAULT_POLICY
from civicshield.errors import Conflict, Forbidden, NotFound, UsageError
from civicshield.service.domain import alerts, audit, notifications, retro, transparency
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.tables import BankEntryRow, BankRow, MatchFeedback, Organization, utcnow
from civicshield.sharing.tlp import TLP, Audience, labels_for, may_share

#: Labels other organizations of the service may see (TLP:GREEN is for the community, CLEAR for all).
SHARED_WITH_COMMUNITY = labels_for(Audience.COMMUNITY)
#: The audience of anonymous answers (the public /verify page). TLP:GREEN stays within the community and
#: excludes public channels, so the public hears only of entries that are public themselves (TLP:CLEAR) or
#: belong to a published TLP:CLEAR fact-check, and not even that other entries exist.
PUBLIC_ORG = 0
#: Set on a session whose transaction added bank entries (``infra.bank_index`` syncs once it commits).
ENTRIES_ADDED = "civicshield.bank_entries_added"


def visible(org_id: int, owner_org_id: int, tlp: TLP) -> bool:
    """An organization sees its own entries at any label, others' when the label allows the community."""
    return org_id == owner_org_id or may_share(tlp, audience=Audience.COMMUNITY)


def value_key(signal_type: str, value: str) -> str:
    return hashlib.sha256(f"{signal_type}:{value}".encode()).hexdigest()


# ---- store functions ----------------------------------------------------------------------------------


def create_bank(s: Session, who: Principal, name: str, kind: str, tlp: TLP | str) -> BankRow:
    if not who.can(Role.REVIEWER):
        raise Forbidden("reviewers and admins create banks")
    if kind not in set(BankKind):
        raise UsageError("kind must be known_fake, authentic or allowlist")
    tlp = TLP.parse(tlp)
    Bank(name, BankKind(kind))  # validates the name
    if s.scalar(select(BankRow).where(BankRow.org_id == who.org_id, BankRow.name == name)):
        raise Conflict(f"bank {name!r} exists")
    row = BankRow(org_id=who.org_id, name=name, kind=kind, tlp=tlp)
    s.add(row)
    s.flush()
    audit.record(
        s, who.org_id, who.actor, "bank.created", "bank", row.id, {"name": name, "kind": kind, "tlp": tlp}
    )
    return row


def ensure_bank(s: Session, org_id: int, name: str, kind: str, tlp: str) -> BankRow:
    row = s.scalar(select(BankRow).where(BankRow.org_id == org_id, BankRow.name == name))
    if row is None:
        row = BankRow(org_id=org_id, name=name, kind=kind, tlp=tlp)
        s.add(row)
        s.flush()
    return row


def list_banks(s: Session, who: Principal) -> list[BankRow]:
    q = select(BankRow).where(or_(BankRow.org_id == who.org_id, BankRow.tlp.in_(SHARED_WITH_COMMUNITY)))
    return list(s.scalars(q.order_by(BankRow.id)))


def get_bank(s: Session, who: Principal, bank_id: int) -> BankRow:
    row = s.get(BankRow, bank_id)
    if row is None or not visible(who.org_id, row.org_id, row.tlp):
        raise NotFound("no such bank")
    return row


def add_entries(
    s: Session,
    who: Principal,
    bank: BankRow,
    entries: Sequence[BankEntry],
    *,
    tlp: str | None = None,
    case_id: int | None = None,
    base_url: str = "",
) -> list[BankEntryRow]:
    """Append entries the bank does not hold yet. Only the owner's reviewers and admins write to a bank.

    Every way entries arrive (the bank API and pages, a published fact-check) comes through here, so this is
    where the ``bank.entry_added`` event is queued: once per call that added anything, in its transaction."""
    if bank.org_id != who.org_id:
        raise NotFound("no such bank")
    if not who.can(Role.REVIEWER):
        raise Forbidden("reviewers and admins add bank entries")
    label = max(TLP.parse(tlp) if tlp else bank.tlp, bank.tlp)  # an entry is never laxer than its bank
    if not entries:
        return []
    # Lock the bank row (and read its current revision) before inserting: writers of one bank take turns,
    # so its row ids are committed in increasing order, which the live indexes' incremental reads rely on.
    s.refresh(bank, with_for_update=True)
    existing = _existing_keys(
        s, bank.id, [(e.signal_type.value, value_key(e.signal_type.value, e.hash)) for e in entries]
    )
    rows = []
    for e in entries:
        key = value_key(e.signal_type.value, e.hash)
        if key in existing:
            continue
        existing.add(key)
        rows.append(
            BankEntryRow(
                bank_id=bank.id,
                signal_type=e.signal_type.value,
                value=e.hash,
                value_key=key,
                label=e.label,
                link=e.link or "",
                case_id=case_id,
                tlp=label,
                quality=e.quality,
                original_name=e.original_name,
                original_sha256=e.original_sha256,
            )
        )
    if rows:
        s.info[ENTRIES_ADDED] = True  # this process's live index reads them once the transaction commits
    s.add_all(rows)
    if rows:
        bank.revision += 1
    s.flush()
    if rows:
        audit.record(
            s,
            who.org_id,
            who.actor,
            "bank.entries_added",
            "bank",
            bank.id,
            {"count": len(rows), "case": case_id},
        )
        alerts.bank_entries_added(s, bank, rows)
        if bank.kind == "known_fake":
            retro.match_earlier_items(s, bank, rows, base_url, visible=visible)
        owner = org_name(s, bank.org_id)
        for row in rows:
            if row.tlp is TLP.CLEAR:  # public: it enters the public log (issue 15)
                transparency.append(
                    s,
                    "bank.entry_added",
                    {
                        "bank": bank.name,
                        "owner": owner,
                        "kind": bank.kind,
                        "signal_type": row.signal_type,
                        "value": row.value,
                        "label": row.label,
                        "link": row.link,
                    },
                )
    return rows


def withdraw(s: Session, who: Principal, rows: Sequence[BankEntryRow], *, reason: str) -> int:
    """Remove entries (a retracted or corrected fact-check's), audited with the reason; the banks' revisions
    move so every index and export forgets them. Public ones are logged as withdrawn."""
    if not rows:
        return 0
    touched: dict[int, BankRow] = {}
    for row in rows:
        bank = touched.get(row.bank_id) or s.get(BankRow, row.bank_id)
        if bank is None or bank.org_id != who.org_id:
            continue
        touched[bank.id] = bank
        _log_public(s, bank, row, "withdrawn", reason)
        s.delete(row)
    for bank in touched.values():
        bank.revision += 1
        audit.record(s, who.org_id, who.actor, "bank.entries_withdrawn", "bank", bank.id, {"reason": reason})
    s.flush()
    return len(rows)


def _existing_keys(s: Session, bank_id: int, keys: list[tuple[str, str]]) -> set[str]:
    """Which of these ``(signal_type, value_key)`` the bank holds, asked a slice at a time along its unique
    index (a bank may hold millions of entries)."""
    by_type: dict[str, list[str]] = {}
    for signal_type, key in keys:
        by_type.setdefault(signal_type, []).append(key)
    found: set[str] = set()
    for signal_type, wanted in by_type.items():
        for i in range(0, len(wanted), 1000):
            q = select(BankEntryRow.value_key).where(
                BankEntryRow.bank_id == bank_id,
                BankEntryRow.signal_type == signal_type,
                BankEntryRow.value_key.in_(wanted[i : i + 1000]),
            )
            found.update(s.scalars(q))
    return found


def visible_counts(s: Session, who: Principal, rows: Sequence[BankRow]) -> dict[int, int]:
    """How many entries of each bank ``who`` may read (never counting the ones hidden by their TLP)."""
    counts: dict[int, int] = {}
    own = [r.id for r in rows if r.org_id == who.org_id]
    others = [r.id for r in rows if r.org_id != who.org_id]
    for ids, shared_only in ((own, False), (others, True)):
        if not ids:
            continue
        q = select(BankEntryRow.bank_id, func.count()).where(BankEntryRow.bank_id.in_(ids))
        if shared_only:
            q = q.where(BankEntryRow.tlp.in_(SHARED_WITH_COMMUNITY))
        counts.update({bank_id: int(n) for bank_id, n in s.execute(q.group_by(BankEntryRow.bank_id))})
    return counts


def set_entry(
    s: Session, who: Principal, bank: BankRow, entry_id: int, *, enabled: bool, reason: str
) -> BankEntryRow:
    """Disable an entry (it matches nothing, is left out of exports, stays listed for its owner) or enable it
    again, with a reason; audited, and logged publicly for a TLP:CLEAR entry."""
    row = _own_entry(s, who, bank, entry_id, reason)
    row.disabled_at = None if enabled else utcnow()
    row.disabled_reason = "" if enabled else reason.strip()[:2000]
    action = "enabled" if enabled else "disabled"
    _record(s, who, bank, row, action, reason)
    return row


def set_threshold(s: Session, who: Principal, bank: BankRow, distance: int | None) -> BankRow:
    """A stricter PDQ match distance for ``bank`` (0-31; ``None`` for the policy's 31)."""
    if bank.org_id != who.org_id or not who.can(Role.REVIEWER):
        raise Forbidden("the bank's reviewers and admins set its threshold")
    if distance is not None and not 0 <= distance <= DEFAULT_POLICY.pdq_max_distance:
        raise UsageError(f"a bank's PDQ distance is 0 to {DEFAULT_POLICY.pdq_max_distance} (stricter only)")
    bank.pdq_max_distance = distance
    s.info[ENTRIES_ADDED] = True  # this process's live index syncs once committed (others within their lag)
    audit.record(s, who.org_id, who.actor, "bank.threshold", "bank", bank.id, {"pdq_max_distance": distance})
    return bank


#: False-positive reports from this many organizations, outnumbering confirmations, quarantine an entry.
QUARANTINE_REPORTS = 3


def feedback(s: Session, who: Principal, entry_id: int, verdict: str, note: str = "") -> BankEntryRow:
    """A member's verdict on a match of an entry it can see: ``confirmed`` or ``false_positive`` (one per
    organization; a new one replaces it). The entry's standing follows; when false-positive reports from
    ``QUARANTINE_REPORTS`` organizations outnumber confirmations, the entry is quarantined (disabled, its
    owner told) until its owner reviews it."""
    if not who.can(Role.ANALYST):
        raise Forbidden("analysts and above give feedback on matches")
    if verdict not in ("confirmed", "false_positive"):
        raise UsageError("verdict is confirmed or false_positive")
    row = s.get(BankEntryRow, entry_id)
    bank = s.get(BankRow, row.bank_id) if row is not None else None
    if row is None or bank is None or not visible(who.org_id, bank.org_id, max(row.tlp, bank.tlp)):
        raise NotFound("no such entry")
    mine = s.scalar(
        select(MatchFeedback).where(MatchFeedback.entry_id == row.id, MatchFeedback.org_id == who.org_id)
    )
    if mine is None:
        mine = MatchFeedback(entry_id=row.id, org_id=who.org_id)
        s.add(mine)
    mine.verdict, mine.note, mine.actor, mine.at = verdict, note.strip()[:2000], who.actor, utcnow()
    s.flush()
    counts = dict(
        s.execute(
            select(MatchFeedback.verdict, func.count())
            .where(MatchFeedback.entry_id == row.id)
            .group_by(MatchFeedback.verdict)
        ).all()
    )
    row.confirmations, row.false_positives = (
        int(counts.get("confirmed", 0)),
        int(counts.get("false_positive", 0)),
    )
    audit.record(s, who.org_id, who.actor, "bank.match_feedback", "bank_entry", row.id, {"verdict": verdict})
    if (
        row.disabled_at is None
        and row.false_positives >= QUARANTINE_REPORTS
        and row.false_positives > row.confirmations
    ):
        quarantine(
            s,
            bank,
            row,
            f"{row.false_positives} organizations reported false positives",
            f"{row.false_positives} organizations reported its matches as false positives",
        )
    return row


MAX_IMPORT_BYTES = 20 * 1024 * 1024


def import_file(
    s: Session, who: Principal, bank: BankRow, data: bytes, name: str, *, tlp: str | None, base_url: str
) -> tuple[int, Imported]:
    """Add the entries of an uploaded file of any format banks read (``banks.exchange.read_bank_text``):
    another coalition's STIX bundle, TAXII envelope or MISP event, a bank file, a threatexchange signal
    file, CSV. A file marked more restrictively than the bank is refused (importing it would widen who
    sees it); its entries keep its marking. Parsed whole before anything is written: all or nothing."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError("the file is not UTF-8 text") from exc
    imported = read_bank_text(text, source=name)
    if imported.tlp > bank.tlp:
        raise UsageError(
            f"{name} is marked TLP:{imported.tlp}: import it into a bank labelled TLP:{imported.tlp} or "
            f"stricter, not TLP:{bank.tlp}"
        )
    label = max(TLP.parse(tlp), imported.tlp) if tlp else imported.tlp
    added = add_entries(s, who, bank, imported.entries, tlp=label, base_url=base_url)
    return len(added), imported


def quarantine(s: Session, bank: BankRow, row: BankEntryRow, why: str, told: str) -> None:
    """Stop an entry matching until its owner reviews it, and tell the owner (inbox, audit log)."""
    row.disabled_at = utcnow()
    row.disabled_reason = f"quarantined: {why}"
    notifications.notify(
        s,
        bank.org_id,
        "entry_quarantined",
        f"An entry of {bank.name} was quarantined",
        f"{told}; it matches nothing until you review it (enable it again, or delete it).",
        {"bank_id": bank.id, "entry_id": row.id},
    )
    audit.record(s, bank.org_id, "system", "bank.entry_quarantined", "bank_entry", row.id, {"why": why})


def delete_entry(s: Session, who: Principal, bank: BankRow, entry_id: int, *, reason: str) -> None:
    row = _own_entry(s, who, bank, entry_id, reason)
    _record(s, who, bank, row, "deleted", reason)
    s.delete(row)
    bank.revision += 1


def _own_entry(s: Session, who: Principal, bank: BankRow, entry_id: int, reason: str) -> BankEntryRow:
    if bank.org_id != who.org_id:
        raise NotFound("no such bank")
    if not who.can(Role.REVIEWER):
        raise Forbidden("reviewers and admins change bank entries")
    if not reason.strip():
        raise UsageError("give the reason (it is kept in the audit log)")
    row = s.get(BankEntryRow, entry_id)
    if row is None or row.bank_id != bank.id:
        raise NotFound("no such entry")
    return row


def _record(s: Session, who: Principal, bank: BankRow, row: BankEntryRow, action: str, reason: str) -> None:
    audit.record(
        s,
        who.org_id,
        who.actor,
        f"bank.entry_{action}",
        "bank_entry",
        row.id,
        {"bank": bank.id, "reason": reason[:500]},
    )
    _log_public(s, bank, row, action, reason)


def _log_public(s: Session, bank: BankRow, row: BankEntryRow, action: str, reason: str) -> None:
    """A change to a public (TLP:CLEAR) entry goes into the transparency log; others never do."""
    if row.tlp is TLP.CLEAR:
        transparency.append(
            s,
            f"bank.entry_{action}",
            {"bank": bank.name, "signal_type": row.signal_type, "value": row.value, "reason": reason[:500]},
        )


def visible_entries(s: Session, who: Principal, bank: BankRow, limit: int = 100_000) -> list[BankEntryRow]:
    """The entries ``who`` may read (exports): never a disabled one."""
    q = select(BankEntryRow).where(BankEntryRow.bank_id == bank.id, BankEntryRow.disabled_at.is_(None))
    if bank.org_id != who.org_id:
        q = q.where(BankEntryRow.tlp.in_(SHARED_WITH_COMMUNITY))
    return list(s.scalars(q.order_by(BankEntryRow.id).limit(limit)))


def to_entry(row: BankEntryRow) -> BankEntry:
    return BankEntry.create(
        row.signal_type,
        row.value,
        row.label,
        link=row.link or None,
        added=row.created_at.date(),
        quality=row.quality,
        original_name=row.original_name,
        original_sha256=row.original_sha256,
    )


def org_name(s: Session, org_id: int) -> str:
    org = s.get(Organization, org_id)
    return org.name if org else "unknown"
