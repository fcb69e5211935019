"""Three `hl-email serve` processes on one PostgreSQL schema and one Dovecot mailbox.

Requests are created round-robin on all three, with reminders and timeouts; the human answers
by email; agents wait on another instance than the one they created on; the mailbox leader is
killed half-way. Then: every email reached the human exactly once (counted per Message-ID in
her mailbox), every answer was applied once, nothing is stuck, each timer ran once, each
completion webhook was delivered once, and the answers sent after the kill were all applied.
"""

from __future__ import annotations

import asyncio
import collections
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from hl_email_sdk import AsyncHumanLayer, FunctionCallSpec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from test_crash import free_port, kill

from hl_email.api import ApiServer
from hl_email.config import GatewayConfig
from hl_email.store.postgres import PostgresStore

PG_URL = os.environ.get("HL_EMAIL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ALICE = "alice@corp.test"
AGENT = "agent@example.test"
KEY = "scaleout-key"
ANSWERED = 8  # refund requests: reminded after 1 s, then approved by email
TIMED_OUT = 3  # deploy requests: nobody answers, they time out after 3 s


@pytest.fixture
async def pg_url():
    asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed")
    try:
        admin = await asyncpg.connect(PG_URL, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL is unreachable at {PG_URL}: {exc!r}")
    schema = f"hl_it_{uuid.uuid4().hex[:16]}"
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}schema={schema}"
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


def write_config(path: Path, stack, port: int, store_url: str, hook_url: str) -> Path:
    path.write_text(
        f"""
[agent]
address = "{AGENT}"
name = "Scale-out agent"
[smtp]
host = "{stack.host}"
port = {stack.smtp_port}
security = "none"
backoff_initial = 0.1
backoff_max = 0.5
[imap]
host = "{stack.host}"
port = {stack.imap_port}
username = "{AGENT}"
password = "{stack.password}"
security = "none"
reconnect_initial = 0.1
reconnect_max = 0.5
[store]
url = "{store_url}"
[security]
secret = "scaleout-secret-0123456789abcdef0123456789"
[api]
host = "127.0.0.1"
port = {port}
api_keys = ["{KEY}"]
[[routes]]
name = "refunds"
fn = "refund"
to = ["{ALICE}"]
reminders = ["1s"]
timeout = "10m"
[[routes]]
name = "deploys"
fn = "deploy"
to = ["{ALICE}"]
timeout = "3s"
[[webhooks]]
url = "{hook_url}"
secret = "hook-secret-0123456789abcdef0123456789abcdef"
backoff_initial = 0.1
backoff_max = 0.5
"""
    )
    return path


async def start_serve(config: Path, port: int) -> subprocess.Popen:
    """`hl-email serve` in its own process group; its log beside the config."""
    log = open(config.with_suffix(".log"), "wb")  # noqa: SIM115, ASYNC230 - the child owns it
    proc = subprocess.Popen(  # noqa: ASYNC220 - a short, non-blocking spawn in a test
        [sys.executable, "-m", "hl_email.cli", "serve", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    async with httpx.AsyncClient() as http:
        for _ in range(1200):  # generous: three start at once on a busy machine
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return proc
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
    proc.kill()
    raise AssertionError(
        f"hl-email serve did not come up: {config.with_suffix('.log').read_text()[-2000:]}"
    )


async def wait_until(predicate, timeout: float = 60.0, what: str = "condition"):  # noqa: ASYNC109
    """Poll `predicate` (async) until it returns something truthy, within `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def roles(ports: dict[int, object]) -> dict[int, str | None]:
    """Each live instance's mailbox role from /readyz (leader | standby)."""
    found: dict[int, str | None] = {}
    async with httpx.AsyncClient(timeout=5) as http:
        for port in ports:
            try:
                body = (await http.get(f"http://127.0.0.1:{port}/readyz")).json()
                found[port] = body["checks"].get("mailbox_role")
            except (httpx.HTTPError, ValueError, KeyError):
                found[port] = None
    return found


async def test_three_gateways_share_one_store_and_one_mailbox(
    mail_stack, mail_client, pg_url, tmp_path
):
    hooks: collections.Counter[str] = collections.Counter()

    async def hook(request: Request):
        hooks[request.headers["x-hl-email-delivery"]] += 1
        return PlainTextResponse("ok")

    receiver = ApiServer(
        None,
        GatewayConfig(api={"host": "127.0.0.1", "port": 0}),
        app=Starlette(routes=[Route("/hook", hook, methods=["POST"])]),
        webhooks=False,
    )
    await receiver.start()
    store = PostgresStore(pg_url)
    procs: dict[int, object] = {}
    alice = mail_client(ALICE)
    try:
        configs = {}
        for n in range(3):
            port = free_port()
            configs[port] = write_config(
                tmp_path / f"gw{n}.toml", mail_stack, port, pg_url, f"{receiver.base_url}/hook"
            )
        started = await asyncio.gather(
            *(start_serve(c, p) for p, c in configs.items()), return_exceptions=True
        )
        for port, proc in zip(configs, started, strict=True):
            if isinstance(proc, subprocess.Popen):
                procs[port] = proc
        for proc in started:
            if isinstance(proc, BaseException):
                raise proc
        await store.open()
        ports = list(procs)
        role = await wait_until(
            lambda: _one_leader(ports), 30, "one mailbox leader and two standbys"
        )
        leader = next(p for p, r in role.items() if r == "leader")

        # Requests created round-robin on all instances.
        calls: dict[str, str] = {}
        for i in range(ANSWERED + TIMED_OUT):
            fn = "refund" if i < ANSWERED else "deploy"
            port = ports[i % 3]
            async with AsyncHumanLayer(
                api_base_url=f"http://127.0.0.1:{port}/humanlayer/v1", api_key=KEY
            ) as hl:
                call = await hl.create_function_call(
                    FunctionCallSpec(fn=fn, kwargs={"n": i}), call_id=f"so-{i}"
                )
            calls[call.call_id] = fn

        # Every ask and every reminder arrives; the deploys time out.
        await wait_until(lambda: _sent(store, "ask", ANSWERED + TIMED_OUT), 60, "all asks sent")
        await wait_until(lambda: _sent(store, "reminder", ANSWERED), 60, "all reminders sent")
        await wait_until(
            lambda: _states(store, calls, "deploy", "done"), 60, "the deploys timed out"
        )
        await wait_until(lambda: _sent(store, "note", TIMED_OUT), 60, "the timeout notes sent")
        asks = await _asks(store, alice)
        assert sorted(asks) == sorted(c for c, fn in calls.items() if fn == "refund")

        # Half the answers; agents wait on an instance other than the one that created.
        first, second = sorted(asks)[: ANSWERED // 2], sorted(asks)[ANSWERED // 2 :]
        waits = [
            asyncio.create_task(_wait(ports[(int(c.split("-")[1]) + 1) % 3], c)) for c in first
        ]
        for call_id in first:
            await alice.reply(asks[call_id], "Approved.")
        results = await asyncio.wait_for(asyncio.gather(*waits), 60)
        assert all(r.call.status.approved is True for r in results)
        await wait_until(lambda: _sent(store, "confirm", len(first)), 60, "confirmations sent")
        await wait_until(
            lambda: _webhooks_done(hooks, len(first) + TIMED_OUT), 60, "webhooks delivered"
        )

        # The mailbox leader dies; a standby takes over and the rest of the answers apply.
        # The answers land while nobody watches the mailbox yet.
        kill(procs.pop(leader))
        survivors = list(procs)
        for call_id in second:
            await alice.reply(asks[call_id], "Yes, approved")
        await wait_until(lambda: _one_leader(survivors), 30, "a standby leads")
        waits = [asyncio.create_task(_wait(survivors[i % 2], c)) for i, c in enumerate(second)]
        results = await asyncio.wait_for(asyncio.gather(*waits), 90)
        assert all(r.call.status.approved is True for r in results)
        await wait_until(lambda: _sent(store, "confirm", ANSWERED), 60, "all confirmations")
        await wait_until(
            lambda: _webhooks_done(hooks, ANSWERED + TIMED_OUT), 60, "all webhooks delivered"
        )

        # Nothing sent twice: every Message-ID once in Alice's mailbox, one row per email.
        outbox = [o for call_id in calls for o in await _outbox(store, call_id)]
        assert all(o.state == "sent" for o in outbox), "nothing stuck in the outbox"
        mailbox = collections.Counter(m.message_id for m in await alice.inbox())
        assert {mid: n for mid, n in mailbox.items() if n > 1} == {}
        assert sorted(mailbox) == sorted(o.message_id for o in outbox)
        per_call = collections.Counter((o.request_id, o.purpose) for o in outbox)
        requests = {c: await store.get_request(call_id=c) for c in calls}
        for call_id, fn in calls.items():
            rid = requests[call_id].id
            assert requests[call_id].state == "done"
            if fn == "refund":
                assert per_call[(rid, "ask")] == per_call[(rid, "reminder")] == 1
                assert per_call[(rid, "confirm")] == 1
                assert requests[call_id].status["approved"] is True
            else:  # timed out: the ask and one timeout note, no reminder
                assert per_call[(rid, "ask")] == per_call[(rid, "note")] == 1
                assert requests[call_id].status["timed_out"] is True
        # Each answer applied once; each timer ran once.
        inbound = await store.list_inbound(limit=1000)
        applied = collections.Counter(r.request_id for r in inbound if r.outcome == "applied")
        assert sorted(applied.values()) == [1] * ANSWERED
        assert await store.due_timers(time.time()) == []  # (the refunds' 10 min timeouts wait)
        assert set(hooks.values()) == {1} and len(hooks) == ANSWERED + TIMED_OUT
    finally:
        for proc in procs.values():
            kill(proc)
        await store.close()
        await receiver.stop()


async def _one_leader(ports: list[int]) -> dict[int, str | None] | None:
    found = await roles({p: None for p in ports})
    values = list(found.values())
    ok = values.count("leader") == 1 and values.count("standby") == len(ports) - 1
    return found if ok else None


async def _outbox(store: PostgresStore, call_id: str):
    request = await store.get_request(call_id=call_id)
    return await store.outbox_for_request(request.id) if request else []


async def _sent(store: PostgresStore, purpose: str, count: int) -> bool:
    rows = await store.pool.fetch(
        "SELECT state FROM outbox WHERE purpose = $1 AND state = 'sent'", purpose
    )
    return len(rows) >= count


async def _states(store: PostgresStore, calls: dict[str, str], fn: str, state: str) -> bool:
    for call_id, kind in calls.items():
        if kind == fn and (await store.get_request(call_id=call_id)).state != state:
            return False
    return True


async def _asks(store: PostgresStore, alice) -> dict[str, object]:
    """call_id → the ask as received in Alice's mailbox."""
    by_mid = {m.message_id: m for m in await alice.inbox()}
    asks = {}
    for row in await store.list_requests(limit=1000):
        if row.spec.get("fn") != "refund":
            continue
        [ask] = [o for o in await store.outbox_for_request(row.id) if o.purpose == "ask"]
        asks[row.call_id] = by_mid[ask.message_id]
    return asks


async def _wait(port: int, call_id: str):
    async with AsyncHumanLayer(
        api_base_url=f"http://127.0.0.1:{port}/humanlayer/v1", api_key=KEY
    ) as hl:
        return await hl.wait_for_approval(call_id, timeout=90)


async def _webhooks_done(hooks: collections.Counter[str], count: int) -> bool:
    return len(hooks) >= count
