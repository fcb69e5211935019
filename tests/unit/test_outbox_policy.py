"""Outbox retry policy: pure parts."""

from __future__ import annotations

import aiosmtplib

from hl_email.outbound.outbox import backoff_delay
from hl_email.outbound.smtp import PermanentDeliveryError, TransientDeliveryError
from hl_email.outbound.smtp import classify as _classify


def test_backoff_grows_and_is_capped():
    delays = [backoff_delay(n, initial=2, maximum=60, jitter=0.0) for n in range(1, 10)]
    assert delays[:4] == [1, 2, 4, 8]
    assert max(delays) == 30
    assert backoff_delay(3, initial=2, maximum=60, jitter=0.999) < 8


def test_4xx_is_transient_5xx_permanent():
    assert isinstance(
        _classify(aiosmtplib.SMTPResponseException(451, "try later")), TransientDeliveryError
    )
    assert isinstance(
        _classify(aiosmtplib.SMTPResponseException(550, "no")), PermanentDeliveryError
    )
    refused = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@b")]
    )
    assert isinstance(_classify(refused), PermanentDeliveryError)
    assert isinstance(_classify(ConnectionResetError()), TransientDeliveryError)


def test_certificate_and_login_problems_pause_instead_of_failing_a_row():
    from hl_email.outbound.smtp import PausingDeliveryError

    assert isinstance(
        _classify(aiosmtplib.SMTPAuthenticationError(535, "5.7.8 bad credentials")),
        PausingDeliveryError,
    )
    assert isinstance(
        _classify(aiosmtplib.SMTPResponseException(454, "later")), TransientDeliveryError
    )
    assert not isinstance(
        _classify(aiosmtplib.SMTPResponseException(454, "later")), PausingDeliveryError
    )
