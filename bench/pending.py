"""Many pending requests in one gateway: memory, time to match one reply, timer-check cost.

Creates N pending approval requests (default 10,000) spread over 1,000 recipients, each with a
reminder, an escalation step and a timeout (so 3N durable timers), with the outbox worker and the
IMAP watcher off. Then measures:

  * RSS of the process holding them (the gateway keeps no per-request state in memory: requests,
    recipients, outbox rows and timers live in SQLite);
  * the time to process one reply end to end (parse, classify, match by reply key, authorize,
    extract, decide, store), at 1,000 and at N pending requests: matching is a primary-key lookup,
    so the two figures should be about the same (O(1));
  * the cost of one timer check when nothing is due (what the timer loop pays per wake-up).

Usage: python bench/pending.py [--requests 10000] [--recipients 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hl_email.config import load_config  # noqa: E402
from hl_email.gateway import Gateway  # noqa: E402
from hl_email.models import (  # noqa: E402
    ContactChannel,
    EmailContactChannel,
    FunctionCall,
    FunctionCallSpec,
)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reply_to(ask: bytes, sender: str) -> bytes:
    import email
    import email.policy

    original = email.message_from_bytes(ask, policy=email.policy.default)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "agent@example.test"
    msg["Subject"] = "Re: " + str(original["Subject"])
    msg["Message-ID"] = make_msgid(domain="corp.test")
    msg["In-Reply-To"] = original["Message-ID"]
    msg["References"] = original["Message-ID"]
    msg.set_content("Approve\n\nOn Tue, Agent wrote:\n> Please reply APPROVE\n")
    return msg.as_bytes()


async def match_times(gateway: Gateway, n: int, samples: int) -> list[float]:
    rows = await gateway.store.list_requests(state="pending", limit=n)
    picks = random.sample(rows, min(samples, len(rows)))
    times = []
    for row in picks:
        outbox = await gateway.store.outbox_for_request(row.id)
        recipient = outbox[0].rcpt_to[0]
        raw = reply_to(outbox[0].message, recipient)
        start = time.perf_counter()
        outcome = await gateway.handle_inbound(raw)
        times.append(time.perf_counter() - start)
        assert outcome.outcome == "applied", outcome
    return times


async def main(n: int, people: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(
            None,
            agent={"address": "agent@example.test", "name": "Bench agent"},
            imap={"enabled": False},
            store={"url": f"sqlite:///{tmp}/pending.db"},
            security={"secret": "bench-secret-0123456789-abcdefghijk"},
            replies={"send_confirmations": False},
            routes=[
                {
                    "name": "all",
                    "fn": "*",
                    "to": ["placeholder@corp.test"],
                    "reminders": ["1h"],
                    "escalations": [{"after": "4h", "add": ["lead@corp.test"]}],
                    "timeout": "1d",
                }
            ],
        )
        gateway = Gateway(config)
        await gateway.start(inbound=False, outbox=False, timers=False)
        rss_before = rss_mb()
        started = time.perf_counter()
        results = {}
        for i in range(n):
            address = f"person{i % people}@corp.test"
            channel = ContactChannel(email=EmailContactChannel(address=address))
            await gateway.create_function_call(
                FunctionCall(
                    run_id="bench",
                    call_id=f"call-{i}",
                    spec=FunctionCallSpec(
                        fn="send_refund", kwargs={"order": f"A-{i}", "amount": i}, channel=channel
                    ),
                )
            )
            if i + 1 == 1000:
                results["match_1k"] = await match_times(gateway, 1000, 50)
            if (i + 1) % 1000 == 0:
                print(f"\r  created {i + 1}/{n}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        create_s = time.perf_counter() - started
        results["match_n"] = await match_times(gateway, n, 50)
        rss_after = rss_mb()
        checks = []
        for _ in range(200):
            t0 = time.perf_counter()
            await gateway.run_timers_once()
            await gateway.store.next_timer_due()
            checks.append(time.perf_counter() - t0)
        await gateway.stop()

    def ms(values: list[float]) -> str:
        v = sorted(values)
        return f"p50 {statistics.median(v) * 1000:6.2f} ms  p99 {v[int(len(v) * 0.99) - 1] * 1000:6.2f} ms"

    check = statistics.median(checks)
    print(f"bench/pending.py: {n} pending requests over {people} recipients, {3 * n} timers")
    print(f"  created in {create_s:.1f} s ({n / create_s:.0f} requests/s, rendered + stored)")
    print(f"  RSS: {rss_after:.1f} MB (was {rss_before:.1f} MB before the requests)  goal ≤ 100 MB")
    print(f"  match + apply one reply at  1,000 pending: {ms(results['match_1k'])}")
    print(f"  match + apply one reply at {n:,} pending: {ms(results['match_n'])}  (O(1): same)")
    print(
        f"  timer check with nothing due: {check * 1e6:.0f} µs per check; at one check per "
        f"second that is {check * 100:.3f}% of one core"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--recipients", type=int, default=1_000)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.recipients))
