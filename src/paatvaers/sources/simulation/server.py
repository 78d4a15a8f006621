"""Serve every source's simulator on loopback HTTP, each on its own port, in one event loop.

`RunningSimulators` runs them in a background thread (tests, the demo); `serve_forever` runs
them in the foreground (`paatvaers simulators serve`).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType, TracebackType
from typing import Any

import uvicorn

from paatvaers.sources.base import SourceName
from paatvaers.sources.simulation.world import World

ASGIApp = Callable[..., Any]


def _simulator_module(source: SourceName) -> ModuleType:
    return importlib.import_module(f"paatvaers.sources.{source.value}.simulator")


def simulator_apps(
    world: World, sources: Iterable[SourceName] = tuple(SourceName)
) -> dict[SourceName, ASGIApp]:
    """Each source's simulator: `paatvaers.sources.<source>.simulator.create_app(world)`."""
    return {source: _simulator_module(source).create_app(world) for source in sources}


def add_malformed_examples(world: World, sources: Iterable[SourceName] = tuple(SourceName)) -> None:
    """Let every simulator add the broken records it serves, in its own format."""
    for source in sources:
        _simulator_module(source).add_malformed_examples(world)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this; without it every request after the first on a
    # kept-alive connection waits ~40 ms for Nagle's algorithm and delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _servers(apps: Mapping[SourceName, ASGIApp]) -> dict[SourceName, uvicorn.Server]:
    return {
        source: uvicorn.Server(
            uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        )
        for source, app in apps.items()
    }


class RunningSimulators:
    """All simulators on 127.0.0.1, on the given ports (0 picks free ones), in a thread."""

    def __init__(
        self,
        world: World,
        ports: Mapping[SourceName, int] | None = None,
        host: str = "127.0.0.1",
        sources: Iterable[SourceName] = tuple(SourceName),
    ) -> None:
        chosen = tuple(sources)
        wanted = ports or {}
        self.sockets = {s: _bind(host, wanted.get(s, 0)) for s in chosen}
        self.urls = {
            s: f"http://{host}:{sock.getsockname()[1]}" for s, sock in self.sockets.items()
        }
        self._servers = _servers(simulator_apps(world, chosen))
        self._thread = threading.Thread(target=self._run, name="simulators", daemon=True)
        self._started = threading.Event()

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        tasks = [
            asyncio.create_task(server.serve(sockets=[self.sockets[source]]))
            for source, server in self._servers.items()
        ]
        while not all(server.started for server in self._servers.values()):
            await asyncio.sleep(0.01)
        self._started.set()
        await asyncio.gather(*tasks)

    def __enter__(self) -> RunningSimulators:
        self._thread.start()
        if not self._started.wait(timeout=30):
            raise RuntimeError("the simulators did not start within 30 seconds")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for server in self._servers.values():
            server.should_exit = True
        self._thread.join(timeout=30)
        for sock in self.sockets.values():
            sock.close()


def serve_forever(world: World, host: str = "127.0.0.1") -> None:
    """Serve on the default ports until interrupted."""
    with RunningSimulators(world, {s: s.default_port for s in SourceName}, host) as running:
        for source, url in running.urls.items():
            print(f"{source.value:14} {url}")  # noqa: T201 - the command's output
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
