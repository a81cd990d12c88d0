"""The API clients import nothing from Home Assistant, and neither do their tests."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture: it would start Home Assistant for every client test."""


@pytest.fixture(autouse=True)
def frozen_start() -> None:
    """Override any suite-wide frozen clock: the client tests run real servers."""


class ScriptedServers:
    """Bare TCP servers on 127.0.0.1 that answer a request with scripted bytes.

    Each reads the whole request first (so that closing sends FIN, not RST), writes its bytes,
    then closes the connection, or stalls until the test ends. ``requests`` counts the
    requests each server (by URL) received.
    """

    def __init__(self) -> None:
        self.servers: list[asyncio.Server] = []
        self.release = asyncio.Event()
        self.requests: Counter[str] = Counter()

    async def __call__(self, answer: bytes, *, stall: bool = False) -> str:
        """Start one; its base URL."""
        url = ""

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await reader.readuntil(b"\r\n\r\n")
            self.requests[url] += 1
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
            writer.write(answer)
            await writer.drain()
            if stall:
                await self.release.wait()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.servers.append(server)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return url

    async def close(self) -> None:
        """Let stalled answers end, and stop every server."""
        self.release.set()
        for server in self.servers:
            server.close()
            await server.wait_closed()


@pytest.fixture
async def tcp_server() -> AsyncIterator[ScriptedServers]:
    """Start bare TCP servers that answer with scripted bytes (see :class:`ScriptedServers`)."""
    servers = ScriptedServers()
    yield servers
    await servers.close()
