"""SmtpTransport's security modes against a REAL SMTP server (aiosmtpd) with a
certificate made here (`cryptography`, self-signed for 127.0.0.1): STARTTLS on a server that
refuses mail before it, implicit TLS, AUTH PLAIN and AUTH LOGIN (the server offering only
that one), wrong credentials refused, and an untrusted certificate refused."""

from __future__ import annotations

import email
import smtplib
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from infrastructure.mail_smtp import Security, SmtpTransport
from tests.notification_builders import free_port

USER, PASSWORD = "rentbook", "s3cret-relay-password"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    san = x509.SubjectAlternativeName(
        [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Recorder:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.logins: list[tuple[str, str]] = []  # (mechanism, user) of each AUTH tried
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=default))  # type: ignore[arg-type]
        return "250 OK"

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        with self.lock:
            self.logins.append((mechanism, data.login.decode()))
        ok = (data.login.decode(), data.password.decode()) == (USER, PASSWORD)
        return AuthResult(success=ok, handled=False)  # the server answers 235 or 535


def server_context(cert: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert)
    return context


@contextmanager
def smtp_server(cert: tuple[Path, Path], mode: Security, **options: Any) -> Iterator[Any]:
    recorder, port = Recorder(), free_port()
    kwargs: dict[str, Any] = {"authenticator": recorder, "auth_require_tls": True, **options}
    if mode == "starttls":
        kwargs |= {"tls_context": server_context(cert), "require_starttls": True}
    else:  # implicit TLS: the socket is TLS from the first byte (aiosmtpd's
        # auth_require_tls only knows STARTTLS, so it would hide AUTH here)
        kwargs |= {"ssl_context": server_context(cert), "auth_require_tls": False}
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def message(subject: str) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "no-reply@rentbook.test", "ana@example.com", subject
    m["Message-ID"] = "<fixed-id@rentbook.test>"
    m.set_content("hello")
    return m


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_each_security_mode_delivers_with_auth_over_a_verified_certificate(
    cert: tuple[Path, Path], mode: Security
) -> None:
    with smtp_server(cert, mode) as (recorder, port):
        transport = SmtpTransport(
            "127.0.0.1", port, security=mode, user=USER, password=PASSWORD, ca_file=cert[0]
        )
        transport.send(message(f"over {mode}"))
    (got,) = recorder.messages
    assert got["Subject"] == f"over {mode}" and got["Message-ID"] == "<fixed-id@rentbook.test>"
    assert recorder.logins == [("PLAIN", USER)]  # smtplib's choice when PLAIN is offered


def test_auth_login_is_used_when_the_server_offers_only_login(cert: tuple[Path, Path]) -> None:
    with smtp_server(cert, "starttls", auth_exclude_mechanism=["PLAIN"]) as (recorder, port):
        transport = SmtpTransport(
            "127.0.0.1", port, user=USER, password=PASSWORD, ca_file=cert[0]
        )  # STARTTLS is the default
        transport.send(message("login"))
    assert recorder.logins == [("LOGIN", USER)] and len(recorder.messages) == 1


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_wrong_credentials_are_refused_and_nothing_is_sent(
    cert: tuple[Path, Path], mode: Security
) -> None:
    with smtp_server(cert, mode, auth_required=True) as (recorder, port):
        transport = SmtpTransport(
            "127.0.0.1", port, security=mode, user=USER, password="wrong", ca_file=cert[0]
        )
        with pytest.raises(smtplib.SMTPAuthenticationError):
            transport.send(message("nope"))
    assert recorder.messages == []
    assert recorder.logins == [("PLAIN", USER), ("LOGIN", USER)]  # smtplib tries each offered


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_a_certificate_the_system_does_not_trust_is_refused(
    cert: tuple[Path, Path], mode: Security
) -> None:
    with smtp_server(cert, mode) as (recorder, port):
        transport = SmtpTransport("127.0.0.1", port, security=mode, user=USER, password=PASSWORD)
        with pytest.raises(ssl.SSLCertVerificationError):
            transport.send(message("untrusted"))
    assert recorder.messages == [] and recorder.logins == []


def test_plain_smtp_to_a_server_requiring_starttls_is_refused(cert: tuple[Path, Path]) -> None:
    with smtp_server(cert, "starttls") as (recorder, port):
        transport = SmtpTransport("127.0.0.1", port, security="none")
        with pytest.raises(smtplib.SMTPException):
            transport.send(message("in the clear"))
    assert recorder.messages == []
