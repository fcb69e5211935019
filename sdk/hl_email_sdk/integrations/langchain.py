"""LangChain: a human as a StructuredTool, and tools gated on a human's approval by email."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from hl_email.models import ContactChannel, ResponseOption

from ..client import AsyncHumanLayer, HumanLayer
from ..errors import HumanLayerException

__all__ = ["human_as_tool", "require_approval"]

Client = AsyncHumanLayer | HumanLayer


def human_as_tool(
    hl: Client,
    contact_channel: ContactChannel | None = None,
    response_options: list[ResponseOption] | None = None,
    *,
    timeout: float | None = None,
) -> StructuredTool:
    """`hl.human_as_tool(...)` as a StructuredTool (args: `message`, optional `subject`)."""
    ask = hl.human_as_tool(contact_channel, response_options, timeout=timeout)
    kind = "coroutine" if isinstance(hl, AsyncHumanLayer) else "func"
    return StructuredTool.from_function(
        **{kind: ask}, name=ask.__name__, description=ask.__doc__ or "contact a human"
    )


def require_approval(
    hl: Client,
    tool: BaseTool | Callable[..., Any],
    contact_channel: ContactChannel | None = None,
    reject_options: list[ResponseOption] | None = None,
    *,
    timeout: float | None = None,
) -> StructuredTool:
    """A StructuredTool that runs `tool` (a LangChain tool or a plain function) only after a
    human approves by email; a denial returns `User denied {name} with message: {comment}`."""
    gate = hl.require_approval(contact_channel, reject_options, timeout=timeout)
    if not isinstance(tool, BaseTool):
        gated = gate(tool)
        kind = "coroutine" if isinstance(hl, AsyncHumanLayer) else "func"
        return StructuredTool.from_function(**{kind: gated}, name=tool.__name__)
    inner = tool
    if isinstance(hl, AsyncHumanLayer):

        async def run_async(**kwargs: Any) -> Any:
            return await inner.ainvoke(kwargs)

        target: Callable[..., Any] = run_async
    else:

        def run_sync(**kwargs: Any) -> Any:
            return inner.invoke(kwargs)

        target = run_sync
    target.__name__ = target.__qualname__ = inner.name  # what the human sees in the email
    gated = gate(target)
    if inner.args_schema is None:
        raise HumanLayerException(f"tool {inner.name!r} has no args_schema to gate")
    kind = "coroutine" if isinstance(hl, AsyncHumanLayer) else "func"
    return StructuredTool.from_function(
        **{kind: functools.wraps(target)(gated)},
        name=inner.name,
        description=inner.description,
        args_schema=inner.args_schema,
        infer_schema=False,
    )
