"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from civicshield.banks.model import BankKind, SignalType
from civicshield.banks.verdict import BankVerdict
from civicshield.service.domain.security import Scope
from civicshield.service.domain.states import CaseState, JobState
from civicshield.sharing.model import PartyKind
from civicshield.sharing.ratings import Rating
from civicshield.sharing.tlp import TLP

#: Languages the fact-check documents (ClaimReview, pages) are written in.
Language = Literal["en", "nl", "fr", "de"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)
    code: str = Field(default="", max_length=64)  # TOTP or recovery code, for people who enrolled one


class CodeIn(Strict):
    code: str = Field(min_length=6, max_length=64)


class CodeWithPasswordIn(Strict):
    password: str = Field(max_length=1000)
    code: str = Field(min_length=6, max_length=64)


class MfaPolicyIn(Strict):
    required: bool


class PasskeyIn(Strict):
    credential: dict[str, Any]  # ``PublicKeyCredential.toJSON()`` of navigator.credentials.create
    name: str = Field(default="passkey", max_length=100)


class PasskeyLoginIn(Strict):
    credential: dict[str, Any]  # ``PublicKeyCredential.toJSON()`` of navigator.credentials.get


class PasswordChangeIn(Strict):
    current_password: str = Field(max_length=1000)
    new_password: str = Field(min_length=10, max_length=1000)


class WebSessionOut(BaseModel):
    id: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    user_agent: str
    address: str
    current: bool


class SessionOut(BaseModel):
    user_id: int
    org_id: int
    email: str
    role: str
    csrf_token: str


class ApiKeyIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = [Scope.READ, Scope.SUBMIT, Scope.MATCH]


class ApiKeyOut(BaseModel):
    prefix: str
    name: str
    scopes: list[str]
    revoked: bool
    token: str | None = None  # only when created


class JobOut(BaseModel):
    id: int
    item_id: int
    state: JobState
    attempts: int
    label: str | None
    error: dict[str, Any] | None
    report: dict[str, Any] | None = None


class ItemOut(BaseModel):
    id: int
    sha256: str | None
    filename: str
    media_kind: str | None
    size: int
    job: JobOut | None = None
    duplicate_of: int | None = None  # on upload: the organization already had these exact bytes as this item


class ClaimSource(Strict):
    """Who made the claim, when and where it appeared, where known (ClaimReview's ``itemReviewed``)."""

    claim_author: str = Field(default="", max_length=300)
    claim_author_kind: PartyKind = PartyKind.PERSON
    claim_date: dt.date | None = None
    claim_url: str = Field(default="", max_length=2000, description="absolute http(s) URL, or empty")

    @field_validator("claim_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.netloc or " " in value):
            raise ValueError("claim_url must be an absolute http(s) URL")
        return value


class CaseIn(ClaimSource):
    item_id: int = Field(ge=1, le=2_147_483_647)
    title: str = Field(min_length=1, max_length=300)
    claim: str = Field(default="", max_length=5000)
    tlp: TLP | None = None


class TransitionIn(Strict):
    to: CaseState


class AssignIn(Strict):
    user_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class CommentIn(Strict):
    body: str = Field(min_length=1, max_length=20_000)


class RatingIn(Strict):
    rating: Rating
    note: str = Field(default="", max_length=5000)


class CommentOut(BaseModel):
    id: int
    author_id: int
    body: str
    created_at: dt.datetime


class CaseOut(BaseModel):
    id: int
    item_id: int
    title: str
    claim: str
    state: CaseState
    assignee_id: int | None
    rating: Rating | None
    rating_note: str
    tlp: TLP
    slug: str | None
    published_at: dt.datetime | None
    created_at: dt.datetime
    claim_author: str = ""
    claim_author_kind: str = "Person"
    claim_date: dt.date | None = None
    claim_url: str = ""
    machine_label: str | None = None
    comments: list[CommentOut] = []
    modified_at: dt.datetime | None = None
    retracted_at: dt.datetime | None = None
    retraction_reason: str = ""
    disarm: list[str] = []
    requests: int = 0  # tips asking about it, through any channel
    first_requested_at: dt.datetime | None = None


class CorrectionIn(Strict):
    note: str = Field(min_length=1, max_length=8000, description="what was corrected, shown on the page")
    rating: Rating | None = Field(default=None, description="the new rating, if it changes")


class TechniquesIn(Strict):
    techniques: list[str] = Field(max_length=30, description="DISARM technique ids, e.g. T0087.001")


class RetractionIn(Strict):
    reason: str = Field(min_length=1, max_length=8000, description="why, shown on the page")


class BankIn(Strict):
    name: str = Field(min_length=1, max_length=64)
    kind: BankKind = BankKind.KNOWN_FAKE
    tlp: TLP = TLP.GREEN


class BankOut(BaseModel):
    id: int
    org_id: int
    name: str
    kind: str
    tlp: TLP
    entries: int = 0
    pdq_max_distance: int | None = None


class BankSettingsIn(Strict):
    pdq_max_distance: int | None = Field(
        ge=0, le=31, description="a stricter PDQ match distance for this bank; null for the policy's 31"
    )


class HashIn(Strict):
    signal_type: SignalType
    hash: str = Field(min_length=1, max_length=200_000)
    quality: int | None = Field(default=None, ge=0, le=100)


class EntryIn(HashIn):
    label: str = Field(default="", max_length=2000)
    link: str | None = Field(default=None, max_length=2000)


class EntriesIn(Strict):
    entries: list[EntryIn] = Field(min_length=1, max_length=10_000)
    tlp: TLP | None = None


class EntryOut(BaseModel):
    id: int
    signal_type: str
    hash: str
    label: str
    link: str
    tlp: TLP
    quality: int | None
    case_id: int | None
    disabled_at: dt.datetime | None = None
    disabled_reason: str = ""


class EntryChangeIn(Strict):
    reason: str = Field(min_length=1, max_length=2000, description="why (kept in the audit log)")


class MatchQuery(Strict):
    hashes: list[HashIn] = Field(min_length=1, max_length=64)
    banks: list[int] | None = Field(default=None, max_length=100, description="only these banks (ids)")
    owners: list[int] | None = Field(default=None, max_length=100, description="only banks of these orgs")
    kinds: list[Literal["known_fake", "authentic", "allowlist"]] | None = Field(
        default=None, description="only these kinds"
    )


class FeedbackIn(Strict):
    entry_id: int = Field(ge=1, le=2_147_483_647)
    verdict: Literal["confirmed", "false_positive"]
    note: str = Field(default="", max_length=2000)


class MatchBatch(Strict):
    items: list[MatchQuery] = Field(min_length=1, max_length=1000)


class MatchOut(BaseModel):
    bank_id: int
    bank: str
    bank_kind: str
    entry_id: int
    label: str
    link: str | None
    signal_type: str
    tlp: TLP
    case_id: int | None
    fact_check_url: str | None = None
    detail: dict[str, Any]


class MatchResult(BaseModel):
    matches: list[MatchOut]
    verdict: BankVerdict


class PublishOut(BaseModel):
    case: CaseOut
    bank_id: int | None
    entries_added: int
    fact_check_url: str
