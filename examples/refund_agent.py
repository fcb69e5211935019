"""A refund agent that asks a human by email before it pays anybody back.

Run the sandbox in one terminal and this in another; answer in the web inbox:

    hl-email dev                      # prints the inbox URL: http://127.0.0.1:8040/dev/inbox
    python examples/refund_agent.py

Against a real gateway (`hl-email serve`) set HUMANLAYER_API_BASE and HUMANLAYER_API_KEY, and
REFUND_APPROVER to the address that should get the email. The code is what you would write with
HumanLayer's SDK: only the import changes.
"""

from __future__ import annotations

import asyncio
import os
import sys

from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel, ResponseOption

API_BASE = os.getenv("HUMANLAYER_API_BASE", "http://127.0.0.1:8040/humanlayer/v1")


def _dev_api_key() -> str:
    """The key `hl-email dev` generated (and printed), kept in its data dir."""
    try:
        with open(os.path.join(".hl-email-dev", "api_key"), encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError:
        sys.exit("set HUMANLAYER_API_KEY (the key `hl-email dev` prints)")


API_KEY = os.getenv("HUMANLAYER_API_KEY") or _dev_api_key()
APPROVER = os.getenv("REFUND_APPROVER", "approver@example.com")

hl = AsyncHumanLayer(
    api_base_url=API_BASE,
    api_key=API_KEY,
    run_id="refund-agent",
    contact_channel=ContactChannel(
        email=EmailContactChannel(
            address=APPROVER,
            context_about_user="the support lead who signs off refunds",
        )
    ),
)


@hl.require_approval(
    reject_options=[
        ResponseOption(name="store_credit", title="Offer store credit instead"),
        ResponseOption(name="needs_photo", title="Ask the customer for a photo first"),
    ]
)
def issue_refund(order_id: str, amount: str, reason: str) -> str:
    """Pay the customer back (here: pretend to)."""
    return f"Refund issued: {amount} for order {order_id}"


async def main() -> int:
    inbox = API_BASE.split("/humanlayer/")[0] + "/dev/inbox"
    print(f"refund agent: asking {APPROVER} to approve a refund by email", flush=True)
    print(f"refund agent: with `hl-email dev`, answer it at {inbox}", flush=True)
    async with hl:
        # What an LLM tool call would run; the return value is what the LLM sees.
        result = await issue_refund("A-1001", "49.00 EUR", "Parcel arrived damaged")
    print(f"refund agent: {result}", flush=True)
    return 0 if result.startswith(("Refund issued", "User denied")) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
