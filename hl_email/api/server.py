"""Serving the HTTP API: uvicorn on a socket bound here (port 0 works), plus webhook delivery."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from ..config import GatewayConfig
from .app import create_app
from .wire import API_PREFIX

__all__ = ["ApiServer", "serve_api"]

log = logging.getLogger("hl_email.api")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The process owner (`hl-email serve`, tests) handles signals and sets the stop event.
        yield


class ApiServer:
    """uvicorn on a socket we bind ourselves, so that port 0 works and the port is known."""

    def __init__(
        self,
        gateway: Any,
        config: GatewayConfig,
        *,
        app: Any = None,
        webhooks: bool = True,
    ) -> None:
        self.gateway = gateway
        self.config = config
        self.app = app if app is not None else create_app(gateway, config)
        self.webhooks = None
        if webhooks and config.webhooks:
            from ..webhooks import WebhookDispatcher

            self.webhooks = WebhookDispatcher(gateway, config.webhooks)
        self.host = config.api.host
        self.port: int | None = None
        self._socket: socket.socket | None = None
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> int:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this: without it uvicorn's separate header and body writes
        # meet the client's delayed ACK and a long-poll answer takes ~40 ms more.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.host, self.config.api.port))
        except OSError as exc:
            sock.close()
            raise OSError(
                f"cannot listen on {self.host}:{self.config.api.port} ([api] host/port): {exc}"
            ) from None
        sock.listen(128)
        sock.setblocking(False)
        self._socket = sock
        self.port = sock.getsockname()[1]
        if self.webhooks is not None:
            await self.webhooks.start()
        uv_config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",  # the API has no WebSocket routes; this skips importing websockets
            timeout_graceful_shutdown=3,
        )
        self._server = _Server(uv_config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="hl-email-api")
        while not self._server.started:
            if self._task.done():
                await self._task  # raises the start-up error
                raise RuntimeError("the HTTP API stopped during start-up")
            await asyncio.sleep(0.005)
        log.info("HTTP API listening on %s%s", self.base_url, API_PREFIX)
        return self.port

    async def stop(self) -> None:
        api = getattr(getattr(self.app, "state", None), "hl_api", None)
        if api is not None:
            api.closing.set()  # end long-polls and SSE streams so shutdown is quick
        mcp = getattr(getattr(self.app, "state", None), "hl_mcp", None)
        if mcp is not None:
            await mcp.close()
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self.webhooks is not None:
            await self.webhooks.stop()


async def serve_api(
    gateway: Any,
    config: GatewayConfig,
    stop: asyncio.Event,
    *,
    app: Any = None,
    on_ready: Callable[[ApiServer], None] | None = None,
) -> None:
    """Serve the API (and webhook delivery, when `[[webhooks]]` are configured) until `stop` is
    set. `on_ready(server)` is called once listening; `server.port` is the bound port (useful
    with port 0)."""
    server = ApiServer(gateway, config, app=app)
    await server.start()
    try:
        if on_ready is not None:
            on_ready(server)
        await stop.wait()
    finally:
        await server.stop()
