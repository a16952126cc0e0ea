"""The protection programme: organizations enrol, operators decide (issue 12). The one write path for
``protection_enrolments``.

Who may join: election authorities, parties, candidates' teams, newsrooms and journalists, NGOs and think
tanks (``KINDS``). An organization admin enrols the organization, accepting the programme's terms
(``CONSENT``, versioned: what the coalition does with the protected people's names, faces and voices) and
naming a security contact, who is told of threats alongside the admins. The coalition's operators approve or
decline; only then are other members' items checked against the organization's protected entries. An
organization may withdraw at any time (its entries stay its own until it deletes them).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.errors import Conflict, Forbidden, NotFound, UsageError
from civicshield.service.domain import audit
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role
from civicshield.service.domain.states import EnrolmentState
from civicshield.service.domain.tables import ProtectionEnrolment, utcnow

__all__ = [
    "CONSENT",
    "CONSENT_VERSION",
    "KINDS",
    "decide",
    "enrol",
    "enrolment_of",
    "is_protected",
    "pending",
    "withdraw",
]

KINDS = ("election_authority", "party", "candidate_team", "newsroom", "ngo")
CONSENT_VERSION = "2026.12.1"
CONSENT = (
    "We ask the coalition to check every member's submissions against the people, faces, voices and "
    "domains we protect, and to tell us of impersonations. We have the consent of each protected person to "
    "store their name and the face and voice embeddings computed from the reference media we upload (never "
    "the media themselves). Our entries are TLP:RED: only our members and the coalition's operators see "
    "them, and every access is audited. We can delete entries and withdraw at any time."
)


def enrolment_of(s: Session, org_id: int) -> ProtectionEnrolment | None:
    return s.scalar(select(ProtectionEnrolment).where(ProtectionEnrolment.org_id == org_id))


def is_protected(s: Session, org_id: int) -> bool:
    row = enrolment_of(s, org_id)
    return row is not None and row.state is EnrolmentState.APPROVED


def enrol(
    s: Session,
    who: Principal,
    *,
    kind: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str = "",
    consent: bool,
) -> ProtectionEnrolment:
    """Ask to join (or, after a decline or withdrawal, ask again). ``consent`` must be given to the current
    ``CONSENT`` text."""
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("only organization admins enrol the organization")
    if kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}")
    if not consent:
        raise UsageError("enrolment needs consent to the programme's terms (consent: true)")
    contact_name, contact_email = " ".join(contact_name.split()), contact_email.strip()
    if not contact_name or "@" not in contact_email.strip("@"):
        raise UsageError("name a security contact with an e-mail address")
    row = enrolment_of(s, who.org_id)
    if row is not None and row.state in (EnrolmentState.PENDING, EnrolmentState.APPROVED):
        raise Conflict(f"the organization's enrolment is already {row.state}")
    if row is None:
        row = ProtectionEnrolment(org_id=who.org_id)
        s.add(row)
    row.kind, row.contact_name, row.contact_email, row.contact_phone = (
        kind,
        contact_name,
        contact_email,
        contact_phone,
    )
    row.consent_version, row.consented_by, row.consented_at = CONSENT_VERSION, who.actor, utcnow()
    row.state, row.decided_by, row.decided_at, row.note = EnrolmentState.PENDING, None, None, ""
    s.flush()
    audit.record(
        s, who.org_id, who.actor, "protection.enrolled", "protection_enrolment", row.id, {"kind": kind}
    )
    return row


def pending(s: Session, who: Principal) -> list[ProtectionEnrolment]:
    if not who.can(Role.PLATFORM_ADMIN):
        raise Forbidden("only the coalition's operators see enrolments")
    query = select(ProtectionEnrolment).where(ProtectionEnrolment.state == EnrolmentState.PENDING)
    return list(s.scalars(query.order_by(ProtectionEnrolment.id)))


def decide(
    s: Session, who: Principal, enrolment_id: int, *, approve: bool, note: str = ""
) -> ProtectionEnrolment:
    if not who.can(Role.PLATFORM_ADMIN):
        raise Forbidden("only the coalition's operators decide enrolments")
    row = s.get(ProtectionEnrolment, enrolment_id)
    if row is None:
        raise NotFound("no such enrolment")
    if row.state is not EnrolmentState.PENDING:
        raise Conflict(f"the enrolment is {row.state}, not pending")
    row.state = EnrolmentState.APPROVED if approve else EnrolmentState.DECLINED
    row.decided_by, row.decided_at, row.note = who.actor, utcnow(), note[:2000]
    action = "protection.approved" if approve else "protection.declined"
    audit.record(s, row.org_id, who.actor, action, "protection_enrolment", row.id, {})
    return row


def withdraw(s: Session, who: Principal) -> ProtectionEnrolment:
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("only organization admins withdraw the organization")
    row = enrolment_of(s, who.org_id)
    if row is None or row.state is EnrolmentState.WITHDRAWN:
        raise NotFound("the organization is not enrolled")
    row.state = EnrolmentState.WITHDRAWN
    audit.record(s, who.org_id, who.actor, "protection.withdrawn", "protection_enrolment", row.id, {})
    return row
