"""Who is calling: resolved once per request from a session cookie or an API key."""

from __future__ import annotations

from dataclasses import dataclass

from civicshield.service.domain.security import Role, Scope


@dataclass(frozen=True)
class Principal:
    user_id: int
    org_id: int
    role: Role
    email: str
    scopes: frozenset[Scope] = frozenset(Scope)
    via: str = "session"  # session | api_key

    @property
    def actor(self) -> str:
        return f"{self.via}:{self.email}"

    def can(self, role: Role, scope: Scope | None = None) -> bool:
        return self.role.at_least(role) and (scope is None or scope in self.scopes)
