"""The framework adapters import only the SDK: never SMTP/IMAP code or the gateway."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("module", "needs"),
    [
        ("hl_email_sdk.integrations.langchain", "langchain_core"),
        ("hl_email_sdk.integrations.langgraph", "langgraph"),
        ("hl_email_sdk.integrations.openai_agents", "agents"),
    ],
)
def test_adapter_imports_no_mail_code(module: str, needs: str) -> None:
    pytest.importorskip(needs)
    code = (
        f"import sys, {module}\n"
        "mail = ('aiosmtplib', 'aioimaplib', 'aiosmtpd', 'hl_email.gateway', 'hl_email.outbox', 'hl_email.outbound',"
        " 'hl_email.inbound')\n"
        "print(sorted(m for m in sys.modules if m.startswith(mail)))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "sdk")])}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
