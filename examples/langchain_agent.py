"""A LangChain agent whose refund tool needs a human's approval by email.

No LLM key needed: the chat model is LangChain's own scripted fake, which asks for one tool call
and then answers. Run the sandbox in one terminal and this in another; answer in the web inbox:

    hl-email dev
    python examples/langchain_agent.py

Against `hl-email serve`: set HUMANLAYER_API_BASE, HUMANLAYER_API_KEY and APPROVER.
"""

from __future__ import annotations

import asyncio
import os
import sys

from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel
from hl_email_sdk.integrations.langchain import human_as_tool, require_approval
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

API_BASE = os.getenv("HUMANLAYER_API_BASE", "http://127.0.0.1:8040/humanlayer/v1")


def api_key() -> str:
    """HUMANLAYER_API_KEY, else the key `hl-email dev` generated (and printed) in its data dir."""
    if os.getenv("HUMANLAYER_API_KEY"):
        return os.environ["HUMANLAYER_API_KEY"]
    try:
        with open(os.path.join(".hl-email-dev", "api_key"), encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError:
        sys.exit("set HUMANLAYER_API_KEY (the key `hl-email dev` prints)")


APPROVER = os.getenv("APPROVER", "approver@example.com")


@tool
def issue_refund(order_id: str, amount: int) -> str:
    """Pay a customer back."""
    return f"refunded {amount} on {order_id}"


async def main() -> None:
    channel = ContactChannel(email=EmailContactChannel(address=APPROVER))
    async with AsyncHumanLayer(api_base_url=API_BASE, api_key=api_key(), run_id="lc-agent") as hl:
        tools = {
            t.name: t
            for t in (require_approval(hl, issue_refund, channel), human_as_tool(hl, channel))
        }
        model = FakeMessagesListChatModel(
            responses=[
                AIMessage(
                    "",
                    tool_calls=[
                        {
                            "name": "issue_refund",
                            "args": {"order_id": "A-17", "amount": 120},
                            "id": "c1",
                        }
                    ],
                ),
                AIMessage("All done."),
            ]
        )
        messages = [HumanMessage("Refund order A-17 (120 EUR).")]
        while True:
            reply = await model.ainvoke(messages)
            messages.append(reply)
            if not reply.tool_calls:
                break
            for call in reply.tool_calls:
                result = await tools[call["name"]].ainvoke(call["args"])
                print(f"tool {call['name']}: {result}", flush=True)
                messages.append(ToolMessage(str(result), tool_call_id=call["id"]))
        print(f"agent: {reply.content}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
