from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from toast_pipeline.local_sftp import LocalSFTPServer, serve
from toast_pipeline.resources.sftp import SFTPExportSource


@pytest.fixture(scope="session")
def sftp_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[Path], LocalSFTPServer]]:
    """Start a loopback read-only SFTP server on a folder; all stop at the end of the session.

    The servers share one set of keys, generated once, so starting another costs ~0.2 s.
    """
    keys = tmp_path_factory.mktemp("sftp_keys")
    with ExitStack() as servers:

        def start(root: Path) -> LocalSFTPServer:
            return servers.enter_context(serve(root, keys))

        yield start


@pytest.fixture
def sftp_source_factory() -> Iterator[Callable[..., SFTPExportSource]]:
    """Build an `SFTPExportSource` for a local server, with short timeouts and retry waits.

    Keyword arguments override its config; every source built is closed after the test.
    """
    built: list[SFTPExportSource] = []

    def build(server: LocalSFTPServer, **overrides: Any) -> SFTPExportSource:
        config: dict[str, Any] = {
            "host": server.host,
            "port": server.port,
            "username": server.username,
            "private_key_path": str(server.client_key_path),
            "known_hosts_path": str(server.known_hosts_path),
            "connect_timeout": 5.0,
            "operation_timeout": 10.0,
            "retry_initial_wait": 0.05,
            "retry_max_wait": 0.2,
        }
        source = SFTPExportSource(**{**config, **overrides})
        built.append(source)
        return source

    yield build
    for source in built:
        source.close()
