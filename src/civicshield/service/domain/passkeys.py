"""Passkeys (WebAuthn, ``py_webauthn``): phishing-resistant sign-in for people targeted by phishing.

A passkey is bound to this service's origin (``base_url``): a look-alike site cannot use it, which is what
makes it resist phishing where passwords and TOTP codes do not. Registering one needs a signed-in session;
signing in with one needs nothing else (the authenticator verifies the person: PIN or biometrics,
``user_verification=required``), so it is both factors at once and satisfies the second-factor requirement.

The challenge of each ceremony is kept in the signed session cookie with its purpose and expiry and is used
once. The relying party id is the host of ``base_url`` (a domain name: browsers refuse IP addresses).
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from civicshield.errors import NotFound, Unauthenticated, UsageError
from civicshield.service.domain import audit, store
from civicshield.service.domain.tables import Passkey, User, utcnow

__all__ = ["Relying", "begin_login", "begin_registration", "finish_login", "finish_registration"]

CHALLENGE_KEY = "webauthn"
TIMEOUT_S = 300


class Relying:
    """This service as a WebAuthn relying party, from its public base URL."""

    def __init__(self, base_url: str, name: str = "CivicShield") -> None:
        parts = urlsplit(base_url)
        self.rp_id = parts.hostname or "localhost"
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.name = name


def _remember(session: dict[str, Any], purpose: str, challenge: bytes, user_id: int | None = None) -> None:
    session[CHALLENGE_KEY] = {
        "purpose": purpose,
        "challenge": bytes_to_base64url(challenge),
        "user_id": user_id,
        "until": time.time() + TIMEOUT_S,
    }


def _recall(session: dict[str, Any], purpose: str) -> dict[str, Any]:
    saved = session.pop(CHALLENGE_KEY, None)
    if (
        not isinstance(saved, dict)
        or float(saved.get("until", 0)) < time.time()
        or saved.get("purpose") != purpose
    ):
        raise UsageError("start again: the passkey request expired or was already used")
    return dict(saved)


def begin_registration(s: Session, rp: Relying, user: User, session: dict[str, Any]) -> str:
    """Options for ``navigator.credentials.create`` (JSON), remembering the challenge."""
    challenge = secrets.token_bytes(32)
    existing = [
        PublicKeyCredentialDescriptor(id=base64url_to_bytes(cid))
        for cid in s.scalars(select(Passkey.credential_id).where(Passkey.user_id == user.id))
    ]
    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.name,
        user_name=user.email,
        user_id=str(user.id).encode(),
        user_display_name=user.name,
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=existing,
    )
    _remember(session, "register", challenge, user.id)
    return str(options_to_json(options))


def finish_registration(
    s: Session, rp: Relying, user: User, session: dict[str, Any], credential: dict[str, Any], name: str
) -> Passkey:
    saved = _recall(session, "register")
    if saved.get("user_id") != user.id:
        raise UsageError("start again: this passkey request belongs to another session")
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(saved["challenge"]),
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"the passkey could not be registered: {exc}") from exc
    row = Passkey(
        user_id=user.id,
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        name=(name or "passkey")[:100],
    )
    s.add(row)
    s.flush()
    actor = f"session:{user.email}"
    audit.record(s, user.org_id, actor, "user.passkey_added", "user", user.id, {"passkey": row.id})
    return row


def begin_login(rp: Relying, session: dict[str, Any]) -> str:
    """Options for ``navigator.credentials.get``: any passkey of this site (discoverable credentials)."""
    challenge = secrets.token_bytes(32)
    options = generate_authentication_options(
        rp_id=rp.rp_id, challenge=challenge, user_verification=UserVerificationRequirement.REQUIRED
    )
    _remember(session, "login", challenge)
    return str(options_to_json(options))


def finish_login(s: Session, rp: Relying, session: dict[str, Any], credential: dict[str, Any]) -> User:
    saved = _recall(session, "login")
    credential_id = str(credential.get("id", "")) if isinstance(credential, dict) else ""
    row = s.scalar(select(Passkey).where(Passkey.credential_id == credential_id)) if credential_id else None
    if row is None:
        raise Unauthenticated("this passkey is not known here")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(saved["challenge"]),
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            credential_public_key=base64url_to_bytes(row.public_key),
            credential_current_sign_count=row.sign_count,
            require_user_verification=True,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
        raise Unauthenticated("the passkey's answer does not verify") from exc
    user = s.get(User, row.user_id)
    if user is None or not store.usable(s, user):
        raise Unauthenticated("this account cannot sign in")
    row.sign_count, row.last_used_at = verified.new_sign_count, utcnow()
    return user


def remove(s: Session, user: User, passkey_id: int) -> None:
    row = s.get(Passkey, passkey_id)
    if row is None or row.user_id != user.id:
        raise NotFound("no such passkey")
    s.delete(row)
    actor = f"session:{user.email}"
    audit.record(s, user.org_id, actor, "user.passkey_removed", "user", user.id, {"passkey": passkey_id})


def listing(s: Session, user_id: int) -> list[dict[str, Any]]:
    rows = s.scalars(select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.id))
    return [
        {
            "id": r.id,
            "name": r.name,
            "created_at": r.created_at.isoformat(),
            "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
        }
        for r in rows
    ]
