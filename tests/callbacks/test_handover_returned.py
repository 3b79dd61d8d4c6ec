"""A request a partner took over at intake and sent back ("not ours"): the loket's callback queue again."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from callbacks.conftest import MONDAY_10, SATURDAY, at
from routing.callbacks import service
from routing.errors import ApiError
from routing.privacy import audit
from routing.store import callbacks as store

FORM = "/l/utrecht/terugbellen"
CONFIRMATION = "/l/utrecht/terugbellen/bevestiging"
NOTE = "Geen kinderbijslag: het gaat om de huurtoeslag."


@pytest.fixture
def notices(app, monkeypatch) -> list[tuple[str, dict]]:
    """(kind, context) of every notice made, by the callbacks and the handovers feature alike."""
    from routing.handovers import notify
    from routing.notices import service as notices_service

    made: list[tuple[str, dict]] = []
    create = notices_service.create_notice

    def recording(r, kind, recipient, context, *args, **kwargs):
        made.append((kind, dict(context)))
        return create(r, kind, recipient, context, *args, **kwargs)

    monkeypatch.setattr(notices_service, "create_notice", recording)
    monkeypatch.setattr(notify, "create_notice", recording)
    return made


def _passed_on(create, redis, **fields):
    """A request left on Saturday about kinderbijslag: the SVB takes it over at intake."""
    from routing.handovers import service as handovers

    receipt = create(now=SATURDAY, topic="kinderbijslag", name="Mevrouw Jansen", note="Over mijn kind", **fields)
    assert receipt.status == "handed_over"
    handover = handovers.get(redis, service.get_status(redis, receipt.reference).handover)
    assert handover.partner == "svb" and handover.callback_reference == receipt.reference
    return receipt, handover


def _send_back(redis, handover, now=MONDAY_10, note=NOTE):
    from routing.handovers import service as handovers

    return handovers.record_outcome(redis, handover, "returned_to_loket", actor="partner:svb", now=now, note=note)


def test_sent_back_while_the_loket_is_staffed_it_is_open_again_with_its_own_number(create, redis, notices):
    receipt, handover = _passed_on(create, redis)
    notices.clear()  # the partner's "handover_new"
    ended = _send_back(redis, handover)
    request = service.get_request(redis, receipt.reference)
    assert request.state == "open" and request.outcome is None
    assert (request.phone, request.name, request.note) == ("+31612345678", "Mevrouw Jansen", "Over mijn kind")
    assert request.return_note == NOTE and request.returned_by == "svb" and request.return_reason == "partner"
    assert not request.assignee and service.handling_partner(request) is None  # the loket's again
    assert receipt.reference in {q.reference for q in service.worklist(redis, ["utrecht"], now=MONDAY_10)}
    # Stored as the feature stores personal data: one encrypted blob, expiring when a live request's would.
    blob_key = store.PERSONAL.format(reference=receipt.reference)
    assert b"31612345678" not in redis.get(blob_key) and b"Jansen" not in redis.get(blob_key)
    created = int(service.get_status(redis, receipt.reference).created.timestamp())
    backstop = created + service.expire_after_s() + 86400 - int(MONDAY_10.timestamp())
    assert backstop - 5 <= redis.ttl(blob_key) <= backstop
    # The state change is audited like the others, with the citizen as subject.
    [record] = [r for r in audit.for_reference(redis, receipt.reference) if r["name"] == "callback.return.open"]
    assert record["attributes"]["loketlijn.actor"] == "partner:svb"
    assert record["attributes"]["dpl.core.data_subject_id"]
    # The loket hears of it the way the queue tells it: "N waiting", not a returned handover to follow up.
    assert [kind for kind, _ in notices] == ["callbacks_waiting"]
    assert ended.back_in_queue and ended.outcome == "returned_to_loket"


def test_the_citizen_no_longer_reads_that_it_is_done(client, create, redis, api_key, pin_now):
    pin_now(SATURDAY)
    page = client.post(FORM, data={"phone": "06 12345678", "language": "nl", "reply_by": "call", "consent": "yes",
                                   "topic": "kinderbijslag"}, follow_redirects=True).get_data(as_text=True)
    assert "<h1>Uw vraag is doorgegeven</h1>" in page
    reference = re.search(r'class="reference">(TB-[A-Z2-9]{4})<', page).group(1)
    link = re.search(r'href="(/l/utrecht/terugbellen/TB-[A-Z2-9]{4}/intrekken\?t=[^"]+)"', page).group(1)
    token = parse_qs(urlsplit(link.replace("&amp;", "&")).query)["t"][0]
    from routing.handovers import service as handovers

    handover = handovers.get(redis, service.get_status(redis, reference).handover)
    later = SATURDAY + timedelta(minutes=5)  # the partner's duty phone answers the same afternoon
    _send_back(redis, handover, now=later)
    pin_now(later)

    status = client.get(f"/api/v1/callbacks/{reference}", headers=api_key("kiosk", locations=("utrecht",))).json
    assert status["status"] == "waiting" and status["status_text"] != "afgehandeld"
    assert status["expected_callback"].startswith("2026-11-30T09:00:00")  # Monday's shift
    confirmation = client.get(CONFIRMATION).get_data(as_text=True)
    assert "afgehandeld" not in confirmation and "doorgegeven" not in confirmation
    assert "<h1>Wij bellen u terug</h1>" in confirmation and "maandag 30 november" in confirmation
    withdraw_page = client.get(f"/l/utrecht/terugbellen/{reference}/intrekken?t={token}").get_data(as_text=True)
    assert "Wilt u uw verzoek intrekken?" in withdraw_page and "afgehandeld" not in withdraw_page


def test_sent_back_while_nobody_is_there_it_waits_for_the_next_shift(create, redis, notices):
    receipt, handover = _passed_on(create, redis)
    notices.clear()
    _send_back(redis, handover, now=SATURDAY + timedelta(hours=1))
    request = service.get_status(redis, receipt.reference)
    assert request.state == "waiting" and request.release == at(2026, 11, 30, 9, 0)
    assert [kind for kind, _ in notices] == []  # the release tells the on-duty channel
    assert [q.reference for q in service.held_for_next_shift(redis, ["utrecht"])] == [receipt.reference]
    assert service.release_waiting(redis, now=at(2026, 11, 30, 9, 0)) == {"utrecht": 1}
    assert service.get_status(redis, receipt.reference).state == "open"
    assert [kind for kind, _ in notices] == ["callbacks_waiting"]


def test_staff_see_it_with_the_number_and_the_partners_note(client, login, create, redis, pin_now):
    pin_now(MONDAY_10)
    receipt, handover = _passed_on(create, redis)
    _send_back(redis, handover)
    login(client, "staff", locations=("utrecht",))
    worklist = client.get("/loket/terugbelverzoeken").get_data(as_text=True)
    assert receipt.reference in worklist and "teruggestuurd" in worklist
    page = client.get(f"/loket/terugbelverzoeken/{receipt.reference}").get_data(as_text=True)
    assert 'href="tel:+31612345678"' in page and "Mevrouw Jansen" in page
    assert "Teruggestuurd door Sociale Verzekeringsbank" in page and NOTE in page
    assert 'name="result"' in page  # they can record their call
    assert service.get_status(redis, receipt.reference).state == "in_progress"
    # The returned handover asks nothing more of the loket: its page points to the request instead.
    page = client.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)
    assert "staat weer in de terugbellijst" in page and receipt.reference in page
    assert "Opnieuw overdragen" not in page
    aftercare = client.get("/overdrachten").get_data(as_text=True)
    assert f"Terug in de terugbellijst als {receipt.reference}" in aftercare
    english = client.get(f"/loket/terugbelverzoeken/{receipt.reference}?lang=en").get_data(as_text=True)
    assert "Sent back by Sociale Verzekeringsbank" in english
    assert "Back in the callback list as" in client.get("/overdrachten").get_data(as_text=True)


def test_a_partner_that_could_not_reach_them_is_named_with_its_reason(client, login, create, redis, pin_now):
    from routing.handovers import service as handovers

    pin_now(MONDAY_10)
    receipt, handover = _passed_on(create, redis)
    for hours in range(3):  # an hour apart: each counts (routing.attempts), the third sends it back
        handover = handovers.record_attempt(redis, handover, "not_reached", actor="partner:svb",
                                            now=MONDAY_10 + timedelta(hours=hours))
    assert not handover.is_open
    request = service.get_status(redis, receipt.reference)
    assert request.state == "open" and request.return_reason == "max_attempts"
    login(client, "staff", locations=("utrecht",))
    page = client.get(f"/loket/terugbelverzoeken/{receipt.reference}").get_data(as_text=True)
    assert "Teruggestuurd door Sociale Verzekeringsbank" in page and "Teruggestuurd" in page


def test_a_number_the_partner_found_wrong_is_closed_not_queued_again(create, redis, notices):
    from routing.handovers import service as handovers

    receipt, handover = _passed_on(create, redis)
    notices.clear()
    ended = handovers.record_attempt(redis, handover, "wrong_number", actor="partner:svb", now=MONDAY_10)
    request = service.get_status(redis, receipt.reference)
    assert request.state == "done" and request.outcome == "wrong_number"
    assert receipt.reference not in {q.reference for q in service.worklist(redis, ["utrecht"], now=MONDAY_10)}
    assert not ended.back_in_queue and [kind for kind, _ in notices] == ["handover_returned"]


def test_handing_the_returned_handover_over_again_is_refused_while_the_request_is_in_the_queue(
        create, redis, staff_principal_utrecht):
    from routing.handovers import service as handovers

    receipt, handover = _passed_on(create, redis)
    _send_back(redis, handover)
    with pytest.raises(ApiError) as refused:
        handovers.create(redis, staff_principal_utrecht, {
            "location": "utrecht", "partner": "uwv", "consent": True, "previous_reference": handover.reference},
            MONDAY_10)
    assert receipt.reference in str(refused.value.errors["previous_reference"])


@pytest.fixture
def staff_principal_utrecht():
    from routing.auth.principal import Principal

    return Principal(id="s1", kind="user", role="staff", locations=frozenset({"utrecht"}), email="s@example.org")


def test_withdrawing_it_afterwards_deletes_its_personal_fields(create, redis, client, login):
    from routing.handovers import service as handovers

    receipt, handover = _passed_on(create, redis)
    _send_back(redis, handover)
    assert redis.exists(store.PERSONAL.format(reference=receipt.reference))
    assert service.withdraw(redis, receipt.reference, receipt.withdraw_token, now=MONDAY_10).state == "withdrawn"
    assert not redis.exists(store.PERSONAL.format(reference=receipt.reference))
    assert service.get_request(redis, receipt.reference).phone is None
    ended = handovers.get(redis, handover.reference)
    assert ended.outcome == "returned_to_loket"  # finished: as it was, but without its copy of the fields
    assert handovers.personal(redis, ended, actor="test") is None
    login(client, "staff", locations=("utrecht",))
    page = client.get(f"/overdrachten/{handover.reference}").get_data(as_text=True)
    assert "De gegevens van de inwoner zijn verwijderd." in page and "bewaartermijn" not in page


@pytest.mark.parametrize("outcome", ["solved", "referred_on"])
def test_any_other_outcome_still_finishes_the_request(create, redis, outcome):
    from routing.handovers import service as handovers

    receipt, handover = _passed_on(create, redis)
    handovers.record_outcome(redis, handover, outcome, actor="partner:svb", now=MONDAY_10, referred_to="Buurtteam")
    request = service.get_status(redis, receipt.reference)
    assert request.state == "done" and request.outcome == "handed_over" and not request.returned_by
    assert not redis.exists(store.PERSONAL.format(reference=receipt.reference))


def test_withdrawn_before_it_came_back_it_stays_withdrawn(create, redis):
    from routing.handovers import service as handovers

    receipt, handover = _passed_on(create, redis)
    service.withdraw(redis, receipt.reference, receipt.withdraw_token, now=SATURDAY)
    # The partner can no longer send it back (the handover ended with the withdrawal) ...
    with pytest.raises(ApiError):
        _send_back(redis, handovers.get(redis, handover.reference))
    # ... and a return that crosses the withdrawal changes nothing either.
    personal = {"phone": "+31612345678", "name": "Mevrouw Jansen", "note": "", "return_note": NOTE}
    assert service.handover_returned(redis, receipt.reference, personal, partner="svb", reason="partner",
                                     actor="partner:svb", now=MONDAY_10) is None
    request = service.get_request(redis, receipt.reference)
    assert request.state == "withdrawn" and request.phone is None and not request.returned_by


def test_a_request_staff_handed_over_is_not_put_back_in_the_queue(create, redis):
    receipt = create(now=MONDAY_10)
    service.mark_handed_over(redis, receipt.reference, "WO-TEST", now=MONDAY_10)
    personal = {"phone": "+31612345678"}
    assert service.handover_returned(redis, receipt.reference, personal, partner="svb", reason="partner",
                                     actor="partner:svb", now=MONDAY_10) is None
    assert service.get_status(redis, receipt.reference).state == "done"


def test_sent_back_after_it_would_have_expired_it_expires_and_the_loket_follows_the_handover_up(
        create, redis, notices):
    receipt, handover = _passed_on(create, redis)
    notices.clear()
    late = SATURDAY + timedelta(days=15)
    ended = _send_back(redis, handover, now=late)
    request = service.get_request(redis, receipt.reference)
    assert request.state == "expired" and request.phone is None
    assert not ended.back_in_queue
    assert [kind for kind, _ in notices] == ["handover_returned"]  # as for any returned handover


# --- a return that crosses a withdrawal, comes too late, or fails halfway ----------------------------------

def test_back_in_the_queue_the_request_holds_the_one_copy_of_the_fields(create, redis):
    from routing.handovers import service as handovers

    receipt, handover = _passed_on(create, redis)
    ended = _send_back(redis, handover)
    assert ended.back_in_queue and handovers.personal(redis, ended, actor="test") is None
    assert service.get_request(redis, receipt.reference).phone == "+31612345678"
    deleted = [r for r in audit.for_reference(redis, handover.reference) if r["name"] == "handover.personal.delete"]
    assert deleted and deleted[0]["attributes"]["dpl.core.data_subject_id"]


def test_a_withdrawal_just_after_the_request_went_back_leaves_no_copy(create, redis, monkeypatch):
    from routing.handovers import service as handovers

    receipt, handover = _passed_on(create, redis)
    returned = service.handover_returned

    def returned_then_withdrawn(*args, **kwargs):
        state = returned(*args, **kwargs)
        service.withdraw(redis, receipt.reference, receipt.withdraw_token, now=MONDAY_10)
        return state

    monkeypatch.setattr(service, "handover_returned", returned_then_withdrawn)
    _send_back(redis, handover)
    assert service.get_request(redis, receipt.reference).state == "withdrawn"
    assert handovers.personal(redis, handovers.get(redis, handover.reference), actor="test") is None


def test_a_withdrawal_just_before_the_return_leaves_no_copy_and_no_task(create, redis, monkeypatch, notices):
    from routing.handovers import service as handovers

    receipt, handover = _passed_on(create, redis)
    notices.clear()
    returned = service.handover_returned

    def withdrawn_then_returned(*args, **kwargs):
        service.withdraw(redis, receipt.reference, receipt.withdraw_token, now=MONDAY_10)
        return returned(*args, **kwargs)

    monkeypatch.setattr(service, "handover_returned", withdrawn_then_returned)
    ended = _send_back(redis, handover)
    assert ended.outcome == "returned_to_loket" and not ended.back_in_queue
    assert handovers.personal(redis, ended, actor="test") is None
    assert "handover_returned" not in [kind for kind, _ in notices]  # nobody is asked to call a withdrawn citizen


def test_sent_back_too_late_for_its_next_shift_it_expires_and_the_loket_follows_it_up(create, redis, notices):
    from routing.handovers import service as handovers

    receipt, handover = _passed_on(create, redis)
    notices.clear()
    # Friday 11 December, 20:00: the next shift (Monday) comes after the request's 14 days are over.
    ended = _send_back(redis, handover, now=at(2026, 12, 11, 20))
    assert service.get_status(redis, receipt.reference).state == "expired"
    assert not ended.back_in_queue and handovers.personal(redis, ended, actor="test").phone == "+31612345678"
    assert [kind for kind, _ in notices] == ["handover_returned"]


def test_a_return_that_fails_halfway_still_reaches_the_loket(create, redis, monkeypatch, notices, caplog):
    receipt, handover = _passed_on(create, redis)
    notices.clear()

    def broken(*_args, **_kwargs):
        raise RuntimeError("the directory lost the location")

    monkeypatch.setattr(service, "handover_returned", broken)
    ended = _send_back(redis, handover)
    assert ended.outcome == "returned_to_loket" and not ended.back_in_queue
    assert [kind for kind, _ in notices] == ["handover_returned"]  # the loket follows the handover up
    assert "could not go back to the queue (RuntimeError)" in caplog.text and "directory lost" not in caplog.text
