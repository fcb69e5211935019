"""Scale-out on PostgreSQL: 1 vs N `hl-email serve` processes on one schema, same load.

For each instance count: a fresh schema, N gateways (IMAP off; SMTP to an in-process aiosmtpd
sink that counts every email by Message-ID), then
  1. creates: R function calls over HTTP, round-robin over the instances, `--concurrency` at once
     (a route gives each a reminder after `--reminder` seconds, so the timers run too);
  2. decisions: for each call an agent long-polls on one instance while the decision is posted
     (POST …/respond) to *another* one; "decision → wake" is from sending that POST to the
     long-poll returning, i.e. it crosses instances through the store (LISTEN/NOTIFY).
  3. duplicates: once the outbox is quiet, emails at the sink minus distinct Message-IDs (each
     outbox row has its own Message-ID; goal 0).

Printed per instance count: creates/s, emails, duplicates, wake p50/p99 (goal p50 <= 50 ms).

Usage: python bench/scaleout.py [--requests 200] [--concurrency 20] [--instances 1,3]
Needs PostgreSQL (HL_EMAIL_TEST_POSTGRES, default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import collections
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from email import message_from_bytes
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "sdk"))
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from hl_email.config import ApiConfig  # noqa: E402

PG_URL = os.environ.get("HL_EMAIL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
KEY = "bench-agent-key-0123456789abcdef0123"
APPROVER = "bench-approver-key-0123456789abcdef"  # may respond (an agent key may not)
PREFIX = "/humanlayer/v1"


class Sink:
    """SMTP server that keeps nothing but a count per Message-ID."""

    def __init__(self) -> None:
        self.seen: collections.Counter[str] = collections.Counter()
        self.last = time.monotonic()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd hook)
        msg = message_from_bytes(envelope.content)
        self.seen[str(msg.get("Message-ID", "")).strip()] += 1
        self.last = time.monotonic()
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def config_text(port: int, smtp_port: int, store_url: str, reminder: float) -> str:
    has_approvers = "approver_keys" in ApiConfig.model_fields  # respond needs one (wave 2)
    approver = f'approver_keys = ["{APPROVER}"]' if has_approvers else ""
    return f"""
[agent]
address = "agent@example.test"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
[imap]
enabled = false
[store]
url = "{store_url}"
[security]
secret = "bench-secret-0123456789abcdef0123456789abcdef"
[api]
host = "127.0.0.1"
port = {port}
api_keys = ["{KEY}"]
{approver}
[[routes]]
name = "all"
fn = "*"
to = ["alice@corp.test"]
reminders = ["{reminder:g}s"]
"""


async def start(config: Path, port: int) -> subprocess.Popen:
    log = open(config.with_suffix(".log"), "wb")  # noqa: SIM115, ASYNC230
    proc = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "hl_email.cli", "serve", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'sdk'}"},
    )
    log.close()
    async with httpx.AsyncClient() as http:
        for _ in range(1200):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return proc
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
    raise SystemExit(f"gateway did not start: {config.with_suffix('.log').read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


async def run(instances: int, args: argparse.Namespace, sink: Sink, smtp_port: int) -> dict:
    sink.seen.clear()
    schema = f"hl_bench_{uuid.uuid4().hex[:12]}"
    store_url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={schema}"
    admin = await asyncpg.connect(PG_URL)
    tmp = Path(tempfile.mkdtemp(prefix="hl-scaleout-"))
    atexit.register(shutil.rmtree, tmp, True)  # removed however the run ends
    ports = [free_port() for _ in range(instances)]
    for i, port in enumerate(ports):
        (tmp / f"gw{i}.toml").write_text(config_text(port, smtp_port, store_url, args.reminder))
    procs = await asyncio.gather(*(start(tmp / f"gw{i}.toml", p) for i, p in enumerate(ports)))
    headers = {"Authorization": f"Bearer {KEY}"}
    approvers = "approver_keys" in ApiConfig.model_fields
    limits = httpx.Limits(max_connections=args.concurrency * 4)
    try:
        async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as http:
            base = [f"http://127.0.0.1:{p}{PREFIX}" for p in ports]
            gate = asyncio.Semaphore(args.concurrency)

            async def create(n: int) -> None:
                body = {
                    "run_id": "bench",
                    "call_id": f"sc-{n}",
                    "spec": {"fn": "refund", "kwargs": {"n": n}},
                }
                async with gate:
                    r = await http.post(f"{base[n % instances]}/function_calls", json=body)
                    r.raise_for_status()

            t0 = time.perf_counter()
            await asyncio.gather(*(create(n) for n in range(args.requests)))
            create_rate = args.requests / (time.perf_counter() - t0)

            wakes: list[float] = []
            responds: list[float] = []  # the POST …/respond round trip alone
            after: list[float] = []  # from that POST's answer to the wake (< 0: woke first)

            async def decide(n: int) -> None:
                waiter_at = base[n % instances]
                decider_at = base[(n + 1) % instances]  # another instance, when there is one
                async with gate:
                    parked = asyncio.Event()

                    async def long_poll() -> float:
                        parked.set()
                        r = await http.get(
                            f"{waiter_at}/function_calls/sc-{n}", params={"wait": 30}
                        )
                        r.raise_for_status()
                        assert r.json()["status"]["approved"] is True, r.text
                        return time.perf_counter()

                    poll = asyncio.create_task(long_poll())
                    await parked.wait()
                    await asyncio.sleep(0.05)  # let the GET reach the server and park
                    sent = time.perf_counter()
                    r = await http.post(
                        f"{decider_at}/agent/function_calls/sc-{n}/respond",
                        json={"approved": True, "comment": "bench"},
                        headers={"Authorization": f"Bearer {APPROVER if approvers else KEY}"},
                    )
                    answered = time.perf_counter()
                    r.raise_for_status()
                    woke = await poll
                    wakes.append(woke - sent)
                    responds.append(answered - sent)
                    after.append(woke - answered)

            await asyncio.gather(*(decide(n) for n in range(args.requests)))

            # Quiet outbox: every ask sent, and no email for 2 s (reminders that were due).
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                quiet = time.monotonic() - sink.last > 2.0
                if len(sink.seen) >= args.requests and quiet:
                    break
                await asyncio.sleep(0.2)
    finally:
        for proc in procs:
            stop(proc)
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()
    emails = sum(sink.seen.values())
    return {
        "instances": instances,
        "creates_per_s": create_rate,
        "emails": emails,
        "duplicates": emails - len(sink.seen),
        "wake_p50_ms": pct(wakes, 50) * 1000,
        "wake_p99_ms": pct(wakes, 99) * 1000,
        "wake_mean_ms": statistics.fmean(wakes) * 1000 if wakes else float("nan"),
        "respond_p50_ms": pct(responds, 50) * 1000,
        "after_p50_ms": pct(after, 50) * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--instances", default="1,3")
    parser.add_argument("--reminder", type=float, default=1.0, help="seconds")
    args = parser.parse_args()
    sink = Sink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    results = []
    try:
        for n in (int(x) for x in args.instances.split(",")):
            results.append(await run(n, args, sink, smtp_port))
    finally:
        controller.stop()
    print(
        f"scale-out on PostgreSQL: {args.requests} requests, concurrency {args.concurrency},"
        f" a reminder after {args.reminder:g} s; decision posted to another instance than the"
        " agent's long-poll"
    )
    print(
        f"  {'instances':>9} {'creates/s':>10} {'emails':>7} {'duplicates':>10}"
        f" {'wake p50':>10} {'wake p99':>10} {'respond p50':>12} {'+wake p50':>10}"
    )
    for r in results:
        print(
            f"  {r['instances']:>9} {r['creates_per_s']:>10.1f} {r['emails']:>7}"
            f" {r['duplicates']:>10} {r['wake_p50_ms']:>8.1f}ms {r['wake_p99_ms']:>8.1f}ms"
            f" {r['respond_p50_ms']:>10.1f}ms {r['after_p50_ms']:>8.1f}ms"
        )
    print(
        "  wake: from sending POST …/respond to one instance to the long-poll on another"
        " returning; it includes that POST's own round trip ('respond p50'); '+wake' is from"
        " the POST's answer to the wake (the store's NOTIFY hop when instances > 1)"
    )
    print("  goals: duplicates 0; decision -> wake p50 <= 50 ms")


if __name__ == "__main__":
    asyncio.run(main())
