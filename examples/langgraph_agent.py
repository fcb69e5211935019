"""A LangGraph workflow that pauses with `interrupt()` until a human approves by email.

No LLM needed: the graph is plain nodes. Run the sandbox in one terminal and this in another;
answer in the web inbox:

    hl-email dev
    python examples/langgraph_agent.py

Against `hl-email serve`: set HUMANLAYER_API_BASE, HUMANLAYER_API_KEY and APPROVER. With a
persistent checkpointer, a restart resumes the same email thread (same call_id).
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import TypedDict

from hl_email_sdk import AsyncHumanLayer, ContactChannel, EmailContactChannel
from hl_email_sdk.integrations.langgraph import ask_human, require_approval, run_with_email
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

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


class State(TypedDict, total=False):
    order: str
    amount: int
    note: str
    result: str


def refund(state: State) -> State:
    decision = require_approval(
        "issue_refund", {"order": state["order"], "amount": state["amount"]}
    )
    if not decision["approved"]:
        return {"result": f"not refunded: {decision['comment']}"}
    return {"result": f"refunded {state['amount']} on {state['order']}"}


def follow_up(state: State) -> State:
    return {"note": ask_human(f"{state['result']}. Anything to tell the customer?")}


def build_graph():
    graph = StateGraph(State)
    graph.add_node("refund", refund)
    graph.add_node("follow_up", follow_up)
    graph.add_edge(START, "refund")
    graph.add_edge("refund", "follow_up")
    graph.add_edge("follow_up", END)
    return graph.compile(checkpointer=InMemorySaver())


async def main() -> None:
    channel = ContactChannel(email=EmailContactChannel(address=APPROVER))
    graph = build_graph()
    config = {"configurable": {"thread_id": f"refund-A-17-{uuid.uuid4().hex[:8]}"}}
    async with AsyncHumanLayer(api_base_url=API_BASE, api_key=api_key(), run_id="lg-agent") as hl:
        final = await run_with_email(
            hl, graph, {"order": "A-17", "amount": 120}, config, contact_channel=channel
        )
    print(f"result: {final['result']}", flush=True)
    print(f"note: {final['note']}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
