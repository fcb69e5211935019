"""Fixtures for integration tests: a real Dovecot + SMTP stack and "human" mail clients.

* ``mail_stack``: a fresh, private stack per test (start-up is ~50 ms). Skipped only when the
  dovecot binary is not installed.
* ``mail_client``: factory ``mail_client(address, name=None) -> MailClient``.

Every test collected from this directory is marked ``integration``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from mailclient import MailClient  # noqa: E402
from mailstack import MailStack, dovecot_binary, start_mail_stack  # noqa: E402

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(_HERE):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
async def mail_stack(tmp_path) -> AsyncIterator[MailStack]:
    if dovecot_binary() is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)")
    stack = await start_mail_stack(tmp_path)
    try:
        yield stack
    finally:
        await stack.stop()


@pytest.fixture
def mail_client(mail_stack: MailStack) -> Callable[..., MailClient]:
    def make(address: str, name: str | None = None) -> MailClient:
        return MailClient(mail_stack, address, name=name)

    return make


AGENT = "agent@example.test"


@pytest.fixture
def gateway_config(mail_stack: MailStack, tmp_path: Path):
    """A factory for a GatewayConfig wired to the test stack; keyword sections override."""
    from hl_email.config import load_config

    def make(**overrides):
        sections = {
            "agent": {"address": AGENT, "name": "Refund agent"},
            "smtp": {
                "host": mail_stack.host,
                "port": mail_stack.smtp_port,
                "username": AGENT,
                "password": mail_stack.password,
                "security": "none",
                "backoff_initial": 0.05,
                "backoff_max": 0.2,
                "max_attempts": 5,
            },
            "imap": {
                "host": mail_stack.host,
                "port": mail_stack.imap_port,
                "username": AGENT,
                "password": mail_stack.password,
                "security": "none",
                "reconnect_initial": 0.05,
                "reconnect_max": 0.5,
            },
            "store": {"url": f"sqlite:///{tmp_path / 'hl-email.db'}"},
            "security": {"secret": "test-secret-0123456789-for-integration"},
        }
        for key, value in overrides.items():
            if isinstance(value, dict) and key in sections:
                sections[key] = {**sections[key], **value}
            else:
                sections[key] = value
        return load_config(None, **sections)

    return make


# -- the production-shaped stack: Postfix + Dovecot with TLS (tests/integration/tlsstack.py) --


@pytest.fixture
async def tls_stack() -> AsyncIterator[MailStack]:
    import os

    from tlsstack import postfix_binary, start_tls_stack

    if dovecot_binary() is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)")
    if postfix_binary() is None or os.geteuid() != 0:
        pytest.skip("the TLS stack needs postfix and root (as .ci/run provides)")
    stack = await start_tls_stack()
    try:
        yield stack
    finally:
        await stack.stop()


def tls_sections(
    stack, smtp_mode: str = "starttls", imap_mode: str = "starttls", **overrides
) -> dict:
    """Config sections for the gateway against a TlsStack with the given security modes."""
    sections = {
        "agent": {"address": AGENT, "name": "Refund agent"},
        "smtp": {
            "host": stack.host,
            "port": stack.submission_port if smtp_mode == "starttls" else stack.smtps_port,
            "username": AGENT,
            "password": stack.password,
            "security": smtp_mode,
            "ca_file": stack.ca_file,
            "backoff_initial": 0.05,
            "backoff_max": 0.2,
        },
        "imap": {
            "host": stack.host,
            "port": stack.imap_port if imap_mode == "starttls" else stack.imaps_port,
            "username": AGENT,
            "password": stack.password,
            "security": imap_mode,
            "ca_file": stack.ca_file,
            "reconnect_initial": 0.05,
            "reconnect_max": 0.5,
        },
        "security": {"secret": "test-secret-0123456789-for-integration"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and key in sections:
            sections[key] = {**sections[key], **value}
        else:
            sections[key] = value
    return sections


@pytest.fixture
def tls_gateway_config(tls_stack, tmp_path: Path):
    """`make(smtp_mode="starttls"|"tls", imap_mode="starttls"|"tls", **section_overrides)`."""
    from hl_email.config import load_config

    def make(smtp_mode: str = "starttls", imap_mode: str = "starttls", **overrides):
        sections = tls_sections(tls_stack, smtp_mode, imap_mode, **overrides)
        sections.setdefault("store", {"url": f"sqlite:///{tmp_path / 'hl-email.db'}"})
        return load_config(None, **sections)

    return make
