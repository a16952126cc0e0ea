"""Sign-in throttling per account name and per address, with exponential backoff, in the database (so every
API process counts the same failures).

After ``free`` failures in a row, each further failure doubles the wait before the next try is allowed (1 s,
2 s, 4 s ... up to ``max_wait_s``). Unknown addresses are counted exactly like existing ones, so the throttle
does not tell which accounts exist. A success clears the account's count (not the address's: one valid
account must not reset a guessing run against others from the same address).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from civicshield.errors import RateLimited
from civicshield.service.domain.tables import LoginThrottle, as_utc, utcnow

__all__ = ["ThrottlePolicy", "check", "failed", "succeeded"]


@dataclass(frozen=True)
class ThrottlePolicy:
    account_free: int = 5
    address_free: int = 20
    max_wait_s: int = 15 * 60


def _keys(email: str, address: str) -> list[tuple[str, str]]:
    return [("account", f"account:{email.strip().lower()[:320]}"), ("address", f"address:{address[:64]}")]


def check(s: Session, email: str, address: str) -> None:
    """``RateLimited`` (with the wait) if this account name or address must wait before trying again."""
    now = utcnow()
    for _, key in _keys(email, address):
        row = s.get(LoginThrottle, key)
        if row is not None and row.blocked_until is not None and as_utc(row.blocked_until) > now:
            wait = int((as_utc(row.blocked_until) - now).total_seconds()) + 1
            raise RateLimited(
                f"too many failed sign-ins; try again in {wait} s", detail={"retry_after_s": wait}
            )


def failed(s: Session, email: str, address: str, policy: ThrottlePolicy) -> None:
    now = utcnow()
    for kind, key in _keys(email, address):
        row = s.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failure_at=now)
            s.add(row)
        row.failures += 1
        row.last_failure_at = now
        free = policy.account_free if kind == "account" else policy.address_free
        if row.failures > free:
            wait = min(policy.max_wait_s, 2 ** min(row.failures - free - 1, 20))
            row.blocked_until = now + dt.timedelta(seconds=wait)


def succeeded(s: Session, email: str) -> None:
    row = s.get(LoginThrottle, f"account:{email.strip().lower()[:320]}")
    if row is not None:
        s.delete(row)
