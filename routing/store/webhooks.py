"""How many Twilio webhook requests were refused for a bad X-Twilio-Signature, per hook, for /metrics.

In Redis rather than in each web process, so every process reports the same count (as the other metrics).
The hooks are a fixed list: a refused request cannot add a label of its own.
"""

from __future__ import annotations

import redis

from routing.store.keys import PREFIX

REFUSED = PREFIX + "hooks:twilio:refused"
HOOKS = ("sms", "whatsapp", "voice", "status")


def count_refused(r: redis.Redis, hook: str) -> None:
    r.hincrby(REFUSED, hook if hook in HOOKS else "other", 1)


def refused_counts(r: redis.Redis) -> dict[str, int]:
    """Every hook, 0 where none was refused yet (a counter that appears only at its first refusal hides that
    first one from a rate() alert)."""
    counts = {hook.decode(): int(count) for hook, count in r.hgetall(REFUSED).items()}
    return {hook: counts.get(hook, 0) for hook in HOOKS} | counts
