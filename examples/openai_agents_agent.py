"""An OpenAI Agents SDK agent whose refund tool needs approval (needs_approval=True), decided by
a human's email reply.

No LLM key needed: the model is a small scripted `agents.Model` (call the tool once, then
answer with its result); tracing is off. Run the sandbox in one terminal and this in another:

    hl-email dev
    python examples/openai_agents_agent.py

Against `hl-email serve`: set HUMANLAYER_API_BASE, HUMANLAYER_API_KEY and APPROVER.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from typing import Any

from agents import Agent, Model, ModelResponse, Usage, function_tool, set_tracing_disabled
from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel
from hl_email_sdk.integrations.openai_agents import contact_human_tool, run_with_email_approvals
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

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


@function_tool(needs_approval=True)
def issue_refund(order_id: str, amount: int) -> str:
    """Pay a customer back."""
    return f"refunded {amount} on {order_id}"


class ScriptedModel(Model):
    """Calls one tool once (issue_refund by default), then answers with the tool's output."""

    def __init__(self, tool: str = "issue_refund", arguments: dict[str, Any] | None = None):
        self.tool = tool
        self.arguments = arguments if arguments is not None else {"order_id": "A-17", "amount": 120}

    async def get_response(self, system_instructions, input, *args: Any, **kwargs: Any):
        outputs = [
            i for i in input if isinstance(i, dict) and i.get("type") == "function_call_output"
        ]
        if not outputs:
            call = ResponseFunctionToolCall(
                type="function_call",
                id="fc_1",
                call_id=f"call_{uuid.uuid4().hex}",  # one email thread per tool call
                name=self.tool,
                arguments=json.dumps(self.arguments),
                status="completed",
            )
            return ModelResponse(output=[call], usage=Usage(), response_id=None)
        text = ResponseOutputText(
            type="output_text", text=str(outputs[-1]["output"]), annotations=[]
        )
        message = ResponseOutputMessage(
            type="message", id="msg_1", role="assistant", status="completed", content=[text]
        )
        return ModelResponse(output=[message], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any):
        raise NotImplementedError


async def main() -> None:
    set_tracing_disabled(True)
    channel = ContactChannel(email=EmailContactChannel(address=APPROVER))
    async with AsyncHumanLayer(api_base_url=API_BASE, api_key=api_key(), run_id="oa-agent") as hl:
        agent = Agent(
            name="refunds",
            instructions="Refund orders when asked.",
            model=ScriptedModel(),
            tools=[issue_refund, contact_human_tool(hl, channel)],
        )
        result = await run_with_email_approvals(
            agent, "Refund order A-17 (120 EUR).", hl, contact_channel=channel
        )
    print(f"agent: {result.final_output}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
