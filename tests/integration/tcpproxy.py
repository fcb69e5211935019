"""A small TCP proxy on loopback that tests use to break a link: `cut()` closes every open
connection (the server's side looks like a reset), `freeze()` keeps them open but stops
forwarding (a half-open NAT or proxy). New connections after either are forwarded normally."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

__all__ = ["TcpProxy", "start_proxy"]


@dataclass
class _Link:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    frozen: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class TcpProxy:
    host: str
    port: int
    target: tuple[str, int]
    connections: int = 0  # accepted so far
    _server: asyncio.AbstractServer | None = None
    _links: list[_Link] = field(default_factory=list)

    async def _pipe(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if link.frozen.is_set():
                    continue  # swallowed: nothing arrives on the other side, nothing fails
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if not link.frozen.is_set():
                with contextlib.suppress(Exception):
                    writer.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        link = _Link(writer, up_writer)
        self._links.append(link)
        await asyncio.gather(
            self._pipe(link, reader, up_writer), self._pipe(link, up_reader, writer)
        )
        with contextlib.suppress(ValueError):
            self._links.remove(link)

    def cut(self) -> int:
        """Close every open connection; returns how many there were."""
        links, self._links = self._links, []
        for link in links:
            for writer in (link.client, link.server):
                with contextlib.suppress(Exception):
                    writer.transport.abort()
        return len(links)

    def freeze(self) -> int:
        """Stop forwarding on every open connection (they stay open); returns how many."""
        for link in self._links:
            link.frozen.set()
        return len(self._links)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()


async def start_proxy(target_host: str, target_port: int, host: str = "127.0.0.1") -> TcpProxy:
    proxy = TcpProxy(host, 0, (target_host, target_port))
    proxy._server = await asyncio.start_server(proxy._accept, host, 0)
    proxy.port = proxy._server.sockets[0].getsockname()[1]
    return proxy
