"""Signing in, the one path for the API and the pages: throttling, password, second factor.

Failures are counted in a transaction of their own, so that the refusal (an exception that rolls the
request's transaction back) does not take the count with it.
"""

from __future__ import annotations

from civicshield.errors import SecondFactorRequired, Unauthenticated
from civicshield.service.domain import mfa, store, throttle
from civicshield.service.domain.tables import User
from civicshield.service.infra.db.engine import Database
from civicshield.service.settings import ServiceSettings

__all__ = ["authenticate"]


def authenticate(
    db: Database, settings: ServiceSettings, *, email: str, password: str, code: str, address: str
) -> User:
    """The person, if the password (and their second factor, when they have one) is right."""
    with db.reading() as s:
        throttle.check(s, email, address)
    with db.session() as s:
        user = store.login(s, email, password)
        if user is not None and not mfa.enrolled(user) and mfa.has_passkey(s, user):
            raise SecondFactorRequired("this account signs in with its passkey")
        if user is not None and mfa.enrolled(user):
            if not code:
                raise SecondFactorRequired("enter the code from your authenticator app (or a recovery code)")
            if not mfa.verify(s, user, settings.secret_key, code):
                user = None
        if user is None:
            throttle.failed(s, email, address, settings.throttle)
        else:
            throttle.succeeded(s, email)
    if user is None:
        raise Unauthenticated("wrong email, password or code")
    return user
