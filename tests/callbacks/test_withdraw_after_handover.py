"""A request staff passed on to partners: until the partners have finished, the citizen's withdrawal link still
withdraws it, from them too, and deletes every copy of the details at once."""

from __future__ import annotations

import re

import pytest

from callbacks.conftest import MONDAY_10
from routing.callbacks import service
from routing.store import callbacks as store

FORM = "/l/utrecht/terugbellen"


@pytest.fixture
def staff(app, login):
    staff = app.test_client()
    login(staff, "staff", locations=("utrecht",))
    return staff


@pytest.fixture
def passed_on(client, staff, pin_now, redis):
    """A request made on the form while Utrecht is staffed, that staff passed on to SVB and DUO."""
    pin_now(MONDAY_10)
    page = client.post(FORM, data={"phone": "06 12345678", "consent": "yes"}, follow_redirects=True)
    link = re.search(r'href="(/l/utrecht/terugbellen/TB-[A-Z2-9]{4}/intrekken\?t=[^"]+)"',
                     page.get_data(as_text=True)).group(1).replace("&amp;", "&")
    reference = re.search(r'class="reference">(TB-[A-Z2-9]{4})<', page.get_data(as_text=True)).group(1)
    made = staff.post("/overdrachten/nieuw", data={"partner": ["svb", "duo"], "consent": "yes",
                                                   "callback_reference": reference, "location": "utrecht"})
    assert made.status_code == 302, made.get_data(as_text=True)
    request = service.get_status(redis, reference)
    assert request.state == "done" and request.outcome == "handed_over"
    return reference, link


def test_the_citizen_can_still_withdraw_it_and_every_copy_goes(client, redis, passed_on):
    from routing.handovers import service as handovers

    reference, link = passed_on
    page = client.get(link).get_data(as_text=True)
    assert "Wilt u uw verzoek intrekken?" in page and "al afgehandeld" not in page
    assert "Wij hebben uw vraag doorgegeven aan Sociale Verzekeringsbank en DUO." in page
    done = client.post(link.split("?")[0], data={"t": link.split("t=")[1]}, follow_redirects=True)
    assert "Uw verzoek is ingetrokken" in done.get_data(as_text=True)
    # Nobody calls: both handovers ended as withdrawn, without their copies; nor does the request keep its own.
    first = handovers.get(redis, service.get_status(redis, reference).handover)
    ended = [first, *handovers.siblings(redis, first)]
    assert sorted(h.partner for h in ended) == ["duo", "svb"]
    assert all(h.outcome == handovers.WITHDRAWN and handovers.personal(redis, h, actor="test") is None for h in ended)
    assert not redis.exists(store.PERSONAL.format(reference=reference))
    # A second tap, a reload: the same answer.
    again = client.post(link.split("?")[0], data={"t": link.split("t=")[1]}, follow_redirects=True)
    assert "Uw verzoek is ingetrokken" in again.get_data(as_text=True)


def test_once_the_partners_have_finished_there_is_nothing_left_to_withdraw(client, redis, passed_on):
    from routing.handovers import service as handovers

    reference, link = passed_on
    first = handovers.get(redis, service.get_status(redis, reference).handover)
    for handover in (first, *handovers.siblings(redis, first)):
        handovers.record_outcome(redis, handover, "solved", actor="partner:x", now=MONDAY_10)
    page = client.get(link).get_data(as_text=True)
    assert "Dit verzoek is al afgehandeld" in page and "Wilt u uw verzoek intrekken?" not in page


def withdraw(client, link: str):
    path, token = link.split("?t=")
    return client.post(path, data={"t": token}, follow_redirects=True).get_data(as_text=True)


def test_a_handover_a_partner_sent_back_loses_its_copy_too_and_is_not_handed_over_again(client, staff, redis,
                                                                                         passed_on):
    from routing.handovers import service as handovers

    reference, link = passed_on
    first = handovers.get(redis, service.get_status(redis, reference).handover)
    handovers.record_outcome(redis, first, handovers.RETURNED, actor="partner:svb", now=MONDAY_10,
                             note="Niet voor ons")
    assert "Wilt u uw verzoek intrekken?" in client.get(link).get_data(as_text=True)  # DUO still has it
    assert "Uw verzoek is ingetrokken" in withdraw(client, link)
    returned = handovers.get(redis, first.reference)
    assert returned.outcome == handovers.RETURNED  # as it ended, but the loket keeps no copy to follow it up with
    assert handovers.personal(redis, returned, actor="test") is None
    again = staff.post("/overdrachten/nieuw", data={"partner": "uwv", "consent": "yes", "location": "utrecht",
                                                    "previous_reference": first.reference})
    assert again.status_code == 422 and "De gegevens van deze overdracht zijn al verwijderd." in again.get_data(
        as_text=True)


def test_the_request_says_it_was_withdrawn_however_the_partners_ended(client, redis, passed_on, api_key):
    from routing.handovers import service as handovers

    reference, link = passed_on
    first = handovers.get(redis, service.get_status(redis, reference).handover)
    handovers.record_outcome(redis, first, "solved", actor="partner:svb", now=MONDAY_10)  # one was done already
    assert "Uw verzoek is ingetrokken" in withdraw(client, link)
    request = service.get_status(redis, reference)
    assert request.state == "done" and request.outcome == "withdrawn" and service.is_withdrawn(request)
    # The API (a kiosk holding the token) hears the same: withdrawn, not "done".
    path, token = link.split("?t=")
    answer = client.post(f"/api/v1/callbacks/{reference}/withdraw", json={"token": token})
    assert answer.status_code == 409 and "al ingetrokken" in answer.get_json()["message"]


def test_intrekken_by_sms_reaches_it_too_and_a_new_message_is_a_new_request(client, staff, redis, pin_now):
    from callbacks.test_hooks import sms
    from routing.handovers import service as handovers

    pin_now(MONDAY_10)
    first = sms(client, "Bel mij over mijn uitkering", sender="+31612345699").get_data(as_text=True)
    reference = re.search(r"TB-[A-Z2-9]{4}", first).group(0)
    made = staff.post("/overdrachten/nieuw", data={"partner": "svb", "consent": "yes", "location": "utrecht",
                                                   "callback_reference": reference})
    assert made.status_code == 302
    reply = sms(client, "INTREKKEN", sender="+31612345699").get_data(as_text=True)
    assert f"Uw terugbelverzoek {reference} is ingetrokken. Uw gegevens zijn gewist." in reply
    request = service.get_status(redis, reference)
    assert service.is_withdrawn(request) and not redis.exists(store.PERSONAL.format(reference=reference))
    handover = handovers.get(redis, request.handover)
    assert handover.outcome == handovers.WITHDRAWN and handovers.personal(redis, handover, actor="test") is None
    # Nothing left to find by the number: a second INTREKKEN finds nothing, a new message is a new request.
    assert "Wij vonden geen open terugbelverzoek" in sms(client, "INTREKKEN", sender="+31612345699").get_data(
        as_text=True)
    again = sms(client, "Toch graag bellen", sender="+31612345699").get_data(as_text=True)
    assert "Uw kenmerk: TB-" in again and reference not in again


def test_a_handover_the_loket_made_again_from_one_sent_back_is_withdrawn_too(client, staff, redis, passed_on):
    from routing.handovers import service as handovers

    reference, link = passed_on
    first = handovers.get(redis, service.get_status(redis, reference).handover)
    returned, other = (first, *handovers.siblings(redis, first))
    handovers.record_outcome(redis, returned, handovers.RETURNED, actor="partner:x", now=MONDAY_10,
                             note="Niet voor ons")
    handovers.record_outcome(redis, other, "solved", actor="partner:x", now=MONDAY_10)
    again = staff.post("/overdrachten/nieuw", data={"partner": "uwv", "consent": "yes", "location": "utrecht",
                                                    "previous_reference": returned.reference})
    assert again.status_code == 302, again.get_data(as_text=True)
    follow_up = handovers.get(redis, handovers.get(redis, returned.reference).next_reference)
    assert follow_up.partner == "uwv" and follow_up.is_open
    # The returned one says where it went, and is not handed over a second time (two partners would call).
    page = staff.get(f"/overdrachten/{returned.reference}").get_data(as_text=True)
    assert "Het loket heeft dit opnieuw overgedragen als" in page and follow_up.reference in page
    assert ">Opnieuw overdragen</a>" not in page
    twice = staff.post("/overdrachten/nieuw", data={"partner": "ind", "consent": "yes", "location": "utrecht",
                                                    "previous_reference": returned.reference})
    assert twice.status_code == 422
    assert f"Deze overdracht is al opnieuw overgedragen, als {follow_up.reference}." in twice.get_data(as_text=True)
    # UWV is to call now: the citizen's link still withdraws, and UWV's copy goes with it.
    assert "Wij hebben uw vraag doorgegeven aan UWV." in client.get(link).get_data(as_text=True)
    assert "Uw verzoek is ingetrokken" in withdraw(client, link)
    ended = handovers.get(redis, follow_up.reference)
    assert ended.outcome == handovers.WITHDRAWN and handovers.personal(redis, ended, actor="test") is None


def test_the_confirmation_page_still_offers_the_withdrawal_and_names_who_calls(client, passed_on):
    page = client.get("/l/utrecht/terugbellen/bevestiging").get_data(as_text=True)
    assert "Uw vraag is doorgegeven" in page
    assert "Wij hebben uw vraag doorgegeven aan Sociale Verzekeringsbank en DUO. Zij bellen u." in page
    reference, link = passed_on
    assert link.replace("&", "&amp;") in page and "Verzoek intrekken" in page


def test_the_withdrawal_follows_the_links_however_often_it_came_back(client, staff, redis, passed_on):
    from routing.handovers import service as handovers

    reference, link = passed_on
    first = handovers.get(redis, service.get_status(redis, reference).handover)
    current, other = (first, *handovers.siblings(redis, first))
    handovers.record_outcome(redis, other, "solved", actor="partner:x", now=MONDAY_10)
    for partner in ("uwv", "ind"):  # each one sends it back, and the loket hands it over again
        handovers.record_outcome(redis, current, handovers.RETURNED, actor="partner:x", now=MONDAY_10,
                                 note="Niet voor ons")
        made = staff.post("/overdrachten/nieuw", data={"partner": partner, "consent": "yes", "location": "utrecht",
                                                       "previous_reference": current.reference})
        assert made.status_code == 302, made.get_data(as_text=True)
        current = handovers.get(redis, handovers.get(redis, current.reference).next_reference)
    assert current.partner == "ind" and current.is_open
    assert "Uw verzoek is ingetrokken" in withdraw(client, link)
    assert handovers.get(redis, current.reference).outcome == handovers.WITHDRAWN


@pytest.fixture
def returned(redis, passed_on):
    """The passed-on request, where SVB sent its handover back and DUO solved its own: the loket follows up."""
    from routing.handovers import service as handovers

    reference, link = passed_on
    first = handovers.get(redis, service.get_status(redis, reference).handover)
    back, other = (first, *handovers.siblings(redis, first))
    handovers.record_outcome(redis, back, handovers.RETURNED, actor="partner:x", now=MONDAY_10, note="Niet voor ons")
    handovers.record_outcome(redis, other, "solved", actor="partner:x", now=MONDAY_10)
    return back, link


def again(staff, returned_reference: str, partner: str = "uwv"):
    return staff.post("/overdrachten/nieuw", data={"partner": partner, "consent": "yes", "location": "utrecht",
                                                   "previous_reference": returned_reference})


def test_a_colleague_handing_it_over_again_at_the_same_moment_is_refused(staff, redis, returned):
    from routing.store import handovers as handover_store

    back, _link = returned
    assert handover_store.claim_follow_up(redis, back.reference, "a-colleague", "done")  # busy with it right now
    refused = again(staff, back.reference)
    assert refused.status_code == 422
    assert "Een collega draagt deze overdracht op dit moment opnieuw over." in refused.get_data(as_text=True)
    handover_store.release_follow_up(redis, back.reference, "a-colleague")  # the colleague's attempt failed
    assert again(staff, back.reference).status_code == 302


def test_a_refused_attempt_leaves_it_free_to_hand_over_again(staff, returned):
    back, _link = returned
    assert again(staff, back.reference, partner="nobody").status_code == 422  # an unknown partner: nothing made
    assert again(staff, back.reference).status_code == 302


def test_a_withdrawal_while_it_is_being_handed_over_again_ends_the_follow_up_too(staff, redis, passed_on, monkeypatch):
    from routing.handovers import notify
    from routing.handovers import service as handovers

    reference, link = passed_on
    first = handovers.get(redis, service.get_status(redis, reference).handover)
    handovers.record_outcome(redis, first, handovers.RETURNED, actor="partner:x", now=MONDAY_10, note="Niet voor ons")
    send_link = notify.send_link

    def citizen_withdraws_meanwhile(*args, **kwargs):
        monkeypatch.setattr(notify, "send_link", send_link)
        token = link.split("?t=")[1]
        # As the link does, while the follow-up is made but not linked yet: it ends DUO's, and cannot find it.
        assert service.is_withdrawn(service.withdraw(redis, reference, token, now=MONDAY_10))
        return send_link(*args, **kwargs)

    monkeypatch.setattr(notify, "send_link", citizen_withdraws_meanwhile)
    assert again(staff, first.reference).status_code == 302
    follow_up = handovers.get(redis, handovers.get(redis, first.reference).next_reference)
    assert follow_up.outcome == handovers.WITHDRAWN and handovers.personal(redis, follow_up, actor="test") is None


def test_sent_back_as_a_wrong_number_and_handed_over_again_the_confirmation_says_who_calls(client, staff, redis,
                                                                                           pin_now):
    from callbacks.conftest import SATURDAY
    from routing.handovers import service as handovers

    pin_now(SATURDAY)  # nobody there: SVB takes a question about kinderbijslag over at once
    page = client.post(FORM, data={"phone": "06 12345678", "topic": "kinderbijslag", "consent": "yes"},
                       follow_redirects=True).get_data(as_text=True)
    reference = re.search(r'class="reference">(TB-[A-Z2-9]{4})<', page).group(1)
    taken = handovers.get(redis, service.get_status(redis, reference).handover)
    handovers.record_attempt(redis, taken, handovers.WRONG_NUMBER, actor="partner:svb", now=MONDAY_10)
    assert service.get_status(redis, reference).outcome == "wrong_number"  # the loket follows it up
    made = staff.post("/overdrachten/nieuw", data={"partner": "uwv", "consent": "yes", "location": "utrecht",
                                                   "previous_reference": taken.reference, "phone": "06 12345679"})
    assert made.status_code == 302, made.get_data(as_text=True)
    page = client.get("/l/utrecht/terugbellen/bevestiging").get_data(as_text=True)
    assert "Uw vraag is doorgegeven" in page and "al afgehandeld" not in page
    assert "Wij hebben uw vraag doorgegeven aan UWV. Zij bellen u." in page and "Verzoek intrekken" in page
    assert "INTREKKEN" not in page  # its number no longer finds it: the link is the way


def test_a_withdrawal_while_the_only_partner_left_is_being_made_is_not_told_it_is_too_late(staff, redis, returned,
                                                                                         monkeypatch):
    from routing.handovers import notify
    from routing.handovers import service as handovers

    back, link = returned  # SVB sent it back, DUO solved its own: nobody has it until the loket hands it over again
    reference = back.callback_reference
    send_link = notify.send_link
    told = []

    def citizen_withdraws_meanwhile(*args, **kwargs):
        monkeypatch.setattr(notify, "send_link", send_link)
        told.append(service.withdraw(redis, reference, link.split("?t=")[1], now=MONDAY_10))
        return send_link(*args, **kwargs)

    monkeypatch.setattr(notify, "send_link", citizen_withdraws_meanwhile)
    assert again(staff, back.reference).status_code == 302
    # The citizen was told it is withdrawn (not "al afgehandeld"), and UWV, which got it at that moment, does not
    # call and keeps no copy.
    assert [service.is_withdrawn(request) for request in told] == [True]
    follow_up = handovers.get(redis, handovers.get(redis, back.reference).next_reference)
    assert follow_up.outcome == handovers.WITHDRAWN and handovers.personal(redis, follow_up, actor="test") is None
    assert not redis.exists(store.PERSONAL.format(reference=reference))


def test_the_staff_page_lists_every_partner_it_went_to_with_its_status(staff, redis, passed_on):
    """Handed over to SVB and DUO at once: the request's page names both handovers, not only the first."""
    from routing.handovers import service as handovers

    reference, _link = passed_on
    first = handovers.get(redis, service.get_status(redis, reference).handover)
    [second] = handovers.siblings(redis, first)
    handovers.record_outcome(redis, second, "solved", actor="partner:x", now=MONDAY_10)
    page = staff.get(f"/loket/terugbelverzoeken/{reference}").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Warme overdrachten" in text
    names = {"svb": "Sociale Verzekeringsbank", "duo": "DUO"}
    assert f"{names[first.partner]}: {first.reference} Verstuurd" in text
    assert f"{names[second.partner]}: {second.reference} Opgelost" in text
    assert f'href="/overdrachten/{second.reference}"' in page
