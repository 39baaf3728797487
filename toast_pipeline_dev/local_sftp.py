"""A read-only SFTP server on loopback, for the demo and the tests.

The pipeline is tested against a real SSH server rather than a fake client, so host-key checks,
key authentication, retries and transfer settings are exercised the way production uses them.
The server runs as a subprocess (asyncssh needs its own event loop and must not share the
process with Dagster's):

    python -m toast_pipeline_dev.local_sftp --root DIR --host-key PATH --authorized-keys PATH

It prints one line, ``listening 127.0.0.1 <port>``, once it accepts connections, and exits
cleanly on SIGTERM. Only key authentication for one username is accepted; the served folder is
the SFTP root; paths that leave it (through ``..`` or a symlink) and every write are refused.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncssh
from asyncssh.constants import (
    ACE4_APPEND_DATA,
    ACE4_WRITE_ATTRIBUTES,
    ACE4_WRITE_DATA,
    FXF_ACCESS_DISPOSITION,
    FXF_APPEND,
    FXF_APPEND_DATA,
    FXF_CREAT,
    FXF_EXCL,
    FXF_OPEN_EXISTING,
    FXF_TRUNC,
    FXF_WRITE,
)

from toast_pipeline.resources.sftp import known_hosts_name

HOST = "127.0.0.1"
DEFAULT_USERNAME = "ExportUser"
READY_PREFIX = "listening"

HOST_KEY_NAME = "ssh_host_ed25519_key"
CLIENT_KEY_NAME = "client_ed25519_key"
AUTHORIZED_KEYS_NAME = "authorized_keys"

_WRITE_FLAGS = FXF_WRITE | FXF_APPEND | FXF_CREAT | FXF_TRUNC | FXF_EXCL
_WRITE_ACCESS = ACE4_WRITE_DATA | ACE4_APPEND_DATA | ACE4_WRITE_ATTRIBUTES


def _read_only() -> asyncssh.SFTPPermissionDenied:
    return asyncssh.SFTPPermissionDenied("read-only server")


class ReadOnlySFTPServer(asyncssh.SFTPServer):
    """Serves one folder as the SFTP root and refuses every change.

    asyncssh's ``chroot`` only rewrites paths: ``..`` is silently clamped and a symlink inside the
    folder still reaches outside. Here both are refused, so a client bug that builds an escaping
    path fails loudly instead of reading something else.
    """

    def __init__(self, chan: asyncssh.SSHServerChannel, root: str):
        super().__init__(chan, chroot=root.encode())
        self._root = os.fsencode(os.path.realpath(root))

    def map_path(self, path: bytes) -> bytes:
        depth = 0
        for part in path.split(b"/"):
            if part in (b"", b"."):
                continue
            depth += -1 if part == b".." else 1
            if depth < 0:
                raise asyncssh.SFTPPermissionDenied("path leaves the served folder")
        local = super().map_path(path)
        real = os.path.realpath(local)
        if real != self._root and not real.startswith(self._root + b"/"):
            raise asyncssh.SFTPPermissionDenied("path leaves the served folder")
        return local

    async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
        # The default also lists `..`, which at the root would be refused by `map_path`.
        with os.scandir(self.map_path(path)) as entries:
            for entry in entries:
                attrs = asyncssh.SFTPAttrs.from_local(entry.stat(follow_symlinks=False))
                yield asyncssh.SFTPName(os.fsencode(entry.name), attrs=attrs)

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        if pflags & _WRITE_FLAGS:
            raise _read_only()
        return super().open(path, pflags, attrs)

    def open56(
        self, path: bytes, desired_access: int, flags: int, attrs: asyncssh.SFTPAttrs
    ) -> object:
        if (
            desired_access & _WRITE_ACCESS
            or flags & FXF_APPEND_DATA
            or flags & FXF_ACCESS_DISPOSITION != FXF_OPEN_EXISTING
        ):
            raise _read_only()
        return super().open56(path, desired_access, flags, attrs)

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        raise _read_only()

    def setstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise _read_only()

    def lsetstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise _read_only()

    def fsetstat(self, file_obj: object, attrs: asyncssh.SFTPAttrs) -> None:
        raise _read_only()

    def remove(self, path: bytes) -> None:
        raise _read_only()

    def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise _read_only()

    def rmdir(self, path: bytes) -> None:
        raise _read_only()

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        raise _read_only()

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        raise _read_only()

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise _read_only()

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise _read_only()


class _KeyOnlyServer(asyncssh.SSHServer):
    """Public-key authentication for one username, like Toast's export login."""

    def __init__(self, username: str, authorized_keys: asyncssh.SSHAuthorizedKeys):
        self._username = username
        self._authorized_keys = authorized_keys
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> bool:
        if username == self._username and self._conn is not None:
            self._conn.set_authorized_keys(self._authorized_keys)
        return True

    def public_key_auth_supported(self) -> bool:
        # Always advertised, so a wrong username fails like a wrong key does.
        return True


async def run_server(
    args: argparse.Namespace,
    server_factory: Callable[
        [str, asyncssh.SSHAuthorizedKeys], asyncssh.SSHServer
    ] = _KeyOnlyServer,
    sftp_factory: Callable[
        [asyncssh.SSHServerChannel, str], asyncssh.SFTPServer
    ] = ReadOnlySFTPServer,
) -> None:
    """Serve until SIGTERM; the factories let a test server change login or file handling."""
    root, port = args.root, args.port
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    keys = asyncssh.read_authorized_keys(args.authorized_keys)
    acceptor = await asyncssh.create_server(
        lambda: server_factory(args.username, keys),
        HOST,
        port,
        server_host_keys=[args.host_key],
        sftp_factory=lambda chan: sftp_factory(chan, root),
        # v3 is what paramiko speaks; pinning it keeps `open` the only way to open a file.
        sftp_version=3,
        allow_scp=False,
        allow_pty=False,
        agent_forwarding=False,
        x11_forwarding=False,
        gss_host=None,
    )
    print(f"{READY_PREFIX} {HOST} {acceptor.get_port()}", flush=True)
    await stop.wait()
    acceptor.close()
    await acceptor.wait_closed()


def argument_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--root", required=True, help="folder served as the SFTP root")
    parser.add_argument("--host-key", required=True, help="server private key (OpenSSH format)")
    parser.add_argument("--authorized-keys", required=True, help="client public keys accepted")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--username", default=DEFAULT_USERNAME)
    return parser


def parse_arguments(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if not os.path.isdir(args.root):
        parser.error(f"--root is not a folder: {args.root}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argument_parser(__doc__.splitlines()[0]), argv)
    asyncio.run(run_server(args))
    return 0


def _key_paths(folder: Path) -> tuple[Path, Path, Path]:
    return folder / HOST_KEY_NAME, folder / CLIENT_KEY_NAME, folder / AUTHORIZED_KEYS_NAME


def _write_key_pair(key: asyncssh.SSHKey, path: Path) -> None:
    # Created owner-only from the start: OpenSSH refuses readable keys, and so should we.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(key.export_private_key("openssh"))
    key.write_public_key(f"{path}.pub")


def generate_keys(folder: str | Path) -> tuple[Path, Path]:
    """Create a host key and a client key (ed25519, OpenSSH format) and an authorized_keys file.

    OpenSSH's private key format is what both asyncssh and paramiko read; the ``.pub`` files
    sit beside the keys so known_hosts and authorized_keys can be written from them.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    host_key_path, client_key_path, authorized_keys_path = _key_paths(folder)
    host_key = asyncssh.generate_private_key("ssh-ed25519", comment="toast local sftp host")
    client_key = asyncssh.generate_private_key("ssh-ed25519", comment="toast local sftp client")
    _write_key_pair(host_key, host_key_path)
    _write_key_pair(client_key, client_key_path)
    authorized_keys_path.write_bytes(client_key.export_public_key())
    return host_key_path, client_key_path


def write_known_hosts(path: str | Path, host: str, port: int, host_public_key: str | bytes) -> None:
    """Write a known_hosts file trusting one host key (an OpenSSH public key line)."""
    if isinstance(host_public_key, bytes):
        host_public_key = host_public_key.decode("ascii")
    fields = host_public_key.split()
    if len(fields) < 2:
        raise ValueError("host_public_key must be an OpenSSH public key line: '<type> <base64>'")
    Path(path).write_text(f"{known_hosts_name(host, port)} {fields[0]} {fields[1]}\n")


@dataclass(frozen=True)
class LocalSFTPServer:
    """Everything a client needs to reach a running local server."""

    host: str
    port: int
    username: str
    client_key_path: Path
    known_hosts_path: Path
    host_key_path: Path
    root: Path


class LocalSFTPError(RuntimeError):
    """The local server did not start."""


def _wait_until_ready(process: subprocess.Popen[bytes], timeout: float) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    output = b""
    while b"\n" not in output:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LocalSFTPError(f"the local SFTP server was not ready within {timeout:g} s")
        readable, _, _ = select.select([process.stdout], [], [], min(remaining, 0.2))
        if readable:
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                code = process.wait(timeout=max(remaining, 0.1))
                raise LocalSFTPError(f"the local SFTP server exited with code {code}")
            output += chunk
    line = output.split(b"\n", 1)[0].decode(errors="replace")
    match = re.fullmatch(rf"{READY_PREFIX} {re.escape(HOST)} (\d+)", line.strip())
    if match is None:
        raise LocalSFTPError(f"unexpected first line from the local SFTP server: {line!r}")
    return int(match.group(1))


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


@contextmanager
def serve(
    root: str | Path,
    folder_for_keys: str | Path,
    *,
    port: int = 0,
    username: str = DEFAULT_USERNAME,
    ready_timeout: float = 20.0,
    module: str = __name__,
    extra_args: Sequence[str] = (),
) -> Iterator[LocalSFTPServer]:
    """Run the server on ``root`` for the duration of the block.

    Keys are generated into ``folder_for_keys`` only when absent, so a demo can keep trusting the
    same host key across restarts. A known_hosts file for this port is written there too and
    removed on exit. ``module`` runs another server built on this one (it must print the same
    ready line), with ``extra_args`` added to its command line.
    """
    root = Path(root).resolve()
    keys = Path(folder_for_keys).resolve()
    host_key_path, client_key_path, authorized_keys_path = _key_paths(keys)
    if not all(p.exists() for p in (host_key_path, client_key_path, authorized_keys_path)):
        generate_keys(keys)
    package_parent = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", module, "--root", str(root)]
    command += ["--host-key", str(host_key_path), "--authorized-keys", str(authorized_keys_path)]
    command += ["--port", str(port), "--username", username, *extra_args]
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, env=env)
        known_hosts_path: Path | None = None
        try:
            try:
                bound_port = _wait_until_ready(process, ready_timeout)
            except LocalSFTPError as err:
                _stop(process)
                stderr.seek(0)
                detail = stderr.read().decode(errors="replace").strip()
                raise LocalSFTPError(f"{err}; its stderr:\n{detail or '(empty)'}") from None
            known_hosts_path = keys / f"known_hosts_{HOST}_{bound_port}"
            public_key = Path(str(host_key_path) + ".pub").read_bytes()
            write_known_hosts(known_hosts_path, HOST, bound_port, public_key)
            yield LocalSFTPServer(
                host=HOST,
                port=bound_port,
                username=username,
                client_key_path=client_key_path,
                known_hosts_path=known_hosts_path,
                host_key_path=host_key_path,
                root=root,
            )
        finally:
            _stop(process)
            if known_hosts_path is not None:
                known_hosts_path.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
