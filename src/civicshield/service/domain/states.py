"""The states the service's records move through, one enum each (stored as their values)."""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "CASE_TRANSITIONS",
    "CaseState",
    "DeliveryState",
    "EnrolmentState",
    "JobState",
    "JoinRequestState",
    "WebhookEvent",
]


class CaseState(StrEnum):
    NEW = "new"
    TRIAGE = "triage"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    DISMISSED = "dismissed"


#: Where a case may go from each state; a published case is final.
CASE_TRANSITIONS: MappingProxyType[CaseState, frozenset[CaseState]] = MappingProxyType(
    {
        CaseState.NEW: frozenset({CaseState.TRIAGE, CaseState.DISMISSED}),
        CaseState.TRIAGE: frozenset({CaseState.IN_REVIEW, CaseState.DISMISSED}),
        CaseState.IN_REVIEW: frozenset({CaseState.TRIAGE, CaseState.PUBLISHED, CaseState.DISMISSED}),
        CaseState.PUBLISHED: frozenset(),
        CaseState.DISMISSED: frozenset({CaseState.TRIAGE}),
    }
)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # leased by a worker until ``next_attempt_at``
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookEvent(StrEnum):
    """What a webhook can subscribe to (``domain.alerts`` says when each is queued)."""

    CASE_PUBLISHED = "case.published"
    BANK_ENTRY_ADDED = "bank.entry_added"
    MATCH_FOUND = "match.found"
    IMPERSONATION_DETECTED = "impersonation.detected"
    FACT_CHECK_CORRECTED = "fact_check.corrected"
    FACT_CHECK_RETRACTED = "fact_check.retracted"
    INCIDENT_DECLARED = "incident.declared"


class JoinRequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class EnrolmentState(StrEnum):
    """An organization's membership of the protection programme."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
