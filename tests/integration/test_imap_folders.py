"""Folder names that need RFC 3501 quoting and modified UTF-7 ("Sent Items", "Entwürfe & Co",
"[Gmail]" style) work for the watcher and for doctor."""

from __future__ import annotations

import asyncio
import io

from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel, FunctionCallSpec

from hl_email.connections import imap_mailbox
from hl_email.doctor import run_doctor

AGENT = "agent@example.test"
ALICE = "alice@corp.test"
FOLDER = "[Agent] Entwürfe & Sent Items"


async def test_watcher_and_doctor_use_a_folder_with_spaces_brackets_and_umlauts(
    mail_stack, mail_client, gateway_config
):
    def create() -> None:
        conn = mail_stack.imap_login(AGENT)
        try:
            typ, data = conn.create(imap_mailbox(FOLDER))
            assert typ == "OK", data
        finally:
            conn.logout()

    await asyncio.to_thread(create)
    config = gateway_config(imap={"folder": FOLDER}, replies={"send_confirmations": False})
    out = io.StringIO()
    assert await run_doctor(config, wait_seconds=5, out=out) in (0, 1)
    assert f"✓ IMAP folder: {FOLDER} selected" in out.getvalue(), out.getvalue()
    alice = mail_client(ALICE)
    channel = ContactChannel(email=EmailContactChannel(address=ALICE))
    async with AsyncHumanLayer.local(config=config) as hl:
        call = await hl.create_function_call(
            FunctionCallSpec(fn="refund", kwargs={}, channel=channel)
        )
        ask = await alice.wait_for_message(timeout=20)
        reply = bytes(alice.build_reply(ask, "Approved.", style="apple"))

        def file_into_folder() -> None:  # as a server-side filter rule would
            conn = mail_stack.imap_login(AGENT)
            try:
                typ, data = conn.append(imap_mailbox(FOLDER), None, None, reply)
                assert typ == "OK", data
            finally:
                conn.logout()

        await asyncio.to_thread(file_into_folder)
        done = await hl.wait_for_approval(call.call_id, timeout=30)
        assert done.call.status.approved is True
