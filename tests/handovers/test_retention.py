"""Personal fields are encrypted at rest and deleted a fixed time after a handover is done; counts stay."""

from __future__ import annotations

from datetime import UTC, datetime

from handovers.helpers import E164, LOCATION


def _personal_key(reference):
    from routing.store import handovers as store

    return store.PERSONAL.format(ref=reference)


def test_personal_fields_are_deleted_a_fixed_time_after_done(app, redis, make_handover, sent):
    from routing.handovers import service

    [handover] = make_handover("uwv")
    # While open: a backstop, however long it stays open.
    assert redis.ttl(_personal_key(handover.reference)) > 80 * 86_400
    service.record_outcome(redis, handover, "solved", "test", datetime.now(UTC))
    ttl = redis.ttl(_personal_key(handover.reference))
    assert 29 * 86_400 < ttl <= 30 * 86_400  # HANDOVER_RETENTION_DAYS


def test_after_retention_the_status_stays_and_the_details_are_gone(app, client, login, redis, make_handover, sent):
    from routing.handovers import service

    [handover] = make_handover("uwv")
    service.record_outcome(redis, handover, "solved", "test", datetime.now(UTC))
    redis.delete(_personal_key(handover.reference))  # what the TTL does when its time comes
    login(client, "staff", locations=(LOCATION,))
    page = client.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)
    assert "Opgelost" in page and "bewaartermijn is voorbij" in page and "tel:" not in page
    # A late write cannot bring personal data back.
    from routing.store import handovers as store

    store.set_personal(redis, handover.reference, "return_note", "te laat")
    assert not redis.exists(_personal_key(handover.reference))


def test_personal_fields_are_encrypted_at_rest(app, redis, make_handover, sent):
    [handover] = make_handover("uwv")
    stored = redis.hgetall(_personal_key(handover.reference))
    assert set(stored) == {b"phone", b"name", b"note", b"preferred", b"language"}
    assert all(value.startswith(b"gAAAA") for value in stored.values())  # Fernet tokens
    assert E164.encode() not in b"".join(stored.values())


def test_retention_can_be_set(app, redis, make_handover, sent):
    from routing.handovers import service

    app.config["HANDOVER_RETENTION_DAYS"] = 7
    [handover] = make_handover("uwv")
    service.record_outcome(redis, handover, "solved", "test", datetime.now(UTC))
    assert 6 * 86_400 < redis.ttl(_personal_key(handover.reference)) <= 7 * 86_400
