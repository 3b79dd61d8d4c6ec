"""Notices: create one, and everything that happens to it until it is delivered or has failed.

The web side and jobs call `create_notice`; it stores the notice (addresses and link encrypted) and
enqueues only its id. The notice job (workers.jobs.send_notice) calls `claim`, sends through a channel,
and reports the outcome with `record_sent`, `record_transient` or `record_permanent`. Twilio's delivery
receipts arrive through `record_receipt`; the sweeper calls `sweep`. Every state change is one atomic store
transition (routing.store.notices.update), so a final state never goes backwards.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from flask import current_app

from routing.notices import kinds
from routing.notices.kinds import NoticeContextError
from routing.privacy import crypto
from routing.store import notices as store
from routing.store.notices import CREATED, DELIVERED, FAILED_STATE, SENDING, SENT, Change
from workers import queues
from workers.channels.base import CHANNEL_ORDER
from workers.enqueue import enqueue_notice

__all__ = ["Claimed", "FailedNotice", "NoticeContextError", "Recipient", "claim", "create_notice",
           "failed_notices", "record_permanent", "record_receipt", "record_sent", "record_transient", "sweep"]

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Recipient:
    """Where a notice may go; channels are tried in the order sms → whatsapp → email."""

    sms: str | None = None
    whatsapp: str | None = None
    email: str | None = None

    def addresses(self) -> dict[str, str]:
        return {name: value for name in CHANNEL_ORDER if (value := getattr(self, name))}


_iso = store.timestamp


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _valid_for(kind: str, valid_for: timedelta | int | None) -> timedelta:
    if valid_for is None:
        return kinds.KINDS[kind].valid_for
    # Seconds are accepted too (a caller computing the life of a link has them at hand).
    return valid_for if isinstance(valid_for, timedelta) else timedelta(seconds=int(valid_for))


def _budget_until(now: datetime, valid_until: datetime, channels_left: int) -> datetime:
    """Until when transient errors are retried on this channel; `channels_left`: the channels after it."""
    seconds = queues.FAILOVER_BUDGET_SECONDS if channels_left else queues.RETRY_BUDGET_SECONDS
    return min(now + timedelta(seconds=seconds), valid_until)


def create_notice(
    r: redis.Redis,
    kind: str,
    recipient: Recipient,
    context: dict[str, Any],
    locale: str = "nl",
    *,
    valid_for: timedelta | int | None = None,
    escalate_to: Recipient | None = None,
    now: datetime | None = None,
    not_before: datetime | None = None,
) -> str:
    """Store a notice and enqueue its id; returns the id. `not_before`: not sent before then (a partner's
    notice made outside its working hours); its life and retries count from then.

    `context` may hold only reference, location, topic, deadline, urgent, link, count and references (anything
    else, or a value that looks like a phone number, BSN or e-mail address, raises NoticeContextError).
    `escalate_to` is told (notice_failed) when the notice fails on every channel; NOTICE_FAILED_EMAIL
    is the fallback.
    """
    now = now or utcnow()
    due = max(now, not_before or now)
    clean = kinds.clean_context(kind, context, current_app.config.get("PUBLIC_BASE_URL"))
    addresses = recipient.addresses()
    if not addresses:
        raise NoticeContextError("a notice needs at least one address (sms, whatsapp or email)")
    life = _valid_for(kind, valid_for)
    valid_until = due + life
    notice_id = uuid.uuid4().hex
    # The link may stand in for a login (a partner link): it is kept encrypted in a field of its own until
    # the notice no longer needs rendering, never readable in `context`.
    link = clean.pop("link", None)
    record = {
        "id": notice_id,
        "kind": kind,
        "locale": locale if locale in kinds.LOCALES else kinds.LOCALES[0],
        "context": json.dumps(clean),
        **({"link": crypto.encrypt(link)} if link else {}),
        "recipient": crypto.encrypt(json.dumps(addresses)),
        "escalate": crypto.encrypt(json.dumps(escalate_to.addresses())) if escalate_to else "",
        "channels": ",".join(addresses),
        "channel_index": "0",
        "state": CREATED,
        "attempts": "0",
        "recoveries": "0",
        "created_at": _iso(now),
        "updated_at": _iso(now),
        "valid_until": _iso(valid_until),
        "budget_until": _iso(_budget_until(due, valid_until, len(addresses) - 1)),
        "due_at": _iso(due),
    }
    ttl = int((valid_until - now).total_seconds()) + queues.RETRY_BUDGET_SECONDS + store.RETENTION_SECONDS
    store.create(r, record, sweep_at=due.timestamp() + queues.STUCK_CREATED_SECONDS, ttl_seconds=ttl)
    enqueue_notice(notice_id, at=due if due > now else None)
    return notice_id


@dataclass(frozen=True)
class Claimed:
    """A notice this worker may send now, and nobody else may."""

    id: str
    token: str
    kind: str
    locale: str
    context: dict[str, Any]
    channel: str
    address: str
    attempt: int
    valid_until: datetime
    # No channel after this one: once sent, the addresses and the link are of no more use.
    last_channel: bool


def claim(r: redis.Redis, notice_id: str, now: datetime) -> Claimed | None:
    """Take the notice for one send. None when it is not ours to send: already claimed or sent (the job
    ran twice), not due yet (a retry is scheduled), final, gone, or past its useful life (then failed)."""
    token = secrets.token_hex(8)
    notice = store.claim(r, notice_id, token, now, now.timestamp() + queues.CLAIM_LEASE_SECONDS)
    if notice == store.EXPIRED:
        _fail_expired(r, notice_id, now)
        return None
    if notice is None:
        return None
    channels = notice["channels"].split(",")
    channel = channels[int(notice["channel_index"])]
    return Claimed(
        id=notice_id,
        token=token,
        kind=notice["kind"],
        locale=notice["locale"],
        context=_context_for_sending(notice),
        channel=channel,
        address=json.loads(crypto.decrypt(notice["recipient"]))[channel],
        attempt=int(notice["attempts"]),
        valid_until=_parse(notice["valid_until"]),
        last_channel=int(notice["channel_index"]) == len(channels) - 1,
    )


def _context_for_sending(notice: dict[str, str]) -> dict[str, Any]:
    """The context as the caller gave it: the stored context with its link decrypted back in."""
    context = json.loads(notice["context"])
    if notice.get("link"):
        context["link"] = crypto.decrypt(notice["link"])
    return context


def _fail_expired(r: redis.Redis, notice_id: str, now: datetime) -> None:
    def decide(current: dict[str, str]) -> Change | None:
        return _failure_change(current, "temporary", "expired", now) if current["state"] == CREATED else None

    result = store.update(r, notice_id, decide, now)
    if result:
        _escalate(r, result[0], now)


def record_sent(r: redis.Redis, claimed: Claimed, provider_id: str, now: datetime) -> bool:
    return store.mark_sent(r, claimed.id, claimed.token, provider_id, claimed.channel, now,
                           forget_address=claimed.last_channel)


def record_transient(r: redis.Redis, claimed: Claimed, error: str, now: datetime) -> None:
    """Try the same channel again later, within its budget; after that, the next channel."""

    def decide(current: dict[str, str]) -> Change | None:
        if current["state"] != SENDING or current.get("claim") != claimed.token:
            return None
        due = now + timedelta(seconds=queues.retry_delay_seconds(int(current["attempts"]), random.random()))
        if due > _parse(current["budget_until"]):
            return _failover_change(current, "temporary", error, now)
        return Change(fields={"state": CREATED, "due_at": _iso(due), "error": error},
                      sweep_at=due.timestamp() + queues.STUCK_CREATED_SECONDS)

    _apply(r, claimed.id, decide, now)


def record_permanent(r: redis.Redis, claimed: Claimed, error: str, now: datetime,
                     failure: str = "permanent") -> None:
    """This channel cannot deliver: the next channel, or failed when none is left."""

    def decide(current: dict[str, str]) -> Change | None:
        if current["state"] != SENDING or current.get("claim") != claimed.token:
            return None
        return _failover_change(current, failure, error, now)

    _apply(r, claimed.id, decide, now)


# Twilio's MessageStatus values that end a message (the others, queued/sending/sent/accepted, do not).
RECEIPT_DELIVERED = frozenset({"delivered", "read"})
RECEIPT_FAILED = frozenset({"undelivered", "failed"})


def record_receipt(r: redis.Redis, provider_id: str, status: str, transient: bool, error: str,
                   now: datetime) -> bool:
    """A delivery receipt; late, duplicate and unknown receipts change nothing (returns False)."""
    notice_id = store.id_for_provider_id(r, provider_id)
    if notice_id is None or status not in RECEIPT_DELIVERED | RECEIPT_FAILED:
        return False

    def decide(current: dict[str, str]) -> Change | None:
        # Only the receipt for the message we last sent, and only while it is "sent".
        if current["state"] != SENT or current.get("provider_id") != provider_id:
            return None
        if status in RECEIPT_DELIVERED:
            # Final: the store deletes the addresses and the link (SECRET_FIELDS).
            return Change(fields={"state": DELIVERED, "delivered_at": _iso(now)})
        # The message did not arrive: the recipient's next channel, or failed.
        return _failover_change(current, "temporary" if transient else "permanent", error, now)

    return _apply(r, notice_id, decide, now)


def _failure_change(current: dict[str, str], failure: str, error: str, now: datetime) -> Change:
    return Change(fields={"state": FAILED_STATE, "failure": failure, "error": error, "failed_at": _iso(now)})


def _failover_change(current: dict[str, str], failure: str, error: str, now: datetime) -> Change:
    index = int(current["channel_index"]) + 1
    channels = len(current["channels"].split(","))
    if index >= channels or _parse(current["valid_until"]) <= now:
        return _failure_change(current, failure, error, now)
    return Change(
        fields={"state": CREATED, "channel_index": str(index), "attempts": "0", "due_at": _iso(now),
                "budget_until": _iso(_budget_until(now, _parse(current["valid_until"]), channels - index - 1)),
                "error": error, "provider_id": ""},
        sweep_at=now.timestamp() + queues.STUCK_CREATED_SECONDS,
    )


def _apply(r: redis.Redis, notice_id: str, decide, now: datetime) -> bool:
    """Apply a transition, then do what it calls for: enqueue the next try, or tell someone it failed."""
    result = store.update(r, notice_id, decide, now)
    if result is None:
        return False
    notice, _ = result
    if notice["state"] == CREATED:
        due = _parse(notice["due_at"])
        enqueue_notice(notice_id, at=due if due > now else None)
    elif notice["state"] == FAILED_STATE:
        _escalate(r, notice, now)
    return True


def _escalate(r: redis.Redis, notice: dict[str, str], now: datetime) -> None:
    """Nothing fails silently: tell staff or the coordinator (notice_failed), and log it (id only)."""
    log.warning("notice %s (%s) failed: %s %s", notice["id"], notice["kind"], notice.get("failure"),
                notice.get("error"))
    if notice["kind"] == "notice_failed":
        return  # the failed list shows it; a notice about a failed notice about ... ends here
    recipient = Recipient(**json.loads(crypto.decrypt(notice["escalate"]))) if notice.get("escalate") else None
    if recipient is None and current_app.config.get("NOTICE_FAILED_EMAIL"):
        recipient = Recipient(email=current_app.config["NOTICE_FAILED_EMAIL"])
    if recipient is None:
        return
    original = json.loads(notice["context"])
    context = {k: original[k] for k in ("reference", "location") if k in original}
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        context["link"] = base.rstrip("/") + "/notices/failed"
    create_notice(r, "notice_failed", recipient, context, notice["locale"], now=now)


def sweep(r: redis.Redis, now: datetime, backlog: int) -> list[str]:
    """Hand out again what got stuck: claims whose worker died, due notices whose job was lost.
    `backlog` is the length of the notices queue; returns the ids it enqueued."""
    stuck_after = queues.STUCK_BACKLOG_SECONDS if backlog else queues.STUCK_CREATED_SECONDS
    requeued = []
    for notice_id in store.due_for_sweep(r, now):
        requeue = False

        def decide(current: dict[str, str]) -> Change | None:
            nonlocal requeue
            if current["state"] == SENDING:
                recoveries = int(current.get("recoveries", "0")) + 1
                if recoveries > queues.MAX_RECOVERIES:
                    return _failure_change(current, "technical", "worker-lost", now)
                requeue = True
                # Due since the lost attempt began (not "now": that may be ahead of a worker's clock).
                return Change(fields={"state": CREATED, "due_at": current["claimed_at"],
                                      "recoveries": str(recoveries)},
                              sweep_at=now.timestamp() + queues.STUCK_CREATED_SECONDS)
            if current["state"] != CREATED:
                return None
            if _parse(current["valid_until"]) <= now:
                return _failure_change(current, "temporary", "expired", now)
            look_again = _parse(current["due_at"]).timestamp() + stuck_after
            requeue = look_again <= now.timestamp()
            return Change(fields={}, sweep_at=now.timestamp() + queues.STUCK_CREATED_SECONDS if requeue
                          else look_again)

        result = store.update(r, notice_id, decide, now)
        if result is None:
            store.forget_pending(r, notice_id)  # sent, final or expired away: nothing to watch
        elif result[0]["state"] == FAILED_STATE:
            _escalate(r, result[0], now)
        elif requeue:
            enqueue_notice(notice_id)
            requeued.append(notice_id)
    return requeued


@dataclass(frozen=True)
class FailedNotice:
    id: str
    kind: str
    reference: str | None
    location: str | None
    failure: str
    error: str
    channels: str
    failed_at: datetime


def failed_notices(r: redis.Redis, limit: int = 200) -> list[FailedNotice]:
    """Notices that failed on every channel, newest first (no addresses: those are deleted on failure)."""
    result = []
    for notice in store.failed(r, limit):
        context = json.loads(notice["context"])
        result.append(FailedNotice(
            id=notice["id"], kind=notice["kind"], reference=context.get("reference"),
            location=context.get("location"), failure=notice.get("failure", ""), error=notice.get("error", ""),
            channels=notice["channels"], failed_at=_parse(notice["failed_at"]),
        ))
    return result
