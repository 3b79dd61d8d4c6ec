"""Jobs: each gets ids only, re-reads its record, does one thing.

Notice jobs record their outcome on the notice itself (routing.notices.service), which also schedules
the next try; only an unexpected error reaches RQ's failed registry (after the notice is marked failed).
"""

from __future__ import annotations

import logging

from rq import Queue

from routing.extensions import get_redis
from routing.notices import service
from routing.notices.render import render
from workers import queues
from workers.channels import channel_for
from workers.channels.base import EMAIL, ChannelError, Message, PermanentError, SettingsRefused, TransientError
from workers.tracing import traced


log = logging.getLogger(__name__)

def _log_failure(claimed, error: ChannelError) -> None:
    """One line per failed send (ids and provider codes only): what failed over or will be retried is not silent.
    The notice's own record says where it stands; /notices/failed lists those that failed on every channel. Our
    own settings refused fail every notice on the channel until the operator acts: an error."""
    if isinstance(error, SettingsRefused):
        log.error("notice %s: %s on %s (attempt %s): check that channel's settings (docs/deploy.md)",
                  claimed.id, error.code, claimed.channel, claimed.attempt)
    else:
        log.warning("notice %s: %s on %s (attempt %s)", claimed.id, error.code, claimed.channel, claimed.attempt)


@traced
def send_notice(notice_id: str) -> None:
    """Send one notice at most once: claim it (an atomic state change) before calling the provider."""
    r = get_redis()
    claimed = service.claim(r, notice_id, service.utcnow())
    if claimed is None:
        return  # not ours: sent or being sent by another run of this job, not due yet, or final
    try:
        email = claimed.channel == EMAIL
        rendered = render(claimed.kind, claimed.locale, claimed.context, email=email)
        message = Message(
            notice_id=claimed.id,
            channel=claimed.channel,
            to=claimed.address,
            subject=rendered.subject,
            text=rendered.text if email else rendered.sms,
            html=rendered.html if email else None,
            validity_seconds=int((claimed.valid_until - service.utcnow()).total_seconds()),
            attempt=claimed.attempt,
        )
        provider_id = channel_for(claimed.channel).send(message)
    except TransientError as exc:
        _log_failure(claimed, exc)
        service.record_transient(r, claimed, exc.code, service.utcnow())
    except PermanentError as exc:
        _log_failure(claimed, exc)
        service.record_permanent(r, claimed, exc.code, service.utcnow(), failure=exc.failure)
    except Exception:
        # A bug or a broken setting, not the recipient: fail it visibly, keep the traceback in RQ.
        service.record_permanent(r, claimed, "technical", service.utcnow(), failure="technical")
        raise
    else:
        service.record_sent(r, claimed, provider_id, service.utcnow())


def sweep_stuck() -> list[str]:
    """Every minute: re-queue notices stuck in created/sending (a killed worker, a lost job)."""
    r = get_redis()
    backlog = Queue(queues.NOTICES, connection=r).count
    return service.sweep(r, service.utcnow(), backlog)
