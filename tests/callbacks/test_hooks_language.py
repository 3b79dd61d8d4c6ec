"""The language of a callback request made by SMS, WhatsApp or phone: stored for staff, and used for the reply."""

from __future__ import annotations

import re
from html import unescape

import pytest

from callbacks.conftest import MONDAY_10, SATURDAY
from callbacks.test_hooks import said, signed_post, sms, spoken_reference
from routing.callbacks import message_language, service
from routing.store import callbacks as store

ENGLISH_SMS = "Hello, please call me back about my benefits"
DUTCH_SMS = "Graag terugbellen over mijn huurtoeslag"


@pytest.fixture(autouse=True)
def saturday(pin_now):
    pin_now(SATURDAY)


def reference_in(text: str) -> str:
    return re.search(r"TB-[A-Z2-9]{4}", text).group(0)


def whatsapp(client, body):
    return signed_post(client, "/hooks/twilio/whatsapp?location=utrecht",
                       {"From": "whatsapp:+31612345678", "Body": body})


def reply(response) -> str:
    return unescape(response.get_data(as_text=True))


# --- the heuristic ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    ENGLISH_SMS, "Hi, can you call me?", "Please call back", "I need help with my tax return, thanks",
    "Could someone call me tomorrow morning? I don't speak Dutch.", "CALL ME BACK PLEASE",
])
def test_clearly_english_messages_are_english(text):
    assert message_language.detect(text) == "en"


@pytest.mark.parametrize("text", [
    DUTCH_SMS, "bel mij", "Bel me terug a.u.b.", "Hallo, kunt u mij bellen over de toeslag?", "hoi",
    "Ik wil graag dat u mij belt, thanks",  # one English word in a Dutch message
])
def test_dutch_messages_are_dutch(text):
    assert message_language.detect(text) == "nl"


@pytest.mark.parametrize("text", ["", None, "TB?", "TB-X56Y", "12345", "   ", "?!", "help", "Hello", "Thanks",
                                  "Hallo, can you bel mij"])
def test_unclear_messages_are_dutch(text):
    # Nothing to go on, one English word, words of both languages, or a mix: the default.
    assert message_language.detect(text) == "nl"


@pytest.mark.parametrize(("text", "language"), [
    ("Graag in het Engels bellen", "en"), ("Bel mij terug, ik spreek Engels", "en"), ("english please", "en"),
    ("Ik spreek geen Nederlands", "en"), ("Sorry, I don't speak Dutch", "en"), ("I can not speak dutch", "en"),
    ("Please call me in Dutch", "nl"), ("Please call, Nederlands graag", "nl"), ("Ik spreek geen Engels", "nl"),
    ("No English please, call me", "nl"),
    # Both asked for: no wish, the words decide.
    ("Engels of Nederlands, maakt niet uit, bel mij", "nl"), ("English or Dutch, please call me back", "en"),
])
def test_a_language_asked_for_by_name_wins(text, language):
    assert message_language.detect(text) == language


def test_words_are_counted_without_case_punctuation_or_words_both_languages_use():
    assert message_language.word_counts("HELLO, please... call-back! 3x") == (4, 0)
    assert message_language.word_counts("Help is in de hal") == (0, 1)  # help, is, in: both languages
    assert message_language.word_counts("a.u.b. bel mij") == (0, 3)  # "u", "bel", "mij"
    # Clearly more English: at least two English words and more than twice the Dutch ones.
    assert message_language.detect("please call me back over mijn toeslag") == "en"  # 3 against 1 ("me": both)
    assert message_language.detect("please call over mijn toeslag") == "nl"  # 2 against 1


# --- the location's other call languages (Utrecht: Turkish and Arabic) --------------------------------------

TURKISH_SMS = "Merhaba, beni arayın lütfen"
ARABIC_SMS = "مرحبا، أرجو الاتصال بي بخصوص الإيجار"


@pytest.mark.parametrize(("text", "language"), [
    (TURKISH_SMS, "tr"), (ARABIC_SMS, "ar"),
    ("Graag in het Turks bellen", "tr"), ("Türkçe lütfen", "tr"), ("Please call me in Arabic", "ar"),
    ("I don't speak Dutch, Turkish please", "tr"),  # a language wished for beats "not Dutch"
    ("Ayşe hier, bel mij terug", "nl"),  # a Turkish name in a Dutch message
    ("Ik spreek geen Turks", "nl"), ("Merhaba beni arayin lutfen", "nl"),  # nothing to go on: the default
    # Two languages named: no wish, the (Dutch) words decide.
    ("Mijn moeder spreekt alleen Turks, maar ik spreek Nederlands. Bel mij terug", "nl"),
    ("Hello, please call me back, my name is Ayşe", "en"),
])
def test_a_message_in_another_language_the_location_calls_back_in_is_found(text, language):
    assert message_language.detect(text, ("tr", "ar")) == language


@pytest.mark.parametrize("text", [TURKISH_SMS, ARABIC_SMS, "Graag in het Turks bellen"])
def test_only_languages_the_location_calls_back_in_are_found(text):
    assert message_language.detect(text) == "nl"
    assert message_language.detect(text, ("pl",)) == "nl"


def test_polish_letters_and_a_script_shared_by_two_languages():
    assert message_language.detect("Dzień dobry, proszę o telefon", ("tr", "pl")) == "pl"
    assert message_language.detect("Ayşe, proszę", ("tr", "pl")) == "nl"  # letters of both: nothing to go on
    assert message_language.detect(ARABIC_SMS, ("fa", "ar")) == "fa"  # the first the location lists


def test_a_turkish_sms_is_called_back_in_turkish_and_the_reply_says_so(client, redis, login, pin_now):
    pin_now(MONDAY_10)
    text = reply(sms(client, TURKISH_SMS))
    reference = reference_in(text)
    # Our replies are in Dutch and English only: Dutch, saying in which language we will call.
    assert f"Wij bellen u terug. Uw kenmerk: {reference}." in text and "Wij bellen u in het Turks." in text
    assert service.get_request(redis, reference).language == "tr"
    login(client, "staff", locations=("utrecht",))
    page = client.get("/loket/terugbelverzoeken").get_data(as_text=True)
    row = next(row for row in page.split("<tr") if reference in row)
    assert "Türkçe" in row


@pytest.mark.parametrize(("send", "said", "not_said", "language"), [
    (lambda client: whatsapp(client, ARABIC_SMS), "Wij bellen u in het Arabisch.", None, "ar"),
    (lambda client: sms(client, "Please call me back in Turkish"), "We will call you in Turkish.", "Wij bellen", "tr"),
    (lambda client: sms(client, TURKISH_SMS, path="/hooks/twilio/sms?location=amsterdam-centrum"),
     "Wij bellen u terug", "Turks", "nl"),  # Amsterdam does not call back in Turkish
    (lambda client: whatsapp(client, "Hi, can you call me back?"), "We will call you back", None, "en"),
    (lambda client: sms(client, "Graag terugbellen in het Engels"), "We will call you back", "Wij bellen", "en"),
], ids=["arabic-whatsapp", "english-asks-for-turkish", "turkish-where-no-turkish", "english-whatsapp",
        "dutch-asks-for-english"])
def test_the_reply_and_the_language_the_request_is_called_back_in(client, redis, send, said, not_said, language):
    text = reply(send(client))
    assert said in text and (not_said is None or not_said not in text)
    assert service.get_status(redis, reference_in(text)).language == language


# --- SMS and WhatsApp -------------------------------------------------------------------------------------

def test_an_english_sms_gets_an_english_reply_and_an_english_request(client, redis):
    text = reply(sms(client, ENGLISH_SMS))
    reference = reference_in(text)
    assert f"We will call you back. Reference: {reference}." in text
    assert "Monday 30 November, from 9:00" in text and "Send INTREKKEN (withdraw)" in text
    assert "Wij bellen" not in text and "kenmerk" not in text
    request = service.get_request(redis, reference)
    assert request.language == "en" and request.note == ENGLISH_SMS and request.channel == "sms"


def test_staff_see_that_an_sms_request_is_to_be_called_back_in_english(client, redis, login, pin_now):
    pin_now(MONDAY_10)  # someone is there: the request is on the worklist at once
    english = reference_in(reply(sms(client, ENGLISH_SMS)))
    dutch = reference_in(reply(sms(client, DUTCH_SMS, sender="+31687654321")))
    login(client, "staff", locations=("utrecht",))
    page = client.get("/loket/terugbelverzoeken").get_data(as_text=True)
    rows = {ref: row for row in page.split("<tr") for ref in (english, dutch) if ref in row}
    assert ">English</span></td>" in rows[english] and ">Nederlands</span></td>" in rows[dutch]


def test_a_dutch_sms_stays_dutch(client, redis):
    text = reply(sms(client, DUTCH_SMS))
    reference = reference_in(text)
    assert f"Wij bellen u terug. Uw kenmerk: {reference}." in text and "maandag 30 november, vanaf 9:00" in text
    assert "We will call" not in text
    assert service.get_status(redis, reference).language == "nl"


@pytest.mark.parametrize("body", ["TB?", "", "12345", "Hello"], ids=["reference", "empty", "number", "one-word"])
def test_an_unclear_sms_is_answered_and_stored_in_dutch(client, redis, body):
    text = reply(sms(client, body))
    assert "Wij bellen u terug" in text and "We will call" not in text
    assert service.get_status(redis, reference_in(text)).language == "nl"


def test_asking_again_in_english_is_answered_in_english(client, redis):
    reference = reference_in(reply(sms(client, ENGLISH_SMS)))
    again = reply(sms(client, "Please call me, it is about my rent now"))
    assert f"You already asked to be called back: {reference}." in again
    assert "Not needed? Send INTREKKEN (withdraw)." in again and "Niet meer nodig" not in again


def test_a_short_follow_up_to_an_english_request_is_answered_in_english(client, redis):
    reference = reference_in(reply(sms(client, ENGLISH_SMS)))
    again = reply(sms(client, "ok"))
    assert f"You already asked to be called back: {reference}." in again and "U had al" not in again


def test_a_follow_up_to_a_turkish_request_says_again_in_which_language_we_call(client, redis):
    reply(sms(client, TURKISH_SMS))
    again = reply(sms(client, "tamam"))
    assert "U had al een terugbelverzoek" in again and "Wij bellen u in het Turks." in again


def test_an_english_message_with_a_bsn_is_refused_in_english(client, redis):
    text = reply(sms(client, "Please call me back, my number is 111222333"))
    assert "Your message was not kept: it contains a BSN" in text and "niet bewaard" not in text
    assert store.count_personal(redis) == 0


def test_an_english_message_too_long_is_refused_in_english(client, redis):
    text = reply(sms(client, "Please call me back. " + "a" * 300))
    assert "Your message is too long" in text and "at most 300 characters" in text
    assert store.count_personal(redis) == 0


def test_an_english_message_from_a_number_we_cannot_call_back_links_to_the_english_form(client, redis):
    text = reply(sms(client, ENGLISH_SMS, sender="+12025550123"))
    assert "We cannot call back the number you sent this message from" in text
    assert "http://localhost/l/utrecht/terugbellen?lang=en" in text
    dutch = reply(sms(client, "bel mij", sender="+12025550123"))
    assert "http://localhost/l/utrecht/terugbellen." in dutch and "lang=" not in dutch
    assert store.count_personal(redis) == 0


@pytest.mark.parametrize(("first", "withdrawal", "expected"), [
    (ENGLISH_SMS, "STOP", "Your callback request {reference} has been withdrawn"),
    (ENGLISH_SMS, "Intrekken", "Your callback request {reference} has been withdrawn"),
    (DUTCH_SMS, "STOP please, I do not need it any more", "Uw terugbelverzoek {reference} is ingetrokken"),
])
def test_a_withdrawal_is_answered_in_the_language_of_the_request(client, redis, first, withdrawal, expected):
    reference = reference_in(reply(sms(client, first)))
    text = reply(sms(client, withdrawal))
    assert expected.format(reference=reference) in text
    assert service.get_status(redis, reference).state == "withdrawn"


def test_a_withdrawal_without_a_request_is_answered_in_dutch(client, redis):
    assert "Wij vonden geen open terugbelverzoek" in reply(sms(client, "STOP please call me no more"))


# --- voice ------------------------------------------------------------------------------------------------

def choose(client, digits: str, sender: str = "+31612345678", repeat: bool = False) -> str:
    return signed_post(client, "/hooks/twilio/voice/keuze?location=utrecht" + ("&repeat=1" if repeat else ""),
                       {"From": sender, "Digits": digits}).get_data(as_text=True)


def test_the_menu_offers_1_in_dutch_and_2_in_english(client):
    twiml = signed_post(client, "/hooks/twilio/voice?location=utrecht", {"From": "+31612345678"}).get_data(
        as_text=True)
    gather = re.search(r"<Gather.*?</Gather>", twiml).group(0)  # both offers are inside what listens for a key
    dutch, english = said(gather, "nl-NL")[0], said(gather, "en-GB")[0]
    assert "Druk op 1 om teruggebeld te worden op dit nummer." in dutch and "2" not in dutch
    assert "Press 2 to be called back in English." in english and "Press 1" not in english
    assert twiml.index("Druk op 1") < twiml.index("Press 2")


def test_pressing_2_stores_english_and_answers_in_english_only(client, redis):
    twiml = choose(client, "2")
    assert said(twiml, "nl-NL") == []
    english = said(twiml, "en-GB")
    assert len(english) == 1 and english[0].startswith("We will call you back. Your reference is")
    assert "Monday 30 November, from 9:00" in english[0]
    request = service.get_request(redis, spoken_reference(twiml))
    assert request.language == "en" and request.channel == "voice" and request.phone == "+31612345678"


def test_pressing_1_stores_dutch_and_confirms_in_dutch_then_english(client, redis):
    twiml = choose(client, "1")
    dutch, english = said(twiml, "nl-NL"), said(twiml, "en-GB")
    assert dutch[0].startswith("Wij bellen u terug. Uw kenmerk is") and english[0].startswith("We will call you back")
    assert twiml.index('language="nl-NL"') < twiml.index('language="en-GB"')
    assert service.get_request(redis, spoken_reference(twiml)).language == "nl"


def test_asking_again_after_pressing_2_is_said_in_english_only(client):
    choose(client, "2")
    twiml = choose(client, "2")
    assert said(twiml, "nl-NL") == [] and said(twiml, "en-GB")[0].startswith("You had already asked")


@pytest.mark.parametrize("digits", ["3", "0", "#", ""])
def test_any_other_key_makes_no_request_and_the_menu_is_said_once_more(client, redis, digits):
    twiml = choose(client, digits)
    assert said(twiml, "nl-NL") == ["Die toets hoort niet bij het keuzemenu. U hoort het keuzemenu nog een keer."]
    assert said(twiml, "en-GB") == ["That key is not part of the menu. You will hear the menu once more."]
    assert '<Redirect method="POST">http://localhost/hooks/twilio/voice?location=utrecht&amp;repeat=1' in twiml
    again = choose(client, digits, repeat=True)  # the same key after the menu's second time: the call ends
    assert "Er is geen terugbelverzoek gemaakt. Bel opnieuw als u wilt dat wij u terugbellen." in said(again, "nl-NL")[0]
    assert "No callback request was made. Call again if you want us to call you back." in said(again, "en-GB")[0]
    assert "<Redirect" not in again
    assert store.count_personal(redis) == 0 and not list(redis.scan_iter(match="ll:cb:*"))


def test_pressing_2_from_a_number_we_cannot_call_back_makes_no_request(client, redis):
    twiml = choose(client, "2", sender="+12025550123")
    assert "Er is geen terugbelverzoek gemaakt" in said(twiml, "nl-NL")[0]
    assert store.count_personal(redis) == 0
