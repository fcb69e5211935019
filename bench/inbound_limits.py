"""Inbound limits: what the bombs cost with and without `[inbound]` limits, and how long the
event loop stalls on a big message parsed on the loop vs in a worker thread.

    python bench/inbound_limits.py
"""

from __future__ import annotations

import asyncio
import atexit
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "sdk"),
]

import hl_email.inbound.reading as reading_module  # noqa: E402
from hl_email.config import load_config  # noqa: E402
from hl_email.gateway import Gateway  # noqa: E402
from hl_email.limits import InboundLimits, check_inbound  # noqa: E402

HEAD = "From: alice@corp.test\r\nTo: agent@example.test\r\n"


def subject_bomb(size: int) -> bytes:
    word = "=?utf-8?q?" + "a" * 40 + "?="
    subject = " ".join([word] * (size // (len(word) + 1)))
    return f"{HEAD}Subject: {subject}\r\nMessage-ID: <s{size}@x>\r\n\r\nhello\r\n".encode()


def parts_bomb(n: int) -> bytes:
    head = f'{HEAD}Subject: parts\r\nMessage-ID: <p{n}@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
    return head.encode() + b"".join(b"--B\r\n\r\npart %d\r\n" % i for i in range(n)) + b"--B--\r\n"


def references_bomb(n: int) -> bytes:
    refs = " ".join(f"<hl1-{i:012d}-0-{'a' * 20}.1@example.test>" for i in range(n))
    return (
        f"{HEAD}Subject: refs\r\nMessage-ID: <r{n}@x>\r\nReferences: {refs}\r\n\r\nok\r\n".encode()
    )


def big_text(mb: int, tag: str) -> bytes:
    head = f"{HEAD}Subject: big\r\nMessage-ID: <{tag}@x>\r\nContent-Type: text/plain\r\n\r\n"
    return head.encode() + b"lorem ipsum dolor sit amet\r\n" * (mb * 1024 * 1024 // 28)


async def _ticker(gaps: list[float], stop: asyncio.Event) -> None:
    """Records how late each 1 ms sleep wakes up: the event loop's stalls."""
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now


async def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    atexit.register(shutil.rmtree, tmp, True)  # removed however the run ends
    unlimited = {"max_header_bytes": 10**8, "max_parts": 10**6, "max_references": 10**6}
    cfg = load_config(
        None,
        agent={"address": "agent@example.test"},
        imap={"enabled": False},
        store={"url": f"sqlite:///{tmp / 'bench.db'}"},
        security={"secret": "bench-secret-0123456789-abcdefghijk"},
        inbound={**unlimited, "max_message_bytes": 10**9},
    )
    gateway = Gateway(cfg)
    await gateway.start(inbound=False, outbox=False, timers=False)
    limits = InboundLimits()
    print("message                       size      limit check   without limits: handle_inbound")
    for name, raw, run_unlimited in (
        ("Subject 30 KB (within)", subject_bomb(30_000), True),
        ("200 parts (within)", parts_bomb(200), True),
        ("100 References (within)", references_bomb(100), True),
        ("Subject 1 MB (bomb)", subject_bomb(1_000_000), False),  # 23 GB unlimited: not run
        ("20k parts (bomb)", parts_bomb(20_000), True),
        ("5,000 References (bomb)", references_bomb(5000), True),
    ):
        started = time.perf_counter()
        refusal = check_inbound(raw, limits)
        check = (time.perf_counter() - started) * 1000
        line = f"{name:28s} {len(raw) / 1024:7.0f} KiB {check:7.2f} ms -> {refusal.outcome if refusal else 'ok':9s}"
        if run_unlimited:
            started = time.perf_counter()
            outcome = await gateway.handle_inbound(raw)
            line += f"  {(time.perf_counter() - started) * 1000:8.0f} ms ({outcome.outcome})"
        print(line, flush=True)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")

    for threshold, label in ((10**12, "parsed on the loop"), (256 * 1024, "parsed in a thread")):
        reading_module.PARSE_IN_THREAD_BYTES = threshold
        gaps: list[float] = []
        stop = asyncio.Event()
        task = asyncio.create_task(_ticker(gaps, stop))
        await asyncio.sleep(0.01)
        started = time.perf_counter()
        await gateway.handle_inbound(big_text(20, label.replace(" ", "-")))
        elapsed = time.perf_counter() - started
        stop.set()
        await task
        print(
            f"20 MB text message {label}: {elapsed * 1000:.0f} ms, longest event-loop stall {max(gaps) * 1000:.0f} ms"
        )
    await gateway.stop()


if __name__ == "__main__":
    asyncio.run(main())
