"""Writes the pages need that ``store`` does not offer yet, written in its style so they can move there as-is.

Each one is scoped by the caller's ``Principal``, checks the role, validates, and is audited in the same
transaction, exactly like the functions in ``store``. They live here only because ``store.py`` belongs to
another line of work; nothing else in the UI writes to the database.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.errors import Conflict, Forbidden, NotFound, UsageError
from civicshield.service import audit, store
from civicshield.service.db.tables import Organization, User
from civicshield.service.principal import Principal
from civicshield.service.security import Role

#: Where files sent from the public verification page go when the sender opts in.
PUBLIC_INTAKE_ORG = "public-submissions"
PUBLIC_INTAKE_EMAIL = "intake@public-submissions.invalid"


def set_language(s: Session, who: Principal, language: str, supported: frozenset[str]) -> User:
    """A person's interface language (their own only)."""
    if language not in supported:
        raise UsageError(f"language must be one of {', '.join(sorted(supported))}")
    user = s.get(User, who.user_id)
    if user is None or user.org_id != who.org_id:
        raise NotFound("no such user")
    user.language = language
    audit.record(s, who.org_id, who.actor, "user.language", "user", user.id, {"language": language})
    return user


def set_role(s: Session, who: Principal, user_id: int, role: str) -> User:
    """Organization admins change the role of members of their organization, never their own."""
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("only organization admins change roles")
    if role not in set(Role) or (role == Role.PLATFORM_ADMIN and not who.can(Role.PLATFORM_ADMIN)):
        raise UsageError(f"cannot give the role {role!r}")
    user = s.get(User, user_id)
    if user is None or user.org_id != who.org_id:
        raise NotFound("no such user")
    if user.id == who.user_id:
        raise Conflict("ask another admin to change your own role")
    before = user.role
    user.role = role
    audit.record(s, who.org_id, who.actor, "user.role", "user", user.id, {"from": before, "to": role})
    return user


def set_default_tlp(s: Session, who: Principal, tlp: str) -> Organization:
    """The TLP label new cases of the organization start with."""
    if not who.can(Role.ORG_ADMIN):
        raise Forbidden("only organization admins change the default TLP")
    if tlp not in store.TLPS:
        raise UsageError(f"unknown TLP {tlp!r}")
    org = s.get(Organization, who.org_id)
    if org is None:
        raise NotFound("no such organization")
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
        org = store.create_org(s, PUBLIC_INTAKE_ORG, "ngo", default_tlp="AMBER")
    user = s.scalar(select(User).where(User.email == PUBLIC_INTAKE_EMAIL))
    if user is None:
        user = store.create_user(
            s, org.id, PUBLIC_INTAKE_EMAIL, "Public submissions", "analyst", secrets.token_urlsafe(32)
        )
    return store.principal_for(user, via="public")
