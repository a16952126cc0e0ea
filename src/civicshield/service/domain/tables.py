"""SQLAlchemy 2 tables. Every tenant-owned row carries ``org_id``; ``store`` and ``reads`` scope queries."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from civicshield.learning.labels import Origin
from civicshield.service.domain.states import (
    CaseState,
    DeliveryState,
    EnrolmentState,
    JobState,
    JoinRequestState,
)
from civicshield.sharing.ratings import Rating
from civicshield.sharing.tlp import TLP

E = TypeVar("E", bound=StrEnum)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC time (SQLite gives naive datetimes back for timezone-aware columns)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Named(TypeDecorator[E]):
    """A column holding one domain enum (``TLP``, ``Rating``...) stored as its value in a plain string column:
    rows load as enum members, and the schema is the same ``VARCHAR`` the migrations created."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 20) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # fact_checker | election_authority | broadcaster | ...
    default_tlp: Mapped[TLP] = mapped_column(Named(TLP), default=TLP.AMBER)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A suspended organization's members cannot sign in and its keys are refused; its data stays.
    suspended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Every member needs a second factor (admins and operators always do).
    mfa_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Consent, given by an admin, that its reviewers' origin labels may train the coalition's detectors.
    training_consent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    training_consent_by: Mapped[str] = mapped_column(String(200), default="", server_default="")


class AccountToken(Base):
    """A one-time link sent to a person: the set-up link, an invitation, a password reset. Only the token's
    sha256 is stored; it expires and works once."""

    __tablename__ = "account_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # setup | invite | reset
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320), default="")
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    role: Mapped[str] = mapped_column(String(20), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)  # reset: whose
    created_by: Mapped[str] = mapped_column(String(200), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class JoinRequest(Base):
    """An organization asking to join the coalition, vetted by operators."""

    __tablename__ = "join_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    website: Mapped[str] = mapped_column(String(500))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    vouched_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[JoinRequestState] = mapped_column(Named(JoinRequestState), default=JoinRequestState.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)  # once approved


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # viewer | analyst | reviewer | org_admin | platform_admin
    password_hash: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # TOTP second factor: the secret encrypted with a key derived from the service's secret key; enrolled once
    # confirmed with a first code. ``totp_last_step`` refuses a code seen before (replay).
    totp_secret: Mapped[str | None] = mapped_column(String(300), nullable=True)
    totp_enrolled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)


class RecoveryCode(Base):
    """One-time codes for a person who lost their authenticator (only their sha256 is kept)."""

    __tablename__ = "recovery_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Passkey(Base):
    """A WebAuthn credential (passkey) of a person: phishing-resistant, bound to this service's origin."""

    __tablename__ = "passkeys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url
    public_key: Mapped[str] = mapped_column(Text)  # COSE key, base64url
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(100), default="passkey")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginThrottle(Base):
    """Failed sign-ins per account name and per address, with the time before the next try is allowed."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(400), primary_key=True)  # "account:<email>" | "address:<ip>"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSession(Base):
    """A signed-in browser or API session, held server-side: the cookie carries only a random token, whose
    sha256 is stored here, so signing out, an idle timeout or a password change ends it for every copy."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(64), default="")


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128))  # sha256 of the full key; keys are long random tokens
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Item(Base):
    """A submitted file (content-addressed blob) or a hashes-only submission."""

    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    filename: Mapped[str] = mapped_column(String(300), default="")
    media_kind: Mapped[str | None] = mapped_column(String(10), nullable=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    hashes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"pdq": [...], "vpdq": ..., ...}
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    """Source of truth for analysis jobs; the queue only carries the id, so a lost message is re-sent."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    state: Mapped[JobState] = mapped_column(Named(JobState, 12), default=JobState.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    label: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    title: Mapped[str] = mapped_column(String(300))
    claim: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[CaseState] = mapped_column(Named(CaseState, 12), default=CaseState.NEW, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    rating: Mapped[Rating | None] = mapped_column(Named(Rating), nullable=True)
    rating_note: Mapped[str] = mapped_column(Text, default="")
    tlp: Mapped[TLP] = mapped_column(Named(TLP), default=TLP.AMBER)
    slug: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Who made the claim, when, and where it appeared (ClaimReview's itemReviewed), where known.
    claim_author: Mapped[str] = mapped_column(String(300), default="")
    claim_author_kind: Mapped[str] = mapped_column(String(12), default="Person")
    claim_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    claim_url: Mapped[str] = mapped_column(String(2000), default="")
    # Corrections and retractions of a published fact-check (issue 13): the last change, and a retraction.
    modified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    retracted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    retraction_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    disarm: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")  # DISARM technique ids


class CaseRevision(Base):
    """One correction or retraction of a published fact-check: what it was, what it became, why, who."""

    __tablename__ = "case_revisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # corrected | retracted
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rating_before: Mapped[str] = mapped_column(String(20), default="")
    rating_after: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(200))


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """Append-only, hash-chained per organization: ``hash = sha256(prev_hash + canonical(event))``."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("org_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed statement of an organization's audit chain head at a moment (``service.audit_anchor``)."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (UniqueConstraint("org_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))


class BankRow(Base):
    __tablename__ = "banks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)  # owner
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # known_fake | authentic
    tlp: Mapped[TLP] = mapped_column(Named(TLP), default=TLP.GREEN)
    revision: Mapped[int] = mapped_column(
        Integer, default=0
    )  # bumped on every change; live indexes follow it
    # A stricter PDQ match distance for this bank (None: the policy's 31); never looser than measured.
    pdq_max_distance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    __table_args__ = (UniqueConstraint("org_id", "name"),)


class BankEntryRow(Base):
    __tablename__ = "bank_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    signal_type: Mapped[str] = mapped_column(String(20), index=True)  # pdq | vpdq | chromaprint | sha256
    value: Mapped[str] = mapped_column(Text)
    # As long as the bank formats allow (``banks.model.MAX_TEXT``): longer text was a 500 on PostgreSQL.
    label: Mapped[str] = mapped_column(String(2000), default="")
    link: Mapped[str] = mapped_column(String(2000), default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    tlp: Mapped[TLP] = mapped_column(Named(TLP), default=TLP.GREEN)
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    original_name: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    original_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A disabled entry matches nothing until enabled again (bank hygiene, issue 13): when and why.
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    disabled_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Standing from match feedback: members confirm a match or report it as a false positive.
    confirmations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    false_positives: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    __table_args__ = (UniqueConstraint("bank_id", "signal_type", "value_key"),)
    value_key: Mapped[str] = mapped_column(
        String(64)
    )  # sha256 of value: unique per bank without indexing text


class ProtectedEntry(Base):
    """A person or domain an organization protects (issue 12). TLP:RED: only the organization and the
    coalition's operators read them, and every change is audited."""

    __tablename__ = "protected_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # person | domain | handle | visual
    name: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Embeddings only (SFace 128, GE2E 256 numbers each): the reference photos and recordings are never kept.
    faces: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    voices: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    pdq: Mapped[str] = mapped_column(String(64), default="", server_default="")  # a protected visual's hash
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProtectionEnrolment(Base):
    """An organization in the protection programme (issue 12): what it is, who consented to what, whom to call
    when it is targeted, and the operators' decision. Other members' items are checked against its protected
    entries only once approved."""

    __tablename__ = "protection_enrolments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    kind: Mapped[str] = mapped_column(
        String(40)
    )  # election_authority | party | candidate_team | newsroom | ngo
    consent_version: Mapped[str] = mapped_column(String(40))
    consented_by: Mapped[str] = mapped_column(String(200))
    consented_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    state: Mapped[EnrolmentState] = mapped_column(Named(EnrolmentState), default=EnrolmentState.PENDING)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class PostureItem(Base):
    """An organization's progress on one item of the shipped security checklist."""

    __tablename__ = "posture_items"
    __table_args__ = (UniqueConstraint("org_id", "item_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(60))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    guidance_version: Mapped[str] = mapped_column(String(40))
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MitigationPlan(Base):
    """A playbook opened for an incident, often from a notification: its steps' completion, by whom, when."""

    __tablename__ = "mitigation_plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    playbook_id: Mapped[str] = mapped_column(String(60))
    guidance_version: Mapped[str] = mapped_column(String(40))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), nullable=True)
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    steps: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # step id -> {"done_at", "by"}


class Event(Base):
    """A workshop or webinar for the coalition's members (issue 12), organized by one organization."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)  # the organizer
    kind: Mapped[str] = mapped_column(String(12))  # workshop | webinar
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="en")
    capacity: Mapped[int] = mapped_column(Integer, default=30)  # places per session
    materials: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"title", "url"}]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class EventSession(Base):
    __tablename__ = "event_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    minutes: Mapped[int] = mapped_column(Integer, default=60)
    place: Mapped[str] = mapped_column(String(500), default="")  # a room or a meeting link


class Registration(Base):
    """A member registered for a session: attendance (the organizer marks it) and feedback (the member's)."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    feedback_rating: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1-5
    feedback_text: Mapped[str] = mapped_column(Text, default="")


class QuizAttempt(Base):
    """One member's answers to the awareness quiz, graded against the public fact-checks' ratings."""

    __tablename__ = "quiz_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    language: Mapped[str] = mapped_column(String(5))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # fact-check slug -> rating chosen
    right: Mapped[int] = mapped_column(Integer)
    asked: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TransparencyEntry(Base):
    """One entry of the public transparency log (issue 15): public metadata only, append-only, 0-based."""

    __tablename__ = "transparency_entries"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[str] = mapped_column(String(32))  # ISO 8601 UTC, as hashed
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    leaf: Mapped[str] = mapped_column(String(64))  # hex SHA-256(0x00 || canonical JSON)


class TreeHead(Base):
    """A signed tree head of the transparency log."""

    __tablename__ = "tree_heads"
    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(100))


class Incident(Base):
    """An election incident declared for the whole coalition (issue 15): its items are analyzed first (surge),
    every member is told, and it keeps a shared timeline until it is stood down."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))  # who declared it
    title: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(12))  # low | medium | high | critical
    election: Mapped[str] = mapped_column(String(200), default="")
    targets: Mapped[list[Any]] = mapped_column(JSON, default=list)  # people or bodies targeted
    disarm: Mapped[list[Any]] = mapped_column(JSON, default=list)  # DISARM technique ids
    tlp: Mapped[TLP] = mapped_column(Named(TLP), default=TLP.AMBER)
    declared_by: Mapped[str] = mapped_column(String(200))
    declared_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    stood_down_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    after_action: Mapped[str] = mapped_column(Text, default="")


class IncidentItem(Base):
    __tablename__ = "incident_items"
    __table_args__ = (UniqueConstraint("incident_id", "item_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IncidentUpdate(Base):
    """A line of an incident's shared timeline, with the sharing label its author chose."""

    __tablename__ = "incident_updates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    text: Mapped[str] = mapped_column(Text)
    tlp: Mapped[TLP] = mapped_column(Named(TLP), default=TLP.AMBER)


class ItemLabel(Base):
    """A reviewer's conclusion on where an item came from (one per item; a new one replaces it, audited)."""

    __tablename__ = "item_labels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), unique=True)
    origin: Mapped[Origin] = mapped_column(Named(Origin))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TipRequest(Base):
    """A tip: someone asked, through a channel, whether a piece of media is real (issue 13, part 3).

    The requester is a pseudonym (an HMAC of channel and platform id under the deployment's secret); the
    address replies go to and the message text are personal data, cleared when ``expires_at`` passes."""

    __tablename__ = "tip_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    requester: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"), nullable=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), nullable=True, index=True
    )
    opted_in: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ChannelEvent(Base):
    """A platform delivery already handled: the same ``event_id`` again is a replay, and is ignored."""

    __tablename__ = "channel_events"
    __table_args__ = (UniqueConstraint("channel", "event_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TipReply(Base):
    """A message to a requester, sent by the tipline worker after the transaction that wrote it commits."""

    __tablename__ = "tip_replies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("tip_requests.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class EntryMatchDay(Base):
    """How many times an entry matched on one day (UTC): the usual rate a sudden surge is measured against."""

    __tablename__ = "entry_match_days"
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    matches: Mapped[int] = mapped_column(Integer, default=0)


class MatchFeedback(Base):
    """A member's verdict on a match: the banked entry was right (confirmed) or matched a genuine item."""

    __tablename__ = "match_feedback"
    __table_args__ = (UniqueConstraint("entry_id", "org_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    verdict: Mapped[str] = mapped_column(String(20))  # confirmed | false_positive
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notification(Base):
    """A line in an organization's inbox (issue 12): the same event again folds into it (``count``) until
    it is resolved."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fold_key: Mapped[str] = mapped_column(String(64), index=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Webhook(Base):
    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    max_tlp: Mapped[TLP] = mapped_column(Named(TLP), default=TLP.GREEN)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    # secrets replaced by a rotation, still signed with until they expire: [{"secret", "expires_at"}]
    previous_secrets: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Delivery(Base):
    """One event for one webhook, and its line in the delivery log. A ``sending`` row is leased until
    ``next_attempt_at``, so a worker that dies mid-send leaves a row the next sweep claims again."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    event: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[DeliveryState] = mapped_column(Named(DeliveryState, 12), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    redelivery_of: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the delivery it repeats
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def _coercer(enum: type[StrEnum]) -> Any:
    def coerce(_target: object, value: object, _old: object, _initiator: object) -> StrEnum | None:
        return None if value is None else enum(str(value))

    return coerce


def _coerce_named_columns() -> None:
    """Values set on ``Named`` columns become enum members at once (``case.tlp = "RED"`` reads back as
    ``TLP.RED`` before any flush), and an unknown value fails where it is set, not at the next query."""
    for mapper in Base.registry.mappers:
        for prop in mapper.column_attrs:
            kind = prop.columns[0].type
            if isinstance(kind, Named):
                event.listen(getattr(mapper.class_, prop.key), "set", _coercer(kind.enum), retval=True)


_coerce_named_columns()
