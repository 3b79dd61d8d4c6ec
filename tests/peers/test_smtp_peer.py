"""The e-mail channel against a real SMTP server (aiosmtpd): delivery, 4xx retried, 5xx permanent."""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import ssl
from pathlib import Path

import pytest

from workers.channels.base import Message, PermanentError, SettingsRefused, TransientError
from workers.channels.smtp_email import SmtpChannel, SmtpSettings

from conftest import free_port
from peers.smtp_peer import Recorder

controller_module = pytest.importorskip("aiosmtpd.controller")
smtp_module = pytest.importorskip("aiosmtpd.smtp")

pytestmark = pytest.mark.peer

MAIL_FROM = "Loketlijn <noreply@loketlijn.example.org>"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"loketlijn" and auth_data.password == b"secret"
    return smtp_module.AuthResult(success=ok)


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made here; nothing is downloaded)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def server(request, tls_files):
    """An aiosmtpd server in the mode the test asks for (param: none, starttls or ssl)."""
    security = getattr(request, "param", "none")
    cert_path, key_path = tls_files
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_path, key_path)
    handler = Recorder()
    port = free_port()
    # aiosmtpd counts only STARTTLS as TLS for AUTH; with implicit TLS (ssl) the link is encrypted anyway.
    kwargs = {"authenticator": authenticate, "auth_require_tls": security == "starttls"}
    if security == "starttls":
        kwargs.update(tls_context=server_tls, require_starttls=True)
    controller = controller_module.Controller(handler, hostname="127.0.0.1", port=port,
                                              ssl_context=server_tls if security == "ssl" else None, **kwargs)
    controller.start()
    settings = SmtpSettings(host="127.0.0.1", port=port, username="loketlijn", password="secret",
                            security=security, mail_from=MAIL_FROM)
    # The client verifies the certificate as in production; here it trusts the test's own one.
    yield handler, SmtpChannel(settings, tls_context=ssl.create_default_context(cafile=cert_path))
    controller.stop()


def message(**overrides) -> Message:
    values = {"notice_id": "abc123", "channel": "email", "to": "partner@example.org",
              "subject": "Nieuwe doorverwijzing HO-7K3P", "text": "Referentie: HO-7K3P\n",
              "html": "<p>Referentie: <strong>HO-7K3P</strong></p>"}
    values.update(overrides)
    return Message(**values)


@pytest.mark.parametrize("server", ["none", "starttls", "ssl"], indirect=True)
def test_delivers_plain_text_and_html_with_login(server):
    handler, channel = server
    message_id = channel.send(message())
    [(recipients, raw)] = handler.received
    assert recipients == ["partner@example.org"]
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["From"] == MAIL_FROM and mail["To"] == "partner@example.org"
    assert mail["Subject"] == "Nieuwe doorverwijzing HO-7K3P" and mail["Message-ID"] == message_id
    assert mail.get_body(("plain",)).get_content().strip() == "Referentie: HO-7K3P"
    assert "<strong>HO-7K3P</strong>" in mail.get_body(("html",)).get_content()


@pytest.mark.parametrize(("where", "answer", "expected", "code"), [
    ("rcpt_answer", "450 4.2.1 Mailbox busy, try later", TransientError, "smtp:450"),
    ("data_answer", "451 4.3.0 Local error, try later", TransientError, "smtp:451"),
    ("rcpt_answer", "550 5.1.1 partner@example.org: no such user", PermanentError, "smtp:550"),
    ("data_answer", "554 5.7.1 Rejected", PermanentError, "smtp:554"),
])
def test_refusals_are_classified(server, where, answer, expected, code):
    handler, channel = server
    setattr(handler, where, answer)
    with pytest.raises(expected) as raised:
        channel.send(message())
    assert raised.value.code == code and "partner@example.org" not in str(raised.value)


@pytest.mark.parametrize("code", [530, 534, 535])
def test_a_refused_login_is_our_settings_not_the_address(code):
    from workers.channels import smtp_email

    assert smtp_email._classify(code) is SettingsRefused


def test_no_server_listening_is_transient():
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), username=None, password=None, security="none",
                            mail_from=MAIL_FROM)
    with pytest.raises(TransientError, match="smtp:connection"):
        SmtpChannel(settings).send(message())


def test_settings_use_the_documented_names_and_default_ports():
    loaded = SmtpSettings.from_config({"SMTP_HOST": "mail.example.org", "SMTP_SECURITY": "ssl",
                                       "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p", "MAIL_FROM": MAIL_FROM})
    assert (loaded.port, loaded.security, loaded.username) == (465, "ssl", "u")
    assert SmtpSettings.from_config({"SMTP_HOST": "h", "SMTP_PORT": "2525"}).port == 2525
    assert SmtpSettings.from_config({"SMTP_HOST": None}) is None
    with pytest.raises(ValueError):
        SmtpSettings.from_config({"SMTP_HOST": "h", "SMTP_SECURITY": "tls"})
