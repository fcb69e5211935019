"""LangGraph: a node's `interrupt()` becomes an email ask; the answer resumes the graph.

In a node::

    from hl_email_sdk.integrations.langgraph import ask_human, require_approval

    decision = require_approval("deploy", {"env": "prod"})   # {"approved": bool, "comment": …}
    answer = ask_human("Which region?")                      # the reply text

Outside the graph (needs a checkpointer)::

    state = await run_with_email(hl, graph, inputs, config)

Each interrupt gets a call_id derived from the thread and the interrupt's id, so after a
restart `run_with_email(hl, graph, None, config)` waits on the same email thread instead of
asking again, then resumes with `Command(resume=…)`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from langgraph.types import Command, Interrupt, interrupt

from hl_email.models import ContactChannel, FunctionCallSpec, HumanContactSpec

from ..client import AsyncHumanLayer

__all__ = ["answer_interrupts", "ask_human", "call_id_for", "require_approval", "run_with_email"]

KEY = "hl_email"


def ask_human(question: str, *, subject: str | None = None) -> str:
    """Inside a node: pause until a human answers `question` by email; returns the answer."""
    return interrupt({KEY: "question", "msg": question, "subject": subject})


def require_approval(fn: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Inside a node: pause until a human approves or rejects `fn(**kwargs)` by email; returns
    `{"approved": bool, "comment": str | None}`. Run the action only when approved is True."""
    return interrupt({KEY: "approval", "fn": fn, "kwargs": kwargs})


def call_id_for(config: dict[str, Any], pending: Interrupt) -> str:
    """The stable call_id of one interrupt of one thread (survives process restarts)."""
    thread = str((config.get("configurable") or {}).get("thread_id", ""))
    digest = hashlib.sha256(thread.encode()).hexdigest()[:16]
    return f"lg-{digest}-{pending.id}"[:200]


async def answer_interrupts(
    hl: AsyncHumanLayer,
    graph: Any,
    config: dict[str, Any],
    *,
    contact_channel: ContactChannel | None = None,
    timeout: float | None = None,
) -> Command | None:
    """Ask by email for every pending hl-email interrupt of the thread and wait for all answers;
    a `Command(resume={interrupt_id: answer})`, or None when nothing of ours is pending.
    Raises HumanLayerTimeoutError when nobody answers within `timeout`: the graph stays paused
    and the email stays open, so a later run (after a restart, too) still gets the answer."""
    state = await graph.aget_state(config)
    answers: dict[str, Any] = {}
    for pending in state.interrupts:
        value = pending.value
        if isinstance(value, str):
            value = {KEY: "question", "msg": value}
        if not isinstance(value, dict) or value.get(KEY) not in ("question", "approval"):
            continue  # someone else's interrupt
        call_id = call_id_for(config, pending)
        if value[KEY] == "approval":
            completed = await hl.fetch_approval(
                FunctionCallSpec(
                    fn=str(value["fn"]),
                    kwargs=dict(value.get("kwargs") or {}),
                    channel=contact_channel,
                ),
                call_id=call_id,
                timeout=timeout,
                cancel_on_timeout=False,
            )
            status = completed.as_completed()
            answers[pending.id] = {"approved": status.approved is True, "comment": status.comment}
        else:
            answered = await hl.fetch_human_response(
                HumanContactSpec(
                    msg=str(value["msg"]), subject=value.get("subject"), channel=contact_channel
                ),
                call_id=call_id,
                timeout=timeout,
                cancel_on_timeout=False,
            )
            answers[pending.id] = answered.as_completed()
    return Command(resume=answers) if answers else None


async def run_with_email(
    hl: AsyncHumanLayer,
    graph: Any,
    inputs: Any,
    config: dict[str, Any],
    *,
    contact_channel: ContactChannel | None = None,
    timeout: float | None = None,
) -> Any:
    """Run the graph (skip the first step with `inputs=None`, e.g. after a restart), answering
    its interrupts by email until it finishes; returns the final state values."""
    if inputs is not None:
        await graph.ainvoke(inputs, config)
    while True:
        command = await answer_interrupts(
            hl, graph, config, contact_channel=contact_channel, timeout=timeout
        )
        if command is None:
            return (await graph.aget_state(config)).values
        await graph.ainvoke(command, config)
