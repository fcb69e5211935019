"""MCP server: an MCP client (Claude Code, an agent framework) asks a human by email.

Three tools, served over stdio (`hl-email mcp --config FILE`) or streamable HTTP (`/mcp` on
`hl-email serve`, Bearer API key):

* `request_permission(tool_name, input, tool_use_id?)` — Claude Code's `--permission-prompt-tool`
  contract: returns the JSON text `{"behavior": "allow", "updatedInput": {…}}` or
  `{"behavior": "deny", "message": "…"}` (the human's comment).
* `request_approval(function_name, arguments)` — the generic approval: `{"approved": …}`.
* `contact_human(question, subject?)` — a free-text question; returns the human's answer.

While a request is pending the tool sends MCP progress notifications every
`[mcp] progress_interval` seconds (when the client asked for progress). No answer within
`[mcp] timeout` seconds denies (fail closed). Who is asked: `[[routes]]` / `default_route`, else
`[mcp] contact`. The tools reach the gateway through the SDK (`hl_email_sdk`), in-process or
over HTTP, so the same code serves both transports.

Needs the `mcp` extra (`pip install 'hl-email[mcp]'`, the official MCP Python SDK, 2.x).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from hl_email_sdk import (
    AsyncHumanLayer,
    ContactChannel,
    EmailContactChannel,
    FunctionCallSpec,
    HumanContactSpec,
)
from hl_email_sdk.errors import DeliveryFailedError, HumanLayerException, HumanLayerTimeoutError
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings

from ..config import McpConfig

__all__ = ["McpHttpApp", "build_mcp_server", "permission_result", "run_stdio"]

log = logging.getLogger("hl_email.mcp")

SERVER_NAME = "hl-email"
INSTRUCTIONS = (
    "Ask a human by email. Use request_permission (or request_approval) before any risky or "
    "irreversible action and only go ahead when it allows; use contact_human for questions only "
    "a person can answer. Answers can take minutes to hours."
)


def permission_result(
    approved: bool, tool_input: dict[str, Any], message: str | None
) -> dict[str, Any]:
    """Claude Code's permission-prompt decision (pure)."""
    if approved:
        return {"behavior": "allow", "updatedInput": tool_input}
    return {"behavior": "deny", "message": message or "Denied by the human (no reason given)."}


class _Asker:
    """Creates the request, then waits for the answer with progress reports and a deadline."""

    def __init__(self, hl: AsyncHumanLayer, settings: McpConfig) -> None:
        self.hl = hl
        self.settings = settings
        self.channel = (
            ContactChannel(email=EmailContactChannel(address=settings.contact))
            if settings.contact
            else None
        )
        # Added to a failure's message when no one is configured to be asked.
        self.hint = "" if self.channel else " (the hl-email MCP server: set [mcp] contact)"

    async def _wait(
        self,
        wait: Callable[[float, bool], Awaitable[Any]],
        progress: Callable[[float, float, str], Awaitable[None]],
        what: str,
    ) -> Any:
        """`wait(seconds, last)` in slices until it returns, with a progress report after each
        slice; the last slice cancels the request when it runs out (an answer that came first
        still counts), then TimeoutError."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.settings.timeout
        while True:
            remaining = deadline - loop.time()
            last = remaining <= self.settings.progress_interval
            try:
                return await wait(max(0.0, min(self.settings.progress_interval, remaining)), last)
            except HumanLayerTimeoutError:
                if last:
                    raise TimeoutError from None
            elapsed = loop.time() - started
            with contextlib.suppress(Exception):  # a client gone quiet must not end the wait
                await progress(elapsed, self.settings.timeout, f"waiting for {what} by email")

    async def _cancel(self, kind: str, call_id: str) -> None:
        """The MCP client gave up on the tool call: nobody waits for this answer any more."""
        reason = "the MCP client cancelled the tool call"
        with contextlib.suppress(Exception):
            if kind == "function_call":
                await self.hl.cancel_function_call(call_id, reason)
            else:
                await self.hl.cancel_human_contact(call_id, reason)

    async def approval(
        self,
        fn: str,
        kwargs: dict[str, Any],
        call_id: str | None,
        progress: Callable[[float, float, str], Awaitable[None]],
    ) -> tuple[bool, str | None, str]:
        """(approved, comment, call_id). Never raises for "no answer": that is a denial."""
        spec = FunctionCallSpec(fn=fn, kwargs=kwargs, channel=self.channel)
        call = await self.hl.create_function_call(spec, call_id=call_id)
        try:
            completed = await self._wait(
                lambda s, last: self.hl.wait_for_approval(
                    call.call_id, timeout=s, cancel_on_timeout=last
                ),
                progress,
                f"approval of {fn} ({call.call_id})",
            )
        except asyncio.CancelledError:
            await asyncio.shield(self._cancel("function_call", call.call_id))
            raise
        except TimeoutError:  # the request is cancelled: a late "approve" changes nothing
            return (
                False,
                f"No answer by email within {self.settings.timeout:g} s: denied (fail closed).",
                call.call_id,
            )
        except DeliveryFailedError as exc:
            return False, f"The approval email could not be delivered: {exc}", call.call_id
        except HumanLayerException as exc:
            return False, f"No decision: {exc}", call.call_id
        response = completed.as_completed()
        return response.approved is True, response.comment, call.call_id

    async def question(
        self,
        msg: str,
        subject: str | None,
        progress: Callable[[float, float, str], Awaitable[None]],
    ) -> str:
        spec = HumanContactSpec(msg=msg, subject=subject, channel=self.channel)
        contact = await self.hl.create_human_contact(spec)
        try:
            completed = await self._wait(
                lambda s, last: self.hl.wait_for_human_response(
                    contact.call_id, timeout=s, cancel_on_timeout=last
                ),
                progress,
                f"an answer ({contact.call_id})",
            )
        except asyncio.CancelledError:
            await asyncio.shield(self._cancel("human_contact", contact.call_id))
            raise
        except TimeoutError:
            raise TimeoutError(
                f"no answer by email within {self.settings.timeout:g} s ({contact.call_id})"
            ) from None
        return completed.as_completed()


def build_mcp_server(hl: AsyncHumanLayer, settings: McpConfig | None = None) -> MCPServer:
    """The MCP server (an `mcp.server.mcpserver.MCPServer`) with the three tools."""
    asker = _Asker(hl, settings or McpConfig())
    server = MCPServer(SERVER_NAME, instructions=INSTRUCTIONS)

    def reporter(ctx: Context) -> Callable[[float, float, str], Awaitable[None]]:
        async def report(elapsed: float, total: float, message: str) -> None:
            await ctx.report_progress(elapsed, total, message)

        return report

    @server.tool(
        description=(
            "Ask a human by email whether a tool call may run (Claude Code's "
            "--permission-prompt-tool). Returns JSON: {behavior: allow, updatedInput} or "
            "{behavior: deny, message}."
        ),
        structured_output=False,
    )
    async def request_permission(
        tool_name: str,
        input: dict[str, Any],  # noqa: A002 - the name is Claude Code's contract
        ctx: Context,
        tool_use_id: str | None = None,
    ) -> str:
        # One call per tool use: a client retrying the same tool_use_id (after a restart of
        # either side) waits on the same email thread instead of asking again.
        call_id = f"mcp-perm-{tool_use_id}"[:200] if tool_use_id else None
        try:
            approved, comment, _ = await asker.approval(tool_name, input, call_id, reporter(ctx))
        except Exception as exc:  # no recipient, bad input, gateway down: deny, never allow
            log.warning("request_permission for %s failed: %s", tool_name, exc)
            approved, comment = False, f"The permission request failed: {exc}{asker.hint}"
        return json.dumps(permission_result(approved, input, comment))

    @server.tool(
        description=(
            "Ask a human by email to approve a function call before you run it. Returns JSON "
            "{approved: true|false, comment, call_id}; run the function only when approved."
        ),
        structured_output=False,
    )
    async def request_approval(function_name: str, arguments: dict[str, Any], ctx: Context) -> str:
        try:
            approved, comment, call_id = await asker.approval(
                function_name, arguments, None, reporter(ctx)
            )
        except Exception as exc:  # no recipient, bad input, gateway down: deny, never allow
            log.warning("request_approval for %s failed: %s", function_name, exc)
            approved, comment, call_id = (
                False,
                f"The approval request failed: {exc}{asker.hint}",
                None,
            )
        return json.dumps({"approved": approved, "comment": comment, "call_id": call_id})

    @server.tool(
        description=(
            "Ask a human a free-text question by email and wait for the answer (returns the "
            "answer text)."
        ),
        structured_output=False,
    )
    async def contact_human(question: str, ctx: Context, subject: str | None = None) -> str:
        try:
            return await asker.question(question, subject, reporter(ctx))
        except TimeoutError as exc:
            raise ToolError(str(exc)) from None
        except Exception as exc:
            raise ToolError(f"{exc}{asker.hint}") from None

    return server


async def run_stdio(
    config: Any = None, *, api_base_url: str | None = None, api_key: str | None = None
) -> int:
    """`hl-email mcp`: the gateway in this process (or a remote one via `api_base_url`), MCP on
    stdin/stdout. Logs go to stderr; stdout carries only the protocol."""
    from ..config import GatewayConfig

    settings = config.mcp if isinstance(config, GatewayConfig) else McpConfig()
    if api_base_url:
        hl = AsyncHumanLayer(api_base_url=api_base_url, api_key=api_key, run_id=settings.run_id)
    else:
        hl = AsyncHumanLayer.local(config, run_id=settings.run_id)
    async with hl:
        await build_mcp_server(hl, settings).run_stdio_async()
    return 0


class McpHttpApp:
    """The MCP streamable-HTTP transport for `/mcp` on `hl-email serve` (authentication is
    hl_email.api.mcp_mount's job). The session manager's task group starts with the first request
    (the API runs without an ASGI lifespan) and ends with `close()`."""

    def __init__(self, gateway: Any, settings: McpConfig) -> None:
        self.hl = AsyncHumanLayer.local(gateway=gateway, run_id=settings.run_id)
        self.server = build_mcp_server(self.hl, settings)
        # Host/Origin checks guard cookie-less local servers against DNS rebinding; this
        # endpoint needs a Bearer key a rebinding page cannot have, and may sit behind a proxy.
        self.app = self.server.streamable_http_app(
            streamable_http_path="/mcp",
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self._started = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def _ensure_started(self) -> None:
        async with self._started:
            if self._task is not None:
                return
            ready = asyncio.Event()

            async def run() -> None:
                async with self.server.session_manager.run():
                    ready.set()
                    await self._stop.wait()

            self._task = asyncio.create_task(run(), name="hl-email-mcp")
            waiter = asyncio.ensure_future(ready.wait())
            await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
            if not ready.is_set():
                waiter.cancel()
                await self._task  # raises the start-up error

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self._ensure_started()
        await self.app(scope, receive, send)

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 5)
