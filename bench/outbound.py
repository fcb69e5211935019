"""Outbound throughput: requests submitted → accepted by an aiosmtpd sink, against a bare
aiosmtplib send loop of the same messages to the same sink, in the same process and run.

Ours includes everything the gateway does per request: validation, routing, rendering (Jinja,
text + HTML), one SQLite transaction for the request and its outbox row, the outbox worker's
delivery over its pool of kept-open SMTP connections (`smtp.connections`, 4 by default), and
marking the row sent. The baselines only send the pre-rendered bytes with aiosmtplib: over the
same number of connections in parallel (like for like), and over one connection.

A third row puts the sink a few milliseconds away (each reply to MAIL, RCPT and the end of DATA
is delayed in the sink process): what a real server across a network looks like. There the
bare loop is bound by waiting, not by CPU, and the ratio shows how well the outbox keeps its
connections busy.

Usage: python bench/outbound.py [--requests 500] [--rtt-ms 5]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiosmtplib
from aiosmtpd.controller import Controller

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

AGENT = "agent@example.test"


class Sink:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        self.target = 0
        self.done = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.count += 1
            if self.target and self.count >= self.target:
                self.done.set()
        return "250 OK"

    def cpu(self) -> float | None:
        return None  # in this process: its CPU is counted with ours

    def expect(self, n: int) -> None:
        with self.lock:
            self.count = 0
            self.target = n
            self.done.clear()


CONNECTIONS = 4  # the gateway's default smtp.connections
# Process CPU seconds per side of one measure(): steadier than rates on a loaded machine.
CPU: dict[str, float] = {}
# The sink process's CPU seconds per side (None when the sink runs in this process).
SINK_CPU: dict[str, float] = {}


async def phase(sink, key: str, run):
    """Await `run` and add the sink's CPU time meanwhile to SINK_CPU[key]."""
    before = sink.cpu()
    result = await run
    after = sink.cpu()
    if before is not None and after is not None:
        SINK_CPU[key] = SINK_CPU.get(key, 0.0) + after - before
    return result


async def baseline(port: int, messages: list[bytes], connections: int = 1) -> float:
    """A bare aiosmtplib loop: `connections` kept-open clients, each sending its share."""
    clients = [
        aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        for _ in range(connections)
    ]
    for client in clients:
        await client.connect()
    queue = list(reversed(messages))

    async def loop(client: aiosmtplib.SMTP) -> None:
        while queue:
            await client.sendmail(AGENT, ["alice@corp.test"], queue.pop())

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(loop(c) for c in clients))
    elapsed = time.perf_counter() - start
    key = f"bare {connections}"
    CPU[key] = CPU.get(key, 0.0) + time.process_time() - cpu
    for client in clients:
        await client.quit()
    return elapsed


async def ours(port: int, n: int, sink: Sink, db: str) -> tuple[float, list[bytes]]:
    config = load_config(
        None,
        agent={"address": AGENT, "name": "Bench agent"},
        smtp={"host": "127.0.0.1", "port": port, "security": "none", "connections": CONNECTIONS},
        imap={"enabled": False},
        store={"url": f"sqlite:///{db}"},
        security={"secret": "bench-secret-0123456789-abcdefghijk"},
    )
    gateway = Gateway(config)
    await gateway.start(inbound=False)
    channel = ContactChannel(email=EmailContactChannel(address="alice@corp.test"))
    sink.expect(n)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        await gateway.create_function_call(
            FunctionCall(
                run_id="bench",
                call_id=f"call-{i}-{time.monotonic_ns()}",
                spec=FunctionCallSpec(
                    fn="send_refund", kwargs={"order": f"A-{i}", "amount": i}, channel=channel
                ),
            )
        )
    await asyncio.get_running_loop().run_in_executor(None, sink.done.wait, 120)
    elapsed = time.perf_counter() - start
    CPU["ours"] = CPU.get("ours", 0.0) + time.process_time() - cpu
    rows = await gateway.store.list_requests(limit=n)
    messages = []
    for row in rows:
        messages.extend(o.message for o in await gateway.store.outbox_for_request(row.id))
    await gateway.stop()
    return elapsed, messages


class ProcessSink:
    """The same aiosmtpd sink in a child process: what a real SMTP server looks like to us (its
    CPU is not on our interpreter's lock). The child counts accepted messages."""

    def __init__(self, rtt: float = 0.0) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.count = ctx.Value("i", 0)
        self.target = ctx.Value("i", 0)
        self.done = ctx.Event()
        self.ready = ctx.Event()
        self.cpu_seconds = ctx.Value("d", 0.0)  # the child's CPU time at its last message
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.proc = ctx.Process(
            target=_serve_sink,
            args=(
                self.port,
                self.count,
                self.target,
                self.done,
                self.ready,
                self.cpu_seconds,
                rtt,
            ),
            daemon=True,
        )

    def start(self) -> None:
        self.proc.start()
        if not self.ready.wait(30):
            raise RuntimeError("sink process did not start")

    def cpu(self) -> float | None:
        return self.cpu_seconds.value

    def expect(self, n: int) -> None:
        with self.count.get_lock():
            self.count.value = 0
            self.target.value = n
            self.done.clear()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(5)


def _serve_sink(port, count, target, done, ready, cpu, rtt) -> None:  # in the child process
    class Handler:
        # A server `rtt` seconds away: each reply to MAIL, RCPT and the end of DATA comes
        # that much later (aiosmtplib waits for each; the connections wait independently).
        async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: N802
            if rtt:
                await asyncio.sleep(rtt)
            envelope.mail_from = address
            envelope.mail_options.extend(options)
            return "250 OK"

        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            if rtt:
                await asyncio.sleep(rtt)
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(options)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            if rtt:
                await asyncio.sleep(rtt)
            cpu.value = time.process_time()
            with count.get_lock():
                count.value += 1
                if target.value and count.value >= target.value:
                    done.set()
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    threading.Event().wait()


async def measure(sink, port: int, n: int, tmp: str) -> tuple[float, float, float, int, dict]:
    """Interleaved rounds (ours, bare N, bare 1, then the other order) to even out warm-up."""
    CPU.clear()
    SINK_CPU.clear()
    t_ours, messages = await phase(sink, "ours", ours(port, n, sink, f"{tmp}/bench1.db"))
    sink.expect(0)
    messages = messages[:n]
    many = f"bare {CONNECTIONS}"
    t_many = await phase(sink, many, baseline(port, messages, CONNECTIONS))
    t_one = await phase(sink, "bare 1", baseline(port, messages, 1))
    t_one2 = await phase(sink, "bare 1", baseline(port, messages, 1))
    t_many2 = await phase(sink, many, baseline(port, messages, CONNECTIONS))
    t_ours2, _ = await phase(sink, "ours", ours(port, n, sink, f"{tmp}/bench2.db"))
    size = sum(len(m) for m in messages) // max(1, len(messages))
    rate = 2 * n
    cpu = {k: v * 1000 / rate for k, v in CPU.items()}  # ms per message
    cpu.update({f"sink {k}": v * 1000 / rate for k, v in SINK_CPU.items()})
    return rate / (t_ours + t_ours2), rate / (t_many + t_many2), rate / (t_one + t_one2), size, cpu


async def main(n: int, rtt_ms: float) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sink = Sink()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            rows.append(("sink in this process", *await measure(sink, port, n, tmp)))
        finally:
            controller.stop()
        psink = ProcessSink()
        psink.start()
        try:
            rows.append(("sink in its own process", *await measure(psink, psink.port, n, tmp)))
        finally:
            psink.stop()
        if rtt_ms > 0:
            far = ProcessSink(rtt_ms / 1000)
            far.start()
            try:
                name = f"sink {rtt_ms:g} ms away (own process; MAIL, RCPT, DATA each wait)"
                rows.append((name, *await measure(far, far.port, n, tmp)))
            finally:
                far.stop()
    size = rows[0][4] / 1024
    print(f"bench/outbound.py: {n} requests x 2 rounds, ~{size:.1f} KiB per message")
    for name, ours_rate, many_rate, one_rate, _, cpu in rows:
        print(f"  {name}:")
        print(f"    bare aiosmtplib, {CONNECTIONS} connections  {many_rate:8.1f} msg/s")
        print(f"    bare aiosmtplib, 1 connection   {one_rate:8.1f} msg/s")
        print(f"    hl-email submit → sink ({CONNECTIONS})    {ours_rate:8.1f} req/s")
        print(
            f"    ratio vs {CONNECTIONS} connections          {ours_rate / many_rate:8.2f}x"
            "   (goal ≥ 0.8x, like for like)"
        )
        print(f"    ratio vs 1 connection           {ours_rate / one_rate:8.2f}x")
        many, one = cpu[f"bare {CONNECTIONS}"], cpu["bare 1"]
        print(
            f"    CPU per message: ours {cpu['ours']:.2f} ms, bare {CONNECTIONS} {many:.2f} ms,"
            f" bare 1 {one:.2f} ms (this process; bare/ours {many / cpu['ours']:.2f}x)"
        )
        if f"sink bare {CONNECTIONS}" in cpu:
            sink_many, sink_ours = cpu[f"sink bare {CONNECTIONS}"], cpu["sink ours"]
            print(
                f"    sink process CPU per message: bare {CONNECTIONS} {sink_many:.2f} ms"
                f" ({sink_many * many_rate / 10:.0f} % of a core at its rate),"
                f" ours {sink_ours:.2f} ms ({sink_ours * ours_rate / 10:.0f} %)"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=5.0,
        help="round trip to the far sink per SMTP reply (0: no far-sink row)",
    )
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rtt_ms))
