"""IMAP catch-up: the gateway's watcher against a bare aioimaplib loop, on one real mailbox.

A private Dovecot (tests/integration/mailstack.py) gets `--messages` messages (default 10,000)
while the gateway is down: `--replies` of them (default 1,000) approve pending requests, the
rest is unrelated mail in the shapes a real inbox gets (tests/integration/catchupmail.py:
8 in 20 newsletters, 5 notifications, 2 spam-flagged, 5 plain human mail). Then, in one run:
  1. the bare loop: UID SEARCH ALL, UID FETCH 250 messages per FETCH (BODY.PEEK[]), each parsed
     with the stdlib (email.policy.default; From, Subject and the text body read);
  2. the gateway (SQLite store): start → every reply applied, and → the checkpoint covering
     the whole mailbox; one fresh reply is put into the mailbox once a quarter of the replies
     are applied, and the time from its arrival to its resolution is printed.
Goals (printed, not asserted): catch-up >= 1.0x the bare loop; the fresh reply <= 2 s.

Usage: python bench/catchup.py [--messages 10000] [--replies 1000] [--profile FILE]
(--profile: a cProfile of the gateway's part, for `python -m pstats FILE`)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import email
import email.policy
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "sdk"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import aioimaplib  # noqa: E402
from catchupmail import (  # noqa: E402
    AGENT,
    append,
    capturing_gateway,
    create_pending,
    reply,
    unrelated,
)
from mailstack import start_mail_stack  # noqa: E402

from hl_email.config import load_config  # noqa: E402
from hl_email.inbound.responses import parse_search_uids  # noqa: E402


def gateway_config(stack, store_path: Path):
    return load_config(
        None,
        agent={"address": AGENT, "name": "Catch-up agent"},
        smtp={"host": stack.host, "port": stack.smtp_port, "security": "none"},
        imap={
            "host": stack.host,
            "port": stack.imap_port,
            "username": AGENT,
            "password": stack.password,
            "security": "none",
        },
        store={"url": f"sqlite:///{store_path}"},
        security={"secret": "bench-secret-0123456789-for-the-catch-up"},
    )


async def bare_loop(stack, expected: int) -> tuple[float, float]:
    """(seconds, CPU seconds of this process) to fetch and parse every message, 250 per FETCH."""
    start, cpu = time.perf_counter(), time.process_time()
    client = aioimaplib.IMAP4(host=stack.host, port=stack.imap_port, timeout=120)
    await client.wait_hello_from_server()
    await client.login(AGENT, stack.password)
    await client.select("INBOX")  # BODY.PEEK: no flag changes
    response = await client.uid_search("ALL")
    uids = parse_search_uids(response.lines)
    parsed = 0
    for at in range(0, len(uids), 250):
        chunk = uids[at : at + 250]
        fetched = await client.uid("fetch", f"{chunk[0]}:{chunk[-1]}", "(BODY.PEEK[])")
        for line in fetched.lines:
            if isinstance(line, bytearray):
                msg = email.message_from_bytes(bytes(line), policy=email.policy.default)
                _ = (msg["From"], msg["Subject"])
                body = msg.get_body(preferencelist=("plain", "html"))
                if body is not None:
                    body.get_content()
                parsed += 1
    await client.logout()
    assert parsed == expected, f"bare loop parsed {parsed} of {expected}"
    return time.perf_counter() - start, time.process_time() - cpu


async def gateway_catch_up(config, stack, asks, fresh_id: str, total: int) -> tuple[float, ...]:
    """(seconds to every reply applied, to the checkpoint covering all, fresh reply latency,
    CPU seconds of this process until the checkpoint covered all)."""
    gateway, _ = capturing_gateway(config, parse=False)  # an SMTP send parses nothing
    resolved: dict[str, float] = {}
    wanted = set(asks) - {fresh_id}
    quarter, all_done, fresh_done = asyncio.Event(), asyncio.Event(), asyncio.Event()

    def changed(call_id: str, state: str) -> None:
        if state != "pending" and call_id not in resolved:
            resolved[call_id] = time.perf_counter()
            if call_id == fresh_id:
                fresh_done.set()
            if len(wanted & resolved.keys()) >= len(wanted) // 4:
                quarter.set()
            if wanted <= resolved.keys():
                all_done.set()

    gateway.subscribe(changed)
    start, cpu = time.perf_counter(), time.process_time()
    await gateway.start(timers=False)
    try:
        await quarter.wait()
        await asyncio.to_thread(append, stack, AGENT, [reply(asks[fresh_id])])
        arrived = time.perf_counter()
        await all_done.wait()
        replies_done = time.perf_counter() - start
        while True:
            checkpoint = await gateway.store.get_checkpoint(gateway.watcher.mailbox_key)
            if checkpoint is not None and checkpoint.last_uid >= total + 1:
                break
            await asyncio.sleep(0.05)
        caught_up, cpu = time.perf_counter() - start, time.process_time() - cpu
        await fresh_done.wait()
        return replies_done, caught_up, resolved[fresh_id] - arrived, cpu
    finally:
        await gateway.stop()


async def main(messages: int, replies: int, profile: str | None = None) -> None:
    logging.basicConfig(level=logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="hl-bench-catchup-"))
    stack = await start_mail_stack(tmp)
    try:
        config = gateway_config(stack, tmp / "bench.db")
        gateway, sent = capturing_gateway(config)
        await gateway.start(timers=False)  # on the empty mailbox: the checkpoint of a last run
        asks = await create_pending(gateway, sent, replies + 1, prefix="b")
        await gateway.stop()
        fresh_id = f"b-{replies}"
        mail = [unrelated(n) for n in range(messages - replies)]
        step = max(1, len(mail) // max(1, replies))
        for i, call_id in enumerate(c for c in asks if c != fresh_id):
            mail.insert(i * (step + 1), reply(asks[call_id]))
        t = time.perf_counter()
        await asyncio.to_thread(append, stack, AGENT, mail)
        print(
            f"{len(mail)} messages ({replies} replies) appended in {time.perf_counter() - t:.1f} s"
        )

        bare, bare_cpu = await bare_loop(stack, len(mail))
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        replies_done, caught_up, fresh, cpu = await gateway_catch_up(
            config, stack, asks, fresh_id, len(mail)
        )
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        bare_after, bare_cpu_after = await bare_loop(stack, len(mail) + 1)
        mean, mean_cpu = (bare + bare_after) / 2, (bare_cpu + bare_cpu_after) / 2
        print(
            f"bare aioimaplib loop (250/FETCH, stdlib parse): {bare:.1f} s, again after: "
            f"{bare_after:.1f} s (CPU of this process: {bare_cpu:.1f} / {bare_cpu_after:.1f} s)"
        )
        print(
            f"gateway: all {replies} replies applied after {replies_done:.1f} s; whole mailbox "
            f"checkpointed after {caught_up:.1f} s (CPU of this process: {cpu:.1f} s)"
        )
        print(
            f"ratio (bare loop mean / gateway to all replies applied): {mean / replies_done:.2f}x "
            f"(to whole mailbox: {mean / caught_up:.2f}x; in CPU: {mean_cpu / cpu:.2f}x; "
            "goal >= 1.0x)"
        )
        print(f"fresh reply during catch-up: resolved {fresh:.2f} s after arrival (goal <= 2 s)")
    finally:
        await stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--replies", type=int, default=None, help="default: a tenth of --messages")
    parser.add_argument("--profile", help="write a cProfile of the gateway's catch-up here")
    args = parser.parse_args()
    replies = args.replies if args.replies is not None else args.messages // 10
    asyncio.run(main(args.messages, replies, args.profile))
