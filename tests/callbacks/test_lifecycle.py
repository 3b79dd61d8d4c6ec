"""The life of a callback request: queue, dedup, states, retention and what Redis holds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callbacks.conftest import AMS, MONDAY_10, SATURDAY, at, everything_in_redis
from routing.callbacks import service
from routing.errors import ApiError
from routing.store import callbacks as store


def test_absent_request_waits_and_is_released_at_the_next_shift(create, redis):
    receipt = create(now=SATURDAY)
    assert receipt.status == "waiting"
    assert receipt.expected_callback == at(2026, 11, 30, 9, 0)
    # Sunday night and Monday 08:59: still waiting.
    assert service.release_waiting(redis, now=at(2026, 11, 30, 3, 0)) == {}
    assert service.release_waiting(redis, now=at(2026, 11, 30, 8, 59)) == {}
    assert service.get_status(redis, receipt.reference).state == "waiting"
    assert service.release_waiting(redis, now=at(2026, 11, 30, 9, 0)) == {"utrecht": 1}
    assert service.get_status(redis, receipt.reference).state == "open"


def test_present_request_is_open_at_once(create):
    receipt = create(now=MONDAY_10)
    assert receipt.status == "open"
    assert receipt.expected_callback == MONDAY_10


def test_a_request_in_the_last_minutes_of_a_shift_is_promised_for_the_next_one(create):
    """Open at once (the employee may still call), but the promise is the next shift's start, not 16:55."""
    receipt = create(now=at(2026, 11, 30, 16, 55))
    assert receipt.status == "open"
    assert receipt.expected_callback == at(2026, 12, 1, 9, 0)
    # With a quarter of an hour to go, now is still the promise.
    assert create(now=at(2026, 11, 30, 16, 45), phone="0687654321").expected_callback == at(2026, 11, 30, 16, 45)


def test_an_open_request_read_after_hours_promises_the_next_shift(create, redis, client, api_key, pin_now):
    """Made while staffed, read in the evening: not 'from now' when nobody is there."""
    receipt = create(now=MONDAY_10)
    pin_now(at(2026, 11, 30, 20, 0))
    status = client.get(f"/api/v1/callbacks/{receipt.reference}", headers=api_key(locations=("utrecht",)))
    assert status.json["status"] == "open"
    assert status.json["expected_callback"].startswith("2026-12-01T09:00:00")


def test_release_crosses_the_spring_dst_change(create, redis):
    # Saturday before the last Sunday of March 2027: clocks go from 02:00 to 03:00 on Sunday (Easter),
    # and Monday is Easter Monday, a public holiday: the next shift is Tuesday 09:00 summer time.
    receipt = create(now=at(2027, 3, 27, 20, 0))
    tuesday_nine = at(2027, 3, 30, 9, 0)
    assert receipt.expected_callback == tuesday_nine
    assert tuesday_nine.utcoffset() == timedelta(hours=2)
    assert service.release_waiting(redis, now=at(2027, 3, 29, 9, 0)) == {}
    assert service.release_waiting(redis, now=tuesday_nine - timedelta(minutes=1)) == {}
    assert service.release_waiting(redis, now=tuesday_nine) == {"utrecht": 1}


def test_release_crosses_the_autumn_dst_change(create, redis):
    receipt = create(now=at(2026, 10, 24, 12, 0))
    monday_nine = at(2026, 10, 26, 9, 0)
    assert receipt.expected_callback == monday_nine
    assert monday_nine.utcoffset() == timedelta(hours=1)
    assert service.release_waiting(redis, now=monday_nine) == {"utrecht": 1}


def test_a_late_scheduler_never_releases_outside_a_shift(create, redis):
    receipt = create(now=SATURDAY)
    # The scheduler was down all Monday and catches up at night: the request waits for Tuesday morning.
    assert service.release_waiting(redis, now=at(2026, 11, 30, 23, 0)) == {}
    request = service.get_status(redis, receipt.reference)
    assert request.state == "waiting"
    assert request.release == at(2026, 12, 1, 9, 0)


def test_holiday_is_skipped(create):
    # Christmas 2026 is Friday; Saturday and Sunday follow; Monday 28 December is a working day.
    receipt = create(now=at(2026, 12, 24, 18, 0))
    assert receipt.expected_callback == at(2026, 12, 28, 9, 0)


def test_same_number_same_location_within_a_day_gives_the_same_request(create, redis):
    first = create(now=SATURDAY)
    again = create(now=SATURDAY + timedelta(hours=3), phone="+31612345678", note="nog een keer")
    assert again.reference == first.reference
    assert again.existing and again.withdraw_token is None
    assert service.get_status(redis, first.reference).asked == 2
    # Another location, or the next day: a new request.
    assert create(now=SATURDAY, location="enschede").reference != first.reference
    assert create(now=SATURDAY + timedelta(hours=25)).reference != first.reference


def test_withdraw_deletes_personal_fields_at_once_and_is_final(create, redis):
    receipt = create(now=SATURDAY, name="Mevrouw Jansen")
    assert service.get_request(redis, receipt.reference).name == "Mevrouw Jansen"
    with pytest.raises(ApiError):
        service.withdraw(redis, receipt.reference, "wrong-token")
    service.withdraw(redis, receipt.reference, receipt.withdraw_token, now=SATURDAY)
    request = service.get_request(redis, receipt.reference)
    assert request.state == "withdrawn"
    assert request.phone is None and request.name is None
    # A final state never changes: not by the release job, not by a second withdrawal.
    assert service.release_waiting(redis, now=at(2026, 11, 30, 9, 0)) == {}
    with pytest.raises(ApiError):
        service.withdraw(redis, receipt.reference, receipt.withdraw_token)
    assert service.get_status(redis, receipt.reference).state == "withdrawn"


def test_purge_expires_what_nobody_picked_up_and_forgets_done_after_retention(create, redis, app):
    old = create(now=SATURDAY)
    done = create(now=MONDAY_10, phone="0687654321")
    service.mark_handed_over(redis, done.reference, "WO-TEST", now=MONDAY_10)
    assert service.get_request(redis, done.reference).phone == "+31687654321"
    # The purge job deletes it (and counts it) before Redis would: the TTL is only the backstop.
    assert redis.ttl(store.PERSONAL.format(reference=done.reference)) > 30 * 86400

    counts = service.purge_expired(redis, now=SATURDAY + timedelta(days=14, minutes=1))
    assert counts == {"expired": 1, "personal_deleted": 0}
    assert service.get_request(redis, old.reference).state == "expired"
    assert service.get_request(redis, old.reference).phone is None

    counts = service.purge_expired(redis, now=MONDAY_10 + timedelta(days=30, minutes=1))
    assert counts == {"expired": 0, "personal_deleted": 1}
    assert service.get_request(redis, done.reference).phone is None
    # The anonymous counts stay.
    assert store.stats(redis, "2026-11-28")["utrecht|api||received"] == 1
    assert store.stats(redis, "2026-12-12")["utrecht|api||expired"] == 1


def test_redis_holds_no_plaintext_phone_or_name(create, redis):
    create(now=SATURDAY, phone="06 12345678", name="Fatima de Vries", note="over mijn toeslag")
    create(now=MONDAY_10, phone="+31 20 765 4321", name="Pieter Bakker")
    blob = everything_in_redis(redis)
    for plain in (b"612345678", b"0612345678", b"207654321", b"Fatima", b"de Vries", b"Pieter", b"Bakker",
                  b"toeslag"):
        assert plain not in blob


def test_references_are_short_and_unambiguous(create):
    reference = create(now=SATURDAY).reference
    assert reference.startswith("TB-") and len(reference) == 7
    assert not set(reference[3:]) & set("0O1I")


def test_references_draw_on_every_letter_of_the_alphabet():
    # Each character is a random byte's low five bits: the alphabet must have exactly 32 letters, or some
    # would never appear (or an index would fall outside it).
    drawn = {ch for _ in range(500) for ch in service.new_reference()[3:]}
    assert drawn == set(service.REFERENCE_ALPHABET)


def test_transitions_are_checked(create, redis, app):
    receipt = create(now=MONDAY_10)
    # open -> waiting is not a transition.
    with pytest.raises(store.TransitionRefused):
        store.transition(redis, receipt.reference, "waiting", ("received",), now=0, stats_key="x")
    assert service.get_status(redis, receipt.reference).state == "open"


def test_key_rotation_reencrypts_with_the_newest_key(create, redis, app):
    from cryptography.fernet import Fernet

    from routing.privacy.rotate import rotate_all

    receipt = create(now=SATURDAY, name="Anna")
    old_key = app.config["ENCRYPTION_KEYS"]
    new_key = Fernet.generate_key().decode()
    app.config["ENCRYPTION_KEYS"] = f"{new_key},{old_key}"
    app.extensions.pop("fernet", None)
    assert rotate_all(redis, actor="test")["rotated"] >= 1
    # Only the new key is needed now.
    app.config["ENCRYPTION_KEYS"] = new_key
    app.extensions.pop("fernet", None)
    assert service.get_request(redis, receipt.reference).name == "Anna"
    assert redis.ttl(store.PERSONAL.format(reference=receipt.reference)) > 0


def test_handover_when_absent_goes_to_the_one_partner(create, redis, monkeypatch):
    import sys
    import types

    calls = []

    def create_from_callback(r, reference, partner_id):
        calls.append((reference, partner_id))
        request = service.get_request(r, reference)
        assert request.phone == "+31612345678"
        service.pass_to_partner(r, reference, "WO-1", partner_id)

    fake = types.ModuleType("routing.handovers.service")
    fake.create_from_callback = create_from_callback
    monkeypatch.setitem(sys.modules, "routing.handovers.service", fake)
    receipt = create(now=SATURDAY, topic="kinderbijslag")
    assert calls == [(receipt.reference, "svb")]
    assert receipt.status == "handed_over"
    assert service.get_status(redis, receipt.reference).handover == "WO-1"


def test_expected_callback_follows_the_preferred_day_part(create):
    receipt = create(now=SATURDAY, preferred=["2026-12-01:afternoon"])
    assert receipt.expected_callback == at(2026, 12, 1, 12, 0)
    assert receipt.expected_callback.tzinfo is not None and receipt.expected_callback.utcoffset() == \
        at(2026, 12, 1, 12, 0).astimezone(AMS).utcoffset()


def test_keys_rotate_command_reports_what_it_did(create, app, redis):
    from routing.privacy import audit

    create(now=SATURDAY, name="Anna")
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted with the newest key: 1." in result.output
    # In the audit log, with the other changes to accounts and keys: who ran it and when; no data subject.
    [rotated] = audit.administration(redis, 10)
    assert rotated["name"] == "keys.rotate" and rotated["status_code"] == "STATUS_CODE_OK"
    assert rotated["attributes"]["loketlijn.actor"] == "cli"
    assert rotated["attributes"]["dpl.core.processing_activity_id"] == "loketlijn-beheer"
    assert rotated["attributes"]["dpl.core.data_subject_id"] is None
    assert rotated["start_time"] <= rotated["end_time"]


def test_keys_rotate_says_what_it_could_not_read_and_rotates_the_rest(create, app, redis):
    from cryptography.fernet import Fernet

    lost = create(now=SATURDAY, name="Anna", phone="0611111111")
    # A value under a key that is no longer in ENCRYPTION_KEYS (removed too early).
    redis.set(store.PERSONAL.format(reference=lost.reference), Fernet(Fernet.generate_key()).encrypt(b"{}"))
    kept = create(now=SATURDAY, name="Bram", phone="0622222222")
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 1
    assert "Re-encrypted with the newest key: 1." in result.output
    assert "1 value(s) could not be read with any key in ENCRYPTION_KEYS" in result.output
    assert "Traceback" not in result.output
    assert service.get_request(redis, kept.reference).name == "Bram"
    from routing.privacy import audit

    [rotated] = audit.administration(redis, 10)
    assert rotated["name"] == "keys.rotate" and rotated["status_code"] == "STATUS_CODE_ERROR"


def _handed_over(create, redis, phone="06 12345678"):
    from routing.handovers import service as handovers

    receipt = create(now=SATURDAY, topic="kinderbijslag", name="Mevrouw Jansen", phone=phone)
    assert receipt.status == "handed_over" and receipt.withdraw_token
    request = service.get_request(redis, receipt.reference)
    handover = handovers.find(redis, request.handover)
    assert handover.partner == "svb" and handover.is_open and handover.callback_reference == receipt.reference
    return receipt, handover


def test_a_request_handed_over_at_intake_stays_live_with_one_copy_of_the_personal_data(create, redis):
    from routing.handovers import service as handovers

    receipt, handover = _handed_over(create, redis)
    # The partner holds the personal data now; the request keeps none of its own.
    assert service.get_request(redis, receipt.reference).phone is None
    assert handovers.personal(redis, handover, actor="test").phone == "+31612345678"
    # It is not on the loket's lists, and asking again finds it instead of handing over a second time.
    assert receipt.reference not in {q.reference for q in service.worklist(redis, ["utrecht"], now=MONDAY_10)}
    again = create(now=SATURDAY, topic="kinderbijslag")
    assert again.existing and again.reference == receipt.reference
    assert service.get_status(redis, receipt.reference).asked == 2


def test_withdrawing_a_request_handed_over_at_intake_withdraws_the_handover(create, redis):
    from routing.handovers import service as handovers

    receipt, handover = _handed_over(create, redis)
    assert service.withdraw(redis, receipt.reference, receipt.withdraw_token).state == "withdrawn"
    ended = handovers.find(redis, handover.reference)
    assert not ended.is_open and ended.outcome == "withdrawn_by_citizen"
    assert handovers.personal(redis, ended, actor="test") is None
    # By SMS (INTREKKEN from the same number) too.
    receipt, handover = _handed_over(create, redis, phone="06 87654321")
    assert service.withdraw_by_phone(redis, "utrecht", "+31687654321", now=SATURDAY).reference == receipt.reference
    assert handovers.find(redis, handover.reference).outcome == "withdrawn_by_citizen"


def test_a_request_handed_over_at_intake_is_done_when_the_partner_finishes(create, redis):
    from routing.handovers import service as handovers

    receipt, handover = _handed_over(create, redis)
    handovers.record_outcome(redis, handover, "solved", actor="partner:svb", now=MONDAY_10)
    request = service.get_status(redis, receipt.reference)
    assert request.state == "done" and request.outcome == "handed_over"
    with pytest.raises(ApiError):
        service.withdraw(redis, receipt.reference, receipt.withdraw_token)


def test_a_failing_handover_leaves_the_request_waiting(create, redis, monkeypatch):
    import sys
    import types

    def create_from_callback(r, reference, partner_id):
        raise RuntimeError("partner channel down")

    fake = types.ModuleType("routing.handovers.service")
    fake.create_from_callback = create_from_callback
    monkeypatch.setitem(sys.modules, "routing.handovers.service", fake)
    receipt = create(now=SATURDAY, topic="kinderbijslag")
    assert receipt.status == "waiting"
    assert service.get_status(redis, receipt.reference).state == "waiting"


def test_keys_rotate_covers_every_declared_store(create, redis, app, client, api_key):
    """Callback blobs and handover personal fields alike are readable with only the new key afterwards."""
    from cryptography.fernet import Fernet

    from routing.privacy import crypto
    from routing.privacy.rotate import rotate_all
    from routing.store import encrypted

    create(now=SATURDAY, name="Anna")
    client.post("/api/v1/handovers", headers=api_key("staff", ("amsterdam-centrum",)),
                json={"location": "amsterdam-centrum", "partner": "uwv", "phone": "0687654321", "consent": True})
    new_key = Fernet.generate_key().decode()
    app.config["ENCRYPTION_KEYS"] = f"{new_key},{app.config['ENCRYPTION_KEYS']}"
    app.extensions.pop("fernet", None)
    rotate_all(redis, actor="test")
    app.config["ENCRYPTION_KEYS"] = new_key
    app.extensions.pop("fernet", None)
    checked = set()
    for location in encrypted.locations(redis):
        field = location[1]
        token = encrypted.read(redis, location)
        if token:
            crypto.decrypt(token)  # raises if anything was left under the old key
            checked.add("callback" if field is None else "handover")
    assert checked == {"callback", "handover"}


def test_index_entries_of_vanished_requests_are_cleaned_up(create, redis):
    waiting = create(now=SATURDAY)
    opened = create(now=MONDAY_10, phone="0687654321")
    redis.delete(store.REQUEST.format(reference=waiting.reference), store.REQUEST.format(reference=opened.reference))
    assert service.release_waiting(redis, now=at(2026, 11, 30, 9, 0)) == {}
    service.purge_expired(redis, now=MONDAY_10 + timedelta(days=15))
    assert redis.zcard(store.WAITING) == 0 and store.active(redis, "utrecht") == []


def test_a_redis_that_lost_its_scripts_still_takes_and_changes_requests(create, redis):
    # A restart or failover empties Redis's script cache while the web processes keep their script objects.
    first = create(now=MONDAY_10, phone="+31612345601")
    redis.script_flush()
    second = create(now=MONDAY_10, phone="+31612345602")
    assert second.status == "open" and second.reference != first.reference
    redis.script_flush()
    assert service.withdraw(redis, second.reference, second.withdraw_token).state == "withdrawn"
    assert service.get_status(redis, first.reference).state == "open"


def test_asking_again_repeats_the_same_promise(create):
    first = create(now=SATURDAY, preferred=["2026-12-03:morning"])
    again = create(now=SATURDAY)
    assert again.existing and again.reference == first.reference
    assert again.expected_callback == first.expected_callback == at(2026, 12, 3, 9, 0)


def test_keys_rotate_does_not_count_a_field_never_set_as_deleted(app, redis):
    """A handover without a return note has no `return_note` field: nothing went missing."""
    from routing.privacy import crypto
    from routing.privacy.rotate import rotate_all
    from routing.store import handovers as handover_store

    fields = {name: crypto.encrypt("x") for name in handover_store.PERSONAL_FIELDS if name != "return_note"}
    redis.hset(handover_store.PREFIX + "ho:WO-TEST1:pd", mapping=fields)
    counts = rotate_all(redis, actor="test")
    assert counts["gone"] == 0
    assert counts["rotated"] == len(fields)
