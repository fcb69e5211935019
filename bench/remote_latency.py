"""Reply delivered → remote SDK wait returns: hl-email's long-poll vs the official SDK's 3 s polling.

Runs the real stack (a private Dovecot + the aiosmtpd → LMTP relay from tests/integration), the
gateway with its HTTP API on a free port, and the remote SDK `AsyncHumanLayer(api_base_url=...)`.
For each sample: create a function call, wait for the ask to arrive in the human's mailbox, reply
"approve" over SMTP; the reply counts as *delivered* when the SMTP DATA command returns (the relay
has delivered it into Dovecot over LMTP by then). Timestamps (time.perf_counter, one process):

  delivered → wake       what an agent experiences end to end (includes Dovecot's IDLE delay)
  inbound   → wake       from the gateway starting to process the reply (ImapWatcher calls
                         Gateway.handle_inbound) to the remote SDK's wait returning
  resolved  → wake       from the gateway storing the decision to the remote SDK's wait returning

NOTE: Dovecot hard-codes a 500 ms delay before it tells IDLE clients about new mail (the
`mailbox_idle_check_interval`-independent notify delay), so `delivered → wake` cannot go below
~0.5 s on this stack whatever the gateway does; `inbound → wake` is the gateway + API + SDK part.

The official SDK (humanlayer==0.7.9, if installed) is measured for a few samples with a random
reply moment in its 3 s polling cycle (each sample costs ~3-6 s), and also *modelled* for all
samples as  our resolved time + U(0, 3 s) phase + one poll round-trip, because its wake can only
happen on a polling tick.

Usage: python bench/remote_latency.py [--samples 60] [--official-samples 5]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "sdk"))
sys.path.insert(0, str(ROOT))

from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel, FunctionCallSpec  # noqa: E402
from mailclient import MailClient  # noqa: E402
from mailstack import dovecot_binary, start_mail_stack  # noqa: E402

from hl_email.api import API_PREFIX, ApiServer  # noqa: E402
from hl_email.config import load_config  # noqa: E402
from hl_email.gateway import Gateway  # noqa: E402

AGENT = "agent@example.test"
ALICE = "alice@corp.test"
KEY = "bench-key"
POLL = 3.0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def row(name: str, values: list[float], note: str = "") -> str:
    if not values:
        return f"  {name:<44} (no samples) {note}"
    ms = [v * 1000 for v in values]
    return (
        f"  {name:<44} n={len(ms):<5} p50={pct(ms, 50):8.1f} ms  p99={pct(ms, 99):8.1f} ms"
        f"  min={min(ms):7.1f}  mean={statistics.fmean(ms):8.1f}  {note}"
    )


def containing(needle: str):
    def match(msg) -> bool:
        part = msg.get_body(preferencelist=("plain", "html"))
        return part is not None and needle in part.get_content()

    return match


async def run(samples: int, official_samples: int) -> None:
    if dovecot_binary() is None:
        raise SystemExit("dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)")
    tmp = Path(tempfile.mkdtemp(prefix="hl-bench-"))
    atexit.register(shutil.rmtree, tmp, True)  # removed however the run ends
    stack = await start_mail_stack(tmp)
    cfg = load_config(
        None,
        agent={"address": AGENT, "name": "Bench agent"},
        smtp={
            "host": stack.host,
            "port": stack.smtp_port,
            "username": AGENT,
            "password": stack.password,
        },
        imap={
            "host": stack.host,
            "port": stack.imap_port,
            "username": AGENT,
            "password": stack.password,
        },
        store={"url": f"sqlite:///{tmp / 'bench.db'}"},
        security={"secret": "bench-secret-0123456789-abcdefghijk"},
        api={"host": "127.0.0.1", "port": 0, "api_keys": [KEY]},
        replies={"send_confirmations": False},
    )
    gateway = Gateway(cfg)
    await gateway.start()
    server = ApiServer(gateway, cfg)
    await server.start()
    base = server.base_url + API_PREFIX

    inbound_at: list[float] = []
    original = gateway.watcher.handle

    async def timed_handle(raw: bytes):
        inbound_at.append(time.perf_counter())
        return await original(raw)

    gateway.watcher.handle = timed_handle
    resolved_at: dict[str, float] = {}
    gateway.subscribe(lambda call_id, state: resolved_at.setdefault(call_id, time.perf_counter()))

    alice = MailClient(stack, ALICE)
    channel = ContactChannel(email=EmailContactChannel(address=ALICE))
    delivered_wake: list[float] = []
    inbound_wake: list[float] = []
    resolved_wake: list[float] = []
    delivered_resolved: list[float] = []
    try:
        async with AsyncHumanLayer(api_base_url=base, api_key=KEY, contact_channel=channel) as hl:
            # Warm-up (connections, IMAP IDLE established).
            for i in range(-2, samples):
                tag = f"T{i + 2:04d}-{i}"
                call_id = f"bench-{tag}"
                await hl.create_function_call(
                    FunctionCallSpec(fn="bench_action", kwargs={"ticket": tag}), call_id=call_id
                )
                woke: list[float] = []

                async def waiter(cid: str = call_id, out: list[float] = woke) -> None:
                    await hl.wait_for_approval(cid, timeout=60)
                    out.append(time.perf_counter())

                task = asyncio.create_task(waiter())
                ask = await alice.wait_for_message(containing(tag), poll_interval=0.02)
                await asyncio.sleep(0.02)  # the long-poll is parked by now
                n_inbound = len(inbound_at)
                await alice.reply(ask, "Approve", style="gmail")
                delivered = time.perf_counter()
                await asyncio.wait_for(task, 60)
                if i < 0:
                    continue
                wake = woke[0]
                started = next(t for t in inbound_at[n_inbound:] if t >= delivered)
                delivered_wake.append(wake - delivered)
                inbound_wake.append(wake - started)
                resolved_wake.append(wake - resolved_at[call_id])
                delivered_resolved.append(resolved_at[call_id] - delivered)

        official: list[float] = []
        official_note = ""
        try:
            import humanlayer  # type: ignore[import-not-found]
        except ImportError:
            humanlayer = None
            official_note = "(humanlayer==0.7.9 not installed: modelled only)"
        if humanlayer is not None and official_samples > 0:
            off = humanlayer.HumanLayer(
                api_key=KEY,
                api_base_url=base,
                contact_channel=humanlayer.ContactChannel(
                    email=humanlayer.EmailContactChannel(address=ALICE)
                ),
            )
            rng = random.Random(7)
            for i in range(official_samples):
                tag = f"OFF{i:03d}"
                done: list[float] = []

                def agent(tag: str = tag, out: list[float] = done) -> None:
                    off.fetch_approval(
                        humanlayer.FunctionCallSpec(fn="bench_action", kwargs={"ticket": tag})
                    )
                    out.append(time.perf_counter())

                task = asyncio.create_task(asyncio.to_thread(agent))
                ask = await alice.wait_for_message(containing(tag), poll_interval=0.02)
                await asyncio.sleep(rng.uniform(0, POLL))  # a random phase of the SDK's poll cycle
                await alice.reply(ask, "Approve", style="gmail")
                delivered = time.perf_counter()
                await asyncio.wait_for(task, 60)
                official.append(done[0] - delivered)

        # Model: the official SDK wakes on the first poll after resolution.
        rng = random.Random(1)
        rtt = statistics.median(resolved_wake) if resolved_wake else 0.0
        modelled = [
            dr + rng.uniform(0, POLL) + rtt for dr in delivered_resolved for _ in range(200)
        ]

        print(
            f"hl-email remote latency: {samples} replies over real Dovecot + SMTP (Dovecot {stack.dovecot_version})"
        )
        print("remote SDK (hl-email long-poll, AsyncHumanLayer(api_base_url=...)):")
        print(
            row(
                "reply delivered -> SDK wait returns",
                delivered_wake,
                "(includes Dovecot's 500 ms IDLE delay)",
            )
        )
        print(
            row(
                "gateway handle_inbound start -> SDK wake",
                inbound_wake,
                "(the gateway + API + SDK part)",
            )
        )
        print(row("decision stored -> SDK wake", resolved_wake, "(push over HTTP)"))
        print(row("reply delivered -> decision stored", delivered_resolved))
        print("official SDK (humanlayer==0.7.9, polls every 3 s):")
        print(
            row(
                "reply delivered -> SDK returns (measured)",
                official,
                official_note or "(random reply phase)",
            )
        )
        print(
            row(
                "reply delivered -> SDK returns (modelled)",
                modelled,
                "(= delivered->stored + U(0,3 s) + poll RTT)",
            )
        )
        if delivered_wake and modelled:
            print(
                f"  ratio p50 official(modelled)/remote: {pct(modelled, 50) / pct(delivered_wake, 50):.1f}x;"
                f" goal p50 <= 60 ms for the gateway part: inbound->wake p50 = {pct(inbound_wake, 50) * 1000:.1f} ms"
            )
    finally:
        await server.stop()
        await gateway.stop()
        await stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--samples", type=int, default=60, help="replies for the remote SDK (>= 50 recommended)"
    )
    parser.add_argument(
        "--official-samples",
        type=int,
        default=5,
        help="measured samples for the official SDK (each ~3-6 s)",
    )
    args = parser.parse_args()
    asyncio.run(run(args.samples, args.official_samples))


if __name__ == "__main__":
    main()
