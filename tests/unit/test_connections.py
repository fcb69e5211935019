"""Pure parts of hl_email.connections: folder names, SASL messages, error classification."""

from __future__ import annotations

import base64
import ssl

import aiosmtplib
import pytest

from hl_email.connections import (
    MailAuthError,
    MailCertificateError,
    MailTlsMismatchError,
    config_error,
    decode_mailbox_name,
    encode_mailbox_name,
    imap_mailbox,
    oauthbearer_message,
    xoauth2_message,
)


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("INBOX", "INBOX"),
        ("All Mail", "All Mail"),
        ("[Gmail]/All Mail", "[Gmail]/All Mail"),
        ("Tom & Jerry", "Tom &- Jerry"),
        ("Entwürfe", "Entw&APw-rfe"),  # RFC 3501 style: ü is U+00FC
        ("台北", "&U,BTFw-"),  # the RFC 3501 example
        ("~peter/mail/日本語/台北", "~peter/mail/&ZeVnLIqe-/&U,BTFw-"),
    ],
)
def test_modified_utf7_round_trips(name, wire):
    assert encode_mailbox_name(name) == wire
    assert decode_mailbox_name(wire) == name


def test_mailbox_argument_is_always_quoted_and_escaped():
    assert imap_mailbox("Sent Items") == '"Sent Items"'
    assert imap_mailbox('a"b\\c') == '"a\\"b\\\\c"'


def test_sasl_messages():
    assert xoauth2_message("a@b.test", "tok") == b"user=a@b.test\x01auth=Bearer tok\x01\x01"
    # RFC 7628 3.1: gs2 header with the authzid (',' and '=' escaped), host, port, auth.
    msg = oauthbearer_message("a,b=c@d.test", "tok", "imap.d.test", 993)
    assert (
        msg == b"n,a=a=2Cb=3Dc@d.test,\x01host=imap.d.test\x01port=993\x01auth=Bearer tok\x01\x01"
    )
    base64.b64encode(msg)  # the wire form is its base64


def test_certificate_auth_and_tls_mixups_are_configuration_errors():
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert.verify_message = "unable to get local issuer certificate"
    wrapped = aiosmtplib.SMTPConnectError("Error connecting")
    wrapped.__cause__ = cert
    err = config_error(wrapped, "smtp", "tls")
    assert isinstance(err, MailCertificateError) and "smtp.ca_file" in err.fix
    assert "validate_certs" not in err.fix
    auth = config_error(aiosmtplib.SMTPAuthenticationError(535, "bad"), "smtp", "starttls")
    assert isinstance(auth, MailAuthError)
    mismatch = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    assert isinstance(config_error(mismatch, "imap", "tls"), MailTlsMismatchError)
    assert config_error(ConnectionRefusedError(), "smtp", "tls") is None
    assert config_error(TimeoutError(), "imap", "tls") is None


def test_a_failed_connect_is_named_by_what_went_wrong():
    from hl_email.connections import _imap_connect_failure, _smtp_connect_failure

    handshake = aiosmtplib.SMTPConnectError("Error connecting")
    handshake.__cause__ = ssl.SSLError(1, "[SSL] record layer failure")
    silent = aiosmtplib.SMTPConnectTimeoutError("Timed out connecting")
    assert _smtp_connect_failure(handshake, "tls") == "tls_handshake"
    assert _smtp_connect_failure(silent, "tls") == "tls_silent"
    assert _smtp_connect_failure(silent, "starttls") == "no_greeting"  # 465 asked in plain text
    assert _smtp_connect_failure(ConnectionRefusedError(), "tls") == "unreachable"
    assert _imap_connect_failure(ssl.SSLError(1, "x"), "tls") == "tls_handshake"
    assert _imap_connect_failure(TimeoutError(), "none") == "no_greeting"
    assert _imap_connect_failure(ConnectionRefusedError(), "starttls") == "unreachable"


async def test_steps_report_an_unreadable_ca_file_before_connecting(tmp_path):
    from hl_email.config import ImapConfig, SmtpConfig
    from hl_email.connections import ImapSteps, OpenStepError, SmtpSteps
    from hl_email.errors import GatewayError

    missing = str(tmp_path / "no-such-ca.pem")
    for steps in (
        SmtpSteps(SmtpConfig(security="tls", ca_file=missing)),
        ImapSteps(ImapConfig(security="tls", ca_file=missing)),
    ):
        with pytest.raises(OpenStepError) as caught:
            await steps.connect()
        assert isinstance(caught.value, GatewayError)
        assert (caught.value.step, caught.value.failure) == ("connect", "config")
        assert isinstance(caught.value.cause, MailCertificateError)
        assert "ca_file" in caught.value.cause.fix
        assert steps.client is None
