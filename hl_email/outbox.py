"""Moved to hl_email.outbound.outbox (SMTP sending: outbound.smtp); kept for gateway.py until the
split lands."""

from hl_email.outbound.outbox import OutboxWorker
from hl_email.outbound.smtp import SmtpPool

__all__ = ["OutboxWorker", "SmtpPool"]
