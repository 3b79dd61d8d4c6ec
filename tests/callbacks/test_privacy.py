"""Whatever the channel, Redis never holds a plaintext number, name or note, and logs carry none either."""

from __future__ import annotations

import logging

from callbacks.conftest import SATURDAY, everything_in_redis
from callbacks.test_hooks import signed_post, sms


def test_no_channel_leaves_plaintext_in_redis_or_logs(client, api_key, pin_now, redis, caplog):
    pin_now(SATURDAY)
    caplog.set_level(logging.DEBUG)
    client.post("/l/utrecht/terugbellen", data={"phone": "06 11112222", "name": "Fatima Yilmaz",
                                                 "note": "vraag over toeslag", "consent": "yes"})
    client.post("/api/v1/callbacks", headers=api_key("staff", locations=("utrecht",)),
                json={"location": "utrecht", "phone": "06 33334444", "name": "Johan Smit", "consent": True})
    sms(client, "graag bellen over belastingaangifte", sender="+31655556666")
    signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht", {"From": "+31677778888", "Digits": "1"})
    dump = everything_in_redis(redis)
    logs = caplog.text.encode()
    assert dump.count(b"TB-") >= 4  # the four requests are there
    for plain in (b"11112222", b"33334444", b"55556666", b"77778888", b"Fatima", b"Yilmaz", b"Johan", b"Smit",
                  b"toeslag", b"belastingaangifte"):
        assert plain not in dump, plain
        assert plain not in logs, plain
