"""Catch-up in chunks over real Dovecot: headers first, one STORE and one checkpoint move per
chunk, new mail before the backlog, and restarts that re-fetch nothing below the mark."""

from __future__ import annotations

import asyncio
import email
import uuid
from email.message import EmailMessage

import pytest
from catchupmail import AGENT, append, capturing_gateway, create_pending, reply, unrelated

from hl_email.inbound import catchup
from hl_email.inbound.catchup import CatchUp
from hl_email.store import open_store

# unrelated(n) by n % 20: newsletters, notifications, spam, then human mail (to the agent inbox)
SHAPE_OUTCOMES = ["list"] * 8 + ["auto_reply"] * 5 + ["spam"] * 2 + ["agent_email_refused"] * 5


class FetchSpy:
    """Records the UIDs whose bodies the watcher fetched (CatchUp._bodies) and the header
    fetches (CatchUp._heads, also when fetched ahead for the next chunk)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bodies: list[int] = []
        self.headers: list[int] = []
        bodies, heads = CatchUp._bodies, CatchUp._heads

        async def spy_bodies(this: CatchUp, uids: list[int]):
            self.bodies.extend(uids)
            return await bodies(this, uids)

        async def spy_heads(this: CatchUp, uids: list[int]):
            self.headers.extend(uids)
            return await heads(this, uids)

        monkeypatch.setattr(CatchUp, "_bodies", spy_bodies)
        monkeypatch.setattr(CatchUp, "_heads", spy_heads)


async def records(gateway) -> dict[str, tuple]:
    rows = await gateway.store.list_inbound(limit=100_000)
    return {
        r.dedupe_key: (r.outcome, r.detail, r.from_address, r.subject, r.request_id) for r in rows
    }


async def caught_up(gateway, last_uid: int, timeout: float = 120) -> None:
    """Until the checkpoint covers `last_uid` and the first catch-up is over."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        checkpoint = await gateway.store.get_checkpoint(gateway.watcher.mailbox_key)
        if checkpoint and checkpoint.last_uid >= last_uid and not checkpoint.catchup_floor:
            return
        assert asyncio.get_running_loop().time() < deadline, f"not caught up: {checkpoint}"
        await asyncio.sleep(0.05)


def _msg(sender: str, subject: str, body: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = AGENT
    msg["Subject"] = subject
    msg["Message-ID"] = f"<t-{uuid.uuid4().hex[:12]}@elsewhere.test>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def varied() -> tuple[list[bytes], list[bytes]]:
    """(mail the headers decide, mail that needs its body), every shape the triage must tell."""
    key = "hl1-abcdefghijkl-1-abcdefghijklmnopqrst"  # key-shaped, matches no request
    lst = {"List_Id": "<deals.shop.test>", "Precedence": "bulk"}
    decided = [unrelated(n) for n in range(15)]  # newsletters, notifications, spam
    html = _msg("News <news@shop.test>", "Sale", "x", **lst)
    html.set_content("<p>Sale today</p>", subtype="html")
    qp = _msg("News <news@shop.test>", "Déjà vu", "Plain ünïcödé text " * 20, **lst)
    latin = _msg("Spam <s@spam.test>", "Gewinn", "Sie haben gewonnen", X_Spam_Flag="YES")
    latin.set_content("Sie haben gewonnen: Käse", charset="iso-8859-1", cte="8bit")
    abuse = _msg("Reports <reports@isp.test>", "Abuse report 12", "see attached", **lst)
    decided += [bytes(m) for m in (html, qp, latin, abuse)]

    b64 = _msg("News <news@shop.test>", "Deals", "x", **lst)
    b64.set_content(f"Ref: {key}\nbuy now", cte="base64")
    nested = "".join(f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n" for i in range(25))
    no_id = _msg("News <news@shop.test>", "No id", "hello", **lst)
    del no_id["Message-ID"]
    alternative = _msg("News <news@shop.test>", "Alt", "plain part", **lst)
    alternative.add_alternative("<p>html part</p>", subtype="html")
    keyed_to = _msg("News <news@shop.test>", "Deals", "x", **lst)
    keyed_to.replace_header("To", f"agent+{key}@example.test")
    needs_body = [
        _msg("News <news@shop.test>", "Deals", f"Ref: {key}\nbuy now", **lst),  # a body key
        b64,
        _msg("News <news@shop.test>", "Deals", nested, **lst),  # over max_depth in the body
        _msg("MAILER-DAEMON <mailer-daemon@mx.test>", "Note", "x", Auto_Submitted="auto-replied"),
        _msg("CI <builds@ci.test>", "Undeliverable: x", "x", Auto_Submitted="auto-generated"),
        _msg("Amazon <no-reply@sns.amazonaws.test>", "Note", '{"notificationType":"Bounce"}'),
        no_id,
        alternative,
        keyed_to,
        _msg("Carol <carol@corp.test>", "Lunch?", "Lunch tomorrow?"),  # human: agent inbox
        _msg("Dave <dave@corp.test>", "Away", "I am out of the office until Monday."),
    ]
    return decided, [bytes(m) for m in needs_body]


async def test_headers_first_stores_what_the_full_path_stores(
    mail_stack, gateway_config, monkeypatch
):
    decided, needs_body = varied()
    mail = decided + needs_body
    mail += [decided[0], needs_body[-2]]  # the same Message-IDs again: duplicates
    conn = await asyncio.to_thread(mail_stack.imap_login, AGENT)
    conn.create("Full")
    conn.logout()
    await asyncio.to_thread(append, mail_stack, AGENT, mail)
    await asyncio.to_thread(append, mail_stack, AGENT, mail, "Full")

    spy = FetchSpy(monkeypatch)
    triaged, _ = capturing_gateway(gateway_config())
    await triaged.start(timers=False)
    try:
        await caught_up(triaged, len(mail))
        with_triage = await records(triaged)
    finally:
        await triaged.stop()
    fetched = set(spy.bodies)

    full_config = gateway_config(
        imap={"folder": "Full"}, store={"url": f"sqlite:///{mail_stack.root}/full.db"}
    )
    full, _ = capturing_gateway(full_config)
    full.watcher.record_unfetched = None  # every message fetched and walked whole
    await full.start(timers=False)
    try:
        await caught_up(full, len(mail))
        without = await records(full)
    finally:
        await full.stop()

    assert with_triage == without
    # UIDs follow the APPEND order: the mail the headers decide was never fetched whole, the
    # rest was.
    assert not fetched & set(range(1, len(decided) + 1))
    assert set(range(len(decided) + 1, len(decided) + len(needs_body) + 1)) <= fetched
    outcomes = [r[0] for r in with_triage.values()]
    assert len(outcomes) == len(decided) + len(needs_body)
    assert {"list", "auto_reply", "spam", "agent_email_refused"} <= set(outcomes)


async def test_chunked_catch_up_gives_each_message_its_outcome(mail_stack, gateway_config):
    gateway, sent = capturing_gateway(gateway_config())
    await gateway.start(inbound=False, timers=False)
    try:
        asks = await create_pending(gateway, sent, 30)
    finally:
        await gateway.stop()
    replies = {call_id: reply(ask) for call_id, ask in asks.items()}
    mail = [unrelated(n) for n in range(330)]
    for i, raw in enumerate(replies.values()):
        mail.insert(11 * i, raw)
    await asyncio.to_thread(append, mail_stack, AGENT, mail)

    gateway, _ = capturing_gateway(gateway_config())
    await gateway.start(timers=False)
    try:
        await caught_up(gateway, len(mail))
        for call_id in replies:
            call = await gateway.get_function_call(call_id)
            assert call.status is not None and call.status.approved is True, call_id
        stored = await records(gateway)
        assert len(stored) == len(mail)  # one outcome per message
        by_subject = {r[3]: r[0] for r in stored.values()}
        for n in range(330):
            subject = str(email.message_from_bytes(unrelated(n))["Subject"])
            assert by_subject[subject] == SHAPE_OUTCOMES[n % 20], subject
        assert sum(1 for r in stored.values() if r[0] == "applied") == len(replies)
    finally:
        await gateway.stop()


async def test_restart_mid_catch_up_refetches_nothing_below_the_mark(
    mail_stack, gateway_config, monkeypatch
):
    gateway, sent = capturing_gateway(gateway_config())
    await gateway.start(inbound=False, timers=False)
    try:
        asks = await create_pending(gateway, sent, 40)
    finally:
        await gateway.stop()
    # The checkpoint of an earlier run, then 500 messages arrive while the gateway is down.
    await asyncio.to_thread(append, mail_stack, AGENT, [unrelated(10_000)])
    gateway, _ = capturing_gateway(gateway_config())
    await gateway.start(timers=False)
    await caught_up(gateway, 1)
    await gateway.stop()
    mail = [unrelated(n) for n in range(460)]
    for i, raw in enumerate(reply(ask) for ask in asks.values()):
        mail.insert(12 * i, raw)
    await asyncio.to_thread(append, mail_stack, AGENT, mail)

    # The first run dies while handling a message of its third chunk.
    gateway, _ = capturing_gateway(gateway_config())
    handle, stuck, seen = gateway.watcher.handle, asyncio.Event(), []

    async def dying(raw: bytes):
        seen.append(raw)
        if len(seen) == 2 * catchup.CHUNK // 5 + 5:  # replies and humans are fetched: ~2 in 5
            stuck.set()
            await asyncio.Event().wait()
        return await handle(raw)

    gateway.watcher.handle = dying
    await gateway.start(timers=False)
    await asyncio.wait_for(stuck.wait(), 120)
    await gateway.stop()  # the watcher is cancelled mid-chunk, one message never finishes
    store = open_store(gateway.config.store.url)
    await store.open()
    try:
        mark = (await store.get_checkpoint(gateway.watcher.mailbox_key)).last_uid
        rows = await store.list_inbound(limit=100_000)
    finally:
        await store.close()
    before = {
        r.dedupe_key: (r.outcome, r.detail, r.from_address, r.subject, r.request_id) for r in rows
    }
    assert mark > 1 and before  # a chunk or more was done

    spy = FetchSpy(monkeypatch)
    gateway, _ = capturing_gateway(gateway_config())
    await gateway.start(timers=False)
    try:
        await caught_up(gateway, len(mail) + 1)
        assert spy.headers and min(spy.headers) > mark
        assert not spy.bodies or min(spy.bodies) > mark
        after = await records(gateway)
        assert len(after) == len(mail) + 1
        assert all(after[k] == v for k, v in before.items())  # nothing recorded twice
        applied = [r for r in after.values() if r[0] == "applied"]
        assert len(applied) == len(asks) and len({r[4] for r in applied}) == len(asks)
        confirmations = [o for r in applied for o in await gateway.store.outbox_for_request(r[4])]
        assert len(confirmations) == 2 * len(asks)  # the ask and one confirmation each
    finally:
        await gateway.stop()


async def test_fresh_reply_is_handled_before_the_backlog(mail_stack, gateway_config):
    gateway, sent = capturing_gateway(gateway_config())
    await gateway.start(inbound=False, timers=False)
    try:
        asks = await create_pending(gateway, sent, 1)
    finally:
        await gateway.stop()
    await asyncio.to_thread(append, mail_stack, AGENT, [unrelated(10_000)])
    gateway, _ = capturing_gateway(gateway_config())
    await gateway.start(timers=False)
    await caught_up(gateway, 1)
    await gateway.stop()
    backlog = [unrelated(n) for n in range(2000)]
    await asyncio.to_thread(append, mail_stack, AGENT, backlog)

    gateway, _ = capturing_gateway(gateway_config())
    await gateway.start(timers=False)
    try:
        for _ in range(2400):  # until the first chunk is recorded
            if len(await records(gateway)) > 1:
                break
            await asyncio.sleep(0.01)
        (fresh,) = asks.values()
        await asyncio.to_thread(append, mail_stack, AGENT, [reply(fresh)])
        (call_id,) = asks
        call = await gateway.wait_function_call(call_id, timeout=120)
        assert call.status is not None and call.status.approved is True
        # resolved while most of the backlog still waited
        assert len(await records(gateway)) < 1 + len(backlog) // 2
        await caught_up(gateway, len(backlog) + 2)
        assert len(await records(gateway)) == len(backlog) + 2
    finally:
        await gateway.stop()
