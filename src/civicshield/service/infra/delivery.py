"""Sending queued webhook deliveries: claim the due rows, sign, POST, record, schedule the retry.

The ``deliveries`` table is the queue and the log; the broker only carries a wake-up call. ``deliver_due`` is
the whole engine, callable synchronously (tests drive time through ``now``). In production it runs in the
Celery task ``civicshield.deliver_webhooks``, sent once the transaction that queued a delivery commits
(``alerts.announce_after_commit``) and by the worker's periodic `sweep`, so deliveries survive restarts,
lost messages and a broker that was down when the event happened.

Claiming makes concurrent workers safe: on PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED``; elsewhere (SQLite,
which serialises writers) a conditional ``UPDATE`` per row that only one claimer can win. A claimed row is
``sending``, with ``next_attempt_at`` as its lease: a worker that dies mid-send leaves a row that is due again
when the lease ends, and that lost attempt counts. Results are recorded only if the row is still the claim
we made, so a late worker never overwrites a newer attempt.

Sending: JSON body, ``sharing.webhooks.sign_delivery`` headers (delivery id ``dlv_<row id>``, signed with
every live secret), a 10 s timeout, redirects not followed, and no proxy or ``.netrc`` from the environment
(``trust_env=False``): the only network used is the URL the subscriber configured. Connections go through
``egress.GuardedTransport``: the host is resolved and every address checked against
``ServiceSettings.webhook_allowed_networks`` before connecting to exactly that address, so a URL whose name
now resolves to a loopback, private or metadata address (DNS rebinding) is refused. 2xx is delivered; a
refused address, or an answer ``RetryPolicy.retryable`` rejects (most 4xx), fails at once; anything else is
retried with backoff, honouring ``Retry-After``, until the policy's last attempt.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
import time
import weakref
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from celery import Celery
from sqlalchemy import Engine, and_, event, func, or_, select, update
from sqlalchemy.orm import Session

from civicshield import __version__
from civicshield.egress import AddressNotAllowed, EgressPolicy, GuardedTransport
from civicshield.service.domain import alerts, subscriptions
from civicshield.service.domain.tables import Delivery, Webhook, as_utc, utcnow
from civicshield.service.infra.runtime import Runtime
from civicshield.service.infra.tiplines import send_pending
from civicshield.sharing import RetryPolicy, sign_delivery

log = logging.getLogger(__name__)

TASK = "civicshield.deliver_webhooks"
POLICY = RetryPolicy()
TIMEOUT_S = 10.0  # per phase (connect, write, each read)
PARALLEL = 8  # sends in flight per batch: one slow receiver does not hold up the others
BATCH = 16
LEASE_S = 120.0  # covers a batch (BATCH / PARALLEL rounds of a few TIMEOUT_S) with room to spare
SWEEP_S = 10.0  # how often the worker looks for due deliveries nobody woke it for
EXCERPT_BYTES = 300
_kickers: weakref.WeakKeyDictionary[Engine, Callable[[], None]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Claim:
    """A delivery this worker holds the lease on, with everything needed to send it."""

    delivery_id: int
    attempt: int
    event: str
    url: str
    secrets: tuple[str, ...]
    body: bytes

    @property
    def wire_id(self) -> str:
        return wire_id(self.delivery_id)


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (refused, timeout, TLS)
    error: str | None
    retry_after_s: float | None = None
    final: bool = False  # not worth repeating whatever the status: the address is not allowed

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    attempt: int
    state: str  # delivered | pending (retry scheduled) | failed
    status: int | None
    error: str | None
    next_attempt_at: dt.datetime | None = None


def wire_id(delivery_id: int) -> str:
    return f"dlv_{delivery_id}"


def body_for(row: Delivery) -> bytes:
    """The exact bytes sent (and signed): the queued envelope plus this delivery's wire id."""
    doc = {"id": wire_id(row.id), **row.payload}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


# ---- the engine --------------------------------------------------------------------------------------------


def deliver_due(
    rt: Runtime,
    *,
    now: dt.datetime | None = None,
    policy: RetryPolicy = POLICY,
    client: httpx.Client | None = None,
    rand: Callable[[], float] = random.random,
    limit: int = BATCH,
    egress: EgressPolicy | None = None,
) -> list[Outcome]:
    """Send up to ``limit`` due deliveries and record each result. ``now`` fixes the scheduling clock (tests);
    signatures always carry the real time, since that is what receivers check them against. ``egress``
    replaces the settings' ``webhook_egress`` (tests: a resolver that answers what DNS would); a given
    ``client`` is used as it is."""
    moment = as_utc(now) if now is not None else utcnow()
    fail_abandoned(rt, moment, policy)
    claims = claim_due(rt, now=moment, policy=policy, limit=limit)
    if not claims:
        return []
    own = client is None
    http = client or httpx.Client(
        timeout=TIMEOUT_S,
        follow_redirects=False,
        trust_env=False,
        transport=GuardedTransport(egress or rt.settings.webhook_egress),
    )

    def send(claim: Claim) -> Outcome:
        return _record(rt, claim, post(http, claim), now, policy, rand)

    try:
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(claims)), thread_name_prefix="webhook") as pool:
            return list(pool.map(send, claims))
    finally:
        if own:
            http.close()


def _due(now: dt.datetime, policy: RetryPolicy) -> Any:
    leased_out = and_(Delivery.state == "sending", Delivery.attempts < policy.max_attempts)
    return and_(Delivery.next_attempt_at <= now, or_(Delivery.state == "pending", leased_out))


def _claim_values(now: dt.datetime) -> dict[str, Any]:
    return {
        "state": "sending",
        "attempts": Delivery.attempts + 1,
        "last_attempt_at": now,
        "next_attempt_at": now + dt.timedelta(seconds=LEASE_S),
    }


def _candidates(now: dt.datetime, policy: RetryPolicy, limit: int, skip: Collection[int] = ()) -> Any:
    q = (
        select(Delivery.id)
        .join(Webhook, Webhook.id == Delivery.webhook_id)
        .where(_due(now, policy), Webhook.active.is_(True))
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    return q.where(Delivery.id.not_in(sorted(skip))) if skip else q


def claim_due(
    rt: Runtime, *, now: dt.datetime, policy: RetryPolicy = POLICY, limit: int = BATCH
) -> list[Claim]:
    """Lease up to ``limit`` due deliveries of active webhooks to this caller, oldest due first."""
    if rt.db.engine.dialect.name == "postgresql":
        with rt.db.session() as s:
            locked = _candidates(now, policy, limit).with_for_update(skip_locked=True, of=Delivery)
            ids = list(s.scalars(locked))
            if ids:
                s.execute(update(Delivery).where(Delivery.id.in_(ids)).values(**_claim_values(now)))
            return [_snapshot(s, i, now) for i in ids]
    return _claim_one_by_one(rt, now, policy, limit)


def _claim_one_by_one(rt: Runtime, now: dt.datetime, policy: RetryPolicy, limit: int) -> list[Claim]:
    """Without row locks: a conditional UPDATE per row, in its own short write transaction, that only one
    claimer can win. A claimer that loses rows to another looks further, so concurrent claimers share the
    due rows instead of all fighting over the first ``limit``."""
    claims: list[Claim] = []
    tried: set[int] = set()
    while len(claims) < limit:
        with rt.db.session() as s:
            ids = list(s.scalars(_candidates(now, policy, limit - len(claims), tried)))
        if not ids:
            break
        for delivery_id in ids:
            tried.add(delivery_id)
            with rt.db.session() as s:
                won = s.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery_id, _due(now, policy))
                    .values(**_claim_values(now))
                )
                if won.rowcount == 1:  # type: ignore[attr-defined]
                    claims.append(_snapshot(s, delivery_id, now))
    return claims


def _snapshot(s: Session, delivery_id: int, now: dt.datetime) -> Claim:
    row = s.get(Delivery, delivery_id, populate_existing=True)
    hook = s.get(Webhook, row.webhook_id) if row else None
    if row is None or hook is None:  # deleted under us: a claim that sends nothing
        return Claim(delivery_id, 0, "", "", (), b"")
    return Claim(
        delivery_id=row.id,
        attempt=row.attempts,
        event=row.event,
        url=hook.url,
        secrets=tuple(subscriptions.live_secrets(hook, now)),
        body=body_for(row),
    )


def fail_abandoned(rt: Runtime, now: dt.datetime, policy: RetryPolicy = POLICY) -> None:
    """Leases that ran out on the last allowed attempt: the worker died, and no attempt is left."""
    with rt.db.session() as s:
        s.execute(
            update(Delivery)
            .where(
                Delivery.state == "sending",
                Delivery.next_attempt_at <= now,
                Delivery.attempts >= policy.max_attempts,
            )
            .values(state="failed", last_error="the worker was lost during the last attempt")
        )


def post(client: httpx.Client, claim: Claim) -> Answer:
    """One signed POST. Never raises for network trouble: that is an ``Answer`` without a status."""
    if not claim.url:
        return Answer(None, "the webhook was deleted")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"CivicShield/{__version__} webhooks",
        "CivicShield-Event": claim.event,
    }
    headers.update(
        sign_delivery(
            claim.body, secrets=claim.secrets, delivery_id=claim.wire_id, timestamp=int(time.time())
        )
    )
    try:
        with client.stream("POST", claim.url, content=claim.body, headers=headers) as r:
            excerpt = _excerpt(r)
            status, retry_after = r.status_code, r.headers.get("retry-after")
    except AddressNotAllowed as exc:
        return Answer(None, exc.message[:EXCERPT_BYTES], final=True)
    except httpx.TimeoutException:
        return Answer(None, f"no answer within {TIMEOUT_S:g} s")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:EXCERPT_BYTES])
    if 200 <= status < 300:
        return Answer(status, None)
    return Answer(status, f"HTTP {status}: {excerpt}".strip(), parse_retry_after(retry_after))


def _excerpt(r: httpx.Response) -> str:
    """The start of the receiver's answer, for the log; never the whole of a hostile endless body."""
    got, deadline = b"", time.monotonic() + TIMEOUT_S
    for chunk in r.iter_bytes():
        got += chunk
        if len(got) >= EXCERPT_BYTES or time.monotonic() > deadline:
            break
    text = got[:EXCERPT_BYTES].decode("utf-8", "replace")
    return "".join(c if c.isprintable() else " " for c in text).strip()


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from ``now``: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (as_utc(when) - (now or utcnow())).total_seconds())


def _record(
    rt: Runtime,
    claim: Claim,
    response: Answer,
    fixed_now: dt.datetime | None,
    policy: RetryPolicy,
    rand: Callable[[], float],
) -> Outcome:
    now = as_utc(fixed_now) if fixed_now is not None else utcnow()
    retry_at: dt.datetime | None = None
    values: dict[str, Any]
    if response.ok:
        state, values = "delivered", {"delivered_at": now, "next_attempt_at": now}
    else:
        at = (
            policy.next_attempt_at(
                claim.attempt, now=now.timestamp(), rand=rand(), retry_after_s=response.retry_after_s
            )
            if policy.retryable(response.status) and claim.attempt >= 1 and not response.final
            else None
        )
        retry_at = dt.datetime.fromtimestamp(at, dt.UTC) if at is not None else None
        state = "pending" if retry_at is not None else "failed"
        values = {"next_attempt_at": retry_at or now}
    values.update(state=state, last_status=response.status, last_error=response.error)
    with rt.db.session() as s:
        s.execute(
            update(Delivery)
            .where(
                Delivery.id == claim.delivery_id,
                Delivery.state == "sending",
                Delivery.attempts == claim.attempt,
            )
            .values(**values)
        )
    if not response.ok:
        log.info("delivery %s attempt %s: %s -> %s", claim.wire_id, claim.attempt, response.error, state)
    return Outcome(claim.delivery_id, claim.attempt, state, response.status, response.error, retry_at)


def due_count(rt: Runtime, now: dt.datetime | None = None, policy: RetryPolicy = POLICY) -> int:
    moment = as_utc(now) if now is not None else utcnow()
    with rt.db.session() as s:
        q = (
            select(func.count())
            .select_from(Delivery)
            .join(Webhook, Webhook.id == Delivery.webhook_id)
            .where(_due(moment, policy), Webhook.active.is_(True))
        )
        return int(s.scalar(q) or 0)


# ---- waking the worker -------------------------------------------------------------------------------------


def _after_commit(s: Session) -> None:
    """Wake a worker when the transaction that just committed queued deliveries (``alerts.QUEUED``).

    Best effort by design: if no task can be sent (no broker bound, broker down), the sweep finds the rows.
    """
    if not s.info.pop(alerts.QUEUED, None):
        return
    bind = s.get_bind()
    kick = _kickers.get(bind) if isinstance(bind, Engine) else None
    if kick is None:
        return
    try:
        kick()
    except Exception:  # the broker is down: the periodic sweep will find the rows
        log.warning("could not send %s; the periodic sweep will deliver", TASK, exc_info=True)


def _after_rollback(s: Session) -> None:
    s.info.pop(alerts.QUEUED, None)  # nothing was queued after all


def sweep(rt: Runtime, celery: Celery, now: dt.datetime | None = None) -> int:
    """The periodic safety net: wake a worker when deliveries are due. Returns how many are due."""
    due = due_count(rt, now)
    if due:
        celery.send_task(TASK)
    return due


def bind(celery: Celery, rt: Runtime) -> None:
    """Register the delivery task on ``celery`` and send it after every commit that queues deliveries."""

    @celery.task(name=TASK, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
    def deliver_webhooks() -> int:
        send_pending(rt)  # tip replies ride on the same wake-up (a publication queues both)
        outcomes = deliver_due(rt)
        if len(outcomes) >= BATCH:  # a full batch: there may be more waiting
            celery.send_task(TASK)
        return len(outcomes)

    _kickers[rt.db.engine] = lambda: celery.send_task(TASK)
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
