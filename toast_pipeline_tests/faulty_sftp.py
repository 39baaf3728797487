"""The project's loopback SFTP server, made to misbehave the ways real servers and networks do.

Run by `serve_faulty` as ``python -m toast_pipeline_tests.faulty_sftp ... --faults JSON``:

- ``drop_reads``: ``{file name: n}``, the first n reads of that file past its first chunk abort
  the whole connection, as a network drop mid-transfer does;
- ``extra_names``: names added to every date folder's listing, as a hostile server could send;
- ``password_file``: also accept a password login, checked against that file's content;
- ``journal``: a file each connection, login attempt, folder listed and file opened is appended
  to, one JSON line each, so a test can see what the client really did.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import asyncssh

from toast_pipeline_dev.local_sftp import (
    LocalSFTPServer,
    ReadOnlySFTPServer,
    _KeyOnlyServer,
    argument_parser,
    parse_arguments,
    run_server,
    serve,
)


@dataclass
class Faults:
    drop_reads: dict[str, int] = field(default_factory=dict)
    extra_names: list[str] = field(default_factory=list)
    password_file: str | None = None
    journal: str | None = None


def read_journal(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@contextmanager
def serve_faulty(root: Path, keys: Path, faults: Faults) -> Iterator[LocalSFTPServer]:
    """The server on ``root`` with these faults, for the duration of the block."""
    with serve(
        root, keys, module=__name__, extra_args=["--faults", json.dumps(asdict(faults))]
    ) as server:
        yield server


class _Journal:
    def __init__(self, path: str | None):
        self._path = path

    def write(self, **event: object) -> None:
        if self._path:
            with open(self._path, "a") as handle:
                handle.write(json.dumps(event) + "\n")


def build(faults: Faults):
    journal = _Journal(faults.journal)
    drops_left = dict(faults.drop_reads)
    password = Path(faults.password_file).read_text() if faults.password_file else None

    class JournalledServer(_KeyOnlyServer):
        def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
            super().connection_made(conn)
            journal.write(event="connection")

        def begin_auth(self, username: str) -> bool:
            journal.write(event="login", username=username)
            return super().begin_auth(username)

        def password_auth_supported(self) -> bool:
            return password is not None

        def validate_password(self, username: str, attempt: str) -> bool:
            accepted = password is not None and username == self._username and attempt == password
            journal.write(event="password", accepted=accepted)
            return accepted

    class FaultySFTPServer(ReadOnlySFTPServer):
        def __init__(self, chan: asyncssh.SSHServerChannel, root: str):
            super().__init__(chan, root)
            self._names: dict[int, str] = {}

        def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
            handle = super().open(path, pflags, attrs)
            name = os.path.basename(path.decode())
            self._names[id(handle)] = name
            journal.write(event="open", path=path.decode())
            return handle

        def read(self, file_obj: object, offset: int, size: int) -> bytes:
            name = self._names.get(id(file_obj), "")
            if offset > 0 and drops_left.get(name, 0) > 0:
                drops_left[name] -= 1
                journal.write(event="drop", name=name, offset=offset)
                self.channel.get_connection().abort()
                raise asyncssh.SFTPConnectionLost("connection dropped by the test server")
            return super().read(file_obj, offset, size)

        async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
            journal.write(event="list", path=path.decode())
            async for entry in super().scandir(path):
                yield entry
            if faults.extra_names and len([p for p in path.split(b"/") if p]) == 2:
                attrs = asyncssh.SFTPAttrs(permissions=stat.S_IFREG | 0o644, size=10, mtime=0)
                for name in faults.extra_names:
                    yield asyncssh.SFTPName(name.encode(), attrs=attrs)

    return JournalledServer, FaultySFTPServer


def main(argv: list[str] | None = None) -> int:
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--faults", required=True, help="the faults as JSON")
    args = parse_arguments(parser, argv)
    server_factory, sftp_factory = build(Faults(**json.loads(args.faults)))
    asyncio.run(run_server(args, server_factory, sftp_factory))
    return 0


if __name__ == "__main__":
    sys.exit(main())
