"""`[[mailboxes]]`: more agent identities, each with its own address, submission account and
IMAP watcher; a route or a call's channel picks one with `mailbox = "name"`."""

from __future__ import annotations

import pytest
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel, FunctionCallSpec

from hl_email.config import ConfigError

AGENT = "agent@example.test"
BILLING = "billing@example.test"
ALICE = "alice@corp.test"


def _config(gateway_config, mail_stack):
    return gateway_config(
        mailboxes=[
            {
                "name": "billing",
                "address": BILLING,
                "display_name": "Billing agent",
                "imap": {
                    "host": mail_stack.host,
                    "port": mail_stack.imap_port,
                    "username": BILLING,
                    "password": mail_stack.password,
                    "reconnect_initial": 0.05,
                    "reconnect_max": 0.5,
                },
                "smtp": {
                    "host": mail_stack.host,
                    "port": mail_stack.smtp_port,
                    "username": BILLING,
                    "password": mail_stack.password,
                },
            }
        ],
        routes=[{"name": "invoices", "fn": "send_invoice", "to": [ALICE], "mailbox": "billing"}],
        replies={"send_confirmations": False},
    )


async def test_route_and_channel_pick_the_mailbox_that_asks_sends_and_watches(
    mail_stack, mail_client, gateway_config
):
    alice = mail_client(ALICE)
    async with AsyncHumanLayer.local(config=_config(gateway_config, mail_stack)) as hl:
        # 1. By route: send_invoice is asked from the billing mailbox.
        call = await hl.create_function_call(FunctionCallSpec(fn="send_invoice", kwargs={"n": 1}))
        ask = await alice.wait_for_message(timeout=20)
        assert ask.msg["From"].addresses[0].addr_spec == BILLING
        assert ask.msg["From"].addresses[0].display_name == "Billing agent"
        assert ask.message_id.endswith("@example.test>")
        await alice.reply(ask, "Approved.")
        done = await hl.wait_for_approval(call.call_id, timeout=30)
        assert done.call.status.approved is True
        # The reply went to billing@ (not the default mailbox): billing's own watcher saw it.
        assert await mail_stack.fetch_all(AGENT) == []
        sent = [e for e in mail_stack.accepted if ALICE in e.rcpt_tos]
        assert sent[0].mail_from == BILLING and sent[0].auth_user == BILLING
        # 2. By channel: any call can pick it.
        channel = ContactChannel(email=EmailContactChannel(address=ALICE, mailbox="billing"))
        call = await hl.create_function_call(
            FunctionCallSpec(fn="refund", kwargs={}, channel=channel)
        )
        ask = await alice.wait_for_message(timeout=20)
        assert ask.msg["From"].addresses[0].addr_spec == BILLING
        await alice.reply(ask, "Approved.")
        assert (await hl.wait_for_approval(call.call_id, timeout=30)).call.status.approved
        # 3. Otherwise the default [agent] mailbox asks, with the default [smtp] account.
        channel = ContactChannel(email=EmailContactChannel(address=ALICE))
        call = await hl.create_function_call(
            FunctionCallSpec(fn="refund", kwargs={}, channel=channel)
        )
        ask = await alice.wait_for_message(timeout=20)
        assert ask.msg["From"].addresses[0].addr_spec == AGENT
        assert [e.auth_user for e in mail_stack.accepted if ALICE in e.rcpt_tos][-1] == AGENT
        gateway = hl._local_gateway()  # noqa: SLF001
        assert (await gateway.readiness())["mailboxes"] == {"billing": True}
        # An unknown mailbox is a clear error, not a silent fallback.
        bad = ContactChannel(email=EmailContactChannel(address=ALICE, mailbox="nope"))
        with pytest.raises(Exception, match="mailbox 'nope' is not configured"):
            await hl.create_function_call(FunctionCallSpec(fn="refund", kwargs={}, channel=bad))


def test_config_rejects_unknown_and_duplicate_mailboxes(mail_stack, gateway_config):
    with pytest.raises(ConfigError, match="no \\[\\[mailboxes\\]\\] named 'ghost'"):
        gateway_config(routes=[{"name": "r", "to": [ALICE], "mailbox": "ghost"}])
    with pytest.raises(ConfigError, match="own address"):
        gateway_config(mailboxes=[{"name": "a", "address": AGENT}])
    with pytest.raises(ConfigError, match="names used twice"):
        gateway_config(
            mailboxes=[
                {"name": "a", "address": "a@example.test"},
                {"name": "a", "address": "b@example.test"},
            ]
        )


async def test_doctor_checks_every_mailbox(mail_stack, gateway_config):
    import io

    from hl_email.doctor import run_doctor

    out = io.StringIO()
    code = await run_doctor(_config(gateway_config, mail_stack), wait_seconds=20, out=out)
    text = out.getvalue()
    assert code == 0, text
    assert "✓ Round trip: test message to agent@example.test" in text
    assert "✓ billing: IMAP login: logged in as billing@example.test" in text
    assert "✓ billing: Round trip: test message to billing@example.test" in text
    bad = _config(gateway_config, mail_stack)
    bad.mailboxes[0].imap.password = "wrong"
    out = io.StringIO()
    assert await run_doctor(bad, wait_seconds=20, out=out) == 1
    assert "✗ billing: IMAP login: login as billing@example.test refused" in out.getvalue()
    assert "1 check(s) failed: billing: IMAP login" in out.getvalue()
