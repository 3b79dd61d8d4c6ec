"""No personal data in any notice: every template, rendered with personal data planted all around, sends
nothing of it to a provider (Twilio's HTTP requests, an SMTP server's received mail, the outbox)."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest
from aiosmtpd.controller import Controller
from twilio.http import HttpClient
from twilio.http.response import Response

from conftest import free_port
from peers.smtp_peer import Recorder
from routing.notices.kinds import ALLOWED_KEYS, KINDS, LOCALES, NoticeContextError
from routing.notices.render import render
from routing.notices.service import Recipient, create_notice
from routing.store import notices as store
from workers.channels import EXTENSION
from workers.channels.smtp_email import SmtpChannel, SmtpSettings
from workers.channels.twilio_sms import TwilioChannel, TwilioSettings

pytestmark = pytest.mark.peer

# A citizen's details, as a callback request or handover holds them.
PLANTED = {
    "name": "Jantje Plantinga",
    "phone": "+31687654321",
    "note": "heeft een betalingsachterstand bij de Belastingdienst",
    "email": "jantje.plantinga@example.net",
    "bsn": "111222333",
}
PARTNER_PHONE = "+31612345678"
PARTNER_EMAIL = "partner@example.org"
CONTEXT = {"reference": "HO-7K3P", "location": "Utrecht", "topic": "Toeslagen", "count": 2,
           "deadline": "2026-12-01T16:00:00+00:00", "references": ["HO-7K3P", "HO-9QX2"],
           "link": "http://localhost/p/abc123"}


class RecordingHttpClient(HttpClient):
    """Stands in for the network: keeps each request exactly as the twilio client would send it."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("test"), False, None)
        self.bodies: list[str] = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        self.bodies.append(f"{method} {url}?{urlencode(params or {})}\n{urlencode(data or {})}")
        return Response(201, json.dumps({"sid": "SM" + str(len(self.bodies)).zfill(32), "status": "queued"}))


@pytest.fixture
def providers(app):
    http = RecordingHttpClient()
    twilio = TwilioSettings(account_sid="AC" + "a" * 32, auth_token="t", messaging_service_sid="MG" + "b" * 32,
                            sender=None, api_base_url="https://api.twilio.com", public_base_url="http://localhost")
    handler, port = Recorder(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    smtp = SmtpSettings(host="127.0.0.1", port=port, username=None, password=None, security="none",
                        mail_from="noreply@loketlijn.example.org")
    app.extensions[EXTENSION] = {
        "sms": TwilioChannel(twilio, http_client_factory=lambda: http),
        "whatsapp": TwilioChannel(twilio, whatsapp=True, http_client_factory=lambda: http),
        "email": SmtpChannel(smtp),
    }
    yield http, handler
    controller.stop()
    app.extensions.pop(EXTENSION, None)


def test_personal_data_cannot_be_put_into_a_notice(app, redis):
    for kind in KINDS:
        for key, value in PLANTED.items():
            with pytest.raises(NoticeContextError):
                create_notice(redis, kind, Recipient(sms=PARTNER_PHONE), {**CONTEXT, key: value})
            for allowed in ALLOWED_KEYS - {"count"}:
                planted = [value] if allowed == "references" else value
                if key in ("name", "note") and allowed in ("location", "topic"):
                    continue  # plain words; these two come from the directory, callers never type them
                with pytest.raises(NoticeContextError):
                    create_notice(redis, kind, Recipient(sms=PARTNER_PHONE), {**CONTEXT, allowed: planted})
    assert redis.keys("ll:notice:*") == []


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_templates_only_ever_see_the_allowed_keys(kind):
    for locale in LOCALES:
        rendered = render(kind, locale, {**CONTEXT, **PLANTED})
        everything = " ".join((rendered.subject, rendered.sms, rendered.text, rendered.html))
        assert not [value for value in PLANTED.values() if value in everything]


def test_no_provider_request_carries_personal_data(app, redis, run_jobs, client, providers):
    http, smtp = providers
    ids = [create_notice(redis, kind, recipient, CONTEXT, locale)
           for kind in KINDS for locale in LOCALES
           for recipient in (Recipient(sms=PARTNER_PHONE), Recipient(whatsapp=PARTNER_PHONE),
                             Recipient(email=PARTNER_EMAIL))]
    run_jobs()
    assert {store.get(redis, nid)["state"] for nid in ids} == {"sent"}
    requests = http.bodies
    mails = [raw.decode() for _, raw in smtp.received]
    assert len(requests) == 2 * 2 * len(KINDS) and len(mails) == 2 * len(KINDS)
    for sent in requests + mails:
        assert not [value for value in PLANTED.values() if value in sent]
        assert "HO-7K3P" in sent or "Utrecht" in sent
    # The partner's own address appears only where it must: as the addressee.
    assert all(sent.count(PARTNER_PHONE.replace("+", "%2B")) == 1 for sent in requests)
    assert all(sent.count(PARTNER_EMAIL) == 1 for sent in mails)
