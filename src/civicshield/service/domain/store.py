"""The write path of organizations, people, API keys, items, jobs and cases, and their tenant-scoped reads.

Each aggregate has one write path in ``domain``: this module for the ones above, ``banks`` for banks and
their entries, ``subscriptions`` for webhooks, ``alerts`` for queued deliveries (the outbox), ``onboarding``
for invitations and join requests, ``sessions`` for sign-in sessions. Reads the pages and the API share
beyond these are in ``reads``.

Every read takes the caller's ``Principal`` and only ever returns rows of the caller's organization, so an
object of another organization is indistinguishable from a missing one (``NotFound`` → 404). Every change is
audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.errors import Conflict, Forbidden, NotFound, Unauthenticated, UsageError
from civicshield.service.domain import audit, sessions
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import (
    NewKey,
    OrgKind,
    Role,
    Scope,
    hash_key,
    hash_password,
    key_prefix,
    new_api_key,
    same,
    verify_nothing,
    verify_password,
)
from civicshield.service.domain.states import CASE_TRANSITIONS, CaseState
from civicshield.service.domain.tables import (
    ApiKey,
    Case,
    Comment,
    Item,
    Job,
    Organization,
    User,
    as_utc,
    utcnow,
)
from civicshield.sharing.ratings import Rating
from civicshield.sharing.tlp import TLP

#: Where files sent from the public verification page go when the sender opts in.
PUBLIC_INTAKE_ORG = "public-submissions"
PUBLIC_INTAKE_EMAIL = "intake@public-submissions.invalid"


# ---- organizations, users, keys -------------------------------------------------------------------------


def create_org(s: Session, name: str, kind: str, default_tlp: TLP | str = TLP.AMBER) -> Organization:
    if kind not in set(OrgKind):
        raise UsageError(f"unknown organization kind {kind!r}")
    default_tlp = TLP.parse(default_tlp)
    if s.scalar(select(Organization).where(Organization.name == name)):
        raise Conflict(f"organization {name!r} exists")
    org = Organization(name=name, kind=kind, default_tlp=default_tlp)
    s.add(org)
    s.flush()
    audit.record(s, org.id, "system", "org.created", "organization", org.id, {"name": name, "kind": kind})
    return org


def check_password_strength(password: str, *, context: tuple[str, ...] = ()) -> None:
    """Refuse short passwords, ones on zxcvbn's list of 30,000 common and breached passwords, and ones its
    estimator rates as guessable within about 10^8 tries (score under 3), e.g. ``password123``."""
    if len(password) < 10:
        raise UsageError("passwords need at least 10 characters")
    from zxcvbn import zxcvbn

    verdict = zxcvbn(password[:100], user_inputs=list(context))
    if verdict["score"] < 3:
        hint = verdict["feedback"].get("warning") or "it is too easy to guess"
        raise UsageError(f"choose a stronger password: {hint.rstrip('.')}. A few unrelated words work well.")


def create_user(
    s: Session, org_id: int, email: str, name: str, role: str, password: str, actor: str = "system"
) -> User:
    if role not in set(Role):
        raise UsageError(f"unknown role {role!r}")
    email = email.strip().lower()
    check_password_strength(password, context=(email, name))
    if s.scalar(select(User).where(User.email == email)):
        raise Conflict("a user with this email exists")
    user = User(org_id=org_id, email=email, name=name, role=role, password_hash=hash_password(password))
    s.add(user)
    s.flush()
    audit.record(s, org_id, actor, "user.created", "user", user.id, {"email": email, "role": role})
    return user


def usable(s: Session, user: User | None) -> bool:
    """An account that may act: active, in an organization that is not suspended."""
    if user is None or not user.active:
        return False
    org = s.get(Organization, user.org_id)
    return org is not None and org.suspended_at is None


def login(s: Session, email: str, password: str) -> User | None:
    user = s.scalar(select(User).where(User.email == email.strip().lower(), User.active.is_(True)))
    if user is None:
        verify_nothing(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    return user if usable(s, user) else None


def change_password(s: Session, who: Principal, current: str, new: str, *, keep: str | None = None) -> None:
    """Set a person's own password (the current one is asked again) and end every other session of theirs:
    whoever had a copy of a session cookie loses it with the old password."""
    user = s.get(User, who.user_id)
    if user is None or not verify_password(user.password_hash, current):
        raise Unauthenticated("the current password is wrong")
    check_password_strength(new, context=(user.email, user.name))
    user.password_hash = hash_password(new)
    ended = sessions.revoke_all(s, user.id, keep=keep)
    audit.record(
        s, user.org_id, who.actor, "user.password_changed", "user", user.id, {"sessions_ended": ended}
    )


def principal_for(user: User, via: str = "session", scopes: frozenset[Scope] | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        org_id=user.org_id,
        role=Role(user.role),
        email=user.email,
        scopes=scopes if scopes is not None else frozenset(Scope),
        via=via,
    )


def set_language(s: Session, who: Principal, language: str, supported: frozenset[str]) -> User:
    """A person's interface language (their own only)."""
    if language not in supported:
        raise UsageError(f"language must be one of {', '.join(sorted(supported))}")
    user = _owned(s, who, User, who.user_id, "user")
    user.language = language
    audit.record(s, who.org_id, who.actor, "user.language", "user", user.id, {"language": language})
    return user


def set_role(s: Session, who: Principal, user_id: int, role: str) -> User:
    """Organization admins change the role of members of their organization, never their own."""
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("only organization admins change roles")
    if role not in set(Role) or (role == Role.PLATFORM_ADMIN and not who.can(Role.PLATFORM_ADMIN)):
        raise UsageError(f"cannot give the role {role!r}")
    user = _owned(s, who, User, user_id, "user")
    if user.id == who.user_id:
        raise Conflict("ask another admin to change your own role")
    before = user.role
    user.role = role
    audit.record(s, who.org_id, who.actor, "user.role", "user", user.id, {"from": before, "to": role})
    return user


def administered_org(s: Session, who: Principal, refusal: str) -> Organization:
    """The caller's own organization, for an admin changing one of its settings; ``Forbidden(refusal)``
    for anyone else."""
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden(refusal)
    org = s.get(Organization, who.org_id)
    if org is None:
        raise NotFound("no such organization")
    return org


def set_mfa_policy(s: Session, who: Principal, required: bool) -> Organization:
    """Whether every member of the organization needs a second factor (admins always do)."""
    org = administered_org(s, who, "only organization admins set the second-factor policy")
    org.mfa_required = required
    audit.record(s, org.id, who.actor, "org.mfa_policy", "organization", org.id, {"required": required})
    return org


def set_default_tlp(s: Session, who: Principal, tlp: TLP | str) -> Organization:
    """The TLP label new cases of the organization start with."""
    org = administered_org(s, who, "only organization admins change the default TLP")
    tlp = TLP.parse(tlp)
    before = org.default_tlp
    org.default_tlp = tlp
    audit.record(
        s, who.org_id, who.actor, "org.default_tlp", "organization", org.id, {"from": before, "to": tlp}
    )
    return org


def public_intake(s: Session) -> Principal:
    """The principal that files sent in from the public page are submitted as.

    Opted-in public files need an owner like every item; they go to one ``public-submissions`` organization
    (created on first use, AMBER by default) whose intake account has an unknown random password and so can
    never sign in. Its admins, added by a platform admin, triage the submissions like any other item.
    """
    org = s.scalar(select(Organization).where(Organization.name == PUBLIC_INTAKE_ORG))
    if org is None:
        org = create_org(s, PUBLIC_INTAKE_ORG, "ngo", default_tlp=TLP.AMBER)
    user = s.scalar(select(User).where(User.email == PUBLIC_INTAKE_EMAIL))
    if user is None:
        user = create_user(
            s, org.id, PUBLIC_INTAKE_EMAIL, "Public submissions", "analyst", secrets.token_urlsafe(32)
        )
    return principal_for(user, via="public")


def create_api_key(s: Session, who: Principal, name: str, scopes: list[str]) -> NewKey:
    try:
        wanted = frozenset(Scope(x) for x in scopes)
    except ValueError as exc:
        raise UsageError(f"unknown scope in {scopes}") from exc
    if not wanted <= who.scopes:  # a key made by a key never holds more than that key
        lacking = ", ".join(sorted(wanted - who.scopes))
        raise Forbidden(f"a key cannot be given scopes its creator lacks: {lacking}")
    key = new_api_key()
    s.add(
        ApiKey(
            org_id=who.org_id,
            user_id=who.user_id,
            name=name,
            prefix=key.prefix,
            key_hash=key.key_hash,
            scopes=sorted(wanted),
        )
    )
    audit.record(
        s, who.org_id, who.actor, "api_key.created", "api_key", key.prefix, {"scopes": sorted(wanted)}
    )
    return key


def resolve_api_key(
    s: Session, token: str, *, record_use: Callable[[str], None] | None = None
) -> Principal | None:
    """The principal of a valid, unrevoked key of an active user. Its ``last_used_at`` is written at most
    once a minute: in ``s``, or through ``record_use(prefix)`` when ``s`` only reads."""
    prefix = key_prefix(token)
    if prefix is None:
        return None
    row = s.scalar(select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked.is_(False)))
    if row is None or not same(row.key_hash, hash_key(token)):
        return None
    user = s.get(User, row.user_id)
    if user is None or not usable(s, user):
        return None
    now = utcnow()
    last = as_utc(row.last_used_at) if row.last_used_at is not None else None
    if last is None or (now - last).total_seconds() > 60:  # a write per request would cost a commit each
        if record_use is None:
            row.last_used_at = now
        else:
            record_use(row.prefix)
    return principal_for(user, via="api_key", scopes=frozenset(Scope(x) for x in row.scopes))


def record_key_use(s: Session, prefix: str) -> None:
    """Write a key's ``last_used_at`` now (for requests whose own session only reads)."""
    row = s.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is not None:
        row.last_used_at = utcnow()


def list_api_keys(s: Session, who: Principal) -> list[ApiKey]:
    return list(s.scalars(select(ApiKey).where(ApiKey.org_id == who.org_id).order_by(ApiKey.id)))


def revoke_api_key(s: Session, who: Principal, prefix: str) -> None:
    row = s.scalar(select(ApiKey).where(ApiKey.org_id == who.org_id, ApiKey.prefix == prefix))
    if row is None:
        raise NotFound("no such API key")
    row.revoked = True
    audit.record(s, who.org_id, who.actor, "api_key.revoked", "api_key", prefix)


# ---- items and jobs ------------------------------------------------------------------------------------


def add_item(
    s: Session,
    who: Principal,
    *,
    sha256: str | None,
    filename: str,
    media_kind: str | None,
    size: int,
    hashes: dict[str, Any] | None = None,
) -> Item:
    item = Item(
        org_id=who.org_id,
        submitted_by=who.user_id or None,  # 0: the service itself (a tipline), not a member
        sha256=sha256,
        filename=filename[:300],
        media_kind=media_kind,
        size=size,
        hashes=hashes or {},
    )
    s.add(item)
    s.flush()
    audit.record(s, who.org_id, who.actor, "item.submitted", "item", item.id, {"sha256": sha256})
    return item


T = TypeVar("T", Item, Job, Case, User)


def _owned(s: Session, who: Principal, model: type[T], row_id: int, what: str) -> T:
    """The row if it belongs to the caller's organization; otherwise 404, exactly as if it did not exist."""
    row = s.get(model, row_id)
    if row is None or row.org_id != who.org_id:
        raise NotFound(f"no such {what}")
    return row


def get_item(s: Session, who: Principal, item_id: int) -> Item:
    return _owned(s, who, Item, item_id, "item")


def create_job(s: Session, item: Item) -> Job:
    job = Job(org_id=item.org_id, item_id=item.id)
    s.add(job)
    s.flush()
    return job


def get_job(s: Session, who: Principal, job_id: int) -> Job:
    return _owned(s, who, Job, job_id, "job")


# ---- cases ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimSource:
    """Who made a claim, when, and where it appeared, as far as known (empty: unknown)."""

    author: str = ""
    author_kind: str = "Person"  # or "Organization"
    date: dt.date | None = None
    url: str = ""

    def __post_init__(self) -> None:
        if self.author_kind not in ("Person", "Organization"):
            raise UsageError("the claim's author is a Person or an Organization")
        parts = urlsplit(self.url)
        if self.url and (parts.scheme not in ("http", "https") or not parts.netloc or " " in self.url):
            raise UsageError("where the claim appeared must be an absolute http(s) link")


def create_case(
    s: Session,
    who: Principal,
    item: Item,
    title: str,
    claim: str = "",
    tlp: TLP | str | None = None,
    source: ClaimSource | None = None,
) -> Case:
    if not who.can(Role.ANALYST):
        raise Forbidden("analysts and above open cases")
    org = s.get(Organization, who.org_id)
    tlp = TLP.parse(tlp) if tlp else (org.default_tlp if org else TLP.AMBER)
    source = source or ClaimSource()
    case = Case(
        org_id=who.org_id,
        item_id=item.id,
        title=title[:300],
        claim=claim,
        tlp=tlp,
        claim_author=source.author[:300],
        claim_author_kind=source.author_kind,
        claim_date=source.date,
        claim_url=source.url[:2000],
    )
    s.add(case)
    s.flush()
    audit.record(s, who.org_id, who.actor, "case.created", "case", case.id, {"item": item.id, "tlp": tlp})
    return case


def earlier_item(s: Session, who: Principal, sha256: str) -> int | None:
    """The first item of the caller's organization with these exact bytes, if any (a duplicate upload)."""
    q = select(Item.id).where(Item.org_id == who.org_id, Item.sha256 == sha256).order_by(Item.id).limit(1)
    found: int | None = s.scalar(q)
    return found


def get_case(s: Session, who: Principal, case_id: int) -> Case:
    return _owned(s, who, Case, case_id, "case")


def list_cases(s: Session, who: Principal, state: str | None = None) -> list[Case]:
    q = select(Case).where(Case.org_id == who.org_id)
    if state:
        q = q.where(Case.state == state)
    return list(s.scalars(q.order_by(Case.id.desc()).limit(500)))


def transition(s: Session, who: Principal, case: Case, to: CaseState | str) -> Case:
    try:
        to = CaseState(to)
    except ValueError:
        raise UsageError(f"unknown case state {to!r}; known: {', '.join(CaseState)}") from None
    if to not in CASE_TRANSITIONS[case.state]:
        raise Conflict(f"a case in state {str(case.state)!r} cannot move to {str(to)!r}")
    if to in {CaseState.PUBLISHED, CaseState.DISMISSED} and not who.can(Role.REVIEWER):
        raise Forbidden("only reviewers publish or dismiss cases")
    if to is CaseState.PUBLISHED and case.rating is None:
        raise Conflict("rate the case before publishing it")
    if not who.can(Role.ANALYST):
        raise Forbidden("viewers cannot change cases")
    before = case.state
    case.state = to
    if to is CaseState.PUBLISHED:
        case.published_at = utcnow()
        case.slug = case.slug or secrets.token_urlsafe(9)
    audit.record(s, who.org_id, who.actor, "case.transition", "case", case.id, {"from": before, "to": to})
    return case


def assign(s: Session, who: Principal, case: Case, user_id: int | None) -> Case:
    if not who.can(Role.ANALYST):
        raise Forbidden("viewers cannot assign cases")
    if user_id is not None:
        _owned(s, who, User, user_id, "user")
    case.assignee_id = user_id
    audit.record(s, who.org_id, who.actor, "case.assigned", "case", case.id, {"assignee": user_id})
    return case


def comment(s: Session, who: Principal, case: Case, body: str) -> Comment:
    if not who.can(Role.ANALYST):
        raise Forbidden("viewers cannot comment")
    if not body.strip():
        raise UsageError("empty comment")
    row = Comment(case_id=case.id, author_id=who.user_id, body=body[:20_000])
    s.add(row)
    s.flush()
    audit.record(s, who.org_id, who.actor, "case.commented", "case", case.id, {"comment": row.id})
    return row


def rate(s: Session, who: Principal, case: Case, rating: Rating | str, note: str = "") -> Case:
    """A reviewer's rating overrides the machine verdict in everything published."""
    if not who.can(Role.REVIEWER):
        raise Forbidden("only reviewers rate cases")
    rating = Rating.parse(rating)
    if case.state is CaseState.PUBLISHED:
        raise Conflict("published cases are final")
    case.rating = rating
    case.rating_note = note
    audit.record(s, who.org_id, who.actor, "case.rated", "case", case.id, {"rating": rating})
    return case


def comments(s: Session, case: Case) -> list[Comment]:
    return list(s.scalars(select(Comment).where(Comment.case_id == case.id).order_by(Comment.id)))


def latest_job(s: Session, item: Item) -> Job | None:
    return latest_job_for_item_id(s, item.id)


def latest_job_for_item_id(s: Session, item_id: int) -> Job | None:
    return s.scalars(select(Job).where(Job.item_id == item_id).order_by(Job.id.desc()).limit(1)).first()
