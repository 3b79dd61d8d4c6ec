"""`flask keys rotate` covers notices: a pending notice's addresses stay readable after the old key goes."""

import json

from cryptography.fernet import Fernet

from routing.notices.service import Recipient, create_notice
from routing.privacy import crypto
from routing.privacy.rotate import rotate_all
from routing.store import notices as store

CONTEXT = {"reference": "WO-7KQ4", "location": "Utrecht", "topic": "Huurtoeslag", "deadline": "2026-12-02",
           "link": "http://localhost/o/x"}


def test_rotation_reencrypts_notice_addresses(app, redis):
    notice_id = create_notice(redis, "handover_new", Recipient(sms="+31612345678", email="team@example.org"),
                              CONTEXT)
    old_key = app.config["ENCRYPTION_KEYS"]
    new_key = Fernet.generate_key().decode()
    app.config["ENCRYPTION_KEYS"] = f"{new_key},{old_key}"
    app.extensions.pop("fernet", None)
    assert rotate_all(redis, actor="test")["rotated"] >= 1
    app.config["ENCRYPTION_KEYS"] = new_key  # the old key is gone now
    app.extensions.pop("fernet", None)
    recipient = redis.hget(store.NOTICE.format(id=notice_id), "recipient")
    assert json.loads(crypto.decrypt(recipient)) == {"sms": "+31612345678", "email": "team@example.org"}
