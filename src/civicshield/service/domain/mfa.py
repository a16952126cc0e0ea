"""A second factor for people who are phishing targets: TOTP (RFC 6238, ``pyotp``) and recovery codes.

Who must have one: operators and organization admins always, everyone in an organization whose policy says
so (``Organization.mfa_required``). Until such a person has enrolled, their session may only enrol (the API
answers ``mfa_enrolment_required``, the pages lead to the enrolment page); API keys are machine credentials
and are made by such sessions, so they are not asked.

The TOTP secret is stored encrypted (Fernet, key derived from the service's secret key); a code is accepted
once (the last used time step is kept) and within one step of clock drift. Ten recovery codes are shown once
at enrolment; each works once in place of a code.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.errors import Conflict, UsageError
from civicshield.service.domain import audit
from civicshield.service.domain.security import Role, verify_password
from civicshield.service.domain.tables import Organization, Passkey, RecoveryCode, User, utcnow

__all__ = ["Enrolment", "begin", "confirm", "disable", "enrolled", "must_enrol", "required", "verify"]

ISSUER = "CivicShield"
RECOVERY_CODES = 10


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(f"civicshield-totp:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _secret(user: User, secret_key: str) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return _fernet(secret_key).decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:
        return None


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def enrolled(user: User) -> bool:
    return user.totp_enrolled_at is not None


def has_passkey(s: Session, user: User) -> bool:
    return s.scalar(select(Passkey.id).where(Passkey.user_id == user.id).limit(1)) is not None


def must_enrol(s: Session, user: User) -> bool:
    """A person who needs a second factor and has none yet (an authenticator app or a passkey)."""
    return not enrolled(user) and required(s, user) and not has_passkey(s, user)


def required(s: Session, user: User) -> bool:
    """Whether this person must have a second factor."""
    if Role(user.role).at_least(Role.ORG_ADMIN):
        return True
    org = s.get(Organization, user.org_id)
    return bool(org and org.mfa_required)


class Enrolment:
    """A started enrolment: the secret to put in an authenticator app, as text and as an otpauth URI."""

    def __init__(self, secret: str, email: str) -> None:
        self.secret = secret
        self.uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def begin(s: Session, user: User, secret_key: str) -> Enrolment:
    """A new secret, not active until ``confirm`` sees a first code from it."""
    if enrolled(user):
        raise Conflict("a second factor is enrolled already; disable it first")
    secret = pyotp.random_base32()
    user.totp_secret = _fernet(secret_key).encrypt(secret.encode()).decode()
    return Enrolment(secret, user.email)


def _check_totp(user: User, secret: str, code: str) -> bool:
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(secret)
    now = int(time.time())
    for drift in (0, -1, 1):
        step = now // totp.interval + drift
        if step > user.totp_last_step and secrets.compare_digest(totp.at(step * totp.interval), code):
            user.totp_last_step = step  # each code works once
            return True
    return False


def confirm(s: Session, user: User, secret_key: str, code: str) -> list[str]:
    """Enrol with a first code from the authenticator; returns the recovery codes (shown once)."""
    secret = _secret(user, secret_key)
    if secret is None or enrolled(user):
        raise Conflict("start the enrolment first")
    if not _check_totp(user, secret, code):
        raise UsageError("that code is not right: check the authenticator's clock and try the next code")
    user.totp_enrolled_at = utcnow()
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    for old in s.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        s.delete(old)
    s.add_all(RecoveryCode(user_id=user.id, code_hash=_code_hash(c)) for c in codes)
    audit.record(s, user.org_id, f"session:{user.email}", "user.mfa_enrolled", "user", user.id, {})
    return codes


def verify(s: Session, user: User, secret_key: str, code: str) -> bool:
    """A TOTP code or an unused recovery code of this person (which is then used up)."""
    secret = _secret(user, secret_key)
    if secret is not None and enrolled(user) and _check_totp(user, secret, code):
        return True
    row = s.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = utcnow()
    audit.record(s, user.org_id, f"session:{user.email}", "user.recovery_code_used", "user", user.id, {})
    return True


def disable(s: Session, user: User, secret_key: str, password: str, code: str) -> None:
    """Remove the second factor (password and a code asked again); not for those who must have one."""
    if required(s, user):
        raise Conflict("your role or your organization requires a second factor")
    if not verify_password(user.password_hash, password) or not verify(s, user, secret_key, code):
        raise UsageError("the password or the code is not right")
    user.totp_secret, user.totp_enrolled_at = None, None
    for old in s.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        s.delete(old)
    audit.record(s, user.org_id, f"session:{user.email}", "user.mfa_disabled", "user", user.id, {})
