"""Load on one gateway (SQLite): creates over HTTP, then a burst of email replies, and its RSS.

Runs the real stack (a private Dovecot + the aiosmtpd → LMTP relay from tests/integration) and
one `hl-email serve` process:
  1. `--requests` function calls created over HTTP by `--concurrency` workers (one keep-alive
     connection each) → creates/s
     (goal >= 200/s), beside a bare starlette+uvicorn app answering the same POSTs from the same
     client at the same concurrency (the ceiling of this client on this machine), with the
     server CPU per create of both;
  2. once every ask is in the human's mailbox, a reply to each is built the way a mail client
     builds one and all are delivered into the agent's mailbox at once (LMTP, bypassing SMTP);
     resolved/s = requests / (last resolution - first delivery) (goal >= 100/s);
  3. the gateway process's peak RSS (VmHWM; goal <= 150 MB).

Usage: python bench/load.py [--requests 1000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "sdk"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from mailclient import MailClient, Received, parse  # noqa: E402
from mailstack import dovecot_binary, start_mail_stack  # noqa: E402

AGENT = "agent@example.test"
ALICE = "alice@corp.test"
KEY = "load-agent-key-0123456789abcdef01234"
PREFIX = "/humanlayer/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The baseline: starlette + uvicorn, JSON in, JSON out, nothing else (the same client drives it).
BARE_APP = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def create(request):
    body = await request.json()
    return JSONResponse({"call_id": body["call_id"], "run_id": body["run_id"], "spec": body["spec"]})

async def healthz(request):
    return JSONResponse({"ok": True})

app = Starlette(routes=[
    Route("/humanlayer/v1/function_calls", create, methods=["POST"]),
    Route("/healthz", healthz),
])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


async def create_burst(base: str, n: int, concurrency: int, pid: int) -> tuple[float, float]:
    """`n` function calls POSTed by `concurrency` workers, each on its own keep-alive connection
    → (creates/s, server CPU ms per create). One httpx client per worker: a single pool of 50
    connections costs the client more CPU per request than our server spends (httpcore scans
    every connection for every request), and the bench would measure the client."""
    headers = {"Authorization": f"Bearer {KEY}"}
    limits = httpx.Limits(max_connections=1)
    clients = [
        httpx.AsyncClient(timeout=120, limits=limits, headers=headers) for _ in range(concurrency)
    ]
    try:
        for _ in range(1200):
            try:
                if (await clients[0].get(f"{base}/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
        todo = iter(range(n))

        async def worker(http: httpx.AsyncClient) -> None:
            for k in todo:
                body = {
                    "run_id": "load",
                    "call_id": f"load-{k}",
                    "spec": {
                        "fn": "refund",
                        "kwargs": {"n": k},
                        "channel": {"email": {"address": ALICE}},
                    },
                }
                (await http.post(f"{base}{PREFIX}/function_calls", json=body)).raise_for_status()

        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(worker(http) for http in clients))
        elapsed = time.perf_counter() - t0
        return n / elapsed, (cpu_seconds(pid) - cpu0) / n * 1000
    finally:
        for http in clients:
            await http.aclose()


async def bare_burst(n: int, concurrency: int) -> tuple[float, float]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BARE_APP, str(port)])  # noqa: ASYNC220
    try:
        return await create_burst(f"http://127.0.0.1:{port}", n, concurrency, proc.pid)
    finally:
        proc.terminate()
        proc.wait(20)


def count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


async def until(predicate, timeout: float, what: str) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    if dovecot_binary() is None:
        raise SystemExit("dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)")
    tmp = Path(tempfile.mkdtemp(prefix="hl-load-"))
    bare, bare_cpu = await bare_burst(args.requests, args.concurrency)
    stack = await start_mail_stack(tmp)
    port = free_port()
    db = tmp / "load.db"
    config = tmp / "load.toml"
    config.write_text(
        f"""
[agent]
address = "{AGENT}"
[smtp]
host = "{stack.host}"
port = {stack.smtp_port}
security = "none"
[imap]
host = "{stack.host}"
port = {stack.imap_port}
username = "{AGENT}"
password = "{stack.password}"
security = "none"
[store]
url = "sqlite:///{db}"
[security]
secret = "load-secret-0123456789abcdef0123456789abcdef"
[api]
host = "127.0.0.1"
port = {port}
api_keys = ["{KEY}"]
[replies]
send_confirmations = false
"""
    )
    log = open(tmp / "serve.log", "wb")  # noqa: SIM115, ASYNC230
    proc = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "hl_email.cli", "serve", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'sdk'}"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        creates, create_cpu = await create_burst(base, args.requests, args.concurrency, proc.pid)
        await until(
            lambda: count(db, "SELECT count(*) FROM outbox WHERE state = 'sent'") >= args.requests,
            600,
            "every ask sent",
        )
        alice = MailClient(stack, ALICE)
        received = [
            Received(uid, raw, parse(raw), flags)
            for uid, raw, flags in await stack.fetch_all(ALICE)
        ]
        replies = [alice.build_reply(r, "Approved.").as_bytes() for r in received]
        gate = asyncio.Semaphore(20)

        async def deliver(raw: bytes) -> None:
            async with gate:
                await stack.deliver(raw, AGENT, mail_from=ALICE)

        t1 = time.perf_counter()
        await asyncio.gather(*(deliver(r) for r in replies))
        delivered = time.perf_counter() - t1
        await until(
            lambda: (
                count(db, "SELECT count(*) FROM requests WHERE state = 'done'") >= args.requests
            ),
            900,
            "every request resolved",
        )
        resolved = args.requests / (time.perf_counter() - t1)
        rss = peak_rss_mb(proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        await stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load on one gateway (SQLite): {args.requests} requests")
    print(
        f"  creates over HTTP, concurrency {args.concurrency}: {creates:8.1f}/s   (goal >= 200/s)"
        f"   server CPU {create_cpu:.2f} ms/create (asks are sent meanwhile)"
    )
    print(
        f"  bare starlette+uvicorn, same client:  {bare:8.1f}/s   server CPU {bare_cpu:.2f} ms/request"
        f"   → ratio {creates / bare:.2f}×"
    )
    print(
        f"  replies delivered at once ({delivered:.1f} s to deliver):"
        f" {resolved:8.1f} resolved/s   (goal >= 100/s)"
    )
    print(f"  gateway peak RSS: {rss:8.1f} MB   (goal <= 150 MB)")


if __name__ == "__main__":
    asyncio.run(main())
