"""SMS and WhatsApp through the official twilio client.

One client per thread (the worker sends from a thread pool; a requests session is not meant to be
shared between threads), each with an HTTP timeout (the client has none by default) and able to
talk to another base URL than Twilio's (tests and the benchmark point it at Prism or a local stub).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from routing.gsm7 import in_gsm7
from workers.channels.base import SMS, WHATSAPP, Message, PermanentError, SettingsRefused, TransientError

TWILIO_BASE_URL = "https://api.twilio.com"
HTTP_TIMEOUT_SECONDS = 10.0
# Twilio accepts ValidityPeriod from 1 to 36000 seconds.
MAX_VALIDITY_SECONDS = 36000
STATUS_CALLBACK_PATH = "/hooks/twilio/status"
# The client logs every request and response at INFO (a dozen lines per SMS); only its warnings matter.
HTTP_LOG = logging.getLogger("workers.channels.twilio_http")
HTTP_LOG.setLevel(logging.WARNING)

# Error codes (from API answers and from delivery receipts) worth another try later:
# 20429 too many requests, 30001 queue overflow, 30003 unreachable handset, 30008 unknown error,
# 30017 carrier network congestion, 30022 rate limit exceeded.
TRANSIENT_CODES = frozenset({20429, 30001, 30003, 30008, 30017, 30022})
# Our account SID and auth token were refused (HTTP 401): SettingsRefused, not the recipient's address.
AUTHENTICATION_FAILED = 20003
# Everything else is permanent for this channel, e.g. 21211 invalid 'To', 21610 unsubscribed (STOP),
# 21614 not a mobile number, 30005 unknown handset, 30006 landline or unreachable carrier,
# 30007 filtered by the carrier.


def is_transient(status: int | None, code: int | None) -> bool:
    """Twilio's answer (HTTP status and/or Twilio error code) means: try again later."""
    if code in TRANSIENT_CODES:
        return True
    return status is not None and (status == 429 or status >= 500)


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    messaging_service_sid: str | None
    sender: str | None
    api_base_url: str
    public_base_url: str | None

    @classmethod
    def from_config(cls, config: Mapping) -> TwilioSettings | None:
        """The settings, or None when Twilio is not configured (outside production the outbox is used instead)."""
        sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
        service, sender = config.get("TWILIO_MESSAGING_SERVICE_SID"), config.get("TWILIO_FROM")
        if not (sid and token and (service or sender)):
            return None
        return cls(
            account_sid=sid,
            auth_token=token,
            messaging_service_sid=service or None,
            sender=sender or None,
            api_base_url=(config.get("TWILIO_API_BASE_URL") or TWILIO_BASE_URL).rstrip("/"),
            public_base_url=(config.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        )


class BaseUrlHttpClient(TwilioHttpClient):
    """TwilioHttpClient that sends what the client addresses to api.twilio.com to another base URL."""

    def __init__(self, base_url: str, timeout: float) -> None:
        # Proxy settings from the environment (HTTPS_PROXY, NO_PROXY) are read once here rather than by
        # requests on every send, which scans the whole environment each time.
        super().__init__(timeout=timeout, logger=HTTP_LOG,
                         proxy=requests.utils.get_environ_proxies(base_url + "/") or None)
        self.session.trust_env = False
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if url.startswith(TWILIO_BASE_URL):
            url = self.base_url + url[len(TWILIO_BASE_URL):]
        return super().request(method, url, *args, **kwargs)


class TwilioChannel:
    """Sends SMS (``whatsapp=False``) or WhatsApp messages through Twilio's Messages API."""

    def __init__(self, settings: TwilioSettings, *, whatsapp: bool = False, http_client_factory=None) -> None:
        self.settings = settings
        self.whatsapp = whatsapp
        self.name = WHATSAPP if whatsapp else SMS
        self._http_client_factory = http_client_factory or (
            lambda: BaseUrlHttpClient(settings.api_base_url, HTTP_TIMEOUT_SECONDS)
        )
        self._local = threading.local()

    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = Client(
                self.settings.account_sid, self.settings.auth_token, http_client=self._http_client_factory()
            )
            self._local.client = client
        return client

    def _address(self, number: str) -> str:
        return f"whatsapp:{number}" if self.whatsapp else number

    def params(self, message: Message) -> dict:
        """The arguments for messages.create (kept apart so tests can inspect them)."""
        params: dict = {
            "to": self._address(message.to),
            "body": message.text if self.whatsapp else in_gsm7(message.text),  # 160 characters a part
            "validity_period": max(1, min(MAX_VALIDITY_SECONDS, int(message.validity_seconds))),
            "attempt": message.attempt,
        }
        if self.settings.messaging_service_sid:
            params["messaging_service_sid"] = self.settings.messaging_service_sid
        else:
            params["from_"] = self._address(self.settings.sender or "")
        if self.settings.public_base_url:
            params["status_callback"] = self.settings.public_base_url + STATUS_CALLBACK_PATH
        return params

    def send(self, message: Message) -> str:
        try:
            created = self._client().messages.create(**self.params(message))
        except (TwilioRestException, TwilioServiceException) as exc:
            code = f"twilio:{exc.code or exc.status}"
            if is_transient(exc.status, exc.code):
                raise TransientError(code) from None
            if exc.code == AUTHENTICATION_FAILED or exc.status == 401:
                raise SettingsRefused(code) from None
            raise PermanentError(code) from None
        except requests.Timeout:
            raise TransientError("twilio:timeout") from None
        except requests.ConnectionError:
            raise TransientError("twilio:connection") from None
        return created.sid
