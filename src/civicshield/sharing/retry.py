"""When to try a failed webhook delivery again: exponential backoff with jitter and an attempt cap.

Pure arithmetic on purpose: the caller passes the clock (``now``) and the random draw (``rand``), so the
queue that schedules deliveries stays deterministic in tests and the policy can be stored as plain data.

Backoff doubles (``multiplier``) from ``base_delay_s`` up to ``max_delay_s``; ``jitter`` randomises that
fraction of each delay so that subscribers recovering from one outage are not hit by every sender at the
same instant (0.5, "equal jitter", keeps at least half the delay; 1.0 is AWS's "full jitter"). A receiver's
``Retry-After`` is honoured up to ``max_delay_s``. With the defaults a failing endpoint is tried 8 times
over 32 to 64 minutes, then the delivery is given up (and should be surfaced to the subscriber).
"""

from __future__ import annotations

from dataclasses import dataclass

from civicshield.errors import ConfigurationError

__all__ = ["RetryPolicy"]

_RETRYABLE_4XX = frozenset({408, 425, 429})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0
    multiplier: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError("RetryPolicy.max_attempts must be at least 1")
        if not 0 < self.base_delay_s <= self.max_delay_s:
            raise ConfigurationError("RetryPolicy needs 0 < base_delay_s <= max_delay_s")
        if self.multiplier < 1:
            raise ConfigurationError("RetryPolicy.multiplier must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ConfigurationError("RetryPolicy.jitter must be within [0, 1]")

    def delay_s(self, attempts_made: int, *, rand: float) -> float:
        """Seconds to wait after ``attempts_made`` (>= 1) failed attempts, for a uniform ``rand`` in [0, 1).

        >>> RetryPolicy(base_delay_s=10, jitter=0).delay_s(3, rand=0.7)
        40.0
        """
        if attempts_made < 1:
            raise ValueError("attempts_made counts failed attempts and starts at 1")
        if not 0 <= rand < 1:
            raise ValueError("rand must be within [0, 1)")
        exponent = min(attempts_made - 1, 64)  # past 2**64 every delay is capped anyway
        capped = min(self.max_delay_s, self.base_delay_s * self.multiplier**exponent)
        return capped * (1 - self.jitter) + capped * self.jitter * rand

    def next_attempt_at(
        self, attempts_made: int, *, now: float, rand: float, retry_after_s: float | None = None
    ) -> float | None:
        """Unix time of the next attempt, or None when ``attempts_made`` used up ``max_attempts``."""
        if attempts_made >= self.max_attempts:
            return None
        delay = self.delay_s(attempts_made, rand=rand)
        if retry_after_s is not None and retry_after_s > 0:
            delay = max(delay, min(retry_after_s, self.max_delay_s))
        return now + delay

    @staticmethod
    def retryable(status: int | None) -> bool:
        """Whether to retry: no response (network error, timeout), 408/425/429, or 5xx except 501.

        Other 4xx mean the request itself is wrong (bad signature, gone endpoint): repeating it cannot help.
        """
        if status is None:
            return True
        return status in _RETRYABLE_4XX or (500 <= status <= 599 and status != 501)
