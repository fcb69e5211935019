"""The production-shaped test stack itself: Postfix submission (STARTTLS / implicit TLS, SASL via
Dovecot) and Dovecot IMAP (STARTTLS / IMAPS) with certificates from the fixture's throwaway CA."""

from __future__ import annotations

import asyncio
import imaplib
import smtplib
import ssl

import pytest


def _ctx(cafile: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile)


async def test_stack_speaks_tls_on_every_port_and_delivers_through_postfix(tls_stack):
    stack = tls_stack
    ctx = _ctx(stack.ca_file)

    def exercise() -> None:
        imaps = imaplib.IMAP4_SSL(stack.host, stack.imaps_port, ssl_context=ctx)
        assert imaps.login("bob@example.test", stack.password)[0] == "OK"
        imaps.logout()
        imap = imaplib.IMAP4(stack.host, stack.imap_port)
        assert "STARTTLS" in imap.capabilities
        imap.starttls(ssl_context=ctx)
        assert imap.login("bob@example.test", stack.password)[0] == "OK"
        imap.logout()
        sub = smtplib.SMTP(stack.host, stack.submission_port)
        sub.ehlo()
        assert not sub.has_extn("auth")  # AUTH only after STARTTLS
        sub.starttls(context=ctx)
        sub.ehlo()
        assert sub.has_extn("auth")
        sub.login("agent@example.test", stack.password)
        sub.sendmail("agent@example.test", ["bob@example.test"], b"Subject: one\r\n\r\nhi\r\n")
        sub.quit()
        smtps = smtplib.SMTP_SSL(stack.host, stack.smtps_port, context=ctx)
        smtps.login("agent@example.test", stack.password)
        smtps.sendmail("agent@example.test", ["bob@example.test"], b"Subject: two\r\n\r\nhi\r\n")
        smtps.quit()

    await asyncio.to_thread(exercise)
    messages = await stack.wait_for_count("bob@example.test", 2, timeout=20)
    assert len(messages) == 2, stack.postfix_log()[-2000:]


async def test_stack_certificate_is_not_trusted_without_the_ca_nor_for_another_name(tls_stack):
    stack = tls_stack

    def handshake(ctx: ssl.SSLContext, host: str) -> None:
        imaplib.IMAP4_SSL(host, stack.imaps_port, ssl_context=ctx).logout()

    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncio.to_thread(handshake, _ctx(stack.wrong_ca_file), stack.host)
    with pytest.raises(ssl.SSLCertVerificationError, match="match|mismatch"):
        await asyncio.to_thread(handshake, _ctx(stack.ca_file), "localhost")


async def test_stop_leaves_no_postfix_or_dovecot_behind():
    import os

    from tlsstack import postfix_binary, start_tls_stack

    if postfix_binary() is None or os.geteuid() != 0:
        pytest.skip("needs postfix and root (as .ci/run provides)")
    stack = await start_tls_stack()
    assert stack.root is not None
    master = int((stack.root / "queue" / "pid" / "master.pid").read_text().split()[0])
    dovecot = stack._proc.pid  # noqa: SLF001
    await stack.stop()
    assert not _running(master) and not _running(dovecot)


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for its parent (a zombie holds no ports)."""
    from pathlib import Path

    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
