"""A caller creating many requests in a row (an agent looping over a batch through the embedded
gateway): the first email goes out while the rest are still being created, over the real SMTP
server of the test stack, not after the last."""

from __future__ import annotations

from hl_email.gateway import Gateway
from hl_email.models import (
    ContactChannel,
    EmailContactChannel,
    FunctionCall,
    FunctionCallSpec,
)

CHANNEL = ContactChannel(email=EmailContactChannel(address="alice@corp.test"))
MOST = 400  # requests created, at most, before the first email must have been accepted


async def test_the_first_email_of_a_burst_is_sent_before_the_burst_ends(mail_stack, gateway_config):
    gateway = Gateway(gateway_config(imap={"enabled": False}))
    await gateway.start(inbound=False)
    try:
        before = len(mail_stack.accepted)
        created = 0
        while created < MOST and len(mail_stack.accepted) == before:
            spec = FunctionCallSpec(fn="refund", kwargs={"order": f"B-{created}"}, channel=CHANNEL)
            await gateway.create_function_call(
                FunctionCall(run_id="burst", call_id=f"burst-{created}", spec=spec)
            )
            created += 1
        assert len(mail_stack.accepted) > before, (
            f"no email was accepted while {created} requests were created one after another"
        )
        assert created < MOST
    finally:
        await gateway.stop()
