"""replies/ is pure: importing every module of it loads no I/O library, even transitively."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# socket is not listed: the stdlib email package itself imports it (email.utils, for
# make_msgid's host name); nothing in replies/ opens one.
IO = ("asyncio", "sqlite3", "asyncpg", "aiosmtplib", "aioimaplib", "httpx", "starlette", "ssl")


def test_replies_imports_no_io_even_transitively() -> None:
    names = sorted(p.stem for p in (ROOT / "hl_email" / "replies").glob("*.py"))
    code = (
        "import sys\n"
        + "".join(f"import hl_email.replies.{name}\n" for name in names if name != "__init__")
        + "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert [m for m in out if m.split(".")[0] in IO] == []
    ours = {m for m in out if m.startswith("hl_email.")}
    allowed = ("hl_email.replies", "hl_email.core", "hl_email.errors", "hl_email.header_values")
    assert {m for m in ours if not m.startswith(allowed)} == set()
