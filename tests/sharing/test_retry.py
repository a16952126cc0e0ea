from __future__ import annotations

import pytest

from civicshield.errors import ConfigurationError
from civicshield.sharing import RetryPolicy


def test_delays_double_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(base_delay_s=30, max_delay_s=300, jitter=0)
    assert [policy.delay_s(n, rand=0.5) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]


def test_jitter_randomises_the_given_fraction() -> None:
    policy = RetryPolicy(base_delay_s=100, max_delay_s=1000, jitter=0.5)
    assert policy.delay_s(1, rand=0.0) == 50
    assert policy.delay_s(1, rand=0.999) == pytest.approx(99.95)
    full = RetryPolicy(base_delay_s=100, max_delay_s=1000, jitter=1.0)
    assert full.delay_s(2, rand=0.0) == 0
    assert full.delay_s(2, rand=0.5) == 100


def test_huge_attempt_counts_stay_capped() -> None:
    assert RetryPolicy(max_attempts=10_000, max_delay_s=3600, jitter=0).delay_s(5000, rand=0) == 3600


def test_next_attempt_until_attempts_run_out() -> None:
    policy = RetryPolicy(max_attempts=3, base_delay_s=10, jitter=0)
    assert policy.next_attempt_at(1, now=1000, rand=0.3) == 1010
    assert policy.next_attempt_at(2, now=1000, rand=0.3) == 1020
    assert policy.next_attempt_at(3, now=1000, rand=0.3) is None


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=10, max_delay_s=600, jitter=0)
    assert policy.next_attempt_at(1, now=0, rand=0, retry_after_s=120) == 120
    assert policy.next_attempt_at(1, now=0, rand=0, retry_after_s=86_400) == 600
    assert policy.next_attempt_at(1, now=0, rand=0, retry_after_s=1) == 10


def test_default_schedule_spans_about_an_hour() -> None:
    policy = RetryPolicy()
    worst = sum(policy.delay_s(n, rand=0.999999) for n in range(1, policy.max_attempts))
    best = sum(policy.delay_s(n, rand=0.0) for n in range(1, policy.max_attempts))
    assert 30 * 60 < best < worst < 65 * 60


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, True),
        (408, True),
        (425, True),
        (429, True),
        (500, True),
        (503, True),
        (501, False),
        (400, False),
        (401, False),
        (404, False),
        (410, False),
        (200, False),
        (302, False),
    ],
)
def test_retryable_statuses(status: int | None, expected: bool) -> None:
    assert RetryPolicy.retryable(status) is expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"base_delay_s": 0},
        {"base_delay_s": 10, "max_delay_s": 5},
        {"multiplier": 0.5},
        {"jitter": 1.5},
    ],
)
def test_invalid_policies_fail_loudly(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("attempts", "rand"), [(0, 0.5), (1, 1.0), (1, -0.1)])
def test_out_of_range_arguments_are_programming_errors(attempts: int, rand: float) -> None:
    with pytest.raises(ValueError, match=r"must|counts"):
        RetryPolicy().delay_s(attempts, rand=rand)
