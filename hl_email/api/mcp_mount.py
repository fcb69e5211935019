"""`/mcp` on the HTTP API: Bearer auth, then the MCP server, imported on the first request (the
`mcp` SDK is heavy to import; a gateway nobody reaches over MCP never pays for it)."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable
from typing import Any

from ..config import McpConfig

__all__ = ["McpMount", "mcp_available"]


def mcp_available() -> bool:
    """Whether the `mcp` extra is installed (without importing it)."""
    return importlib.util.find_spec("mcp") is not None


class McpMount:
    """ASGI app for `/mcp`: `authorize(request)` returns None or the refusal response; the
    MCP streamable-HTTP app (hl_email.api.mcp_server.McpHttpApp) is built on first use."""

    def __init__(self, gateway: Any, settings: McpConfig, authorize: Callable[[Any], Any]) -> None:
        self.gateway = gateway
        self.settings = settings
        self.authorize = authorize
        self._app: Any = None
        self._lock = asyncio.Lock()

    async def _inner(self) -> Any:
        async with self._lock:
            if self._app is None:
                from .mcp_server import McpHttpApp

                self._app = McpHttpApp(self.gateway, self.settings)
            return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            from starlette.requests import Request

            refusal = self.authorize(Request(scope, receive))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await (await self._inner())(scope, receive, send)

    async def close(self) -> None:
        if self._app is not None:
            await self._app.close()
