"""Sending over SMTP: SmtpSender (one kept-open aiosmtplib connection), SmtpPool (several used
in parallel), and what a failure means for delivery (transient, permanent, pausing). Connections
are opened by hl_email.connections (the same TLS and login as doctor's SmtpSteps)."""

from __future__ import annotations

import asyncio

import aiosmtplib

from hl_email.config import SmtpConfig
from hl_email.connections import TokenSource, config_error, smtp_open
from hl_email.errors import DeliveryError as DeliveryError
from hl_email.errors import PausingDeliveryError as PausingDeliveryError
from hl_email.errors import PermanentDeliveryError as PermanentDeliveryError
from hl_email.errors import TransientDeliveryError as TransientDeliveryError

__all__ = [
    "DeliveryError",
    "PausingDeliveryError",
    "PermanentDeliveryError",
    "SmtpPool",
    "SmtpSender",
    "TransientDeliveryError",
    "classify",
]


def classify(exc: BaseException, security: str = "none") -> DeliveryError:
    """What a send failure means: transient (retry), permanent (fail the row) or pausing (a
    certificate, login or TLS-mode problem that retrying cannot fix)."""
    if isinstance(exc, DeliveryError):
        return exc
    problem = config_error(exc, "smtp", security)
    if problem is not None:
        return PausingDeliveryError(f"SMTP {problem}", fix=problem.fix)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        if codes and all(400 <= c < 500 for c in codes):
            return TransientDeliveryError(f"recipient deferred: {detail}", code=codes[0])
        return PermanentDeliveryError(
            f"recipient refused: {detail}", code=codes[0] if codes else None
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{exc.code} {exc.message}"
        if 500 <= exc.code < 600 and not isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return PermanentDeliveryError(f"SMTP server refused the message: {text}", code=exc.code)
        return TransientDeliveryError(f"SMTP server deferred the message: {text}", code=exc.code)
    if isinstance(exc, (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError)):
        return TransientDeliveryError(f"SMTP connection problem: {type(exc).__name__}: {exc}")
    return TransientDeliveryError(f"unexpected error while sending: {type(exc).__name__}: {exc}")


class SmtpSender:
    """One reused SMTP connection; reconnects when the server has dropped it."""

    def __init__(self, config: SmtpConfig, tokens: TokenSource | None = None) -> None:
        self.config = config
        self.tokens = tokens
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()
        self.connected = False

    async def _ensure(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        # TLS as configured, EHLO again after STARTTLS, login: as doctor does it.
        client = await smtp_open(self.config, tokens=self.tokens)
        self._client = client
        self.connected = True
        return client

    async def send(self, mail_from: str, rcpt_to: list[str], message: bytes) -> None:
        """Deliver one message; raises TransientDeliveryError or PermanentDeliveryError."""
        async with self._lock:
            for attempt in (1, 2):
                try:
                    client = await self._ensure()
                    errors, _ = await client.sendmail(mail_from, rcpt_to, message)
                except aiosmtplib.SMTPServerDisconnected as exc:
                    # A reused connection the server closed while idle: reconnect once at once.
                    self._drop()
                    if attempt == 2:
                        raise classify(exc, self.config.security) from exc
                    continue
                except Exception as exc:
                    err = classify(exc, self.config.security)
                    if isinstance(
                        exc, (OSError, asyncio.TimeoutError, aiosmtplib.SMTPConnectError)
                    ):
                        self._drop()
                    else:
                        await self._reset()
                    raise err from exc
                if errors:
                    detail = "; ".join(
                        f"{r}: {resp.code} {resp.message}" for r, resp in errors.items()
                    )
                    cls = (
                        TransientDeliveryError
                        if all(400 <= resp.code < 500 for resp in errors.values())
                        else PermanentDeliveryError
                    )
                    code = next(iter(errors.values())).code
                    raise cls(f"some recipients refused: {detail}", code=code)
                return

    async def _reset(self) -> None:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.rset()
            except Exception:
                self._drop()

    def _drop(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception:
                pass
        self._client = None
        self.connected = False

    async def close(self) -> None:
        async with self._lock:
            if self._client is not None and self._client.is_connected:
                try:
                    await self._client.quit()
                except Exception:
                    pass
            self._drop()


class SmtpPool:
    """A few SmtpSenders used in parallel: while one connection waits for the server's answer,
    another can talk. Each send takes whichever connection is free."""

    def __init__(
        self, config: SmtpConfig, size: int | None = None, tokens: TokenSource | None = None
    ) -> None:
        self.senders = [SmtpSender(config, tokens) for _ in range(size or config.connections)]
        self._free: asyncio.Queue[SmtpSender] | None = None

    def _queue(self) -> asyncio.Queue[SmtpSender]:
        if self._free is None:  # created lazily, inside the running loop
            self._free = asyncio.Queue()
            for sender in self.senders:
                self._free.put_nowait(sender)
        return self._free

    @property
    def connected(self) -> bool:
        return any(sender.connected for sender in self.senders)

    async def send(self, mail_from: str, rcpt_to: list[str], message: bytes) -> None:
        free = self._queue()
        sender = await free.get()
        try:
            await sender.send(mail_from, rcpt_to, message)
        finally:
            free.put_nowait(sender)

    async def close(self) -> None:
        for sender in self.senders:
            await sender.close()
