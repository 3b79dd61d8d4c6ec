"""Twilio webhooks: signed requests only; SMS, WhatsApp and voice as Twilio (and the caller) see them."""

from __future__ import annotations

import re
from html import unescape

import pytest
from twilio.request_validator import RequestValidator

from callbacks.conftest import MONDAY_10, SATURDAY, TWILIO_TOKEN, at
from routing import gsm7
from routing.callbacks import service
from routing.store import callbacks as store

BASE = "http://localhost"  # PUBLIC_BASE_URL in the test app
TUESDAY_10 = at(2026, 12, 1, 10, 0)


@pytest.fixture(autouse=True)
def saturday(pin_now):
    pin_now(SATURDAY)


def said(twiml: str, language: str) -> list[str]:
    """What the caller hears in one language, in order (TwiML <Say> texts, unescaped)."""
    return [unescape(text) for text in re.findall(rf'<Say language="{language}">(.*?)</Say>', twiml)]


def spoken_reference(twiml: str) -> str:
    """The reference as spelled out on the phone ("T, B, 7, K, Q, 4") back in its written form."""
    spelled = re.search(r"T, B, ([A-Z2-9], ){3}[A-Z2-9]", twiml).group(0)
    return "TB-" + spelled.replace(", ", "")[2:]


def signed_post(client, path, form, base=BASE):
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(base + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def sms(client, body, sender="+31612345678", path="/hooks/twilio/sms?location=utrecht"):
    return signed_post(client, path, {"From": sender, "To": "+3197010000000", "Body": body, "MessageSid": "SM1"})


def test_unsigned_or_wrongly_signed_requests_get_403(client, redis):
    form = {"From": "+31612345678", "Body": "bel mij"}
    assert client.post("/hooks/twilio/sms?location=utrecht", data=form).status_code == 403
    bad = client.post("/hooks/twilio/sms?location=utrecht", data=form, headers={"X-Twilio-Signature": "abc"})
    assert bad.status_code == 403
    # Signed for another URL (another location) does not count either.
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(BASE + "/hooks/twilio/sms?location=enschede", form)
    moved = client.post("/hooks/twilio/sms?location=utrecht", data=form, headers={"X-Twilio-Signature": signature})
    assert moved.status_code == 403
    assert client.post("/hooks/twilio/voice?location=utrecht", data=form).status_code == 403
    assert store.count_personal(redis) == 0


def test_signature_is_checked_against_the_public_url_behind_a_proxy(app, client):
    app.config["PUBLIC_BASE_URL"] = "https://loketlijn.example.nl"
    assert sms(client, "bel mij").status_code == 403  # signed for http://localhost: not what Twilio called
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        "https://loketlijn.example.nl/hooks/twilio/sms?location=utrecht", {"From": "+31612345678", "Body": "hoi"})
    response = client.post("/hooks/twilio/sms?location=utrecht", data={"From": "+31612345678", "Body": "hoi"},
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_sms_creates_a_request_and_replies_with_reference_and_how_to_withdraw(client, redis):
    response = sms(client, "Graag terugbellen over mijn huurtoeslag")
    assert response.status_code == 200 and response.mimetype == "text/xml"
    text = response.get_data(as_text=True)
    reference = re.search(r"TB-[A-Z2-9]{4}", text).group(0)
    assert "kenmerk: " + reference in text and "maandag 30 november, vanaf 9:00" in text
    # Twilio itself takes a bare STOP as an opt-out (and then blocks our replies): we name INTREKKEN only.
    assert "Stuur INTREKKEN" in text and "STOP" not in text
    request = service.get_request(redis, reference)
    # "Wij bellen u terug": staff are asked to call, whatever channel the request came in by.
    assert request.channel == "sms" and request.reply_by == "call"
    assert request.note == "Graag terugbellen over mijn huurtoeslag"

    stop = sms(client, "STOP").get_data(as_text=True)  # still accepted, as is STOPPEN
    assert reference in stop and "ingetrokken" in stop
    assert service.get_request(redis, reference).state == "withdrawn"
    assert service.get_request(redis, reference).phone is None


def test_whatsapp_uses_the_sender_without_prefix(client, redis):
    response = signed_post(client, "/hooks/twilio/whatsapp?location=utrecht",
                           {"From": "whatsapp:+31612345678", "Body": "hallo"})
    reference = re.search(r"TB-[A-Z2-9]{4}", response.get_data(as_text=True)).group(0)
    assert service.get_request(redis, reference).phone == "+31612345678"
    assert service.get_status(redis, reference).channel == "whatsapp"
    assert service.get_status(redis, reference).reply_by == "call"


def test_sms_with_a_bsn_is_not_stored(client, redis):
    text = reply_text(sms(client, "mijn bsn 111222333"))
    assert "niet bewaard" in text and "Stuur het opnieuw zonder dat nummer." in text
    assert sms_parts(text) == 1  # it went in two parts
    assert store.count_personal(redis) == 0


def test_intrekken_without_a_request_says_so_and_what_else_to_do(client):
    reply = reply_text(sms(client, "intrekken"))
    # Not a dead end: the request may have been made with another number (typed in the form).
    assert reply == ("Wij vonden geen open terugbelverzoek van dit nummer. Gaf u een ander nummer op? Gebruik dan de "
                     "link om in te trekken, of zeg het als wij bellen.")
    assert sms_parts(reply) == 1


WITHDRAWALS = ["STOP TB-X56Y", "Stop alstublieft, is niet meer nodig", "intrekken.", "Stoppen!", "STOP-TB-X56Y",
               "  'Intrekken' a.u.b."]


@pytest.mark.parametrize("body", WITHDRAWALS)
def test_a_message_starting_with_a_stop_word_never_creates_a_request(client, redis, body):
    assert "geen open terugbelverzoek" in sms(client, body).get_data(as_text=True)
    assert store.count_personal(redis) == 0 and not list(redis.scan_iter(match="ll:cb:*"))


@pytest.mark.parametrize("body", WITHDRAWALS)
def test_a_message_starting_with_a_stop_word_withdraws_the_live_request(client, redis, body):
    reference = re.search(r"TB-[A-Z2-9]{4}", sms(client, "bel mij").get_data(as_text=True)).group(0)
    text = sms(client, body).get_data(as_text=True)
    assert reference in text and "ingetrokken" in text and "al een terugbelverzoek" not in text
    assert service.get_request(redis, reference).state == "withdrawn"
    assert service.get_request(redis, reference).phone is None


def test_a_word_that_only_starts_like_stop_is_a_normal_message(client, redis):
    text = sms(client, "Stopcontact in de hal is kapot, wie kan helpen?").get_data(as_text=True)
    reference = re.search(r"TB-[A-Z2-9]{4}", text).group(0)
    assert service.get_request(redis, reference).note == "Stopcontact in de hal is kapot, wie kan helpen?"


@pytest.mark.parametrize(("location", "walk_in"), [("utrecht", True), ("amsterdam-centrum", False)])
def test_a_second_message_says_it_was_not_added_to_the_first_request(client, redis, location, walk_in):
    path = f"/hooks/twilio/sms?location={location}"
    first = sms(client, "Graag bellen over de huurtoeslag", path=path).get_data(as_text=True)
    reference = re.search(r"TB-[A-Z2-9]{4}", first).group(0)
    again = sms(client, "Het gaat nu ook over de zorgtoeslag", path=path).get_data(as_text=True)
    assert f"U had al een terugbelverzoek: {reference}." in again
    assert "Uw nieuwe bericht bewaren wij niet." in again
    assert "Stuur INTREKKEN" in again and "STOP" not in again
    assert ("kom langs" in again.lower()) is walk_in
    assert service.get_request(redis, reference).note == "Graag bellen over de huurtoeslag"


def test_an_sms_over_300_characters_is_not_kept_and_a_shorter_one_is_asked_for(client, redis):
    text = sms(client, "a" * 301).get_data(as_text=True)
    assert "Uw bericht is te lang" in text and "Stuur een korter bericht, van hooguit 300 tekens" in text
    assert store.count_personal(redis) == 0
    assert re.search(r"TB-[A-Z2-9]{4}", sms(client, "a" * 300).get_data(as_text=True))  # 300 is fine


@pytest.mark.parametrize("sender", ["+12025550123", "+318001234", "Bank"], ids=["country", "0800", "alphanumeric"])
def test_a_message_from_a_number_we_cannot_call_back_points_to_the_web_form(client, redis, sender):
    text = sms(client, "bel mij", sender=sender).get_data(as_text=True)
    assert "Naar het nummer waarmee u dit bericht stuurde, kunnen wij niet terugbellen" in text
    assert "http://localhost/l/utrecht/terugbellen" in text
    assert "klopt niet" not in text and "Controleer het nummer" not in text and "Geef een" not in text
    assert store.count_personal(redis) == 0


def test_voice_when_nobody_is_there_offers_press_1_in_dutch_then_english(client):
    response = signed_post(client, "/hooks/twilio/voice?location=utrecht", {"From": "+31612345678"})
    twiml = response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    assert "<Gather" in twiml and 'numDigits="1"' in twiml
    dutch = twiml.index('language="nl-NL"')
    english = twiml.index('language="en-GB"')
    assert dutch < english
    assert "Druk op 1 om teruggebeld te worden op dit nummer" in twiml
    assert 'action="http://localhost/hooks/twilio/voice/keuze?location=utrecht"' in twiml
    # No key pressed: after the menu, it is said once more.
    silence = twiml.index("U drukte geen toets. U hoort het keuzemenu nog een keer.")
    assert silence > twiml.index("</Gather>") and "You did not press a key. You will hear the menu once more." in twiml
    assert twiml.endswith('<Redirect method="POST">http://localhost/hooks/twilio/voice?location=utrecht&amp;repeat=1'
                          '</Redirect></Response>')


def test_the_menu_said_the_second_time_ends_the_call_after_silence(client, redis):
    twiml = signed_post(client, "/hooks/twilio/voice?location=utrecht&repeat=1",
                        {"From": "+31612345678"}).get_data(as_text=True)
    assert "Druk op 1 om teruggebeld te worden op dit nummer" in twiml
    # The key pressed in this round is known to be the second try.
    assert 'action="http://localhost/hooks/twilio/voice/keuze?location=utrecht&amp;repeat=1"' in twiml
    assert "U drukte geen toets. Er is geen terugbelverzoek gemaakt. Bel opnieuw als u wilt dat wij u terugbellen." \
        in twiml and "Call again if you want us to call you back." in twiml
    assert "<Redirect" not in twiml and "nog een keer" not in twiml
    assert store.count_personal(redis) == 0


def test_a_landline_caller_is_not_told_to_withdraw_by_sms(client):
    twiml = signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht",
                        {"From": "+31301234567", "Digits": "1"}).get_data(as_text=True)
    assert "Niet meer nodig? Zeg het dan als wij bellen." in said(twiml, "nl-NL")[0] and "sms" not in twiml
    assert "Not needed? Then tell us when we call." in said(twiml, "en-GB")[0]


def test_pressing_1_in_the_second_round_creates_the_request(client, redis):
    twiml = signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht&repeat=1",
                        {"From": "+31612345678", "Digits": "1"}).get_data(as_text=True)
    assert service.get_request(redis, spoken_reference(twiml)).phone == "+31612345678"


def test_pressing_1_creates_a_request_from_the_caller_id(client, redis):
    response = signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht",
                           {"From": "+31612345678", "Digits": "1"})
    twiml = response.get_data(as_text=True)
    request = service.get_request(redis, spoken_reference(twiml))
    assert request.channel == "voice" and request.phone == "+31612345678"


def test_the_spoken_confirmation_names_the_kenmerk_twice_when_we_call_and_how_to_withdraw(client):
    twiml = signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht",
                        {"From": "+31612345678", "Digits": "1"}).get_data(as_text=True)
    spelled = re.search(r"T, B, ([A-Z2-9], ){3}[A-Z2-9]", twiml).group(0)
    dutch, english = said(twiml, "nl-NL")[0], said(twiml, "en-GB")[0]
    # "kenmerk", not "nummer" (which sounds like their phone number), and said twice in each language.
    assert f"Uw kenmerk is {spelled}" in dutch and "Uw nummer" not in dutch and dutch.count(spelled) == 2
    assert f"Your reference is {spelled}" in english and english.count(spelled) == 2
    assert "Wij bellen u maandag 30 november, vanaf 9:00" in dutch  # Saturday: the next shift
    assert "Monday 30 November, from 9:00" in english
    assert "Stuur een sms met het woord INTREKKEN naar dit nummer" in dutch and "INTREKKEN" in english


@pytest.mark.parametrize("caller", ["anonymous", "Anonymous", "+266696687", "restricted", "unknown", ""])
def test_hidden_caller_id_is_asked_to_use_sms_or_the_form(client, redis, caller):
    twiml = signed_post(client, "/hooks/twilio/voice?location=utrecht", {"From": caller}).get_data(as_text=True)
    dutch = said(twiml, "nl-NL")[0]
    assert "<Gather" not in twiml and "Uw nummer is afgeschermd" in dutch
    assert "Stuur een sms" in dutch and "website" in dutch
    assert store.count_personal(redis) == 0


@pytest.mark.parametrize("caller", ["+12025550123", "+318001234"], ids=["not-allowed-country", "0800"])
def test_a_caller_we_cannot_call_back_is_told_so_and_pointed_to_the_form_not_called_hidden(client, redis, caller):
    twiml = signed_post(client, "/hooks/twilio/voice?location=utrecht", {"From": caller}).get_data(as_text=True)
    dutch = said(twiml, "nl-NL")[0]
    assert "afgeschermd" not in dutch and "hidden" not in said(twiml, "en-GB")[0]
    assert "Naar het nummer waarmee u belt, kunnen wij niet terugbellen" in dutch and "formulier" in dutch
    assert "<Gather" not in twiml and store.count_personal(redis) == 0


def test_voice_when_present_says_until_when_where_to_go_and_offers_press_1(client, redis, pin_now):
    pin_now(MONDAY_10)
    twiml = signed_post(client, "/hooks/twilio/voice?location=utrecht",
                        {"From": "+31612345678"}).get_data(as_text=True)
    dutch = said(twiml, "nl-NL")[0]
    assert "Er is nu een medewerker, tot 17:00 uur" in dutch
    assert "U kunt langskomen op Stadsplateau 1, 3521 AZ Utrecht" in dutch  # Utrecht takes walk-ins
    assert "Druk op 1 om teruggebeld te worden op dit nummer" in dutch and "<Gather" in twiml
    # The English half offers 2 (called back in English), not the Dutch half's 1.
    assert "Press 2 to be called back in English" in said(twiml, "en-GB")[0] and "Press 1" not in twiml

    # Pressing 1 while someone is there: the request is open at once, not held for a next shift.
    chosen = signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht",
                         {"From": "+31612345678", "Digits": "1"}).get_data(as_text=True)
    assert "Wij bellen u maandag 30 november, vanaf 10:00" in said(chosen, "nl-NL")[0]
    assert service.get_request(redis, spoken_reference(chosen)).state == "open"


def test_voice_when_present_at_a_location_without_walk_in_does_not_invite_people_to_come_by(client, pin_now):
    pin_now(TUESDAY_10)  # Amsterdam Centrum: staffed Tuesday morning, citizens by referral only
    twiml = signed_post(client, "/hooks/twilio/voice?location=amsterdam-centrum",
                        {"From": "+31612345678"}).get_data(as_text=True)
    dutch, english = said(twiml, "nl-NL")[0], said(twiml, "en-GB")[0]
    assert "Er is nu een medewerker, tot 12:30 uur" in dutch and "Druk op 1" in dutch and "<Gather" in twiml
    assert "langs" not in dutch and "Amstel 1" not in dutch and "come by" not in english


def test_webhooks_need_no_csrf_token_but_a_signature(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    assert sms(client, "bel mij").status_code == 200


def _to(number: str) -> dict[str, str]:
    return {"From": "+31612345678", "To": number, "Body": "bel mij", "MessageSid": "SM2"}


@pytest.mark.parametrize(("path", "to"), [("/hooks/twilio/sms", "+31610000305"),
                                          ("/hooks/twilio/whatsapp", "whatsapp:+31610000305")])
def test_the_number_that_was_called_names_the_location(client, redis, path, to):
    """Every location's number points at the same URL; Twilio's `To` says which location it is."""
    text = signed_post(client, path, _to(to)).get_data(as_text=True)
    reference = re.search(r"TB-[A-Z2-9]{4}", text).group(0)
    assert service.get_status(redis, reference).location == "utrecht"


def test_voice_finds_the_location_by_the_called_number(client):
    twiml = signed_post(client, "/hooks/twilio/voice", {"From": "+31612345678", "To": "+31610000305"}).get_data(
        as_text=True)
    assert "Overheidsloket Utrecht" in twiml and 'action="http://localhost/hooks/twilio/voice/keuze?location=utrecht"' in twiml


def test_location_in_the_url_wins_for_a_shared_number(client, redis):
    text = signed_post(client, "/hooks/twilio/sms?location=enschede", _to("+31610000305")).get_data(as_text=True)
    reference = re.search(r"TB-[A-Z2-9]{4}", text).group(0)
    assert service.get_status(redis, reference).location == "enschede"


@pytest.mark.parametrize("path", ["/hooks/twilio/sms", "/hooks/twilio/whatsapp", "/hooks/twilio/sms?location=nergens"])
def test_a_number_of_no_location_gets_a_polite_answer_and_nothing_is_stored(client, redis, path):
    response = signed_post(client, path, _to("+31687654321"))
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert "Dit nummer hoort niet bij een loket" in response.get_data(as_text=True)
    assert store.count_personal(redis) == 0 and not list(redis.scan_iter(match="ll:cb:*"))


@pytest.mark.parametrize("form", [{"From": "+31612345678", "To": "+31687654321"}, {"From": "+31612345678"}])
def test_voice_to_a_number_of_no_location_says_so(client, redis, form):
    response = signed_post(client, "/hooks/twilio/voice", form)
    twiml = response.get_data(as_text=True)
    assert response.status_code == 200 and "Dit nummer hoort niet bij een loket" in twiml
    assert "does not belong to a service counter" in twiml and "<Gather" not in twiml
    assert not list(redis.scan_iter(match="ll:cb:*"))


def test_behind_a_path_prefix_the_press_1_step_goes_to_the_public_address(app, client):
    app.config["PUBLIC_BASE_URL"] = "https://loket.example.nl/loketlijn"
    twiml = signed_post(client, "/hooks/twilio/voice", {"From": "+31612345678", "To": "+31610000305"},
                        base="https://loket.example.nl/loketlijn").get_data(as_text=True)
    assert 'action="https://loket.example.nl/loketlijn/hooks/twilio/voice/keuze?location=utrecht"' in twiml


def test_a_refused_signature_is_logged_with_what_it_was_checked_against(client, caplog):
    response = client.post("/hooks/twilio/sms", data={"From": "+31612345678", "Body": "bel mij"},
                           headers={"X-Twilio-Signature": "wrong"})
    assert response.status_code == 403
    assert "Twilio webhook refused: signature does not match (checked against http://localhost/hooks/twilio/sms)" \
        in caplog.text and "612345678" not in caplog.text


def test_asking_again_by_phone_says_so(client):
    form = {"From": "+31612345678", "Digits": "1"}
    first = said(signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht", form).get_data(as_text=True),
                 "nl-NL")[0]
    again = said(signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht", form).get_data(as_text=True),
                 "nl-NL")[0]
    assert first.startswith("Wij bellen u terug.") and again.startswith("U had al een terugbelverzoek.")


def test_a_request_a_partner_has_is_named_as_such_when_asked_again(client, create):
    create(now=SATURDAY, topic="kinderbijslag", phone="+31612345678")  # nobody there: SVB has it
    reply = unescape(sms(client, "bel mij").get_data(as_text=True))
    assert "doorgegeven aan de organisatie die over uw vraag gaat. Die belt u." in reply
    assert "Wij bellen u" not in reply
    spoken = said(signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht",
                              {"From": "+31612345678", "Digits": "1"}).get_data(as_text=True), "nl-NL")[0]
    assert "De organisatie die over uw vraag gaat, belt u." in spoken




def reply_text(response) -> str:
    """The SMS text of a TwiML <Message> reply."""
    return unescape(re.search(r"<Message>(.*?)</Message>", response.get_data(as_text=True), re.S).group(1))


def sms_parts(text: str) -> int:
    assert set(text) <= gsm7.GSM7 | gsm7.EXTENSION, sorted(set(text) - gsm7.GSM7 - gsm7.EXTENSION)
    septets = len(text) + sum(ch in gsm7.EXTENSION for ch in text)  # an extension character takes two
    return 1 if septets <= 160 else -(-septets // 153)


@pytest.mark.parametrize("language, body", [("nl", "Bel mij over de huurtoeslag"),
                                            ("en", "Please call me about my benefits")])
def test_the_replies_a_citizen_pays_nothing_for_stay_short(client, language, body):
    # Twilio bills the location per part: the confirmation fits one, asking again (with the walk-in address
    # at Utrecht) two.
    first = reply_text(sms(client, body, path="/hooks/twilio/sms?location=utrecht"))
    again = reply_text(sms(client, body, path="/hooks/twilio/sms?location=utrecht"))
    assert "TB-" in first and "TB-" in again
    assert sms_parts(first) == 1, (len(first), first)
    assert sms_parts(again) <= 2, (len(again), again)


def test_an_sms_reply_stays_in_gsm7_whatever_the_directory_holds(client, monkeypatch):
    import dataclasses

    from routing.directory import service as directory

    # An address with an ë (as Nijmegen's, Mariënburg) would make the whole reply UCS-2.
    utrecht = directory.get_location("utrecht")
    moved = dataclasses.replace(utrecht, address="Mariënburg 75, 6511 PS Nijmegen – “achteringang”")
    monkeypatch.setitem(directory.get_directory().locations, "utrecht", moved)
    sms(client, "bel mij", path="/hooks/twilio/sms?location=utrecht")
    again = reply_text(sms(client, "bel mij", path="/hooks/twilio/sms?location=utrecht"))
    assert 'Of kom langs op Marienburg 75, 6511 PS Nijmegen - "achteringang"' in again
    assert sms_parts(again) <= 2
    # WhatsApp carries any character: the address as it is.
    whatsapp = signed_post(client, "/hooks/twilio/whatsapp?location=utrecht",
                           {"From": "whatsapp:+31612345678", "To": "whatsapp:+3197010000000", "Body": "bel mij",
                            "MessageSid": "SM3"})
    assert "Mariënburg 75" in unescape(whatsapp.get_data(as_text=True))


def test_in_gsm7_keeps_what_gsm7_has_and_falls_back_for_the_rest():
    assert gsm7.in_gsm7("Café Ökonomie, 12:00–13:00 … ’t Zand") == "Café Ökonomie, 12:00-13:00 ... 't Zand"
    assert gsm7.in_gsm7("ĳ€\u00a0✓ [1] ışık") == "ij€ ? [1] isik"
    assert gsm7.in_gsm7("Mariën\u00adburg\u200b") == "Marienburg"  # a soft hyphen, a zero-width space: gone


@pytest.mark.parametrize("body", ["", "Deze brief snap ik niet"])
def test_a_photo_or_voice_note_is_not_opened_and_the_reply_says_so(client, redis, body):
    # WhatsApp: a photo of a letter, often without any words. The request is made (from the sender's number) but
    # nobody will see the photo: the reply says so, instead of letting the citizen count on it.
    form = {"From": "whatsapp:+31612345678", "To": "whatsapp:+3197010000000", "Body": body, "MessageSid": "MM1",
            "NumMedia": "1", "MediaUrl0": "https://api.twilio.com/media/ME1", "MediaContentType0": "image/jpeg"}
    first = reply_text(signed_post(client, "/hooks/twilio/whatsapp?location=utrecht", form))
    assert first.startswith("Wij bellen u terug. Uw kenmerk: TB-")
    assert first.endswith("Wij kunnen geen foto's, spraakberichten of bestanden openen. Vertel het als wij bellen.")
    again = reply_text(signed_post(client, "/hooks/twilio/whatsapp?location=utrecht", form))
    assert again.startswith("U had al een terugbelverzoek") and "geen foto's" in again
    assert reference_in(again) == reference_in(first)
    assert service.get_status(redis, reference_in(first)).state == "waiting"  # Saturday: for Monday's shift
    # An English message is told in English; a message without media is not told at all.
    english = reply_text(signed_post(client, "/hooks/twilio/whatsapp?location=utrecht",
                                     {**form, "From": "whatsapp:+31687654321", "Body": "Please call me back"}))
    assert english.endswith("We cannot open photos, voice messages or files. Tell us when we call.")
    plain = reply_text(sms(client, "bel mij", sender="+31622223333"))
    assert "foto" not in plain


def reference_in(reply: str) -> str:
    return re.search(r"TB-[A-Z2-9]{4}", reply).group(0)


@pytest.mark.parametrize("reply_by", ["sms", "whatsapp"])
def test_asking_again_after_asking_for_a_message_in_the_form_does_not_promise_a_call(client, create, reply_by):
    # The form asked for a text message; the same citizen then texts or calls the location's number.
    create(now=SATURDAY, reply_by=reply_by, phone="+31612345678")
    again = reply_text(sms(client, "Heeft u mijn verzoek?"))
    assert again.startswith("U had al een verzoek: TB-")
    assert "Wij sturen u een bericht op maandag 30 november, vanaf 9:00." in again
    assert "bellen" not in again.replace("Zeg het als wij contact opnemen", "")
    assert sms_parts(again) <= 2
    spoken = said(signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht",
                              {"From": "+31612345678", "Digits": "1"}).get_data(as_text=True), "nl-NL")
    assert spoken[0].startswith("U had al een verzoek. Uw kenmerk is T, B, ")
    assert "U krijgt een bericht, zoals u vroeg." in spoken[0] and "Wij bellen u" not in spoken[0]


def test_a_message_request_a_partner_has_is_named_as_such_when_asked_again(client, create):
    create(now=SATURDAY, topic="kinderbijslag", reply_by="sms", phone="+31612345678")  # SVB has it
    reply = reply_text(sms(client, "bel mij"))
    assert "doorgegeven aan de organisatie die over uw vraag gaat. Die stuurt u een bericht." in reply
    assert "belt u" not in reply


def test_a_caller_who_asked_by_whatsapp_is_told_to_withdraw_in_that_whatsapp_chat(client):
    signed_post(client, "/hooks/twilio/whatsapp?location=utrecht", {"From": "whatsapp:+31612345678", "Body": "hallo"})
    twiml = signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht",
                        {"From": "+31612345678", "Digits": "1"}).get_data(as_text=True)
    dutch, english = said(twiml, "nl-NL")[0], said(twiml, "en-GB")[0]
    assert "U had al een terugbelverzoek." in dutch
    assert "Stuur INTREKKEN in uw WhatsApp-gesprek met dit nummer." in dutch and "sms" not in dutch
    assert "Send INTREKKEN in your WhatsApp chat with this number." in english and "text message" not in english
    # Who asked by SMS (or by phone) is still told to send a text message.
    signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht", {"From": "+31687654321", "Digits": "1"})
    again = signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht",
                        {"From": "+31687654321", "Digits": "1"}).get_data(as_text=True)
    assert "Stuur een sms met het woord INTREKKEN naar dit nummer." in said(again, "nl-NL")[0]
