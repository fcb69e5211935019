"""The LMTP spool keeps a message whose processing ended in an "error" outcome (a bug, or the
store being down): handle_inbound never raises, so the outcome is what tells."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hl_email.gateway import InboundOutcome
from hl_email.inbound.lmtp import LmtpListener


async def _spooled(tmp_path: Path, outcome: str) -> list[Path]:
    seen: list[bytes] = []

    async def handle(raw: bytes) -> InboundOutcome:
        seen.append(raw)
        return InboundOutcome(outcome, "store unavailable" if outcome == "error" else "")

    listener = LmtpListener("127.0.0.1:0", tmp_path / "spool", handle)
    listener.spool.open()
    path = listener.spool.put(b"Subject: x\r\n\r\nApprove\r\n")
    listener.process_soon(path)
    await asyncio.wait_for(asyncio.gather(*listener._tasks), 10)  # noqa: SLF001
    assert seen == [b"Subject: x\r\n\r\nApprove\r\n"]
    return list((tmp_path / "spool" / "new").iterdir())


async def test_an_error_outcome_keeps_the_spool_file_for_the_next_start(tmp_path: Path) -> None:
    assert len(await _spooled(tmp_path, "error")) == 1


async def test_a_stored_outcome_removes_the_spool_file(tmp_path: Path) -> None:
    assert await _spooled(tmp_path, "applied") == []
