"""OpenAI Agents SDK: tools with `needs_approval=True` approved or rejected by email, and a
`contact_human` function tool.

    agent = Agent(name="ops", tools=[deploy_tool, contact_human_tool(hl)])
    result = await run_with_email_approvals(agent, "deploy the release", hl)

Every approval interruption of a run becomes one email ask (call_id from the tool call's id);
the human's reply approves or rejects it in the run state, and the run continues.
"""

from __future__ import annotations

import json
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
    **run_kwargs: Any,
) -> RunResult:
    """`Runner.run`, with every tool-approval interruption decided by a human by email. A
    timeout raises HumanLayerTimeoutError: the tool does not run."""
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
            call_id = f"oa-{item.call_id}"[:200] if getattr(item, "call_id", None) else None
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
