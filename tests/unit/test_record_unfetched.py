"""Headers-first outcomes of one catch-up chunk are committed together, each on its own."""

from __future__ import annotations

from hl_email.config import load_config
from hl_email.gateway import Gateway

LIST_MAIL = (
    b"From: news@lists.example.org\r\n"
    b"To: agent@example.test\r\n"
    b"Subject: Weekly digest\r\n"
    b"Message-ID: <digest-%d@lists.example.org>\r\n"
    b"List-Id: <news.lists.example.org>\r\n"
    b"Precedence: list\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
)


async def test_a_chunk_commits_its_records_together_and_a_repeat_is_a_duplicate(tmp_path):
    config = load_config(
        None,
        agent={"address": "agent@example.test"},
        imap={"enabled": False},
        store={"url": f"sqlite:///{tmp_path / 'hl.db'}"},
        security={"secret": "unit-secret-for-unfetched-0123456789"},
    )
    gateway = Gateway(config)
    await gateway.start(inbound=False, outbox=False, timers=False)
    try:
        blocks = [LIST_MAIL % n for n in (1, 2, 1, 3)]  # the third repeats the first
        results = await gateway.record_unfetched([(b, len(b) + 10, False) for b in blocks])
        outcomes = [r.outcome if r is not None else None for r in results]
        assert outcomes[0] == outcomes[1] == outcomes[3] != "duplicate"
        assert outcomes[0] is not None
        assert outcomes[2] == "duplicate"
        again = await gateway.record_unfetched([(blocks[1], len(blocks[1]) + 10, False)])
        assert again[0] is not None and again[0].outcome == "duplicate"
        for n in (1, 2, 3):
            assert await gateway.store.inbound_seen(f"mid:<digest-{n}@lists.example.org>")
    finally:
        await gateway.stop()
