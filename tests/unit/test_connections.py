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
