"""The Twilio channel against Prism serving Twilio's OpenAPI file: every request we send is valid for the
spec (Prism answers 422 on a request that breaks it, 401 without credentials)."""

from __future__ import annotations

import pytest
import requests

from routing.notices.kinds import KINDS
from routing.notices.service import Recipient, create_notice
from routing.store import notices as store
from workers.channels.base import Message, PermanentError
from workers.channels.twilio_sms import TwilioChannel, TwilioSettings

pytestmark = pytest.mark.peer

SID = "AC" + "a" * 32
SERVICE = "MG" + "b" * 32
PHONE = "+31612345678"


def settings(prism_url: str, **overrides) -> TwilioSettings:
    values = {"account_sid": SID, "auth_token": "token", "messaging_service_sid": SERVICE, "sender": None,
              "api_base_url": prism_url, "public_base_url": "https://loketlijn.example.org"}
    values.update(overrides)
    return TwilioSettings(**values)


def message(**overrides) -> Message:
    values = {"notice_id": "n1", "channel": "sms", "to": PHONE, "subject": "", "text": "Loketlijn: test",
              "validity_seconds": 7200}
    values.update(overrides)
    return Message(**values)


def test_prism_really_checks_requests(prism_url):
    url = f"{prism_url}/2010-04-01/Accounts/{SID}/Messages.json"
    assert requests.post(url, data={"To": PHONE, "Body": "x"}, timeout=10).status_code == 401
    invalid = requests.post(url, data={"Body": "x", "ValidityPeriod": "soon"}, auth=(SID, "t"), timeout=10)
    assert invalid.status_code == 422


@pytest.mark.parametrize("overrides", [
    {},
    {"messaging_service_sid": None, "sender": "+3197010000000"},
    {"public_base_url": None},
])
@pytest.mark.parametrize("whatsapp", [False, True])
def test_sms_and_whatsapp_requests_are_valid_for_the_spec(prism_url, overrides, whatsapp):
    channel = TwilioChannel(settings(prism_url, **overrides), whatsapp=whatsapp)
    provider_id = channel.send(message(validity_seconds=10**6, attempt=3))
    assert provider_id.startswith("SM") and len(provider_id) == 34


def test_a_request_prism_refuses_is_a_permanent_error(prism_url):
    # Without credentials Prism (like Twilio) refuses: a setting problem, not worth retrying.
    channel = TwilioChannel(settings(prism_url, account_sid="", auth_token=""))
    with pytest.raises(PermanentError):
        channel.send(message())


@pytest.fixture
def app_config(prism_url):
    return {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "token", "TWILIO_MESSAGING_SERVICE_SID": SERVICE,
            "TWILIO_API_BASE_URL": prism_url, "PUBLIC_BASE_URL": "https://loketlijn.example.org"}


def test_every_kind_goes_out_through_prism(app, redis, run_jobs):
    context = {"reference": "HO-7K3P", "location": "Utrecht", "topic": "Toeslagen", "count": 2,
               "deadline": "2026-12-01T16:00:00+00:00", "references": ["HO-7K3P", "HO-9QX2"],
               "link": "https://loketlijn.example.org/p/abc123"}
    ids = [create_notice(redis, kind, Recipient(sms=PHONE), context, locale)
           for kind in KINDS for locale in ("nl", "en")]
    run_jobs()
    states = {store.get(redis, nid)["state"] for nid in ids}
    assert states == {"sent"}
    assert all(store.get(redis, nid)["provider_id"].startswith("SM") for nid in ids)
