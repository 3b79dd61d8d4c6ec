"""E-mail through SMTP (smtplib): plain text plus HTML, STARTTLS, SSL or none, optional login."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from workers.channels.base import EMAIL, Message, PermanentError, SettingsRefused, TransientError

SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    security: str
    mail_from: str

    @classmethod
    def from_config(cls, config: Mapping) -> SmtpSettings | None:
        """The settings, or None when SMTP is not configured (outside production the outbox is used instead)."""
        host = config.get("SMTP_HOST")
        if not host:
            return None
        security = (config.get("SMTP_SECURITY") or "starttls").lower()
        if security not in SECURITY_MODES:
            raise ValueError(f"SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}")
        return cls(
            host=host,
            port=int(config.get("SMTP_PORT") or DEFAULT_PORTS[security]),
            username=config.get("SMTP_USERNAME") or None,
            password=config.get("SMTP_PASSWORD") or None,
            security=security,
            mail_from=config.get("MAIL_FROM") or "",
        )


def build_email(message: Message, mail_from: str) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = mail_from
    email["To"] = message.to
    email["Message-ID"] = make_msgid(idstring=message.notice_id)
    # Tells mail servers and out-of-office robots that nobody reads replies to this address.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


# Authentication required (530), too weak (534) or refused (535): our login, not the recipient's address.
LOGIN_REFUSED = frozenset({530, 534, 535})


def _classify(code: int) -> type[TransientError] | type[PermanentError]:
    if code in LOGIN_REFUSED:
        return SettingsRefused
    return TransientError if 400 <= code < 500 else PermanentError


class SmtpChannel:
    name = EMAIL

    def __init__(self, settings: SmtpSettings, tls_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        # Certificates are always verified; by default against the system's trusted roots.
        self.tls_context = tls_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "ssl":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT_SECONDS, context=self.tls_context)
        smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_SECONDS)
        if s.security == "starttls":
            smtp.starttls(context=self.tls_context)
        return smtp

    def send(self, message: Message) -> str:
        email = build_email(message, self.settings.mail_from)
        try:
            with self._connect() as smtp:
                if self.settings.username:
                    smtp.login(self.settings.username, self.settings.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            raise _classify(code)(f"smtp:{code}") from None
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc.smtp_code)(f"smtp:{exc.smtp_code}") from None
        except smtplib.SMTPServerDisconnected:
            raise TransientError("smtp:disconnected") from None
        except smtplib.SMTPException:
            # No STARTTLS or no usable login method: configuration, not something time will fix.
            raise SettingsRefused("smtp:unsupported") from None
        except OSError:
            # Connection refused or reset, DNS failure, timeout: the server may be back later.
            raise TransientError("smtp:connection") from None
        return str(email["Message-ID"])
