"""Creates through the SQLite store at a given concurrency, against a bare sqlite3 loop.

Each create is what `Gateway.submit` stores: a request, one recipient, one outbox row (a 3 KB
message) and one timeout timer, in one transaction. The baseline runs the same transactions one
after the other with the bare sqlite3 module, inline, on a connection set up like the store's
(WAL, synchronous=NORMAL): no thread, no event loop.

Usage: python bench/store.py [--requests 2000] [--concurrency 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hl_email.store import OutboxRow, RecipientRow, RequestRow, SqliteStore, TimerRow  # noqa: E402

MESSAGE = b"Subject: approve?\r\n\r\n" + b"x" * 3000


def rows(n: int) -> tuple[RequestRow, list[RecipientRow], list[OutboxRow], list[TimerRow]]:
    rid = f"r{n:08d}"
    request = RequestRow(
        id=rid,
        call_id=f"call-{n}",
        run_id="bench",
        kind="function_call",
        spec={"fn": "refund", "kwargs": {"n": n}, "channel": {"email": {"address": "a@x.test"}}},
        status={},
        subject="Approve refund?",
        created_at=1000.0 + n,
    )
    recipient = RecipientRow(rid, 0, "a@x.test", reply_key=f"key{n}", thread=[f"<{n}@x>"])
    mail = OutboxRow(rid, 0, "ask", "agent@x.test", ["a@x.test"], MESSAGE, f"<{n}@x>")
    timer = TimerRow(rid, "timeout", 5000.0 + n)
    return request, [recipient], [mail], [timer]


async def through_store(path: Path, requests: int, concurrency: int) -> tuple[float, float]:
    store = SqliteStore(path)
    await store.open()
    gate = asyncio.Semaphore(concurrency)

    async def create(n: int) -> None:
        async with gate:
            await store.create_request(*rows(n))

    t0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(create(n) for n in range(requests)))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    await store.close()
    return requests / elapsed, cpu / requests


def bare(path: Path, requests: int) -> tuple[float, float]:
    """The same rows, the same statements, one transaction each, inline."""
    store = SqliteStore(path)
    store._connect()  # the schema, as the store makes it
    conn = store._conn
    assert conn is not None
    t0, c0 = time.perf_counter(), time.process_time()
    for n in range(requests):
        request, [r], [o], [t] = rows(n)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO requests (id, call_id, run_id, kind, spec, status, state, subject,"
            " created_at, resolved_at, clarifications, route) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (call_id) DO NOTHING",
            (
                request.id,
                request.call_id,
                request.run_id,
                request.kind,
                json.dumps(request.spec),
                json.dumps(request.status),
                request.state,
                request.subject,
                request.created_at,
                None,
                0,
                "{}",
            ),
        )
        conn.execute(
            "INSERT INTO recipients (request_id, seq, address, field, state, reply_key,"
            " message_count, thread, error, auto_replied) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (r.request_id, r.seq, r.address, r.field, r.state, r.reply_key, 0, "[]", None, 0),
        )
        conn.execute(
            "INSERT INTO outbox (request_id, recipient_seq, purpose, mail_from, rcpt_to, message,"
            " message_id, state, attempts, next_attempt_at, last_error, created_at, sent_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (o.request_id, 0, o.purpose, o.mail_from, "[]", o.message, o.message_id, "pending")
            + (0, 0.0, None, 0.0, None),
        )
        conn.execute(
            "INSERT INTO timers (request_id, kind, due_at, payload, state) VALUES (?,?,?,?,?)",
            (t.request_id, t.kind, t.due_at, "{}", t.state),
        )
        conn.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    conn.close()
    return requests / elapsed, cpu / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hl-store-bench-"))
    try:
        store_rates, bare_rates = [], []
        for k in range(args.rounds):  # interleaved, so both see the same machine
            store_rates.append(
                asyncio.run(through_store(tmp / f"s{k}.db", args.requests, args.concurrency))
            )
            bare_rates.append(bare(tmp / f"b{k}.db", args.requests))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # Best of the rounds: the machine's other load only ever makes a round slower.
    store_rate, store_cpu = max(r for r, _ in store_rates), min(c for _, c in store_rates)
    bare_rate, bare_cpu = max(r for r, _ in bare_rates), min(c for _, c in bare_rates)
    print(f"SQLite store: {args.requests} creates, concurrency {args.concurrency}")
    print(
        f"  through SqliteStore.create_request: {store_rate:8.0f}/s"
        f"  {store_cpu * 1e6:6.0f} us CPU each"
    )
    print(
        f"  bare sqlite3, inline, one tx each:  {bare_rate:8.0f}/s  {bare_cpu * 1e6:6.0f} us CPU each"
    )
    print(
        f"  ratio store / bare: {store_rate / bare_rate:.2f} (creates/s),"
        f" {store_cpu / bare_cpu:.2f} (CPU per create)"
    )


if __name__ == "__main__":
    main()
