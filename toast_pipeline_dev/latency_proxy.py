"""A TCP relay on loopback that holds every byte back for a fixed time in each direction.

Loopback answers in microseconds, Toast's server tens of milliseconds away; what pays off
against a distant server (reading ahead on several connections) shows only with the distance put
back. The relay adds latency, not a bandwidth limit, and keeps the order of the bytes, so
pipelined requests stay pipelined as on a real network.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from toast_pipeline_dev.local_sftp import HOST, LocalSFTPServer, write_known_hosts

CHUNK = 64 * 1024


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy one direction, each chunk sent `delay` seconds after it arrived."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            due, chunk = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    try:
        while chunk := await reader.read(CHUNK):
            queue.put_nowait((loop.time() + delay, chunk))
    except ConnectionError:
        pass
    queue.put_nowait((loop.time() + delay, b""))
    try:
        await sender
    except ConnectionError:
        pass


class _Relay:
    """An asyncio loop in a thread, relaying connections on a free port to `target`."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.target_port, self.delay = target_port, delay
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True, name="latency-relay")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._connection, HOST, 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()
        server.close()
        # Connections still open when the relay stops are cut, not left to a closed loop.
        open_connections = asyncio.all_tasks(self.loop)
        for task in open_connections:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*open_connections, return_exceptions=True))
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            _relay(reader, up_writer, self.delay), _relay(up_reader, writer, self.delay)
        )

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@contextmanager
def delayed(server: LocalSFTPServer, one_way_ms: float) -> Iterator[LocalSFTPServer]:
    """`server` as a client sees it across a network with this one-way latency (a round trip
    takes twice as long): the same keys and root, another port, its own known_hosts entry."""
    relay = _Relay(server.port, one_way_ms / 1000)
    relay.thread.start()
    if not relay.ready.wait(timeout=10):
        raise RuntimeError(f"the latency relay to port {server.port} did not start within 10 s")
    known_hosts = server.known_hosts_path.with_name(f"known_hosts_{HOST}_{relay.port}_delayed")
    public_key = Path(str(server.host_key_path) + ".pub").read_bytes()
    write_known_hosts(known_hosts, HOST, relay.port, public_key)
    try:
        yield replace(server, port=relay.port, known_hosts_path=known_hosts)
    finally:
        relay.stop()
        known_hosts.unlink(missing_ok=True)
