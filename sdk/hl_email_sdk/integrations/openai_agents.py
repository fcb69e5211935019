"""OpenAI Agents SDK: tools with `needs_approval=True` approved or rejected by email, and a
`contact_human` function tool.

    agent = Agent(name="ops", tools=[deploy_tool, contact_human_tool(hl)])
    result = await run_with_email_approvals(agent, "deploy the release", hl)

Every approval interruption of a run becomes one email ask (call_id from a per-run key and the
tool call's id: providers that number tool calls per response reuse ids such as "call_0", and an
id seen before would reuse an earlier approval); the human's reply approves or rejects it in the
run state, and the run continues.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from agents import Agent, FunctionTool, Runner, RunResult, function_tool

from hl_email.models import ContactChannel, FunctionCallSpec, ResponseOption

from ..client import AsyncHumanLayer

__all__ = ["contact_human_tool", "run_with_email_approvals"]


def contact_human_tool(
    hl: AsyncHumanLayer,
    contact_channel: ContactChannel | None = None,
    response_options: list[ResponseOption] | None = None,
    *,
    timeout: float | None = None,
) -> FunctionTool:
    """`hl.human_as_tool(...)` as a function tool (args: `message`, optional `subject`)."""
    ask = hl.human_as_tool(contact_channel, response_options, timeout=timeout)
    return function_tool(ask, name_override=ask.__name__, description_override=ask.__doc__)


async def run_with_email_approvals(
    agent: Agent[Any],
    input: Any,  # noqa: A002 - Runner.run's name
    hl: AsyncHumanLayer,
    *,
    contact_channel: ContactChannel | None = None,
    timeout: float | None = None,
    max_rounds: int = 50,
    run_key: str | None = None,
    **run_kwargs: Any,
) -> RunResult:
    """`Runner.run`, with every tool-approval interruption decided by a human by email. A
    timeout raises HumanLayerTimeoutError: the tool does not run.

    ``run_key`` names this run in the call_ids (``oa-{run_key}-{tool call id}``); the default is
    fresh for every run. Pass the same key again only to resume waiting on the same run's
    emails after a restart."""
    run_key = run_key or secrets.token_hex(6)
    result = await Runner.run(agent, input, **run_kwargs)
    for _ in range(max_rounds):
        if not result.interruptions:
            return result
        state = result.to_state()
        for item in result.interruptions:
            name = item.name or "tool"
            try:
                kwargs = json.loads(item.arguments or "{}")
            except ValueError:
                kwargs = {"arguments": item.arguments}
            if not isinstance(kwargs, dict):
                kwargs = {"arguments": kwargs}
            tool_call = getattr(item, "call_id", None)
            call_id = f"oa-{run_key}-{tool_call}"[:200] if tool_call else None
            completed = await hl.fetch_approval(
                FunctionCallSpec(fn=name, kwargs=kwargs, channel=contact_channel),
                call_id=call_id,
                timeout=timeout,
            )
            status = completed.as_completed()
            if status.approved is True:
                state.approve(item)
            else:
                state.reject(
                    item, rejection_message=f"User denied {name} with message: {status.comment}"
                )
        result = await Runner.run(agent, state, **run_kwargs)
    raise RuntimeError(f"still waiting for approvals after {max_rounds} rounds")
