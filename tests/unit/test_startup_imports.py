"""Start-up stays light: `import hl_email_sdk` and `hl-email --help` load no mail, HTTP-server,
template or database code (structural, in a fresh interpreter; bench/startup.py has the times)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Modules the gateway needs and an agent importing the SDK (or a person asking --help) does not.
HEAVY = (
    "hl_email.gateway",
    "hl_email.store",
    "hl_email.render",
    "hl_email.outbox",
    "hl_email.inbound",
    "hl_email.api",
    "hl_email.sandbox",
    "starlette",
    "uvicorn",
    "jinja2",
    "asyncpg",
    "aiosmtplib",
    "aiosmtpd",
    "aioimaplib",
    "aiosqlite",
    "selectolax",
)
# `--help` also needs no config or pydantic at all.
HEAVY_FOR_HELP = (*HEAVY, "hl_email.config", "pydantic", "pydantic_settings", "httpx", "asyncio")


def _loaded(code: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "sdk")])}
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def _heavy(loaded: set[str], heavy: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in heavy))


def test_import_sdk_loads_no_gateway_code() -> None:
    assert _heavy(_loaded("import hl_email_sdk"), HEAVY) == []


def test_sdk_public_names_are_there_without_the_gateway() -> None:
    code = (
        "from hl_email_sdk import (HumanLayer, AsyncHumanLayer, ContactChannel, "
        "EmailContactChannel, EmailRecipient, ResponseOption, FunctionCallSpec, "
        "HumanContactSpec, FunctionCall, HumanContact, Escalation)"
    )
    assert _heavy(_loaded(code), HEAVY) == []


def test_cli_help_loads_only_argparse() -> None:
    code = (
        "import contextlib, io\nfrom hl_email.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])"
    )
    loaded = _loaded(code)
    assert "hl_email.cli" in loaded
    assert _heavy(loaded, HEAVY_FOR_HELP) == []


def test_subcommand_help_loads_only_argparse() -> None:
    for argv in (["serve", "--help"], ["dev", "--help"], ["requests", "list", "--help"]):
        code = (
            "import contextlib, io\nfrom hl_email.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            f"    main({json.dumps(argv)})"
        )
        assert _heavy(_loaded(code), HEAVY_FOR_HELP) == [], argv
