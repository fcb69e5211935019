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
    "hl_email.outbound",
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


def test_gateway_loads_the_decision_engine_with_its_first_message() -> None:
    """Building a gateway (what `hl-email dev` and `serve` do before they are ready) compiles no
    reply-reading word tables; the receiver loads them with the first inbound message."""
    loaded = _loaded("import hl_email.gateway")
    assert "hl_email.gateway" in loaded
    assert _heavy(loaded, ("hl_email.replies.decide", "hl_email.inbound.receiver", "httpx")) == []


def test_replies_public_names_are_the_functions_in_any_import_order() -> None:
    """`decide` is a module and a function: whichever is imported first, the public name is the
    function (as with eager imports), and the pinned names all resolve."""
    for first in ("import hl_email.replies.decide", "import hl_email.replies.classify", "pass"):
        code = (
            f"{first}\n"
            "import hl_email.replies as r\n"
            "from hl_email.replies import decide, extract_reply, extract_reply_from_message, "
            "classify_message\n"
            "assert callable(decide) and decide is r.decide, decide\n"
            "assert decide('Approved.').verdict == 'approve'\n"
            "assert all(hasattr(r, name) for name in r.__all__)\n"
        )
        assert "hl_email.replies.decide" in _loaded(code)
