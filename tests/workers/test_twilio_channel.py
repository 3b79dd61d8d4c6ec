"""The Twilio channel: what it asks of Twilio, and how it reads Twilio's real error answers."""

from __future__ import annotations

import json
import logging

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response

from workers.channels.base import Message, PermanentError, SettingsRefused, TransientError
from workers.channels.twilio_sms import TwilioChannel, TwilioSettings

SID = "AC" + "a" * 32
SERVICE = "MG" + "b" * 32
PHONE = "+31612345678"


def error_body(code: int, status: int, message: str) -> str:
    """Twilio's error answer, as its API sends it."""
    return json.dumps({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                       "status": status})


MESSAGE_CREATED = json.dumps({
    "sid": "SM" + "c" * 32, "account_sid": SID, "status": "accepted", "to": PHONE, "body": "x",
    "messaging_service_sid": SERVICE, "date_created": "Sat, 28 Nov 2026 12:00:00 +0000", "num_segments": "1",
})


class FakeHttpClient(HttpClient):
    """Answers every request with one canned response (or raises), and keeps the requests."""

    def __init__(self, status: int = 201, body: str = MESSAGE_CREATED, raises: Exception | None = None):
        super().__init__(logging.getLogger("test"), False, None)
        self.status, self.body, self.raises = status, body, raises
        self.requests: list[dict] = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        self.requests.append({"method": method, "url": url, "data": data, "auth": auth})
        if self.raises:
            raise self.raises
        return Response(self.status, self.body)


def settings(**overrides) -> TwilioSettings:
    values = {"account_sid": SID, "auth_token": "token", "messaging_service_sid": SERVICE, "sender": None,
              "api_base_url": "https://api.twilio.com", "public_base_url": "https://loketlijn.example.org"}
    values.update(overrides)
    return TwilioSettings(**values)


def message(**overrides) -> Message:
    values = {"notice_id": "n1", "channel": "sms", "to": PHONE, "subject": "s", "text": "Loketlijn: test",
              "validity_seconds": 3600, "attempt": 2}
    values.update(overrides)
    return Message(**values)


def send(http: FakeHttpClient, whatsapp: bool = False, **overrides) -> str:
    channel = TwilioChannel(settings(**overrides), whatsapp=whatsapp, http_client_factory=lambda: http)
    return channel.send(message())


def test_sms_request_has_service_callback_and_validity():
    http = FakeHttpClient()
    assert send(http) == "SM" + "c" * 32
    (request,) = http.requests
    assert request["method"] == "POST"
    assert request["url"] == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["auth"] == (SID, "token")
    assert request["data"] == {
        "To": PHONE, "Body": "Loketlijn: test", "MessagingServiceSid": SERVICE, "ValidityPeriod": 3600,
        "Attempt": 2, "StatusCallback": "https://loketlijn.example.org/hooks/twilio/status",
    }


def test_whatsapp_with_a_sender_instead_of_a_service():
    http = FakeHttpClient()
    send(http, whatsapp=True, messaging_service_sid=None, sender="+3197010000000", public_base_url=None)
    data = http.requests[0]["data"]
    assert data["To"] == f"whatsapp:{PHONE}" and data["From"] == "whatsapp:+3197010000000"
    assert "StatusCallback" not in data and "MessagingServiceSid" not in data


def test_an_sms_body_stays_in_gsm7_and_whatsapp_is_sent_as_written():
    # One ë (a location named after Mariënburg) would make the whole SMS UCS-2: 70 characters a part.
    text = "Loketlijn: 3 terugbelverzoeken wachten bij Mariënburg – “balie 2”."
    sms = TwilioChannel(settings()).params(message(text=text))["body"]
    assert sms == 'Loketlijn: 3 terugbelverzoeken wachten bij Marienburg - "balie 2".'
    assert TwilioChannel(settings(), whatsapp=True).params(message(text=text))["body"] == text


@pytest.mark.parametrize(("seconds", "sent"), [(0, 1), (-5, 1), (36000, 36000), (7 * 86400, 36000)])
def test_validity_period_stays_within_twilios_range(seconds, sent):
    channel = TwilioChannel(settings())
    assert channel.params(message(validity_seconds=seconds))["validity_period"] == sent


@pytest.mark.parametrize(("status", "code", "text", "expected"), [
    (429, 20429, "Too Many Requests", TransientError),
    (400, 30003, "Unreachable destination handset", TransientError),
    (400, 21211, f"The 'To' number {PHONE} is not a valid phone number.", PermanentError),
    (400, 21610, "Attempt to send to unsubscribed recipient", PermanentError),
    (400, 30006, "Landline or unreachable carrier", PermanentError),
    (500, 20500, "An internal server error has occurred", TransientError),
    (503, 20503, "Service Unavailable", TransientError),
    (401, 20003, "Authenticate", SettingsRefused),  # our account or token: an error for the operator
])
def test_twilio_error_answers_are_classified(status, code, text, expected):
    with pytest.raises(expected) as raised:
        send(FakeHttpClient(status, error_body(code, status, text)))
    assert raised.value.code == f"twilio:{code}"
    assert PHONE not in str(raised.value) and raised.value.__cause__ is None  # no address into a log


@pytest.mark.parametrize(("status", "body", "expected"), [
    (429, "Too Many Requests", TransientError),
    (502, "<html><body>Bad Gateway</body></html>", TransientError),
    (404, "Not Found", PermanentError),
])
def test_answers_without_a_twilio_body(status, body, expected):
    with pytest.raises(expected):
        send(FakeHttpClient(status, body))


@pytest.mark.parametrize("error", [requests.ConnectTimeout(), requests.ReadTimeout(), requests.ConnectionError()])
def test_timeouts_and_connection_errors_are_transient(error):
    with pytest.raises(TransientError):
        send(FakeHttpClient(raises=error))


def test_the_client_has_a_timeout_and_another_base_url():
    from workers.channels.twilio_sms import HTTP_TIMEOUT_SECONDS, BaseUrlHttpClient

    client = TwilioChannel(settings(api_base_url="http://127.0.0.1:4010"))._client()
    assert isinstance(client.http_client, BaseUrlHttpClient)
    assert client.http_client.timeout == HTTP_TIMEOUT_SECONDS
    assert client.http_client.base_url == "http://127.0.0.1:4010"


def test_settings_come_from_the_documented_names():
    config = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+3197010000000",
              "TWILIO_API_BASE_URL": "http://127.0.0.1:4010/", "PUBLIC_BASE_URL": "https://x.example/"}
    loaded = TwilioSettings.from_config(config)
    assert (loaded.sender, loaded.messaging_service_sid, loaded.api_base_url, loaded.public_base_url) == (
        "+3197010000000", None, "http://127.0.0.1:4010", "https://x.example")
    assert TwilioSettings.from_config({**config, "TWILIO_FROM": None}) is None
    assert TwilioSettings.from_config({**config, "TWILIO_AUTH_TOKEN": ""}) is None
