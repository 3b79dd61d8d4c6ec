"""Personal fields are encrypted at rest and deleted a fixed time after a handover is done; counts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handovers.helpers import E164, LOCATION

DAY = 86_400


def _personal_key(reference):
    from routing.store import handovers as store

    return store.PERSONAL.format(ref=reference)


def _purge(now):
    from routing.extensions import get_redis
    from workers.handover_jobs import tick

    return tick(get_redis(), now)["purged"]


def test_personal_fields_go_a_fixed_time_after_done_and_the_deletion_is_audited(app, redis, make_handover, sent):
    from routing.handovers import service
    from routing.privacy import audit

    now = datetime.now(UTC)
    [handover] = make_handover("uwv", now=now)
    service.record_outcome(redis, handover, "solved", "test", now)
    assert _purge(now + timedelta(days=29)) == 0 and redis.exists(_personal_key(handover.reference))
    assert _purge(now + timedelta(days=30, minutes=1)) == 1  # HANDOVER_RETENTION_DAYS
    assert not redis.exists(_personal_key(handover.reference))
    assert _purge(now + timedelta(days=31)) == 0  # once
    assert service.get(redis, handover.reference).outcome == "solved"  # the anonymous record stays
    record = audit.for_reference(redis, handover.reference)[-1]
    assert record["name"] == "handover.personal.delete"
    assert record["attributes"]["dpl.core.processing_activity_id"] == "loketlijn-bewaartermijn"
    assert record["attributes"]["dpl.core.data_subject_id"]  # the pseudonym of the phone, not the number


def test_the_backstop_ttl_follows_the_due_moment(app, redis, make_handover, sent):
    from routing.handovers import service

    now = datetime.now(UTC)
    [handover] = make_handover("uwv", now=now)
    assert 90 * DAY < redis.ttl(_personal_key(handover.reference)) <= 91 * DAY  # open: at the latest 90 days
    service.record_outcome(redis, handover, "solved", "test", now)
    assert 30 * DAY < redis.ttl(_personal_key(handover.reference)) <= 31 * DAY  # done: 30 days, plus a day


def test_a_handover_that_stays_open_loses_its_personal_fields_after_the_maximum(app, redis, make_handover, sent):
    now = datetime.now(UTC)
    [handover] = make_handover("uwv", now=now)
    assert _purge(now + timedelta(days=89)) == 0
    assert _purge(now + timedelta(days=90, minutes=1)) == 1
    assert not redis.exists(_personal_key(handover.reference))


def test_done_late_never_keeps_them_beyond_the_maximum(app, redis, make_handover, sent):
    from routing.handovers import service

    made = datetime.now(UTC) - timedelta(days=80)
    [handover] = make_handover("uwv", now=made)
    service.record_outcome(redis, handover, "solved", "test", made + timedelta(days=79))
    assert _purge(made + timedelta(days=90, minutes=1)) == 1


def test_after_retention_the_status_stays_and_the_details_are_gone(app, client, login, redis, make_handover, sent):
    from routing.handovers import service

    now = datetime.now(UTC)
    [handover] = make_handover("uwv", now=now)
    # Sent back: the loket still follows it up, with the citizen's details, until they are deleted.
    service.record_outcome(redis, handover, "returned_to_loket", "test", now, note="Geen AOW-vraag")
    _purge(now + timedelta(days=31))
    login(client, "staff", locations=(LOCATION,))
    page = client.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)
    assert "Terug naar het loket" in page and "bewaartermijn is voorbij" in page and "tel:" not in page
    # A late write cannot bring personal data back.
    from routing.store import handovers as store

    store.set_personal(redis, handover.reference, "return_note", "te laat")
    assert not redis.exists(_personal_key(handover.reference))


def test_once_the_partner_finished_the_loket_no_longer_sees_the_details(app, client, login, redis, make_handover,
                                                                        sent):
    from routing.handovers import service

    [handover] = make_handover("uwv")
    login(client, "staff", locations=(LOCATION,))
    assert "tel:+31612345678" in client.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)
    service.record_outcome(redis, handover, "solved", "test", datetime.now(UTC))
    page = client.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)
    assert "Opgelost" in page and "tel:" not in page and "mevrouw Jansen" not in page
    assert "U ziet de gegevens van de inwoner niet meer: de organisatie is klaar met deze overdracht." in page
    partner = app.test_client()
    login(partner, "partner", partner="uwv")
    assert "tel:+31612345678" in partner.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)


def test_personal_fields_are_encrypted_at_rest(app, redis, make_handover, sent):
    [handover] = make_handover("uwv")
    stored = redis.hgetall(_personal_key(handover.reference))
    assert set(stored) == {b"phone", b"name", b"note", b"preferred", b"language"}
    assert all(value.startswith(b"gAAAA") for value in stored.values())  # Fernet tokens
    assert E164.encode() not in b"".join(stored.values())


def test_retention_can_be_set(app, redis, make_handover, sent):
    from routing.handovers import service

    app.config["HANDOVER_RETENTION_DAYS"] = 7
    now = datetime.now(UTC)
    [handover] = make_handover("uwv", now=now)
    service.record_outcome(redis, handover, "solved", "test", now)
    assert _purge(now + timedelta(days=6)) == 0
    assert _purge(now + timedelta(days=7, minutes=1)) == 1
